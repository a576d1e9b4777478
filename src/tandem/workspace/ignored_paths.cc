#include "tandem/workspace/ignored_paths.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

// Clones (FICLONE) or copies one regular file; `to` is created with `mode`.
Status CloneFile(const fs::path& from, const fs::path& to, mode_t mode) {
  int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Errno("opening " + from.string());
  int out = open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
  if (out < 0 && errno == EEXIST) {  // tracked content was checked out here: it wins
    close(in);
    return Status::Ok();
  }
  if (out < 0) {
    Status s = Errno("creating " + to.string());
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
        result = Errno("reading " + from.string());
        break;
      }
      for (ssize_t done = 0; done < n;) {
        ssize_t w = write(out, buf + done, static_cast<size_t>(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
          result = Errno("writing " + to.string());
          break;
        }
        done += w;
      }
      if (!result.ok()) break;
    }
  }
  close(in);
  if (close(out) != 0 && result.ok()) result = Errno("writing " + to.string());
  if (fchmodat(AT_FDCWD, to.c_str(), mode & 07777, 0) != 0 && result.ok()) {
    result = Errno("setting mode of " + to.string());  // umask may have cut bits at open
  }
  return result;
}

Status CloneEntry(const fs::path& from, const fs::path& to) {
  struct stat st{};
  if (lstat(from.c_str(), &st) != 0) return Errno("reading " + from.string());
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    fs::path target = fs::read_symlink(from, ec);
    if (!ec) fs::create_symlink(target, to, ec);
    if (ec && ec != std::errc::file_exists) {
      return IoError("copying symlink " + from.string() + ": " + ec.message());
    }
    return Status::Ok();
  }
  if (S_ISREG(st.st_mode)) return CloneFile(from, to, st.st_mode);
  if (!S_ISDIR(st.st_mode)) return Status::Ok();  // sockets, fifos, devices
  if (mkdir(to.c_str(), st.st_mode & 07777) != 0) {
    struct stat existing{};
    if (errno != EEXIST || lstat(to.c_str(), &existing) != 0 || !S_ISDIR(existing.st_mode)) {
      return Errno("creating " + to.string());
    }
  }
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(from, ec)) {
    RETURN_IF_ERROR(CloneEntry(entry.path(), to / entry.path().filename()));
  }
  if (ec) return IoError("listing " + from.string() + ": " + ec.message());
  chmod(to.c_str(), st.st_mode & 07777);  // mkdir's mode went through the umask
  return Status::Ok();
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

Status CloneTree(const fs::path& from, const fs::path& to) { return CloneEntry(from, to); }

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
    fs::path from = source_root / policy.path;
    fs::path to = dest_root / policy.path;
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(from, ec))) continue;
    fs::create_directories(to.parent_path(), ec);
    if (ec) return IoError("creating " + to.parent_path().string() + ": " + ec.message());
    if (policy.mode == IgnoredPathMode::kSymlink) {
      fs::create_symlink(fs::absolute(from), to, ec);
      if (ec) return IoError("linking " + to.string() + ": " + ec.message());
      continue;
    }
    RETURN_IF_ERROR(CloneTree(from, to));
  }
  return setup;
}

}  // namespace tandem::workspace
