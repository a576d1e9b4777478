#include "tandem/ledger/git_dirs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace tandem::ledger {
namespace {

std::string ReadSmallFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string TrimRight(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' ||
                        s.back() == '\t')) {
    s.pop_back();
  }
  return s;
}

bool IgnoresStateDir(const std::string& exclude) {
  std::istringstream in(exclude);
  std::string line;
  while (std::getline(in, line)) {
    line = TrimRight(line);
    for (const char* pattern : {".tandem", ".tandem/", "/.tandem", "/.tandem/", ".tandem/*",
                                "/.tandem/*", ".tandem/**", "/.tandem/**"}) {
      if (line == pattern) return true;
    }
  }
  return false;
}

}  // namespace

namespace {

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

Result<std::filesystem::path> GitCommonDir(const std::filesystem::path& repo_root) {
  return TRY(FindGitDirs(repo_root)).common;
}

Result<std::filesystem::path> LedgerPathFor(const std::filesystem::path& repo_root) {
  GitDirs dirs = TRY(FindGitDirs(repo_root));
  std::filesystem::path state;
  if (dirs.git_dir == dirs.common) {
    state = repo_root / ".tandem";  // the main working tree (or a submodule's)
  } else if (dirs.common.filename() == ".git") {
    state = dirs.common.parent_path() / ".tandem";  // linked: the main working tree's
  } else {
    state = dirs.common / "tandem";  // linked worktree of a bare or separate git dir
  }
  return state / "ledger.db";
}

Status KeepStateOutOfGitStatus(const std::filesystem::path& repo_root) {
  std::filesystem::path common = TRY(GitCommonDir(repo_root));
  std::filesystem::path info = common / "info";
  std::filesystem::path exclude = info / "exclude";
  std::string current = ReadSmallFile(exclude);
  if (IgnoresStateDir(current)) return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(info, ec);
  if (ec) return IoError("cannot create " + info.string() + ": " + ec.message());
  std::string text = kExcludeLines;
  if (!current.empty() && current.back() != '\n') text.insert(0, "\n");
  int fd = ::open(exclude.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("cannot open " + exclude.string() + ": " + std::strerror(errno));
  ssize_t wrote = ::write(fd, text.data(), text.size());
  int err = errno;
  ::close(fd);
  if (wrote != static_cast<ssize_t>(text.size())) {
    return IoError("cannot append to " + exclude.string() + ": " + std::strerror(err));
  }
  return Status::Ok();
}

}  // namespace tandem::ledger
