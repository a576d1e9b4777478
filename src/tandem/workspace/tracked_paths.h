// TrackedPaths: what the index of a working tree says git tracks under a
// name, for deciding whether a file there is the user's own or came with the
// repository's content (a clone or checkout writes only tracked paths).
//
// Thread-safety: opens its own repository handle; safe from any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"

namespace tandem::workspace {

// The paths in the index of the working tree `repo_root` (any merge stage)
// that begin with `prefix` as a string, sorted, each once: prefix ".tandem"
// yields ".tandem" itself (a file, symlink or submodule) and everything under
// ".tandem/", and also ".tandemrc". Errors: kIo when the repository or its
// index cannot be read.
Result<std::vector<std::string>> TrackedPaths(const std::filesystem::path& repo_root,
                                              std::string_view prefix);

}  // namespace tandem::workspace
