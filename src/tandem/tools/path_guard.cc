#include "tandem/tools/path_guard.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <system_error>
#include <vector>

namespace tandem::tools {
namespace fs = std::filesystem;
namespace {

constexpr int kMaxSymlinkHops = 40;  // like the kernel's ELOOP limit

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> parts;
  size_t begin = 0;
  while (begin <= path.size()) {
    size_t end = path.find('/', begin);
    if (end == std::string_view::npos) end = path.size();
    if (end > begin) parts.emplace_back(path.substr(begin, end - begin));
    begin = end + 1;
  }
  return parts;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// True when `p` equals `root` or lies below it (both absolute and normal).
bool IsWithin(const fs::path& p, const fs::path& root) {
  auto [root_end, p_it] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return root_end == root.end();
}

std::string Relative(const fs::path& p, const fs::path& root) {
  fs::path rel = p.lexically_relative(root);
  std::string s = rel.generic_string();
  return s.empty() ? "." : s;
}

}  // namespace

bool IsProtectedPath(std::string_view relative, Access access) {
  for (const std::string& part : Split(relative)) {
    if (EqualsIgnoreCase(part, ".git")) return true;
    if (access == Access::kWrite && EqualsIgnoreCase(part, ".tandem")) return true;
  }
  return false;
}

Result<PathGuard> PathGuard::Create(const fs::path& root) {
  std::error_code ec;
  fs::path canonical = fs::canonical(root, ec);
  if (ec || !fs::is_directory(canonical, ec)) {
    return NotFound("workspace root is not a directory: " + root.string());
  }
  return PathGuard(canonical);
}

Result<ResolvedPath> PathGuard::Resolve(std::string_view path, Access access) const {
  if (path.empty()) return InvalidArgument("path is empty; use '.' for the workspace root");
  if (path.find('\0') != std::string_view::npos) return PermissionDenied("path contains a NUL byte");
  if (path.front() == '/') {
    fs::path abs = fs::path(path).lexically_normal();
    std::string hint;
    if (IsWithin(abs, root_)) hint = "; use '" + Relative(abs, root_) + "'";
    return PermissionDenied("'" + std::string(path) +
                            "' is an absolute path: paths must be relative to the workspace root" +
                            hint);
  }

  // Walk component by component, following symlinks where they appear.
  std::vector<std::string> pending = Split(path);
  std::reverse(pending.begin(), pending.end());  // a stack: back() is next
  fs::path current = root_;
  bool exists = true;  // does `current` exist on disk?
  int hops = 0;
  while (!pending.empty()) {
    std::string part = std::move(pending.back());
    pending.pop_back();
    if (part == ".") continue;
    if (part == "..") {
      if (current == root_) {
        return PermissionDenied("'" + std::string(path) +
                                "' leads outside the workspace through '..'");
      }
      if (!exists) {  // as open(2) would: no `..` out of a missing directory
        return NotFound("'" + std::string(path) + "': no such directory: " +
                        Relative(current, root_));
      }
      current = current.parent_path();
      continue;
    }
    fs::path next = current / part;
    struct stat st;
    if (!exists || ::lstat(next.c_str(), &st) != 0) {
      exists = false;
      current = next;
      continue;
    }
    if (!S_ISLNK(st.st_mode)) {
      current = next;
      continue;
    }
    if (++hops > kMaxSymlinkHops) return PermissionDenied("too many symlinks in '" + std::string(path) + "'");
    std::error_code ec;
    fs::path target = fs::read_symlink(next, ec);
    if (ec) return IoError("cannot read symlink " + Relative(next, root_) + ": " + ec.message());
    std::string target_str = target.string();
    if (target.is_absolute()) {
      // Restart from "/" lexically; the root check below catches escapes.
      fs::path t = target.lexically_normal();
      if (!IsWithin(t, root_)) {
        return PermissionDenied("'" + std::string(path) + "' goes through symlink '" +
                                Relative(next, root_) + "' which points outside the workspace (" +
                                target_str + ")");
      }
      current = root_;
      std::vector<std::string> rest = Split(Relative(t, root_));
      for (auto it = rest.rbegin(); it != rest.rend(); ++it) {
        if (*it != ".") pending.push_back(*it);
      }
      continue;
    }
    // Relative target: resolved from the symlink's directory.
    std::vector<std::string> rest = Split(target_str);
    for (auto it = rest.rbegin(); it != rest.rend(); ++it) pending.push_back(*it);
    // A `..` in the target that climbs above the root is an escape through
    // the symlink, not through the model's own `..`: say so.
    fs::path probe = current;
    for (const std::string& r : rest) {
      if (r == "..") {
        if (probe == root_) {
          return PermissionDenied("'" + std::string(path) + "' goes through symlink '" +
                                  Relative(next, root_) + "' which points outside the workspace (" +
                                  target_str + ")");
        }
        probe = probe.parent_path();
      } else if (r != ".") {
        probe /= r;
      }
    }
  }
  ResolvedPath resolved{current, Relative(current, root_)};
  if (IsProtectedPath(resolved.relative, access)) {
    return PermissionDenied(access == Access::kWrite
                                ? "'" + std::string(path) +
                                      "' is inside .git/ or .tandem/, which tools never write"
                                : "'" + std::string(path) + "' is inside .git/, which tools do not read; "
                                                            "use run_command with git to inspect history");
  }
  return resolved;
}

}  // namespace tandem::tools
