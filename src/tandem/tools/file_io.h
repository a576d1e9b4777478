// File reading for the file tools (writing: platform/atomic_file.h, see
// ToolWrite). Paths are real paths already checked by PathGuard.
#pragma once

#include <filesystem>
#include <string>

#include "tandem/base/status.h"

namespace tandem::tools {

// Reads a whole regular file. Errors: kNotFound, kFailedPrecondition (a
// directory, or larger than `max_bytes`), kIo.
Result<std::string> ReadSmallFile(const std::filesystem::path& path, size_t max_bytes);

// Replaces `path` atomically, keeping the mode of an existing file and
// creating missing parent directories; not fsynced (the step's checkpoint
// records it).
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content);

}  // namespace tandem::tools
