#include "tandem/workspace/tree_edit.h"

#include <map>
#include <set>

#include "tandem/workspace/git_handle.h"

namespace tandem::workspace::internal {
namespace {

bool IsTreeMode(git_filemode_t mode) { return mode == GIT_FILEMODE_TREE; }

Result<git_oid> CreateUpdated(git_repository* repo, git_tree* base,
                              const std::vector<git_tree_update>& updates) {
  git_oid out;
  TANDEM_GIT_CALL(git_tree_create_updated(&out, repo, base, updates.size(), updates.data()),
                  "updating checkpoint tree");
  return out;
}

}  // namespace

Result<git_oid> ApplyTreeChanges(git_repository* repo, git_tree* base,
                                 const std::vector<TreeChange>& changes) {
  std::map<std::string, const TreeChange*> by_path;
  for (const TreeChange& c : changes) by_path[c.path] = &c;

  // git_tree_create_updated refuses directory/file conflicts and removals of
  // absent entries, and it resolves each path against the *original* tree, so
  // a removal at or above an upserted path goes in a first pass and the
  // upserts in a second. Without such overlap one pass does it all (each pass
  // writes every tree on the edited paths).
  std::set<std::string> removals;
  std::vector<const TreeChange*> upserts;
  for (const auto& [path, change] : by_path) {
    TreeEntryPtr existing = TRY(FindEntry(base, path));
    if (change->remove) {
      if (existing) removals.insert(path);
      continue;
    }
    upserts.push_back(change);
    if (existing && (git_tree_entry_type(existing.get()) == GIT_OBJECT_TREE) != IsTreeMode(change->mode)) {
      removals.insert(path);
    }
    if (!existing) {
      // A file standing where one of the parent directories must go.
      for (size_t slash = path.find('/'); slash != std::string::npos;
           slash = path.find('/', slash + 1)) {
        std::string prefix = path.substr(0, slash);
        TreeEntryPtr ancestor = TRY(FindEntry(base, prefix));
        if (!ancestor) break;
        if (git_tree_entry_type(ancestor.get()) != GIT_OBJECT_TREE) {
          removals.insert(prefix);
          break;
        }
      }
    }
  }

  // A removal under an already removed directory would resurrect that
  // directory inside git_tree_create_updated; drop it.
  std::vector<git_tree_update> updates;
  std::vector<std::string> kept;
  for (const std::string& path : removals) {
    bool covered = false;
    for (const std::string& k : kept) {
      if (path.size() > k.size() && path.compare(0, k.size(), k) == 0 && path[k.size()] == '/') {
        covered = true;
        break;
      }
    }
    if (!covered) kept.push_back(path);
  }
  for (const std::string& path : kept) {
    git_tree_update u{};
    u.action = GIT_TREE_UPDATE_REMOVE;
    u.path = path.c_str();
    updates.push_back(u);
  }

  bool overlap = false;
  for (const TreeChange* c : upserts) {
    for (size_t end = c->path.find('/'); !overlap; end = c->path.find('/', end + 1)) {
      overlap = removals.count(c->path.substr(0, end)) > 0;
      if (end == std::string::npos) break;
    }
    if (overlap) break;
  }

  auto add_upserts = [&] {
    for (const TreeChange* c : upserts) {
      git_tree_update u{};
      u.action = GIT_TREE_UPDATE_UPSERT;
      u.id = c->id;
      u.filemode = c->mode;
      u.path = c->path.c_str();
      updates.push_back(u);
    }
  };
  if (!overlap) {
    add_upserts();
    if (updates.empty()) return *git_tree_id(base);
    return CreateUpdated(repo, base, updates);
  }

  git_oid after_removals_id = TRY(CreateUpdated(repo, base, updates));
  TreePtr after_removals = TRY(LookupTree(repo, after_removals_id));
  updates.clear();
  add_upserts();
  return CreateUpdated(repo, after_removals.get(), updates);
}

}  // namespace tandem::workspace::internal
