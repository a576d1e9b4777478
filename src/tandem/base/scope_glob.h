// The one rule for a path scope entry (plan.md `scope:`, `tandem do
// --scope`): a glob relative to the repository root that stays inside it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tandem/base/strings.h"

namespace tandem {

// What is wrong with scope entry `glob`, or nullopt when it is usable:
// empty, holding a NUL byte (the kernel reads a path only up to it, so the
// glob would name a path it does not say), absolute ("/etc/**"), in a home
// directory ("~/..."), or climbing out of the repository through a ".."
// component ("../**", "src/../../x").
inline std::optional<std::string> ScopeGlobProblem(std::string_view glob) {
  if (TrimSpace(glob).empty()) return "an empty scope matches no path";
  if (glob.find('\0') != std::string_view::npos) {
    return "a NUL byte ends a path early, so it would name a path it does not say";
  }
  if (glob.front() == '/') return "an absolute path is outside the repository";
  if (glob.front() == '~') return "a home directory is outside the repository";
  size_t begin = 0;
  while (begin <= glob.size()) {
    size_t end = glob.find('/', begin);
    if (end == std::string_view::npos) end = glob.size();
    if (glob.substr(begin, end - begin) == "..") return "'..' leaves the repository";
    begin = end + 1;
  }
  return std::nullopt;
}

}  // namespace tandem
