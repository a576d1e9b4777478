// FsWatch: which names changed inside a chosen set of directories (Linux
// inotify), so that a caller can look at those names instead of rescanning
// a whole tree.
//
// The caller picks the directories (Add, one level each: inotify is not
// recursive) and Drain() returns every event queued so far, as paths
// relative to the root. The kernel queues an event while the system call
// that changes the file runs, so once a child process has exited, one
// Drain() returns all of its changes.
//
// What it cannot tell comes back as Batch::lost instead of events: the
// kernel queue overflowed, or the root itself was moved, deleted or
// unmounted. Blind spots (inotify's own, not reported at all): directories
// that are not watched, including those created before Add() reached them;
// writes through a hard link that lives in an unwatched directory; writes
// through a shared memory mapping. Callers that need certainty pair it with
// an occasional full scan.
//
// Not thread-safe; one instance per tree. Holds one inotify file descriptor
// (close-on-exec), released by the destructor.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tandem/base/status.h"

namespace tandem::platform {

class FsWatch {
 public:
  enum class Change {
    kContent,   // written, truncated, or its mode/owner/times changed
    kCreated,   // a new name (file, directory, symlink, hard link)
    kRemoved,   // a name unlinked
    kMovedOut,  // renamed away from this name
    kMovedIn,   // renamed to this name
  };
  struct Event {
    Change change;
    bool is_dir = false;  // the name is (or was) a directory, not a symlink to one
    std::string path;     // relative to the root (see Add), '/' separated
  };
  struct Batch {
    std::vector<Event> events;  // in the order the kernel queued them
    bool lost = false;          // some changes are missing from `events`
    // Watched directories other than the root that were deleted (their
    // watch ends) or moved away (still watched), as Add was given them.
    // Their parent reports it too when it is watched; a caller watching a
    // directory without its parent learns it here.
    std::vector<std::string> gone;
  };

  // A watcher for directories under `root` (absolute). No directory is
  // watched yet. Unavailable when the process or user is out of inotify
  // instances.
  static Result<std::unique_ptr<FsWatch>> Create(std::string root);
  ~FsWatch();
  FsWatch(const FsWatch&) = delete;
  FsWatch& operator=(const FsWatch&) = delete;

  // Starts reporting changes to the entries of directory `dir` (relative to
  // the root, "" for the root itself, or absolute for a directory elsewhere,
  // whose events then carry absolute paths; symlinks are not followed). Adding a
  // watched directory again is a no-op. Unavailable when the kernel's watch
  // limit (fs.inotify.max_user_watches) is reached; NotFound when `dir` is
  // not a directory (any more).
  Status Add(const std::string& dir);

  // Everything queued since the last Drain(), without blocking.
  Result<Batch> Drain();

  size_t watch_count() const { return dirs_.size(); }

 private:
  FsWatch(int fd, std::string root) : fd_(fd), root_(std::move(root)) {}

  int fd_;
  std::string root_;                           // ends in '/'
  std::unordered_map<int, std::string> dirs_;  // watch descriptor -> directory
};

}  // namespace tandem::platform
