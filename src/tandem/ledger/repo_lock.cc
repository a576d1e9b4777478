#include "tandem/ledger/repo_lock.h"

#include "tandem/ledger/git_dirs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

namespace tandem::ledger {
namespace {

std::string ErrnoText() { return std::strerror(errno); }

// The record: one `key=value` per line.
std::string Format(const LockHolder& h) {
  std::ostringstream out;
  out << "pid=" << h.process.pid << "\nstart_ticks=" << h.process.start_ticks
      << "\nboot_id=" << h.process.boot_id << "\nstarted_at_ms=" << h.started_at_ms
      << "\ncommand=" << h.command << "\nroot=" << h.root << "\n";
  return out.str();
}

std::optional<LockHolder> Parse(const std::string& text) {
  LockHolder h;
  std::istringstream in(text);
  std::string line;
  bool have_pid = false;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    char* end = nullptr;
    long long number = std::strtoll(value.c_str(), &end, 10);
    bool numeric = !value.empty() && end != nullptr && *end == '\0';
    if (key == "pid" && numeric) {
      h.process.pid = number;
      have_pid = number > 0;
    } else if (key == "start_ticks" && numeric) {
      h.process.start_ticks = number;
    } else if (key == "boot_id") {
      h.process.boot_id = value;
    } else if (key == "started_at_ms" && numeric) {
      h.started_at_ms = number;
    } else if (key == "command") {
      h.command = value;
    } else if (key == "root") {
      h.root = value;
    }
  }
  if (!have_pid) return std::nullopt;
  return h;
}

std::string ReadFd(int fd) {
  std::string text;
  char buf[1024];
  off_t offset = 0;
  for (;;) {
    ssize_t got = ::pread(fd, buf, sizeof buf, offset);
    if (got <= 0) break;
    text.append(buf, static_cast<size_t>(got));
    offset += got;
    if (text.size() > 64 * 1024) break;  // not a record of ours
  }
  return text;
}

}  // namespace

Result<std::filesystem::path> RepoLock::PathForRepo(const std::filesystem::path& repo_root) {
  return TRY(GitCommonDir(repo_root)) / "tandem" / "writer.lock";
}

Result<RepoLock> RepoLock::Acquire(const std::filesystem::path& path, LockHolder holder) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return IoError("cannot create " + path.parent_path().string() + ": " + ec.message());
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return IoError("cannot open the repository lock " + path.string() + ": " + ErrnoText());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status(StatusCode::kAlreadyExists,
                    "another tandem process is writing this repository (lock " + path.string() +
                        ")");
    }
    errno = err;
    return IoError("cannot lock " + path.string() + ": " + ErrnoText());
  }
  std::optional<LockHolder> previous = Parse(ReadFd(fd));
  std::string record = Format(holder);
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size())) {
    std::string why = ErrnoText();
    ::close(fd);
    return IoError("cannot write the repository lock " + path.string() + ": " + why);
  }
  return RepoLock(fd, path, std::move(previous));
}

std::optional<LockHolder> RepoLock::ReadHolder(const std::filesystem::path& path) {
  std::optional<LockHolder> holder = Parse(ReadSmallFile(path));
  if (!holder || !holder->process.IsAlive()) return std::nullopt;
  return holder;
}

RepoLock::RepoLock(RepoLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      previous_(std::move(other.previous_)) {}

RepoLock& RepoLock::operator=(RepoLock&& other) noexcept {
  if (this != &other) {
    Release();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    previous_ = std::move(other.previous_);
  }
  return *this;
}

RepoLock::~RepoLock() { Release(); }

void RepoLock::Release() {
  if (fd_ < 0) return;
  // An empty record tells the next holder this one ended cleanly; failing to
  // empty it only makes the next holder report a predecessor that crashed.
  [[maybe_unused]] int truncated = ::ftruncate(fd_, 0);
  ::close(fd_);  // releases the flock
  fd_ = -1;
}

}  // namespace tandem::ledger
