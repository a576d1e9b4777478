#include "tandem/ledger/git_dirs.h"

#include <fstream>
#include <sstream>
#include <string>

namespace tandem::ledger {
namespace {

std::string TrimRight(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' ||
                        s.back() == '\t')) {
    s.pop_back();
  }
  return s;
}

struct GitDirs {
  std::filesystem::path git_dir;  // this working tree's own (HEAD, index)
  std::filesystem::path common;   // shared by every worktree (objects, refs)
};

std::filesystem::path Normal(std::filesystem::path p) {
  p = p.lexically_normal();
  if (p.has_parent_path() && p.filename().empty()) p = p.parent_path();
  return p;
}

Result<GitDirs> FindGitDirs(const std::filesystem::path& repo_root) {
  std::error_code ec;
  std::filesystem::path dot_git = repo_root / ".git";
  std::filesystem::path git_dir;
  if (std::filesystem::is_directory(dot_git, ec)) {
    git_dir = dot_git;
  } else if (std::filesystem::is_regular_file(dot_git, ec)) {
    std::string text = TrimRight(ReadSmallFile(dot_git));
    if (text.rfind("gitdir: ", 0) != 0) return NotFound(dot_git.string() + " is not a gitdir file");
    git_dir = std::filesystem::path(text.substr(8));
    if (git_dir.is_relative()) git_dir = repo_root / git_dir;
  } else {
    return NotFound("no .git in " + repo_root.string());
  }
  std::filesystem::path common = git_dir;
  if (std::string rel = TrimRight(ReadSmallFile(git_dir / "commondir")); !rel.empty()) {
    common = std::filesystem::path(rel).is_relative() ? git_dir / rel : std::filesystem::path(rel);
  }
  return GitDirs{Normal(git_dir), Normal(common)};
}

}  // namespace

std::string ReadSmallFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Result<std::filesystem::path> GitCommonDir(const std::filesystem::path& repo_root) {
  return TRY(FindGitDirs(repo_root)).common;
}

Result<std::filesystem::path> LedgerPathFor(const std::filesystem::path& repo_root) {
  return TRY(FindGitDirs(repo_root)).common / "tandem" / "ledger.db";
}

Result<std::filesystem::path> LegacyLedgerPathFor(const std::filesystem::path& repo_root) {
  GitDirs dirs = TRY(FindGitDirs(repo_root));
  if (dirs.git_dir == dirs.common) return repo_root / ".tandem" / "ledger.db";
  if (dirs.common.filename() == ".git") {
    return dirs.common.parent_path() / ".tandem" / "ledger.db";
  }
  return NotFound("the ledger of " + repo_root.string() + " was always in the git directory");
}

}  // namespace tandem::ledger
