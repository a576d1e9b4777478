// Reading the memory files tandem passes on: plan.md, progress.md. tandem's
// own process, outside the sandbox, reads them and sends parts to the model
// (a plan task, progress.md's notes) or copies them back into progress.md,
// and both live in the writable workspace, so a link there (committed, or
// made by a model's command: `progress.md -> ~/.ssh/id_rsa`) must not bring
// a file from outside the repository, or from .git, in; nor may tandem
// replace or follow such a link when it writes. LoadPlan, SetTaskState and
// every progress.md update read through ReadMemoryFile, so they refuse such
// a file with the error below (docs/FORMATS.md, "Links").
//
// Thread-safety: a plain function.
#pragma once

#include <filesystem>
#include <string>

#include "tandem/base/status.h"

namespace tandem::memory {

// Reads the file at `path`, which sits at the root of its directory tree
// (the repository root), through platform::ReadFileWithin. Cost: one open,
// a readlink of the descriptor and the read. Errors: kNotFound when nothing
// is there; kPermissionDenied naming the file and where it leads (outside
// the repository, or into .git), that it is not a regular file (a FIFO, a
// device), or that it is a link to nothing (a write would have to replace
// or follow it); kIo.
Result<std::string> ReadMemoryFile(const std::filesystem::path& path);

}  // namespace tandem::memory
