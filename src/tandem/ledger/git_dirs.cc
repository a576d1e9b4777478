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

Result<std::filesystem::path> GitCommonDir(const std::filesystem::path& repo_root) {
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
  common = common.lexically_normal();
  if (common.has_parent_path() && common.filename().empty()) common = common.parent_path();
  return common;
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
