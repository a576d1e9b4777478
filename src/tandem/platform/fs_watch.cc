#include "tandem/platform/fs_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tandem::platform {
namespace {

constexpr uint32_t kMask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB |
                           IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF |
                           IN_ONLYDIR | IN_DONT_FOLLOW;

FsWatch::Change ChangeOf(uint32_t mask) {
  if (mask & IN_CREATE) return FsWatch::Change::kCreated;
  if (mask & IN_DELETE) return FsWatch::Change::kRemoved;
  if (mask & IN_MOVED_FROM) return FsWatch::Change::kMovedOut;
  if (mask & IN_MOVED_TO) return FsWatch::Change::kMovedIn;
  return FsWatch::Change::kContent;
}

}  // namespace

Result<std::unique_ptr<FsWatch>> FsWatch::Create(std::string root) {
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return Unavailable(std::string("inotify_init1: ") + std::strerror(errno));
  if (root.empty() || root.back() != '/') root += '/';
  return std::unique_ptr<FsWatch>(new FsWatch(fd, std::move(root)));
}

FsWatch::~FsWatch() { close(fd_); }

Status FsWatch::Add(const std::string& dir) {
  std::string path = !dir.empty() && dir.front() == '/' ? dir : root_ + dir;
  int wd = inotify_add_watch(fd_, path.c_str(), kMask);
  if (wd < 0) {
    int err = errno;
    std::string what = "watching " + path + ": " + std::strerror(err);
    if (err == ENOSPC || err == ENOMEM) return Unavailable(what);
    if (err == ENOENT || err == ENOTDIR || err == ELOOP) return NotFound(what);
    return IoError(what);
  }
  dirs_[wd] = dir;
  return Status::Ok();
}

Result<FsWatch::Batch> FsWatch::Drain() {
  Batch batch;
  alignas(struct inotify_event) char buf[64 * 1024];
  for (;;) {
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return IoError(std::string("reading inotify events: ") + std::strerror(errno));
    }
    if (n == 0) break;
    for (char* p = buf; p < buf + n;) {
      const auto* ev = reinterpret_cast<const struct inotify_event*>(p);
      p += sizeof(struct inotify_event) + ev->len;
      if (ev->mask & (IN_Q_OVERFLOW | IN_UNMOUNT)) {
        batch.lost = true;
        continue;
      }
      auto dir = dirs_.find(ev->wd);
      if (dir == dirs_.end()) {
        batch.lost = true;  // a directory we no longer know the path of
        continue;
      }
      bool is_root = dir->second.empty();
      if (ev->mask & IN_IGNORED) {  // the watch is gone (directory deleted or moved away)
        if (is_root) batch.lost = true;
        dirs_.erase(dir);
        continue;
      }
      if (ev->len == 0 || ev->name[0] == '\0') {
        // The directory itself: its parent reports it as an entry, if
        // watched; the root's loss, any other's `gone`.
        if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
          if (is_root) {
            batch.lost = true;
          } else {
            batch.gone.push_back(dir->second);
          }
        }
        continue;
      }
      std::string path = is_root ? std::string(ev->name) : dir->second + "/" + ev->name;
      batch.events.push_back({ChangeOf(ev->mask), (ev->mask & IN_ISDIR) != 0, std::move(path)});
    }
  }
  return batch;
}

}  // namespace tandem::platform
