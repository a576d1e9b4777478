// GlobMatch: the file patterns the model passes to list_files and search.
//
// `*` and `?` match within one path segment, `**` across segments
// (`src/**/*.ts`, `**/test_*`), `[abc]`/`[a-z]`/`[!x]` one character. A
// pattern without '/' matches the file's base name at any depth (`*.py`),
// the way .gitignore patterns do. Pure function.
#pragma once

#include <string_view>

namespace tandem::tools {

bool GlobMatch(std::string_view pattern, std::string_view path);

}  // namespace tandem::tools
