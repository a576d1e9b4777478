// File reading and atomic writing for the file tools. Paths are real paths
// already checked by PathGuard.
#pragma once

#include <filesystem>
#include <string>

#include "tandem/base/status.h"

namespace tandem::tools {

// Reads a whole regular file. Errors: kNotFound, kFailedPrecondition (a
// directory, or larger than `max_bytes`), kIo.
Result<std::string> ReadSmallFile(const std::filesystem::path& path, size_t max_bytes);

// Replaces `path` atomically (temp file in the same directory, then rename),
// keeping the mode of an existing file; creates missing parent directories.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content);

}  // namespace tandem::tools
