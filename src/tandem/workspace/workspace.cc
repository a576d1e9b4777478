#include "tandem/workspace/workspace.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <future>
#include <iterator>
#include <set>
#include <utility>

#include "tandem/base/kill_point.h"
#include "tandem/workspace/empty_dirs.h"
#include "tandem/workspace/git_handle.h"
#include "tandem/workspace/ignored_files.h"
#include "tandem/workspace/stat_cache.h"
#include "tandem/workspace/tree_diff.h"
#include "tandem/workspace/tree_edit.h"
#include "tandem/workspace/tree_watcher.h"
#include "tandem/workspace/worktree_io.h"

namespace tandem::workspace {
namespace internal {

// Everything libgit2-typed lives here, so workspace.h needs no git2.h.
// Member order matters: the session outlives the repository, which outlives
// the objects read from it.
class WorkspaceState {
 public:
  LibGit2Session session;
  RepoPtr repo;
  std::string root;  // ends in '/'
  std::unique_ptr<StatCache> stat_cache;
  std::unique_ptr<IgnoredFiles> ignored;  // the protected git-ignored files
  std::unique_ptr<EmptyDirs> empty_dirs;
  // Null when inotify is unavailable: then every unknown step rescans.
  std::unique_ptr<TreeWatcher> watcher;

  int64_t full_scans = 0;
  // Recorded files with other hard links: a write through another name
  // (in an unwatched directory) changes them unreported, so every unknown
  // capture re-stats them. Known from captures, and from a survey (one lstat
  // per recorded file, in the background) that every full scan and every
  // unknown capture starts: creating a link in an unwatched directory makes
  // no event either, so a command's new links are found after it.
  std::set<std::string> linked;
  std::future<std::vector<std::string>> linked_survey;
  std::shared_ptr<const std::vector<std::string>> scan_paths;  // as of the last full scan
  std::set<std::string> captured_since_scan;
  // Set when a capture meets a file that gained links since the survey: its
  // other names are unknown, so the capture falls back to a rescan.
  bool new_link = false;
  // The next unknown capture rescans: events were taken but not recorded
  // (a failed checkpoint), or a caller distrusts the watch (DistrustWatch).
  bool rescan_next = false;

  std::string run_id;
  int64_t next_seq = 0;
  std::optional<git_oid> last_commit;
  TreePtr current_tree;  // what the working tree holds, as far as tandem knows
  // The head of refs/tandem/ignored/<run-id>, the tree and the empty
  // directories it records.
  std::optional<git_oid> ignored_commit;
  git_oid ignored_recorded{};
  std::set<std::string> empty_dirs_recorded;

  Result<CommitPtr> CommitOf(const CheckpointId& id);
  Result<TreePtr> TreeOf(const CheckpointId& id);
  // The protected ignored files' tree of a checkpoint; null for a commit
  // that records none (HEAD, checkpoints older than this record).
  Result<TreePtr> IgnoredTreeOf(const CheckpointId& id);
  // The commit on refs/tandem/ignored/<run> that a checkpoint names; null
  // for a commit that names none.
  Result<CommitPtr> SideCommitOf(const CheckpointId& id);
  // The empty directories a checkpoint records; nullopt when it records
  // none (HEAD, checkpoints older than this record).
  Result<std::optional<std::set<std::string>>> EmptyDirsOf(const CheckpointId& id);
  Status LoadCaches();
  Result<git_oid> FullScan();
  std::vector<std::string> ChangedLinks();
  void StartSurvey();
  void MergeSurvey();
  Status RecordIgnored(std::string& message);
  Status RestoreIgnored(git_tree* target, const std::vector<std::string>& under, bool all);
  Status RestoreEmptyDirs(const std::set<std::string>& target, const std::vector<std::string>& under,
                          bool all, const std::set<std::string>& extra);
  // Restore() when `undo_dirs` is null; else Undo(): then only the empty
  // directories in `undo_dirs` or on the way to `paths` are restored.
  Result<CheckpointId> RestoreTo(const CheckpointId& target, const TouchedPaths& paths,
                                 const std::set<std::string>* undo_dirs);
  Result<CheckpointId> Record(const git_oid& tree, std::string_view label);
  Result<bool> Ignored(const std::string& path);
  Result<bool> Matches(const std::string& path, const git_tree_entry* entry);
  Status RequireRun() const;
  void ArmWatcher();
  Result<git_oid> TreeWithTouched(const TouchedPaths& touched);
  // The tree the working tree holds, from what the watch reports changed
  // since current_tree, when it can tell (as an unknown capture does);
  // nullopt when a full scan must decide.
  std::optional<git_oid> CaptureWatched();
  Status ResetTo(const CheckpointId& target, const std::vector<std::string>& keep);
  Result<git_oid> TreeWithPaths(const std::vector<std::string>& paths);
  Status CaptureInto(const std::string& path, const WorkdirStat& s, std::vector<TreeChange>& out);
  Status CapturePath(const std::string& path, std::vector<TreeChange>& out);
  Status RestoreFile(const std::string& path, const git_oid& id, git_filemode_t mode);
  Status RestorePath(git_tree* target, const std::string& path, std::vector<TreeChange>& out);
  Result<std::vector<std::pair<int64_t, git_oid>>> ListRun(std::string_view run_id);
};

namespace {

bool ValidRunId(std::string_view id) {
  if (id.empty() || id.size() > 128 || id.front() == '.' || id.find("..") != std::string_view::npos) {
    return false;
  }
  if (id.size() >= 5 && id.substr(id.size() - 5) == ".lock") return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

struct TreeFile {
  std::string path;
  git_oid id;
  git_filemode_t mode;
};

// Every file under `tree` (recursively), with `prefix/` prepended.
Result<std::vector<TreeFile>> ListTree(git_tree* tree, const std::string& prefix) {
  struct Ctx {
    std::string prefix;
    std::vector<TreeFile> files;
  } ctx{prefix.empty() ? std::string() : prefix + "/", {}};
  auto cb = [](const char* root, const git_tree_entry* e, void* payload) -> int {
    auto* c = static_cast<Ctx*>(payload);
    git_filemode_t mode = git_tree_entry_filemode(e);
    if (mode == GIT_FILEMODE_TREE) return 0;
    c->files.push_back({c->prefix + root + git_tree_entry_name(e), *git_tree_entry_id(e), mode});
    return 0;
  };
  TANDEM_GIT_CALL(git_tree_walk(tree, GIT_TREEWALK_PRE, cb, &ctx), "listing " + prefix);
  return std::move(ctx.files);
}

}  // namespace

Result<CommitPtr> WorkspaceState::CommitOf(const CheckpointId& id) {
  git_oid oid;
  if (git_oid_fromstr(&oid, id.hex.c_str()) < 0) {
    git_error_clear();
    return InvalidArgument("bad checkpoint id: " + id.hex);
  }
  git_commit* raw = nullptr;
  int rc = git_commit_lookup(&raw, repo.get(), &oid);
  if (rc < 0) return GitError(rc, "no checkpoint " + id.hex);
  return CommitPtr(raw);
}

Result<CommitPtr> WorkspaceState::SideCommitOf(const CheckpointId& id) {
  CommitPtr commit = TRY(CommitOf(id));
  std::string_view message = git_commit_message(commit.get());
  constexpr std::string_view kTrailer = "\nTandem-Ignored: ";
  size_t at = message.find(kTrailer);
  if (at == std::string_view::npos) return CommitPtr();
  std::string hex(message.substr(at + kTrailer.size(), GIT_OID_HEXSZ));
  return CommitOf(CheckpointId{hex});
}

Result<TreePtr> WorkspaceState::IgnoredTreeOf(const CheckpointId& id) {
  CommitPtr side = TRY(SideCommitOf(id));
  if (!side) return TreePtr();
  git_tree* tree = nullptr;
  TANDEM_GIT_CALL(git_commit_tree(&tree, side.get()), "reading ignored files of " + id.hex);
  return TreePtr(tree);
}

Result<std::optional<std::set<std::string>>> WorkspaceState::EmptyDirsOf(const CheckpointId& id) {
  CommitPtr side = TRY(SideCommitOf(id));
  if (!side) return std::optional<std::set<std::string>>();
  return std::optional<std::set<std::string>>(EmptyDirs::Decode(git_commit_message(side.get())));
}

Status WorkspaceState::LoadCaches() {
  if (!stat_cache) stat_cache = TANDEM_WS_TRY(StatCache::Load(repo.get()));
  if (ignored) return Status::Ok();
  // Exemptions beyond the defaults come from the clone's own git config
  // (never from the repository's content, which may be hostile).
  std::vector<std::string> exempt = Protection::DefaultExempt();
  git_config* raw_config = nullptr;
  if (git_repository_config_snapshot(&raw_config, repo.get()) == 0) {
    git_config_iterator* it = nullptr;
    if (git_config_multivar_iterator_new(&it, raw_config, "tandem.unprotected", nullptr) == 0) {
      git_config_entry* entry = nullptr;
      while (git_config_next(&entry, it) == 0) exempt.emplace_back(entry->value);
      git_config_iterator_free(it);
    }
    git_config_free(raw_config);
  }
  git_error_clear();
  ignored = TANDEM_WS_TRY(IgnoredFiles::Load(repo.get(), Protection(std::move(exempt))));
  // Exempt ignored directories (build output) are not restored, so neither
  // are the empty directories in them; when in doubt, a directory counts.
  empty_dirs = std::make_unique<EmptyDirs>(root, [this](const std::string& dir) {
    if (!ignored->rules().Exempt(dir, /*is_dir=*/true)) return false;
    Result<bool> is_ignored = Ignored(dir);
    return is_ignored && *is_ignored;
  });
  return Status::Ok();
}

Result<git_oid> WorkspaceState::FullScan() {
  ++full_scans;
  std::vector<std::string> found;
  git_oid tree = TRY(stat_cache->Scan(&found));
  RETURN_IF_ERROR(ignored->Scan(found));
  if (linked_survey.valid()) linked_survey.wait();
  linked_survey = {};
  linked.clear();
  captured_since_scan.clear();
  scan_paths = std::make_shared<const std::vector<std::string>>(stat_cache->Paths());
  empty_dirs->Scan(*scan_paths);
  StartSurvey();
  return tree;
}

// Which recorded files have other links: one lstat per file, off the
// critical path (the next unknown capture waits for it if need be).
void WorkspaceState::StartSurvey() {
  MergeSurvey();
  if (!scan_paths) return;
  std::vector<std::string> extra(captured_since_scan.begin(), captured_since_scan.end());
  linked_survey = std::async(std::launch::async, [dir = root, paths = scan_paths,
                                                  extra = std::move(extra)] {
    std::vector<std::string> out;
    struct stat st{};
    for (const auto* list : {paths.get(), &extra}) {
      for (const std::string& p : *list) {
        if (lstat((dir + p).c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink > 1) {
          out.push_back(p);
        }
      }
    }
    return out;
  });
}

void WorkspaceState::MergeSurvey() {
  if (!linked_survey.valid()) return;
  for (std::string& p : linked_survey.get()) linked.insert(std::move(p));
}

std::vector<std::string> WorkspaceState::ChangedLinks() {
  MergeSurvey();
  std::vector<std::string> changed;
  for (auto it = linked.begin(); it != linked.end();) {
    struct stat st{};
    bool present = lstat((root + *it).c_str(), &st) == 0;
    if (!present || !stat_cache->Unchanged(*it, st)) changed.push_back(*it);
    it = present && st.st_nlink > 1 ? std::next(it) : linked.erase(it);
  }
  return changed;
}

namespace {

// Writes a commit of `tree` (child of `parent`, if any) and points `ref` at it.
Result<git_oid> CommitOnRef(git_repository* repo, const git_oid& tree_id,
                            const std::optional<git_oid>& parent_id, const std::string& message,
                            const std::string& ref_name) {
  TreePtr tree = TRY(LookupTree(repo, tree_id));
  git_signature* raw_sig = nullptr;
  TANDEM_GIT_CALL(git_signature_new(&raw_sig, "tandem", "tandem@localhost", std::time(nullptr), 0),
                  "creating signature");
  SignaturePtr sig(raw_sig);
  CommitPtr parent;
  if (parent_id) {
    git_commit* raw = nullptr;
    TANDEM_GIT_CALL(git_commit_lookup(&raw, repo, &*parent_id), "reading the parent of " + ref_name);
    parent.reset(raw);
  }
  const git_commit* parents[1] = {parent.get()};
  git_oid commit_id;
  TANDEM_GIT_CALL(git_commit_create(&commit_id, repo, nullptr, sig.get(), sig.get(), nullptr,
                                    message.c_str(), tree.get(), parent ? 1 : 0, parents),
                  "writing a commit for " + ref_name);
  git_reference* ref = nullptr;
  TANDEM_GIT_CALL(git_reference_create(&ref, repo, ref_name.c_str(), &commit_id, 1, "tandem"),
                  "writing " + ref_name);
  git_reference_free(ref);
  return commit_id;
}

}  // namespace

// Chains the protected ignored files' tree and the empty directories onto
// refs/tandem/ignored/<run> when either changed, and names that commit in
// the checkpoint's `message`.
Status WorkspaceState::RecordIgnored(std::string& message) {
  git_oid tree_id = TANDEM_WS_TRY(ignored->Tree());
  if (!ignored_commit || !git_oid_equal(&tree_id, &ignored_recorded) ||
      empty_dirs->dirs() != empty_dirs_recorded) {
    ignored_commit = TANDEM_WS_TRY(CommitOnRef(
        repo.get(), tree_id, ignored_commit,
        "tandem protected ignored files\n\nTandem-Run: " + run_id + "\n" +
            EmptyDirs::Encode(empty_dirs->dirs()),
        Workspace::IgnoredRef(run_id)));
    ignored_recorded = tree_id;
    empty_dirs_recorded = empty_dirs->dirs();
  }
  RETURN_IF_ERROR(ignored->Save());
  message += "Tandem-Ignored: " + OidHex(*ignored_commit) + "\n";
  return Status::Ok();
}

Result<TreePtr> WorkspaceState::TreeOf(const CheckpointId& id) {
  CommitPtr commit = TRY(CommitOf(id));
  git_tree* tree = nullptr;
  TANDEM_GIT_CALL(git_commit_tree(&tree, commit.get()), "reading checkpoint " + id.hex);
  return TreePtr(tree);
}

Result<CheckpointId> WorkspaceState::Record(const git_oid& tree_id, std::string_view label) {
  std::string message = "tandem checkpoint " + std::to_string(next_seq) + ": " +
                        std::string(label) + "\n\nTandem-Run: " + run_id + "\n";
  RETURN_IF_ERROR(RecordIgnored(message));
  git_oid commit_id =
      TRY(CommitOnRef(repo.get(), tree_id, last_commit, message,
                      Workspace::RunRefPrefix(run_id) + std::to_string(next_seq)));
  last_commit = commit_id;
  ++next_seq;
  current_tree = TRY(LookupTree(repo.get(), tree_id));
  rescan_next = false;
  return CheckpointId{OidHex(commit_id)};
}

Result<bool> WorkspaceState::Ignored(const std::string& path) {
  int ignored = 0;
  TANDEM_GIT_CALL(git_ignore_path_is_ignored(&ignored, repo.get(), path.c_str()),
                  "checking .gitignore for " + path);
  return ignored != 0;
}

Result<bool> WorkspaceState::Matches(const std::string& path, const git_tree_entry* entry) {
  WorkdirStat s = TRY(StatPath(root, path));
  if (entry == nullptr) return !s.exists();
  git_filemode_t mode = git_tree_entry_filemode(entry);
  if (mode == GIT_FILEMODE_COMMIT) return true;  // submodules are not tandem's to judge
  if (!s.is_file() || s.mode != mode) return false;
  git_oid id = TRY(HashPath(repo.get(), root, path, s.mode, /*store=*/false));
  return git_oid_equal(&id, git_tree_entry_id(entry)) != 0;
}

Status WorkspaceState::RequireRun() const {
  if (run_id.empty()) return FailedPrecondition("no active run: call StartRun first");
  return Status::Ok();
}

Status WorkspaceState::CaptureInto(const std::string& path, const WorkdirStat& s,
                                   std::vector<TreeChange>& out) {
  Result<git_oid> id = HashPath(repo.get(), root, path, s.mode, /*store=*/true);
  if (!id) return id.error();
  RETURN_IF_ERROR(stat_cache->Record(path, *id, s.mode, s.st));
  if (scan_paths) captured_since_scan.insert(path);
  if (s.st.st_nlink > 1 && s.mode != GIT_FILEMODE_LINK) {
    MergeSurvey();
    if (linked.insert(path).second) new_link = true;
  }
  out.push_back({path, false, *id, s.mode});
  return Status::Ok();
}

Status WorkspaceState::CapturePath(const std::string& path, std::vector<TreeChange>& out) {
  Result<WorkdirStat> stat = StatPath(root, path);
  if (!stat) return stat.error();
  Result<TreeEntryPtr> existing_r = FindEntry(current_tree.get(), path);
  if (!existing_r) return existing_r.error();
  TreeEntryPtr existing = std::move(*existing_r);
  git_filemode_t existing_mode =
      existing ? git_tree_entry_filemode(existing.get()) : static_cast<git_filemode_t>(0);
  if (existing_mode == GIT_FILEMODE_COMMIT) return Status::Ok();  // a submodule: recorded as is

  if (stat->is_file()) {
    if (!existing) {
      Result<bool> is_ignored = Ignored(path);
      if (!is_ignored) return is_ignored.error();
      if (*is_ignored) return ignored->Sync(path, {path});
    }
    RETURN_IF_ERROR(ignored->Sync(path, {}));  // it may have been an ignored file or directory
    return CaptureInto(path, *stat, out);
  }
  if (stat->mode != GIT_FILEMODE_TREE) {  // gone (or a fifo/socket, never captured)
    RETURN_IF_ERROR(ignored->Sync(path, {}));
    if (existing) {
      RETURN_IF_ERROR(stat_cache->Forget(path));
      out.push_back({path, true, {}, GIT_FILEMODE_BLOB});
    }
    return Status::Ok();
  }

  // A directory: capture its files, drop recorded files that are gone.
  std::set<std::string> recorded;
  if (existing_mode == GIT_FILEMODE_TREE) {
    Result<TreePtr> sub = LookupTree(repo.get(), *git_tree_entry_id(existing.get()));
    if (!sub) return sub.error();
    Result<std::vector<TreeFile>> files = ListTree(sub->get(), path);
    if (!files) return files.error();
    for (TreeFile& f : *files) recorded.insert(std::move(f.path));
  } else if (existing) {
    RETURN_IF_ERROR(stat_cache->Forget(path));
    out.push_back({path, true, {}, GIT_FILEMODE_BLOB});  // a file became a directory
  }
  Result<std::vector<std::string>> present = ListFiles(root, path);
  if (!present) return present.error();
  std::vector<std::string> ignored_present;
  for (const std::string& f : *present) {
    if (IsPrivatePath(f)) continue;
    bool was_recorded = recorded.erase(f) > 0;
    if (!was_recorded) {
      Result<bool> is_ignored = Ignored(f);
      if (!is_ignored) return is_ignored.error();
      if (*is_ignored) {
        ignored_present.push_back(f);
        continue;
      }
    }
    Result<WorkdirStat> fs = StatPath(root, f);
    if (!fs) return fs.error();
    if (fs->is_file()) {
      RETURN_IF_ERROR(CaptureInto(f, *fs, out));
    } else if (was_recorded) {
      recorded.insert(f);  // vanished meanwhile: remove below
    }
  }
  for (const std::string& gone : recorded) {
    RETURN_IF_ERROR(stat_cache->Forget(gone));
    out.push_back({gone, true, {}, GIT_FILEMODE_BLOB});
  }
  return ignored->Sync(path, ignored_present);
}

void WorkspaceState::ArmWatcher() {
  watcher.reset();
  Result<std::unique_ptr<TreeWatcher>> started =
      TreeWatcher::Start(repo.get(), root, stat_cache.get(), ignored.get());
  if (started) watcher = std::move(*started);
}

Result<git_oid> WorkspaceState::TreeWithTouched(const TouchedPaths& touched) {
  RETURN_IF_ERROR(RequireRun());
  if (!touched.unknown()) {
    if (watcher) watcher->Collect();  // keeps the kernel's queue short
    return TreeWithPaths(TRY(CanonicalPathSet(touched.paths())));
  }
  if (watcher && !rescan_next) {
    std::optional<std::vector<std::string>> changed = watcher->Take();
    if (changed) {
      new_link = false;
      for (std::string& p : ChangedLinks()) changed->push_back(std::move(p));
      auto paths = CanonicalPathSet(*changed);
      Result<git_oid> tree = paths ? TreeWithPaths(*paths) : Result<git_oid>(paths.error());
      // Until the caller records this tree, the taken events live only in it.
      if (tree && !new_link) {
        rescan_next = true;
        StartSurvey();  // links this command made where no watch sees them
        return tree;
      }
    }
  }
  // The watcher cannot tell (or capturing failed half-way, or a file gained
  // hard links whose other names are unknown, or the last capture was never
  // recorded):
  // a new watcher, armed before the rescan so nothing falls in between.
  if (watcher) ArmWatcher();
  Result<git_oid> scanned = FullScan();
  rescan_next = true;  // as above: cleared once current_tree holds it
  return scanned;
}

std::optional<git_oid> WorkspaceState::CaptureWatched() {
  if (!watcher || rescan_next || !current_tree) return std::nullopt;
  std::optional<std::vector<std::string>> changed = watcher->Take();
  if (!changed) return std::nullopt;
  rescan_next = true;  // the taken events live only in the tree until it is recorded
  new_link = false;
  for (std::string& p : ChangedLinks()) changed->push_back(std::move(p));
  Result<std::vector<std::string>> paths = CanonicalPathSet(*changed);
  if (!paths) return std::nullopt;
  Result<git_oid> tree = TreeWithPaths(*paths);
  // A capture that failed half way, or a file that gained links (its other
  // names are unknown): only a full scan can tell.
  if (!tree || new_link) return std::nullopt;
  return *tree;
}

namespace {

bool AtOrUnder(const std::string& path, const std::vector<std::string>& dirs) {
  return std::any_of(dirs.begin(), dirs.end(), [&](const std::string& d) {
    return path == d || (path.size() > d.size() && path[d.size()] == '/' &&
                         path.compare(0, d.size(), d) == 0);
  });
}

}  // namespace

Status WorkspaceState::ResetTo(const CheckpointId& target, const std::vector<std::string>& keep) {
  CommitPtr commit = TANDEM_WS_TRY(CommitOf(target));
  git_tree* raw_tree = nullptr;
  TANDEM_GIT_CALL(git_commit_tree(&raw_tree, commit.get()), "reading checkpoint " + target.hex);
  TreePtr target_tree(raw_tree);
  // The run ends here; its refs stay as they are.
  run_id.clear();
  last_commit.reset();
  ignored_commit.reset();
  next_seq = 0;
  RETURN_IF_ERROR(LoadCaches());
  std::optional<git_oid> now = CaptureWatched();
  if (!now) {
    ArmWatcher();  // before the scan: a change during it is then reported, not lost
    now = TANDEM_WS_TRY(FullScan());
  }
  current_tree = TANDEM_WS_TRY(LookupTree(repo.get(), *now));
  rescan_next = true;  // until current_tree holds what the restore below leaves

  // Tracked and untracked files: what differs from the target, as a
  // restore writes it (ignored files in removed directories stay).
  std::vector<TreeChange> changes;
  for (const std::string& p :
       TANDEM_WS_TRY(ChangedPaths(repo.get(), current_tree.get(), target_tree.get()))) {
    if (AtOrUnder(p, keep)) continue;
    RETURN_IF_ERROR(RestorePath(target_tree.get(), p, changes));
    empty_dirs->Update(p);
  }
  // Protected ignored files: a fresh worktree has none.
  git_oid ignored_id = TANDEM_WS_TRY(ignored->Tree());
  TreePtr ignored_tree = TANDEM_WS_TRY(LookupTree(repo.get(), ignored_id));
  for (const TreeFile& f : TANDEM_WS_TRY(ListTree(ignored_tree.get(), ""))) {
    if (AtOrUnder(f.path, keep)) continue;
    RETURN_IF_ERROR(RemoveFileOrEmptyDir(root, f.path));
    PruneEmptyDirs(root, Parent(f.path));
    RETURN_IF_ERROR(ignored->Sync(f.path, {}));
    empty_dirs->Update(f.path);
  }
  // Empty directories: a checkout makes none (removed only while empty).
  std::vector<std::string> dirs(empty_dirs->dirs().begin(), empty_dirs->dirs().end());
  for (const std::string& dir : dirs) {
    if (AtOrUnder(dir, keep)) continue;
    if (rmdir((root + dir).c_str()) == 0) PruneEmptyDirs(root, Parent(dir));
    empty_dirs->Update(dir);
  }
  RETURN_IF_ERROR(ignored->Save());

  git_oid tree = TANDEM_WS_TRY(ApplyTreeChanges(repo.get(), current_tree.get(), changes));
  current_tree = TANDEM_WS_TRY(LookupTree(repo.get(), tree));
  RETURN_IF_ERROR(stat_cache->WriteWorktreeIndex(keep));
  TANDEM_GIT_CALL(git_repository_set_head_detached(repo.get(), git_commit_id(commit.get())),
                  "detaching HEAD at " + target.hex);
  rescan_next = false;
  return Status::Ok();
}

Result<git_oid> WorkspaceState::TreeWithPaths(const std::vector<std::string>& paths) {
  std::vector<TreeChange> changes;
  for (const std::string& p : paths) {
    RETURN_IF_ERROR(CapturePath(p, changes));
    empty_dirs->Update(p);
  }
  if (changes.empty()) return *git_tree_id(current_tree.get());
  return ApplyTreeChanges(repo.get(), current_tree.get(), changes);
}

Status WorkspaceState::RestoreFile(const std::string& path, const git_oid& id, git_filemode_t mode) {
  WorkdirStat s;
  {
    Result<WorkdirStat> r = StatPath(root, path);
    if (!r) return r.error();
    s = *r;
  }
  bool same = false;
  if (s.is_file() && s.mode == mode) {
    Result<git_oid> current = HashPath(repo.get(), root, path, s.mode, /*store=*/false);
    if (!current) return current.error();
    same = git_oid_equal(&*current, &id) != 0;
  }
  if (!same) {
    RETURN_IF_ERROR(WritePath(repo.get(), root, path, id, mode));
    Result<WorkdirStat> r = StatPath(root, path);
    if (!r) return r.error();
    s = *r;
  }
  return stat_cache->Record(path, id, mode, s.st);
}

Status WorkspaceState::RestorePath(git_tree* target, const std::string& path,
                                   std::vector<TreeChange>& out) {
  Result<TreeEntryPtr> entry_r = FindEntry(target, path);
  if (!entry_r) return entry_r.error();
  const git_tree_entry* entry = entry_r->get();
  auto keep_ignored = [this](const std::string& f) {
    Result<bool> is_ignored = Ignored(f);
    return !is_ignored || *is_ignored;  // when in doubt, keep the file
  };

  if (entry == nullptr) {
    Result<WorkdirStat> s = StatPath(root, path);
    if (!s) return s.error();
    if (s->is_file() && !keep_ignored(path)) {
      RETURN_IF_ERROR(RemoveFileOrEmptyDir(root, path));
    } else if (s->mode == GIT_FILEMODE_TREE) {
      RETURN_IF_ERROR(RemovePath(root, path, keep_ignored));
    }
    PruneEmptyDirs(root, Parent(path));
    RETURN_IF_ERROR(stat_cache->Forget(path));
    out.push_back({path, true, {}, GIT_FILEMODE_BLOB});
    return Status::Ok();
  }

  git_filemode_t mode = git_tree_entry_filemode(entry);
  if (mode == GIT_FILEMODE_COMMIT) return Status::Ok();
  if (mode != GIT_FILEMODE_TREE) {
    RETURN_IF_ERROR(RestoreFile(path, *git_tree_entry_id(entry), mode));
    out.push_back({path, false, *git_tree_entry_id(entry), mode});
    return Status::Ok();
  }

  Result<TreePtr> sub = LookupTree(repo.get(), *git_tree_entry_id(entry));
  if (!sub) return sub.error();
  Result<std::vector<TreeFile>> files = ListTree(sub->get(), path);
  if (!files) return files.error();
  std::set<std::string> wanted;
  for (const TreeFile& f : *files) wanted.insert(f.path);
  Result<WorkdirStat> s = StatPath(root, path);
  if (!s) return s.error();
  if (s->mode == GIT_FILEMODE_TREE) {
    RETURN_IF_ERROR(RemovePath(root, path, [&](const std::string& f) {
      return wanted.count(f) > 0 || keep_ignored(f);
    }));
  }
  RETURN_IF_ERROR(stat_cache->Forget(path));
  for (const TreeFile& f : *files) {
    if (f.mode == GIT_FILEMODE_COMMIT) continue;
    RETURN_IF_ERROR(RestoreFile(f.path, f.id, f.mode));
  }
  out.push_back({path, false, *git_tree_entry_id(entry), GIT_FILEMODE_TREE});
  return Status::Ok();
}

Status WorkspaceState::RestoreIgnored(git_tree* target, const std::vector<std::string>& under,
                                      bool all) {
  git_oid now_id = TANDEM_WS_TRY(ignored->Tree());
  TreePtr now = TANDEM_WS_TRY(LookupTree(repo.get(), now_id));
  std::vector<FileChange> changes = TANDEM_WS_TRY(DiffTrees(repo.get(), now.get(), target));
  for (const FileChange& c : changes) {
    bool wanted = all || std::any_of(under.begin(), under.end(), [&](const std::string& u) {
                    return c.path == u || (c.path.size() > u.size() && c.path[u.size()] == '/' &&
                                           c.path.compare(0, u.size(), u) == 0);
                  });
    if (!wanted) continue;
    TreeEntryPtr entry = TANDEM_WS_TRY(FindEntry(target, c.path));
    if (entry) {
      if (!TANDEM_WS_TRY(Matches(c.path, entry.get()))) {
        RETURN_IF_ERROR(WritePath(repo.get(), root, c.path, *git_tree_entry_id(entry.get()),
                                  git_tree_entry_filemode(entry.get())));
      }
      RETURN_IF_ERROR(ignored->Sync(c.path, {c.path}));
    } else {
      RETURN_IF_ERROR(RemoveFileOrEmptyDir(root, c.path));
      PruneEmptyDirs(root, Parent(c.path));
      RETURN_IF_ERROR(ignored->Sync(c.path, {}));
    }
  }
  return Status::Ok();
}

// Makes the empty directories match `target` where the restore reaches:
// everywhere (`all`), or at, under or above the paths `under`, and at the
// directories `extra`. A directory the target does not have is removed only
// while empty (with its parents that held nothing else); one it has is made.
Status WorkspaceState::RestoreEmptyDirs(const std::set<std::string>& target,
                                        const std::vector<std::string>& under, bool all,
                                        const std::set<std::string>& extra) {
  auto related = [](const std::string& a, const std::string& b) {
    const std::string& shorter = a.size() <= b.size() ? a : b;
    const std::string& longer = a.size() <= b.size() ? b : a;
    return longer.compare(0, shorter.size(), shorter) == 0 &&
           (longer.size() == shorter.size() || longer[shorter.size()] == '/');
  };
  auto reached = [&](const std::string& dir) {
    return all || extra.count(dir) > 0 ||
           std::any_of(under.begin(), under.end(), [&](const std::string& u) { return related(dir, u); });
  };
  std::set<std::string> candidates = empty_dirs->dirs();
  candidates.insert(extra.begin(), extra.end());
  std::vector<std::string> removed;
  std::vector<std::string> reread;
  for (const std::string& dir : candidates) {
    if (!reached(dir)) continue;
    reread.push_back(dir);
    if (target.count(dir) > 0) continue;
    if (rmdir((root + dir).c_str()) != 0) continue;  // not empty (or gone): kept as is
    PruneEmptyDirs(root, Parent(dir));
    removed.push_back(dir);
  }
  for (const std::string& dir : target) {
    if (!reached(dir) && std::none_of(removed.begin(), removed.end(),
                                      [&](const std::string& r) { return related(dir, r); })) {
      continue;
    }
    RETURN_IF_ERROR(MakeDirs(root, dir));
    reread.push_back(dir);
  }
  for (const std::string& dir : reread) empty_dirs->Update(dir);
  return Status::Ok();
}

Result<CheckpointId> WorkspaceState::RestoreTo(const CheckpointId& target, const TouchedPaths& paths,
                                               const std::set<std::string>* undo_dirs) {
  RETURN_IF_ERROR(RequireRun());
  TreePtr target_tree = TRY(TreeOf(target));
  TreePtr target_ignored = TRY(IgnoredTreeOf(target));
  std::optional<std::set<std::string>> target_dirs = TRY(EmptyDirsOf(target));
  std::vector<std::string> restore_paths;
  if (paths.unknown()) {
    git_oid now = TRY(TreeWithTouched(paths));
    current_tree = TRY(LookupTree(repo.get(), now));
    rescan_next = false;
    std::vector<FileChange> changes = TRY(DiffTrees(repo.get(), current_tree.get(), target_tree.get()));
    for (FileChange& c : changes) restore_paths.push_back(std::move(c.path));
  } else {
    restore_paths = TRY(CanonicalPathSet(paths.paths()));
    // The paths may have changed since the last capture (a step rolled back
    // before its checkpoint).
    for (const std::string& p : restore_paths) empty_dirs->Update(p);
  }
  std::vector<TreeChange> changes;
  for (const std::string& p : restore_paths) {
    RETURN_IF_ERROR(RestorePath(target_tree.get(), p, changes));
    KillPoint("restore_path_written");  // crash tests: a restore half done
  }
  if (target_ignored) {
    RETURN_IF_ERROR(RestoreIgnored(target_ignored.get(), restore_paths, paths.unknown()));
  }
  for (const std::string& p : restore_paths) empty_dirs->Update(p);
  if (target_dirs) {
    RETURN_IF_ERROR(RestoreEmptyDirs(*target_dirs, restore_paths, undo_dirs == nullptr,
                                     undo_dirs ? *undo_dirs : std::set<std::string>()));
  }
  git_oid tree = TRY(ApplyTreeChanges(repo.get(), current_tree.get(), changes));
  return Record(tree, "restore " + target.Short());
}

Result<std::vector<std::pair<int64_t, git_oid>>> WorkspaceState::ListRun(std::string_view id) {
  if (!ValidRunId(id)) return InvalidArgument("bad run id: " + std::string(id));
  std::string prefix = Workspace::RunRefPrefix(id);
  std::string glob = prefix + "*";
  git_reference_iterator* raw = nullptr;
  TANDEM_GIT_CALL(git_reference_iterator_glob_new(&raw, repo.get(), glob.c_str()),
                  "listing " + glob);
  std::vector<std::pair<int64_t, git_oid>> out;
  git_reference* ref = nullptr;
  int rc = 0;
  while ((rc = git_reference_next(&ref, raw)) == 0) {
    RefPtr owned(ref);
    std::string_view name = git_reference_name(ref);
    std::string_view seq_text = name.substr(prefix.size());
    int64_t seq = 0;
    auto [end, ec] = std::from_chars(seq_text.data(), seq_text.data() + seq_text.size(), seq);
    const git_oid* target = git_reference_target(ref);
    if (ec != std::errc() || end != seq_text.data() + seq_text.size() || target == nullptr) continue;
    out.emplace_back(seq, *target);
  }
  git_reference_iterator_free(raw);
  if (rc != GIT_ITEROVER) return GitError(rc, "listing " + glob);
  git_error_clear();
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace internal

using internal::CommitPtr;
using internal::GitError;
using internal::TreeChange;
using internal::TreeEntryPtr;
using internal::TreePtr;

Workspace::Workspace(std::unique_ptr<internal::WorkspaceState> state) : state_(std::move(state)) {}
Workspace::~Workspace() = default;

Result<std::unique_ptr<Workspace>> Workspace::Open(const std::filesystem::path& root) {
  auto state = std::make_unique<internal::WorkspaceState>();
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::canonical(root, ec);
  if (ec) return NotFound("worktree " + root.string() + ": " + ec.message());
  git_repository* raw = nullptr;
  int rc = git_repository_open_ext(&raw, canonical.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
  if (rc < 0) return GitError(rc, "opening git worktree " + canonical.string());
  state->repo.reset(raw);
  if (git_repository_is_bare(raw)) return FailedPrecondition("bare repository: " + canonical.string());
  state->root = git_repository_workdir(raw);
  TANDEM_GIT_CALL(git_ignore_add_rule(raw, "/.tandem/\n"), "ignoring .tandem");
  return std::unique_ptr<Workspace>(new Workspace(std::move(state)));
}

const std::string& Workspace::root() const { return state_->root; }
const std::string& Workspace::run_id() const { return state_->run_id; }
int64_t Workspace::full_scans() const { return state_->full_scans; }

void Workspace::DistrustWatch() { state_->rescan_next = true; }

std::optional<CheckpointId> Workspace::last_checkpoint() const {
  if (!state_->last_commit || state_->run_id.empty()) return std::nullopt;
  return CheckpointId{internal::OidHex(*state_->last_commit)};
}

std::string Workspace::RunRefPrefix(std::string_view run_id) {
  return "refs/tandem/runs/" + std::string(run_id) + "/";
}

std::string Workspace::IgnoredRef(std::string_view run_id) {
  return "refs/tandem/ignored/" + std::string(run_id);
}

std::string Workspace::BestAttemptRef(std::string_view run_id) {
  return "refs/tandem/best/" + std::string(run_id);
}

Result<CheckpointId> Workspace::StartRun(std::string_view run_id) {
  internal::WorkspaceState& s = *state_;
  if (!s.run_id.empty()) return FailedPrecondition("run " + s.run_id + " is already active");
  auto existing = TRY(s.ListRun(run_id));  // validates run_id
  if (!existing.empty()) {
    // A process killed while writing one of this run's refs leaves a
    // `<n>.lock` behind, and git then refuses every later write. Only one
    // process runs a given run id (see the header), so any lock under the
    // run's own private ref folder is stale.
    std::error_code ec;
    std::filesystem::path refs_dir =
        std::filesystem::path(git_repository_commondir(s.repo.get())) / RunRefPrefix(run_id);
    for (const auto& entry : std::filesystem::directory_iterator(refs_dir, ec)) {
      if (entry.path().extension() == ".lock") std::filesystem::remove(entry.path(), ec);
    }
  }
  RETURN_IF_ERROR(s.LoadCaches());
  // After ResetTo this Workspace knows the tree: the watch tells what
  // changed since. Otherwise (or when it cannot tell) the full scan.
  std::optional<git_oid> known = s.CaptureWatched();
  git_oid tree;
  if (known) {
    tree = *known;
  } else {
    s.ArmWatcher();  // before the scan: a change during it is then reported, not lost
    tree = TRY(s.FullScan());
  }
  s.ignored_commit.reset();
  if (!existing.empty()) {
    s.next_seq = existing.back().first + 1;
    s.last_commit = existing.back().second;
    git_oid side;
    if (git_reference_name_to_id(&side, s.repo.get(), IgnoredRef(run_id).c_str()) == 0) {
      s.ignored_commit = side;
      CommitPtr commit = TRY(s.CommitOf(CheckpointId{internal::OidHex(side)}));
      s.ignored_recorded = *git_commit_tree_id(commit.get());
      s.empty_dirs_recorded = internal::EmptyDirs::Decode(git_commit_message(commit.get()));
    }
    git_error_clear();
  } else {
    s.next_seq = 0;
    git_oid head;
    if (git_reference_name_to_id(&head, s.repo.get(), "HEAD") == 0) {
      s.last_commit = head;
    } else {
      git_error_clear();  // unborn branch: the chain starts here
      s.last_commit.reset();
    }
  }
  s.run_id = std::string(run_id);
  Result<CheckpointId> id = s.Record(tree, existing.empty() ? "run start" : "run resumed");
  if (!id) s.run_id.clear();
  return id;
}

Result<CheckpointId> Workspace::Checkpoint(const TouchedPaths& touched, std::string_view label) {
  git_oid tree = TRY(state_->TreeWithTouched(touched));
  return state_->Record(tree, label);
}

Result<std::vector<FileChange>> Workspace::Diff(const CheckpointId& from, const CheckpointId& to) {
  TreePtr a = TRY(state_->TreeOf(from));
  TreePtr b = TRY(state_->TreeOf(to));
  std::vector<FileChange> changes = TRY(internal::DiffTrees(state_->repo.get(), a.get(), b.get()));
  TreePtr ignored_a = TRY(state_->IgnoredTreeOf(from));
  TreePtr ignored_b = TRY(state_->IgnoredTreeOf(to));
  if (!ignored_a || !ignored_b) return changes;
  for (FileChange& c : TRY(internal::DiffTrees(state_->repo.get(), ignored_a.get(), ignored_b.get()))) {
    c.ignored = true;
    c.lines_added = c.lines_removed = 0;
    changes.push_back(std::move(c));
  }
  return changes;
}

Result<Workspace::EmptyDirChanges> Workspace::DiffEmptyDirs(const CheckpointId& from,
                                                            const CheckpointId& to) {
  auto a = TRY(state_->EmptyDirsOf(from));
  auto b = TRY(state_->EmptyDirsOf(to));
  EmptyDirChanges changes;
  if (!a || !b) return changes;
  std::set_difference(b->begin(), b->end(), a->begin(), a->end(), std::back_inserter(changes.made));
  std::set_difference(a->begin(), a->end(), b->begin(), b->end(),
                      std::back_inserter(changes.removed));
  return changes;
}

Result<std::vector<FileChange>> Workspace::DiffToWorkingTree(const CheckpointId& from,
                                                             const TouchedPaths& touched) {
  TreePtr a = TRY(state_->TreeOf(from));
  git_oid now = TRY(state_->TreeWithTouched(touched));
  TreePtr b = TRY(internal::LookupTree(state_->repo.get(), now));
  std::vector<FileChange> changes = TRY(internal::DiffTrees(state_->repo.get(), a.get(), b.get()));
  state_->current_tree = std::move(b);
  state_->rescan_next = false;
  return changes;
}

Result<std::string> Workspace::TreeHash(const CheckpointId& checkpoint) {
  TreePtr tree = TRY(state_->TreeOf(checkpoint));
  return internal::OidHex(*git_tree_id(tree.get()));
}

Result<std::optional<std::string>> Workspace::ReadFileAt(const CheckpointId& checkpoint,
                                                         std::string_view path) {
  const std::string rel(path);
  TreePtr trees[] = {TRY(state_->TreeOf(checkpoint)), TRY(state_->IgnoredTreeOf(checkpoint))};
  for (const TreePtr& tree : trees) {
    if (!tree) continue;
    internal::TreeEntryPtr entry = TRY(internal::FindEntry(tree.get(), rel));
    if (!entry) continue;
    git_filemode_t mode = git_tree_entry_filemode(entry.get());
    if (mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
      return FailedPrecondition(rel + " in checkpoint " + checkpoint.Short() +
                                " is not a regular file");
    }
    git_blob* raw = nullptr;
    TANDEM_GIT_CALL(git_blob_lookup(&raw, state_->repo.get(), git_tree_entry_id(entry.get())),
                    "reading " + rel + " of checkpoint " + checkpoint.hex);
    internal::BlobPtr blob(raw);
    return std::optional<std::string>(
        std::in_place, static_cast<const char*>(git_blob_rawcontent(blob.get())),
        static_cast<size_t>(git_blob_rawsize(blob.get())));
  }
  return std::optional<std::string>();
}

Result<std::string> Workspace::Patch(const CheckpointId& from, const CheckpointId& to) {
  TreePtr a = TRY(state_->TreeOf(from));
  TreePtr b = TRY(state_->TreeOf(to));
  return internal::PatchText(state_->repo.get(), a.get(), b.get());
}

Status Workspace::ResetTo(const CheckpointId& target, const std::vector<std::string>& keep) {
  std::vector<std::string> kept;
  for (const std::string& k : keep) {
    std::string normalized = TANDEM_WS_TRY(NormalizeRelativePath(k));
    if (normalized.empty()) return InvalidArgument("ResetTo cannot keep the whole tree");
    kept.push_back(std::move(normalized));
  }
  return state_->ResetTo(target, kept);
}

Result<CheckpointId> Workspace::Restore(const CheckpointId& target, const TouchedPaths& paths) {
  return state_->RestoreTo(target, paths, nullptr);
}

Status Workspace::KeepBestAttempt(const CheckpointId& checkpoint) {
  RETURN_IF_ERROR(state_->RequireRun());
  git_oid oid;
  if (git_oid_fromstr(&oid, checkpoint.hex.c_str()) < 0) {
    git_error_clear();
    return InvalidArgument("bad checkpoint id: " + checkpoint.hex);
  }
  std::string name = BestAttemptRef(state_->run_id);
  git_reference* ref = nullptr;
  TANDEM_GIT_CALL(git_reference_create(&ref, state_->repo.get(), name.c_str(), &oid, 1,
                                       "tandem best attempt"),
                  "writing " + name);
  git_reference_free(ref);
  return Status::Ok();
}

Result<std::vector<CheckpointId>> Workspace::RunCheckpoints(std::string_view run_id) {
  auto list = TRY(state_->ListRun(run_id));
  std::vector<CheckpointId> out;
  out.reserve(list.size());
  for (const auto& [seq, oid] : list) out.push_back(CheckpointId{internal::OidHex(oid)});
  return out;
}

Result<CheckpointId> Workspace::Undo(std::string_view run_id) {
  internal::WorkspaceState& s = *state_;
  RETURN_IF_ERROR(s.RequireRun());
  std::vector<CheckpointId> checkpoints = TRY(RunCheckpoints(run_id));
  if (checkpoints.empty()) return NotFound("no run " + std::string(run_id));
  TreePtr before = TRY(s.TreeOf(checkpoints.front()));
  TreePtr after = TRY(s.TreeOf(checkpoints.back()));
  std::vector<FileChange> changes = TRY(internal::DiffTrees(s.repo.get(), before.get(), after.get()));
  std::vector<std::string> paths;
  std::string edited;
  // A path as the run left it is restored; one already as before the run
  // was restored by an undo killed half way; anything else is the user's.
  auto check = [&](git_tree* run_before, git_tree* run_after, const std::string& path) -> Status {
    TreeEntryPtr entry = TANDEM_WS_TRY(internal::FindEntry(run_after, path));
    if (TANDEM_WS_TRY(s.Matches(path, entry.get()))) {
      paths.push_back(path);
      return Status::Ok();
    }
    TreeEntryPtr original = TANDEM_WS_TRY(internal::FindEntry(run_before, path));
    if (!TANDEM_WS_TRY(s.Matches(path, original.get()))) {
      edited += (edited.empty() ? "" : ", ") + path;
    }
    return Status::Ok();
  };
  for (const FileChange& c : changes) RETURN_IF_ERROR(check(before.get(), after.get(), c.path));
  TreePtr ignored_before = TRY(s.IgnoredTreeOf(checkpoints.front()));
  TreePtr ignored_after = TRY(s.IgnoredTreeOf(checkpoints.back()));
  if (ignored_before && ignored_after) {
    for (const FileChange& c : TRY(internal::DiffTrees(s.repo.get(), ignored_before.get(),
                                                       ignored_after.get()))) {
      RETURN_IF_ERROR(check(ignored_before.get(), ignored_after.get(), c.path));
    }
  }
  if (!edited.empty()) {
    return FailedPrecondition("changed since the run ended: " + edited);
  }
  // Empty directories the run made or removed: made ones are removed while
  // still empty, removed ones made again.
  std::set<std::string> dirs;
  auto dirs_before = TRY(s.EmptyDirsOf(checkpoints.front()));
  auto dirs_after = TRY(s.EmptyDirsOf(checkpoints.back()));
  if (dirs_before && dirs_after) {
    std::set_symmetric_difference(dirs_before->begin(), dirs_before->end(), dirs_after->begin(),
                                  dirs_after->end(), std::inserter(dirs, dirs.end()));
  }
  if (paths.empty() && dirs.empty()) {
    return s.Record(*git_tree_id(s.current_tree.get()), "undo (nothing to do)");
  }
  return s.RestoreTo(checkpoints.front(), TouchedPaths::Only(std::move(paths)), &dirs);
}

}  // namespace tandem::workspace
