#include "tandem/workspace/file_change.h"

namespace tandem::workspace {

std::string_view EntryModeName(EntryMode mode) {
  switch (mode) {
    case EntryMode::kAbsent: return "absent";
    case EntryMode::kRegular: return "regular";
    case EntryMode::kExecutable: return "executable";
    case EntryMode::kSymlink: return "symlink";
    case EntryMode::kSubmodule: return "submodule";
  }
  return "unknown";
}

std::string_view ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kAdded: return "added";
    case ChangeKind::kDeleted: return "deleted";
    case ChangeKind::kModified: return "modified";
    case ChangeKind::kModeChanged: return "mode_changed";
  }
  return "unknown";
}

}  // namespace tandem::workspace
