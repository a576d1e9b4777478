// FileChange: one file's difference between two trees, as guardrails (diff
// caps, path scope, "no deletes") and diff displays need it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tandem::workspace {

// What a tree holds at a path. Directories never appear: changes are per file.
enum class EntryMode {
  kAbsent,      // nothing at this path
  kRegular,     // 100644
  kExecutable,  // 100755
  kSymlink,     // 120000, content is the link target
  kSubmodule,   // 160000, a gitlink; tandem records but never rewrites it
};

enum class ChangeKind {
  kAdded,
  kDeleted,
  kModified,     // content changed (possibly the mode or type too)
  kModeChanged,  // same content, only the mode differs (e.g. chmod +x)
};

std::string_view EntryModeName(EntryMode mode);   // "absent", "regular", ...
std::string_view ChangeKindName(ChangeKind kind);  // "added", "deleted", ...

struct FileChange {
  std::string path;  // relative to the worktree root, '/' separated
  ChangeKind kind = ChangeKind::kModified;
  EntryMode old_mode = EntryMode::kAbsent;
  EntryMode new_mode = EntryMode::kAbsent;
  int64_t lines_added = 0;    // 0 for binary files
  int64_t lines_removed = 0;  // 0 for binary files
  bool binary = false;        // either side is binary content
  // A git-ignored file tandem protects (see workspace.h): restorable, counted
  // by the no-deletes rule, but outside scopes and diff caps; never in a
  // patch, and line counts are 0.
  bool ignored = false;

  bool operator==(const FileChange&) const = default;
};

}  // namespace tandem::workspace
