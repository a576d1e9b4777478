#include "tandem/workspace/tree_merge.h"

#include <git2.h>

#include <ctime>
#include <set>

#include "tandem/workspace/git_handle.h"
#include "tandem/workspace/tree_diff.h"

namespace tandem::workspace {
namespace {

using internal::CommitPtr;
using internal::GitError;
using internal::IndexPtr;
using internal::RepoPtr;
using internal::SignaturePtr;
using internal::TreePtr;

Result<CommitPtr> LookupCommit(git_repository* repo, const CheckpointId& id) {
  git_oid oid;
  if (git_oid_fromstr(&oid, id.hex.c_str()) < 0) {
    git_error_clear();
    return InvalidArgument("bad checkpoint id: " + id.hex);
  }
  git_commit* raw = nullptr;
  int rc = git_commit_lookup(&raw, repo, &oid);
  if (rc < 0) return GitError(rc, "reading checkpoint " + id.Short());
  return CommitPtr(raw);
}

Result<TreePtr> CommitTree(git_commit* commit) {
  git_tree* raw = nullptr;
  int rc = git_commit_tree(&raw, commit);
  if (rc < 0) return GitError(rc, "reading a checkpoint's tree");
  return TreePtr(raw);
}

// `theirs` with every `keep` path set back to its state in `base`, so the
// merge takes ours' version of it.
Result<TreePtr> WithBasePaths(git_repository* repo, git_tree* theirs, git_tree* base,
                              const std::vector<std::string>& keep) {
  std::vector<git_tree_update> updates;
  std::vector<internal::TreeEntryPtr> held;
  for (const std::string& path : keep) {
    internal::TreeEntryPtr in_base = TRY(internal::FindEntry(base, path));
    internal::TreeEntryPtr in_theirs = TRY(internal::FindEntry(theirs, path));
    if (!in_base && !in_theirs) continue;
    git_tree_update u{};
    u.path = path.c_str();
    if (in_base) {
      u.action = GIT_TREE_UPDATE_UPSERT;
      git_oid_cpy(&u.id, git_tree_entry_id(in_base.get()));
      u.filemode = git_tree_entry_filemode(in_base.get());
    } else {
      u.action = GIT_TREE_UPDATE_REMOVE;
    }
    updates.push_back(u);
    held.push_back(std::move(in_base));
    held.push_back(std::move(in_theirs));
  }
  git_oid out;
  if (updates.empty()) {
    git_oid_cpy(&out, git_tree_id(theirs));
  } else {
    int rc = git_tree_create_updated(&out, repo, theirs, updates.size(), updates.data());
    if (rc < 0) return GitError(rc, "preparing the agent's tree for the merge");
  }
  return internal::LookupTree(repo, out);
}

}  // namespace

Result<TreeMerge> MergeCheckpoints(const std::filesystem::path& repo_root,
                                   const CheckpointId& base, const CheckpointId& ours,
                                   const CheckpointId& theirs,
                                   const std::vector<std::string>& keep_ours) {
  internal::LibGit2Session session;
  RepoPtr repo = TRY(internal::OpenRepository(repo_root));
  CommitPtr base_commit = TRY(LookupCommit(repo.get(), base));
  CommitPtr our_commit = TRY(LookupCommit(repo.get(), ours));
  CommitPtr their_commit = TRY(LookupCommit(repo.get(), theirs));
  TreePtr base_tree = TRY(CommitTree(base_commit.get()));
  TreePtr our_tree = TRY(CommitTree(our_commit.get()));
  TreePtr their_tree = TRY(CommitTree(their_commit.get()));
  their_tree = TRY(WithBasePaths(repo.get(), their_tree.get(), base_tree.get(), keep_ours));

  git_merge_options options = GIT_MERGE_OPTIONS_INIT;
  git_index* raw_index = nullptr;
  int rc = git_merge_trees(&raw_index, repo.get(), base_tree.get(), our_tree.get(),
                           their_tree.get(), &options);
  if (rc < 0) return GitError(rc, "merging checkpoint " + theirs.Short());
  IndexPtr index(raw_index);

  TreeMerge out;
  if (git_index_has_conflicts(index.get())) {
    git_index_conflict_iterator* raw_it = nullptr;
    rc = git_index_conflict_iterator_new(&raw_it, index.get());
    if (rc < 0) return GitError(rc, "listing merge conflicts");
    std::unique_ptr<git_index_conflict_iterator, void (*)(git_index_conflict_iterator*)> it(
        raw_it, git_index_conflict_iterator_free);
    std::set<std::string> paths;
    const git_index_entry *ancestor = nullptr, *our = nullptr, *their = nullptr;
    while ((rc = git_index_conflict_next(&ancestor, &our, &their, it.get())) == 0) {
      for (const git_index_entry* e : {ancestor, our, their}) {
        if (e) paths.insert(e->path);
      }
    }
    if (rc != GIT_ITEROVER) return GitError(rc, "listing merge conflicts");
    out.conflicts.assign(paths.begin(), paths.end());
    return out;
  }

  git_oid tree_id;
  rc = git_index_write_tree_to(&tree_id, index.get(), repo.get());
  if (rc < 0) return GitError(rc, "writing the merged tree");
  TreePtr merged_tree = TRY(internal::LookupTree(repo.get(), tree_id));
  for (FileChange& c : TRY(internal::DiffTrees(repo.get(), our_tree.get(), merged_tree.get()))) {
    out.changed.push_back(std::move(c.path));
  }
  git_signature* raw_sig = nullptr;
  rc = git_signature_new(&raw_sig, "tandem", "tandem@localhost", std::time(nullptr), 0);
  if (rc < 0) return GitError(rc, "creating signature");
  SignaturePtr sig(raw_sig);
  const git_commit* parents[1] = {our_commit.get()};
  git_oid commit_id;
  std::string message = "tandem merge of " + theirs.Short() + " into " + ours.Short();
  rc = git_commit_create(&commit_id, repo.get(), nullptr, sig.get(), sig.get(), nullptr,
                         message.c_str(), merged_tree.get(), 1, parents);
  if (rc < 0) return GitError(rc, "writing the merged commit");
  out.merged = CheckpointId{internal::OidHex(commit_id)};
  return out;
}

}  // namespace tandem::workspace
