// PathGuard: turns a path chosen by the model into a real path inside the
// workspace root, or refuses it.
//
// Refused (kPermissionDenied, with a message the model can act on):
// - absolute paths (the message names the relative form when the path is
//   inside the root), and NUL bytes;
// - `..` that climbs above the root;
// - symlinks anywhere in the path, the final component included, whose
//   target lies outside the root (a dangling symlink resolves to its target);
// - any access below a `.git` component, and writes below `.tandem`.
// Existing components are resolved the way the kernel would (each symlink
// followed where it appears), so `link/..` means what it means to open(2).
//
// The check happens before use; a process racing to swap a directory for a
// symlink in between is out of scope (commands run sandboxed, and tools run
// one at a time). Thread-safe: immutable after Create.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "tandem/base/status.h"

namespace tandem::tools {

enum class Access { kRead, kWrite };

struct ResolvedPath {
  std::filesystem::path absolute;  // real path inside the root (symlinks resolved)
  std::string relative;            // '/'-separated, relative to the root; "." for the root
};

class PathGuard {
 public:
  // `root` must be an existing directory; it is canonicalized.
  static Result<PathGuard> Create(const std::filesystem::path& root);

  // The returned path has every existing symlink expanded, so writing to it
  // never follows a link. Errors: kPermissionDenied as listed above;
  // kInvalidArgument for an empty path; kNotFound for `..` out of a missing
  // directory. A path that does not exist yet is fine (the caller decides).
  Result<ResolvedPath> Resolve(std::string_view path, Access access) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  explicit PathGuard(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

// True when `relative` (a root-relative '/'-separated path) lies below a
// component named .git or, for writes, .tandem (compared case-insensitively).
bool IsProtectedPath(std::string_view relative, Access access);

}  // namespace tandem::tools
