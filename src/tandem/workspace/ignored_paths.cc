#include "tandem/workspace/ignored_paths.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace tandem::workspace {
namespace {

namespace fs = std::filesystem;

Status Errno(const std::string& what) { return IoError(what + ": " + std::strerror(errno)); }

bool ValidPolicyPath(const std::string& path) {
  if (path.empty() || path.front() == '/') return false;
  for (const fs::path& part : fs::path(path)) {
    if (part == ".." || part == "." || part == ".git") return false;
  }
  return true;
}

// A directory descriptor, closed when it goes out of scope.
class Dir {
 public:
  explicit Dir(int fd = -1) : fd_(fd) {}
  Dir(Dir&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Dir& operator=(Dir&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  ~Dir() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Opens directory `name` in `parent` without following a symlink. With
// `create`, makes it first (mode 0777 before the umask) when missing.
// Errors name `shown`: FailedPrecondition for a symlink or a non-directory.
Result<Dir> OpenSubdir(const Dir& parent, const std::string& name, bool create,
                       const fs::path& shown, const std::string& rel) {
  if (create && mkdirat(parent.fd(), name.c_str(), 0777) != 0 && errno != EEXIST) {
    return Errno("creating " + shown.string());
  }
  int fd = openat(parent.fd(), name.c_str(), kDirFlags);
  if (fd >= 0) return Dir(fd);
  if (errno == ENOENT) return NotFound(shown.string());
  if (errno == ELOOP || errno == ENOTDIR) {
    struct stat st{};
    bool link = fstatat(parent.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
    return FailedPrecondition(rel + (link ? " is a symlink" : " is not a directory") + " in " +
                              shown.parent_path().string() +
                              "; tandem does not follow it (it may lead outside the repository)");
  }
  return Errno("opening " + shown.string());
}

// One entry of a directory: the directory's descriptor, the entry's name
// in it, and its full path for messages.
struct At {
  const Dir& dir;
  std::string name;
  fs::path shown;
};

// Clones (FICLONE) or copies regular file `from` to `to`, created with
// `mode`; tracked content already there wins.
Status CloneFile(const At& from, const At& to, mode_t mode) {
  const fs::path& shown_from = from.shown;
  const fs::path& shown_to = to.shown;
  int in = openat(from.dir.fd(), from.name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) return Errno("opening " + shown_from.string());
  int out = openat(to.dir.fd(), to.name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                   mode & 07777);
  if (out < 0 && errno == EEXIST) {  // tracked content was checked out here: it wins
    close(in);
    return Status::Ok();
  }
  if (out < 0) {
    Status s = Errno("creating " + shown_to.string());
    close(in);
    return s;
  }
  Status result = Status::Ok();
  if (ioctl(out, FICLONE, in) != 0) {  // no reflinks here (ext4, tmpfs, across file systems)
    char buf[1 << 16];
    for (;;) {
      ssize_t n = read(in, buf, sizeof(buf));
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        result = Errno("reading " + shown_from.string());
        break;
      }
      for (ssize_t done = 0; done < n;) {
        ssize_t w = write(out, buf + done, static_cast<size_t>(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
          result = Errno("writing " + shown_to.string());
          break;
        }
        done += w;
      }
      if (!result.ok()) break;
    }
  }
  close(in);
  if (fchmod(out, mode & 07777) != 0 && result.ok()) {
    result = Errno("setting mode of " + shown_to.string());  // umask may have cut bits at open
  }
  if (close(out) != 0 && result.ok()) result = Errno("writing " + shown_to.string());
  return result;
}

// Copies entry `from` to `to`: a symlink as a symlink, a regular file by
// CloneFile, a directory recursively. Nothing is reached through a symlink:
// every step is relative to a directory descriptor opened with O_NOFOLLOW.
Status CloneEntry(const At& from, const At& to) {
  const fs::path& shown_from = from.shown;
  const fs::path& shown_to = to.shown;
  struct stat st{};
  if (fstatat(from.dir.fd(), from.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return Errno("reading " + shown_from.string());
  }
  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<size_t>(PATH_MAX), '\0');
    ssize_t n = readlinkat(from.dir.fd(), from.name.c_str(), target.data(), target.size());
    if (n < 0) return Errno("reading symlink " + shown_from.string());
    target.resize(static_cast<size_t>(n));
    if (symlinkat(target.c_str(), to.dir.fd(), to.name.c_str()) != 0 && errno != EEXIST) {
      return Errno("copying symlink " + shown_from.string());
    }
    return Status::Ok();
  }
  if (S_ISREG(st.st_mode)) return CloneFile(from, to, st.st_mode);
  if (!S_ISDIR(st.st_mode)) return Status::Ok();  // sockets, fifos, devices
  Result<Dir> sub_from =
      OpenSubdir(from.dir, from.name, /*create=*/false, shown_from, shown_from.string());
  if (!sub_from) return sub_from.error();
  Result<Dir> sub_to = OpenSubdir(to.dir, to.name, /*create=*/true, shown_to, shown_to.string());
  if (!sub_to) return sub_to.error();
  DIR* d = fdopendir(dup(sub_from->fd()));
  if (d == nullptr) return Errno("listing " + shown_from.string());
  Status status = Status::Ok();
  while (const dirent* e = readdir(d)) {
    std::string child = e->d_name;
    if (child == "." || child == "..") continue;
    status = CloneEntry({*sub_from, child, shown_from / child}, {*sub_to, child, shown_to / child});
    if (!status.ok()) break;
  }
  closedir(d);
  RETURN_IF_ERROR(status);
  if (fchmod(sub_to->fd(), st.st_mode & 07777) != 0) {  // mkdir's mode went through the umask
    return Errno("setting mode of " + shown_to.string());
  }
  return Status::Ok();
}

Result<Dir> OpenRoot(const fs::path& root) {
  int fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("opening " + root.string());
  return Dir(fd);
}

// The directory holding `rel`'s last component under `root`, reached one
// component at a time without following a symlink (made when `create`).
// NotFound when a component is missing and not `create`.
Result<Dir> OpenParent(const fs::path& root, const fs::path& rel, bool create) {
  Dir dir = TRY(OpenRoot(root));
  fs::path done;
  for (const fs::path& part : rel.parent_path()) {
    done /= part;
    dir = TRY(OpenSubdir(dir, part.string(), create, root / done, done.string()));
  }
  return dir;
}

}  // namespace

std::vector<IgnoredPathPolicy> DefaultIgnoredPathPolicies(
    const fs::path& source_root, const std::function<bool(const std::string&)>& is_ignored) {
  std::vector<IgnoredPathPolicy> out;
  for (const char* name : {"node_modules", ".venv", "target", "build"}) {
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(source_root / name, ec)) && is_ignored(name)) {
      out.push_back({name, IgnoredPathMode::kClone, ""});
    }
  }
  return out;
}

Status CloneTree(const fs::path& from, const fs::path& to) {
  Result<Dir> from_parent = OpenRoot(from.parent_path());
  if (!from_parent) return from_parent.error();
  Result<Dir> to_parent = OpenRoot(to.parent_path());
  if (!to_parent) return to_parent.error();
  return CloneEntry({*from_parent, from.filename().string(), from},
                    {*to_parent, to.filename().string(), to});
}

Status ValidateIgnoredPathPolicies(const std::vector<IgnoredPathPolicy>& policies) {
  for (const IgnoredPathPolicy& policy : policies) {
    if (!ValidPolicyPath(policy.path)) {
      return InvalidArgument("ignored-path policy: bad path '" + policy.path +
                             "' (relative, no '.' or '..' parts, not .git)");
    }
    if (policy.mode == IgnoredPathMode::kSetupCommand && policy.setup_command.empty()) {
      return InvalidArgument("ignored-path policy for '" + policy.path + "': empty setup command");
    }
  }
  return Status::Ok();
}

Result<std::vector<SetupCommand>> ApplyIgnoredPathPolicies(
    const fs::path& source_root, const fs::path& dest_root,
    const std::vector<IgnoredPathPolicy>& policies) {
  RETURN_IF_ERROR(ValidateIgnoredPathPolicies(policies));
  std::vector<SetupCommand> setup;
  for (const IgnoredPathPolicy& policy : policies) {
    if (policy.mode == IgnoredPathMode::kSkip) continue;
    if (policy.mode == IgnoredPathMode::kSetupCommand) {
      setup.push_back({policy.path, policy.setup_command});
      continue;
    }
    fs::path rel(policy.path);
    std::string name = rel.filename().string();
    Result<Dir> from_parent = OpenParent(source_root, rel, /*create=*/false);
    if (!from_parent && from_parent.error().code() == StatusCode::kNotFound) continue;
    if (!from_parent) return from_parent.error();
    struct stat st{};
    if (fstatat(from_parent->fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return Errno("reading " + (source_root / rel).string());
    }
    Dir to_parent = TRY(OpenParent(dest_root, rel, /*create=*/true));
    if (policy.mode == IgnoredPathMode::kSymlink && !S_ISLNK(st.st_mode)) {
      // The source's own path, now that no component of it is a symlink.
      fs::path target = fs::absolute(source_root / rel);
      if (symlinkat(target.c_str(), to_parent.fd(), name.c_str()) != 0) {
        return Errno("linking " + (dest_root / rel).string());
      }
      continue;
    }
    RETURN_IF_ERROR(
        CloneEntry({*from_parent, name, source_root / rel}, {to_parent, name, dest_root / rel}));
  }
  return setup;
}

}  // namespace tandem::workspace
