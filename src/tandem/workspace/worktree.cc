#include "tandem/workspace/worktree.h"

#include <algorithm>
#include <fstream>
#include <set>

#include "tandem/workspace/git_handle.h"

namespace tandem::workspace {
namespace {

namespace fs = std::filesystem;
using internal::CommitPtr;
using internal::GitError;
using internal::RepoPtr;

constexpr std::string_view kAdminPrefix = "tandem-";
// In git's admin dir: the worktree's ignored-path policy paths, one a line,
// which Reset leaves as they are.
constexpr std::string_view kKeepFile = "tandem-policy-paths";

Status CheckId(std::string_view id) {
  if (Worktree::IsValidId(id)) return Status::Ok();
  return InvalidArgument("bad worktree id '" + std::string(id) +
                         "': use 1-64 of [A-Za-z0-9._-], not starting with '.'");
}

Result<RepoPtr> OpenRepo(const fs::path& root) {
  std::error_code ec;
  fs::path canonical = fs::canonical(root, ec);
  if (ec) return NotFound("worktree " + root.string() + ": " + ec.message());
  git_repository* raw = nullptr;
  int rc = git_repository_open_ext(&raw, canonical.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
  if (rc < 0) return GitError(rc, "opening git worktree " + canonical.string());
  RepoPtr repo(raw);
  if (git_repository_is_bare(raw)) return FailedPrecondition("bare repository: " + canonical.string());
  return repo;
}

fs::path CommonDir(git_repository* repo) {
  std::string dir = git_repository_commondir(repo);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

fs::path AdminDir(const fs::path& git_dir, std::string_view id) {
  return git_dir / "worktrees" / (std::string(kAdminPrefix) + std::string(id));
}

Result<git_oid> ParseOid(const CheckpointId& at) {
  git_oid oid;
  if (git_oid_fromstr(&oid, at.hex.c_str()) < 0) {
    git_error_clear();
    return InvalidArgument("bad checkpoint id: " + at.hex);
  }
  return oid;
}

Result<CommitPtr> LookupCommit(git_repository* repo, const git_oid& oid) {
  git_commit* raw = nullptr;
  int rc = git_commit_lookup(&raw, repo, &oid);
  if (rc < 0) return GitError(rc, "no commit " + internal::OidHex(oid));
  return CommitPtr(raw);
}

Status WriteSmallFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) return IoError("writing " + path.string());
  return Status::Ok();
}

// Checks out commit `oid` into the new worktree at `root`. libgit2 writes
// the worktree's index with the stat data of what it wrote.
Status CheckOut(const fs::path& root, const git_oid& oid) {
  RepoPtr wt = TANDEM_WS_TRY(OpenRepo(root));
  CommitPtr commit = TANDEM_WS_TRY(LookupCommit(wt.get(), oid));
  git_tree* tree = nullptr;
  TANDEM_GIT_CALL(git_commit_tree(&tree, commit.get()), "reading the checkpoint's tree");
  internal::TreePtr owned(tree);
  git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
  opts.checkout_strategy = GIT_CHECKOUT_FORCE;
  // A checkpoint holds the working tree's bytes unfiltered (workspace.h):
  // they go back out as they are, no CRLF conversion or ident expansion.
  opts.disable_filters = 1;
  TANDEM_GIT_CALL(git_checkout_tree(wt.get(), reinterpret_cast<git_object*>(tree), &opts),
                  "checking out into " + root.string());
  TANDEM_GIT_CALL(git_repository_set_head_detached(wt.get(), &oid),
                  "detaching HEAD of " + root.string());
  return Status::Ok();
}

Status CreateInto(git_repository* repo, const fs::path& source_root, const fs::path& git_dir,
                  std::string_view id, const git_oid& oid,
                  const WorktreeOptions& options, std::vector<SetupCommand>* setup) {
  fs::path root = Worktree::PathFor(git_dir, id);
  fs::path admin = AdminDir(git_dir, id);
  std::error_code ec;
  fs::create_directories(root, ec);
  if (!ec) fs::create_directories(admin, ec);
  if (ec) return IoError("creating worktree " + root.string() + ": " + ec.message());
  std::string hex = internal::OidHex(oid);
  RETURN_IF_ERROR(WriteSmallFile(admin / "gitdir", (root / ".git").string() + "\n"));
  RETURN_IF_ERROR(WriteSmallFile(admin / "commondir", "../..\n"));
  RETURN_IF_ERROR(WriteSmallFile(admin / "HEAD", hex + "\n"));
  RETURN_IF_ERROR(WriteSmallFile(admin / "locked", "tandem worktree " + std::string(id) +
                                                       " (removed by tandem)\n"));
  RETURN_IF_ERROR(WriteSmallFile(root / ".git", "gitdir: " + admin.string() + "\n"));
  RETURN_IF_ERROR(CheckOut(root, oid));

  std::vector<IgnoredPathPolicy> policies;
  if (options.ignored) {
    policies = *options.ignored;
  } else {
    policies = DefaultIgnoredPathPolicies(source_root, [repo](const std::string& path) {
      int ignored = 0;
      if (git_ignore_path_is_ignored(&ignored, repo, (path + "/").c_str()) < 0) {
        git_error_clear();
        return false;
      }
      return ignored != 0;
    });
  }
  *setup = TANDEM_WS_TRY(ApplyIgnoredPathPolicies(source_root, root, policies));
  std::string keep;
  for (const IgnoredPathPolicy& p : policies) keep += p.path + "\n";
  return WriteSmallFile(admin / kKeepFile, keep);
}

}  // namespace

fs::path Worktree::PathFor(const fs::path& git_dir, std::string_view id) {
  return git_dir / "tandem" / "worktrees" / std::string(id);
}

std::string Worktree::RefFor(std::string_view id) {
  return "refs/tandem/worktrees/" + std::string(id);
}

Result<Worktree> Worktree::Create(const fs::path& source_root, std::string_view id,
                                  const CheckpointId& at, const WorktreeOptions& options) {
  RETURN_IF_ERROR(CheckId(id));
  if (options.ignored) RETURN_IF_ERROR(ValidateIgnoredPathPolicies(*options.ignored));
  internal::LibGit2Session session;
  RepoPtr repo = TRY(OpenRepo(source_root));
  fs::path git_dir = CommonDir(repo.get());
  git_oid oid = TRY(ParseOid(at));
  TRY(LookupCommit(repo.get(), oid));  // NotFound before anything is written

  std::error_code ec;
  if (fs::exists(fs::symlink_status(PathFor(git_dir, id), ec)) ||
      fs::exists(fs::symlink_status(AdminDir(git_dir, id), ec))) {
    return Status(StatusCode::kAlreadyExists, "worktree " + std::string(id) + " already exists");
  }
  // The ref first, without force: it claims the id against a concurrent
  // creation of the same id.
  git_reference* ref = nullptr;
  int rc = git_reference_create(&ref, repo.get(), RefFor(id).c_str(), &oid, /*force=*/0,
                                "tandem: worktree created");
  if (rc == GIT_EEXISTS) {
    git_error_clear();
    return Status(StatusCode::kAlreadyExists, "worktree " + std::string(id) + " already exists");
  }
  if (rc < 0) return GitError(rc, "writing " + RefFor(id));
  git_reference_free(ref);

  std::vector<SetupCommand> setup;
  fs::path workdir_source = git_repository_workdir(repo.get());
  Status created = CreateInto(repo.get(), workdir_source, git_dir, id, oid, options, &setup);
  if (!created.ok()) {
    Status cleanup = Remove(source_root, id);
    if (!cleanup.ok()) return created.WithContext("creating worktree (cleanup: " + cleanup.ToString() + ")");
    return created;
  }
  return Worktree(std::string(id), PathFor(git_dir, id), CheckpointId{internal::OidHex(oid)},
                  std::move(setup));
}

Status Worktree::Remove(const fs::path& repo_root, std::string_view id) {
  RETURN_IF_ERROR(CheckId(id));
  internal::LibGit2Session session;
  RepoPtr repo = TANDEM_WS_TRY(OpenRepo(repo_root));
  fs::path git_dir = CommonDir(repo.get());
  bool existed = false;
  for (const fs::path& dir : {PathFor(git_dir, id), AdminDir(git_dir, id)}) {
    std::error_code ec;
    std::uintmax_t removed = fs::remove_all(dir, ec);
    if (ec) return IoError("removing " + dir.string() + ": " + ec.message());
    existed = existed || removed > 0;
  }
  git_reference* ref = nullptr;
  int rc = git_reference_lookup(&ref, repo.get(), RefFor(id).c_str());
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
  } else if (rc < 0) {
    return GitError(rc, "reading " + RefFor(id));
  } else {
    existed = true;
    internal::RefPtr owned(ref);
    TANDEM_GIT_CALL(git_reference_delete(ref), "deleting " + RefFor(id));
  }
  if (!existed) return NotFound("no worktree " + std::string(id));
  return Status::Ok();
}

Result<std::vector<std::string>> Worktree::List(const fs::path& repo_root) {
  internal::LibGit2Session session;
  RepoPtr repo = TRY(OpenRepo(repo_root));
  fs::path git_dir = CommonDir(repo.get());
  std::set<std::string> ids;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(git_dir / "tandem" / "worktrees", ec)) {
    ids.insert(e.path().filename().string());
  }
  for (const auto& e : fs::directory_iterator(git_dir / "worktrees", ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(kAdminPrefix, 0) == 0) ids.insert(name.substr(kAdminPrefix.size()));
  }
  auto add_ref = [](const char* name, void* payload) -> int {
    std::string_view prefix = "refs/tandem/worktrees/";
    static_cast<std::set<std::string>*>(payload)->insert(std::string(name).substr(prefix.size()));
    return 0;
  };
  int rc = git_reference_foreach_glob(repo.get(), "refs/tandem/worktrees/*", add_ref, &ids);
  if (rc < 0) return GitError(rc, "listing refs/tandem/worktrees");
  return std::vector<std::string>(ids.begin(), ids.end());
}

Result<std::unique_ptr<Workspace>> Worktree::Reset(const fs::path& repo_root, std::string_view id,
                                                   const CheckpointId& at,
                                                   std::unique_ptr<Workspace> previous) {
  RETURN_IF_ERROR(CheckId(id));
  internal::LibGit2Session session;
  RepoPtr repo = TRY(OpenRepo(repo_root));
  fs::path git_dir = CommonDir(repo.get());
  git_oid oid = TRY(ParseOid(at));
  TRY(LookupCommit(repo.get(), oid));  // NotFound before anything is touched
  fs::path root = PathFor(git_dir, id);
  std::error_code ec;
  if (!fs::exists(root / ".git", ec)) return NotFound("no worktree " + std::string(id));
  std::unique_ptr<Workspace> ws = std::move(previous);
  if (ws) {
    fs::path canonical = fs::canonical(root, ec);
    if (ec || fs::path(ws->root()) != canonical.string() + "/") {
      return InvalidArgument("the Workspace handed to the reset of worktree " + std::string(id) +
                             " is open on " + ws->root());
    }
  } else {
    ws = TRY(Workspace::Open(root));
  }
  std::vector<std::string> keep;
  std::ifstream in(AdminDir(git_dir, id) / kKeepFile);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) keep.push_back(line);
  }
  RETURN_IF_ERROR(ws->ResetTo(at, keep));
  git_reference* ref = nullptr;
  int rc = git_reference_create(&ref, repo.get(), RefFor(id).c_str(), &oid, /*force=*/1,
                                "tandem: worktree reset");
  if (rc < 0) return GitError(rc, "writing " + RefFor(id));
  git_reference_free(ref);
  return ws;
}

bool Worktree::IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64 || id.front() == '.' || id.find("..") != std::string_view::npos) {
    return false;
  }
  if (id.size() >= 5 && id.substr(id.size() - 5) == ".lock") return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

}  // namespace tandem::workspace
