#include "tandem/workspace/touched_paths.h"

#include <algorithm>

namespace tandem::workspace {

TouchedPaths TouchedPaths::Only(std::vector<std::string> paths) {
  TouchedPaths t;
  for (const std::string& p : paths) {
    if (p.empty() || p == "." || p == "./") t.unknown_ = true;
  }
  if (!t.unknown_) t.paths_ = std::move(paths);
  return t;
}

TouchedPaths TouchedPaths::Unknown() {
  TouchedPaths t;
  t.unknown_ = true;
  return t;
}

Result<std::string> NormalizeRelativePath(std::string_view path) {
  if (!path.empty() && path.front() == '/') {
    return InvalidArgument("path must be relative to the worktree: " + std::string(path));
  }
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      if (parts.empty()) return InvalidArgument("path escapes the worktree: " + std::string(path));
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out;
  for (std::string_view part : parts) {
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

bool IsPrivatePath(std::string_view path) {
  if (path.empty()) return true;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == ".git" || (start == 0 && part == ".tandem")) return true;
    start = end + 1;
  }
  return false;
}

Result<std::vector<std::string>> CanonicalPathSet(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  out.reserve(paths.size());
  for (const std::string& p : paths) {
    std::string n = TRY(NormalizeRelativePath(p));
    if (!IsPrivatePath(n)) out.push_back(std::move(n));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  // Drop descendants of listed directories. With "a" listed, "a/b" sorts
  // after "a" but possibly after "a.txt" too, so compare against every kept
  // ancestor candidate rather than only the previous element.
  std::vector<std::string> kept;
  for (std::string& p : out) {
    bool covered = false;
    for (size_t slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1)) {
      if (std::binary_search(kept.begin(), kept.end(), p.substr(0, slash))) {
        covered = true;
        break;
      }
    }
    if (!covered) kept.push_back(std::move(p));
  }
  return kept;
}

}  // namespace tandem::workspace
