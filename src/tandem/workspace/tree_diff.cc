#include "tandem/workspace/tree_diff.h"

#include <algorithm>
#include <map>

#include "tandem/workspace/git_handle.h"

namespace tandem::workspace::internal {
namespace {

// One file that differs. Ids/modes are zero on the absent side.
struct RawChange {
  std::string path;
  git_oid old_id{};
  git_filemode_t old_mode = static_cast<git_filemode_t>(0);
  git_oid new_id{};
  git_filemode_t new_mode = static_cast<git_filemode_t>(0);
};

bool IsTree(const git_tree_entry* e) { return e && git_tree_entry_filemode(e) == GIT_FILEMODE_TREE; }

Status AddSubtree(git_repository* repo, const git_tree_entry* e, const std::string& path, bool old_side,
                  std::vector<RawChange>& out) {
  Result<TreePtr> tree = LookupTree(repo, *git_tree_entry_id(e));
  if (!tree) return tree.error();
  size_t n = git_tree_entrycount(tree->get());
  for (size_t i = 0; i < n; ++i) {
    const git_tree_entry* child = git_tree_entry_byindex(tree->get(), i);
    std::string child_path = path + "/" + git_tree_entry_name(child);
    if (IsTree(child)) {
      RETURN_IF_ERROR(AddSubtree(repo, child, child_path, old_side, out));
      continue;
    }
    RawChange c;
    c.path = std::move(child_path);
    (old_side ? c.old_id : c.new_id) = *git_tree_entry_id(child);
    (old_side ? c.old_mode : c.new_mode) = git_tree_entry_filemode(child);
    out.push_back(std::move(c));
  }
  return Status::Ok();
}

// Walks both trees together, descending only into subtrees whose ids differ,
// so the cost follows the size of the change, not of the trees.
Status DiffRecursive(git_repository* repo, git_tree* a, git_tree* b, const std::string& prefix,
                     std::vector<RawChange>& out) {
  std::map<std::string_view, std::pair<const git_tree_entry*, const git_tree_entry*>> names;
  for (size_t i = 0, n = a ? git_tree_entrycount(a) : 0; i < n; ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(a, i);
    names[git_tree_entry_name(e)].first = e;
  }
  for (size_t i = 0, n = b ? git_tree_entrycount(b) : 0; i < n; ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(b, i);
    names[git_tree_entry_name(e)].second = e;
  }
  for (const auto& [name, pair] : names) {
    const auto& [old_e, new_e] = pair;
    if (old_e && new_e && git_tree_entry_filemode(old_e) == git_tree_entry_filemode(new_e) &&
        git_oid_equal(git_tree_entry_id(old_e), git_tree_entry_id(new_e))) {
      continue;
    }
    std::string path = prefix.empty() ? std::string(name) : prefix + "/" + std::string(name);
    if (IsTree(old_e) && IsTree(new_e)) {
      Result<TreePtr> sa = LookupTree(repo, *git_tree_entry_id(old_e));
      if (!sa) return sa.error();
      Result<TreePtr> sb = LookupTree(repo, *git_tree_entry_id(new_e));
      if (!sb) return sb.error();
      RETURN_IF_ERROR(DiffRecursive(repo, sa->get(), sb->get(), path, out));
      continue;
    }
    if (IsTree(old_e)) RETURN_IF_ERROR(AddSubtree(repo, old_e, path, true, out));
    if (IsTree(new_e)) RETURN_IF_ERROR(AddSubtree(repo, new_e, path, false, out));
    RawChange c;
    c.path = path;
    if (old_e && !IsTree(old_e)) {
      c.old_id = *git_tree_entry_id(old_e);
      c.old_mode = git_tree_entry_filemode(old_e);
    }
    if (new_e && !IsTree(new_e)) {
      c.new_id = *git_tree_entry_id(new_e);
      c.new_mode = git_tree_entry_filemode(new_e);
    }
    if (c.old_mode != 0 || c.new_mode != 0) out.push_back(std::move(c));
  }
  return Status::Ok();
}

Result<std::vector<RawChange>> RawDiff(git_repository* repo, git_tree* from, git_tree* to) {
  std::vector<RawChange> raw;
  RETURN_IF_ERROR(DiffRecursive(repo, from, to, "", raw));
  std::sort(raw.begin(), raw.end(),
            [](const RawChange& x, const RawChange& y) { return x.path < y.path; });
  return raw;
}

bool IsBlob(git_filemode_t mode) { return mode != 0 && mode != GIT_FILEMODE_COMMIT; }

Result<BlobPtr> MaybeBlob(git_repository* repo, const git_oid& id, git_filemode_t mode) {
  if (!IsBlob(mode)) return BlobPtr();
  git_blob* blob = nullptr;
  TANDEM_GIT_CALL(git_blob_lookup(&blob, repo, &id), "reading blob " + OidHex(id));
  return BlobPtr(blob);
}

// The patch of one change (nullptr for submodule-only changes).
Result<PatchPtr> PatchOf(git_repository* repo, const RawChange& c, uint32_t context) {
  BlobPtr old_blob = TRY(MaybeBlob(repo, c.old_id, c.old_mode));
  BlobPtr new_blob = TRY(MaybeBlob(repo, c.new_id, c.new_mode));
  if (!old_blob && !new_blob) return PatchPtr();
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.context_lines = context;
  git_patch* patch = nullptr;
  TANDEM_GIT_CALL(git_patch_from_blobs(&patch, old_blob.get(), c.path.c_str(), new_blob.get(),
                                       c.path.c_str(), &opts),
                  "diffing " + c.path);
  return PatchPtr(patch);
}

}  // namespace

Result<std::vector<FileChange>> DiffTrees(git_repository* repo, git_tree* from, git_tree* to) {
  std::vector<RawChange> raw = TRY(RawDiff(repo, from, to));
  std::vector<FileChange> out;
  out.reserve(raw.size());
  for (const RawChange& r : raw) {
    FileChange c;
    c.path = r.path;
    c.old_mode = ModeFromGit(r.old_mode);
    c.new_mode = ModeFromGit(r.new_mode);
    if (r.old_mode == 0) {
      c.kind = ChangeKind::kAdded;
    } else if (r.new_mode == 0) {
      c.kind = ChangeKind::kDeleted;
    } else if (git_oid_equal(&r.old_id, &r.new_id)) {
      c.kind = ChangeKind::kModeChanged;
    } else {
      c.kind = ChangeKind::kModified;
    }
    if (c.kind != ChangeKind::kModeChanged) {
      PatchPtr patch = TRY(PatchOf(repo, r, 0));
      if (patch) {
        c.binary = (git_patch_get_delta(patch.get())->flags & GIT_DIFF_FLAG_BINARY) != 0;
        size_t added = 0, removed = 0;
        TANDEM_GIT_CALL(git_patch_line_stats(nullptr, &added, &removed, patch.get()),
                        "counting lines of " + r.path);
        c.lines_added = static_cast<int64_t>(added);
        c.lines_removed = static_cast<int64_t>(removed);
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<std::string>> ChangedPaths(git_repository* repo, git_tree* from, git_tree* to) {
  std::vector<RawChange> raw = TRY(RawDiff(repo, from, to));
  std::vector<std::string> out;
  out.reserve(raw.size());
  for (RawChange& r : raw) out.push_back(std::move(r.path));
  return out;
}

Result<std::string> PatchText(git_repository* repo, git_tree* from, git_tree* to) {
  std::vector<RawChange> raw = TRY(RawDiff(repo, from, to));
  std::string text;
  for (const RawChange& r : raw) {
    PatchPtr patch = TRY(PatchOf(repo, r, 3));
    if (!patch) continue;
    git_buf buf = GIT_BUF_INIT;
    TANDEM_GIT_CALL(git_patch_to_buf(&buf, patch.get()), "formatting patch of " + r.path);
    text.append(buf.ptr, buf.size);
    git_buf_dispose(&buf);
  }
  return text;
}

}  // namespace tandem::workspace::internal
