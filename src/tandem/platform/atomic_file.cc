#include "tandem/platform/atomic_file.h"

#include <signal.h>

#include <cerrno>
#include <cstdlib>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "tandem/base/kill_point.h"

namespace tandem::platform {
namespace fs = std::filesystem;
namespace {

Status Errno(std::string_view what, const fs::path& path, int err) {
  return IoError(std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

fs::path ParentOf(const fs::path& path) {
  fs::path parent = path.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

// Makes a rename or link in `dir` durable.
void SyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the data itself is already synced
  ::fsync(fd);
  ::close(fd);
}

Status WriteAll(int fd, std::string_view content, const fs::path& path) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path, errno);
    }
    content.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Writes the temporary file completely and durably. On error the caller
// removes it.
Status FillTemp(int fd, const fs::path& tmp, const fs::path& target, std::string_view content,
                bool durable) {
  struct stat st;
  if (::stat(target.c_str(), &st) == 0) ::fchmod(fd, st.st_mode & 07777);
  RETURN_IF_ERROR(WriteAll(fd, content, tmp));
  if (durable && ::fsync(fd) != 0) return Errno("cannot fsync", tmp, errno);
  return Status::Ok();
}

// Reads at most `max_bytes` from `fd` (named `path` in errors), then closes it.
Result<std::string> ReadAndClose(int fd, const fs::path& path, size_t max_bytes) {
  std::string out;
  char buf[65536];
  while (out.size() < max_bytes) {
    ssize_t n = ::read(fd, buf, std::min(sizeof buf, max_bytes - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Errno("cannot read", path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace

Result<std::string> ReadWholeFile(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("no such file: " + path.string());
    return Errno("cannot open", path, errno);
  }
  return ReadAndClose(fd, path, std::string::npos);
}

Result<std::string> ReadFileWithin(const fs::path& root, const fs::path& rel, size_t max_bytes) {
  const fs::path path = root / rel;
  // O_NONBLOCK: opening a FIFO left there must not hang tandem.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG) {
      return NotFound("no such file: " + path.string());
    }
    if (errno == ELOOP) return PermissionDenied(rel.string() + " is a loop of links");
    return Errno("cannot open", path, errno);
  }
  // Where the descriptor really leads, after every link on the way.
  std::error_code link_ec;
  std::error_code root_ec;
  const fs::path real = fs::read_symlink("/proc/self/fd/" + std::to_string(fd), link_ec);
  const fs::path inside = fs::canonical(root, root_ec);
  struct stat st;
  const bool stat_ok = ::fstat(fd, &st) == 0;
  std::string refused;
  if (link_ec || root_ec || !stat_ok) {
    refused = "cannot be resolved";
  } else if (fs::path from_root = real.lexically_relative(inside);
             from_root.empty() || *from_root.begin() == ".." || *from_root.begin() == ".git") {
    refused = "leads outside the repository, to " + real.string();
  } else if (!S_ISREG(st.st_mode)) {
    refused = "is not a regular file";
  }
  if (!refused.empty()) {
    ::close(fd);
    return PermissionDenied(rel.string() + " " + refused + "; tandem does not read it");
  }
  return ReadAndClose(fd, path, max_bytes);
}

namespace {

// The writer's pid of a temp name ".<name>.tandem-tmp.<pid>.<n>", or 0 when
// `name` is not exactly that shape.
long TempWriterPid(const std::string& name) {
  constexpr std::string_view kMark = ".tandem-tmp.";
  size_t mark = name.rfind(kMark);
  if (name.size() < 2 || name[0] != '.' || mark == std::string::npos || mark < 2) return 0;
  std::string_view rest = std::string_view(name).substr(mark + kMark.size());
  size_t dot = rest.find('.');
  auto digits = [](std::string_view s) {
    return !s.empty() && s.size() <= 18 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (dot == std::string_view::npos || !digits(rest.substr(0, dot)) ||
      !digits(rest.substr(dot + 1))) {
    return 0;
  }
  return std::strtol(std::string(rest.substr(0, dot)).c_str(), nullptr, 10);
}

}  // namespace

void RemoveStaleTempFiles(const fs::path& dir,
                          const std::function<bool(const std::string& name)>& is_tracked) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    long pid = TempWriterPid(name);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    struct stat st;
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_uid != ::geteuid()) {
      continue;
    }
    if (is_tracked(name)) continue;  // the repository's own file, named like a temp
    fs::remove(entry.path(), ec);
  }
}

Status WriteFileAtomically(const fs::path& path, std::string_view content,
                           const WriteOptions& options) {
  static std::atomic<unsigned> counter{0};
  const fs::path dir = ParentOf(path);
  if (options.create_parents) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return IoError("cannot create directory " + dir.string() + ": " + ec.message());
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return FailedPrecondition(path.string() + " is a directory");
  }
  const fs::path tmp = dir / ("." + path.filename().string() + ".tandem-tmp." +
                              std::to_string(::getpid()) + "." + std::to_string(counter++));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd < 0) return Errno("cannot create", tmp, errno);
  Status filled = FillTemp(fd, tmp, path, content, options.durable);
  if (::close(fd) != 0 && filled.ok()) filled = Errno("cannot close", tmp, errno);
  if (!filled.ok()) {
    ::unlink(tmp.c_str());
    return filled;
  }

  if (options.mode == WriteOptions::Mode::kCreateOnly) {
    // link(2) refuses to replace an existing name, unlike rename(2).
    int rc = ::link(tmp.c_str(), path.c_str());
    int err = errno;
    ::unlink(tmp.c_str());
    if (rc != 0) {
      if (err == EEXIST) return Status(StatusCode::kAlreadyExists, "already exists: " + path.string());
      return Errno("cannot create", path, err);
    }
    if (options.durable) SyncDirectory(dir);
    return Status::Ok();
  }

  if (options.expected) {
    auto current = ReadWholeFile(path);
    if (!current || *current != *options.expected) {
      ::unlink(tmp.c_str());
      return FailedPrecondition(path.string() + " changed while tandem was updating it");
    }
  }
  KillPoint("atomic_write_renaming");  // crash tests: the temp file is complete
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Errno("cannot replace", path, err);
  }
  if (options.durable) SyncDirectory(dir);
  return Status::Ok();
}

Result<DirectoryLock> DirectoryLock::Acquire(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory", dir, errno);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    return Errno("cannot lock", dir, err);
  }
  return DirectoryLock(fd);
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace tandem::platform
