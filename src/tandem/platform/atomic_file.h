// Atomic file replacement: for the memory files (plan.md, progress.md,
// AGENTS.md, verify.md), which tandem rewrites while people read and edit
// them, and for the file tools' edits of the user's files.
//
// A write goes to a temporary file in the same directory and is renamed over
// the target, so a reader or a kill -9 at any moment sees the old file or the
// new one, never a torn one. Durable writes (the default) also fsync the file
// and then the directory. A failed write removes its temporary file and
// leaves the target untouched.
//
// DirectoryLock serialises read-modify-write updates between threads and
// between tandem processes (flock on the directory, so no lock file is left
// in the repository). It does not stop a person's editor; callers detect that
// by comparing the file before they rename (see WriteOptions::expected).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tandem/base/status.h"

namespace tandem::platform {

struct WriteOptions {
  // kCreateOnly: fail with kAlreadyExists instead of replacing an existing
  // file. Atomic (link(2) of the finished temporary file), so a file created
  // concurrently is never overwritten either.
  enum class Mode { kReplace, kCreateOnly };
  Mode mode = Mode::kReplace;
  // When set (kReplace only), the target must still hold exactly these bytes
  // just before the rename; otherwise kFailedPrecondition and nothing changes.
  // Narrows the window in which a person's concurrent save could be lost.
  std::optional<std::string_view> expected;
  // false: skip both fsyncs. The file tools' edits are captured by the next
  // checkpoint, and an fsync per edit would cost more than the whole step.
  bool durable = true;
  // Create missing parent directories first.
  bool create_parents = false;

  static WriteOptions CreateOnly() {
    WriteOptions o;
    o.mode = Mode::kCreateOnly;
    return o;
  }
  static WriteOptions IfUnchanged(std::string_view expected) {
    WriteOptions o;
    o.expected = expected;
    return o;
  }
};

// Writes `content` to `path` as described above. Keeps the permission bits of
// a replaced file; a new one gets 0666 less the umask. The parent directory
// must exist unless `create_parents`. Errors: kAlreadyExists,
// kFailedPrecondition (see WriteOptions; or the target is a directory), kIo
// (with the OS error).
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content,
                           const WriteOptions& options = {});

// Reads a whole file. Errors: kNotFound, kIo.
Result<std::string> ReadWholeFile(const std::filesystem::path& path);

// Reads at most `max_bytes` of `rel`, a path in the directory tree `root`,
// for text that tandem's own process (outside the sandbox) passes on, such
// as AGENTS.md into a prompt. The repository's content, or a model's command
// inside the sandbox, may have made that path a link: after every link it
// must be a regular file inside `root`, not under `root`/.git. Errors:
// kNotFound when nothing is there (a dangling link included);
// kPermissionDenied naming `rel` and why when it leads elsewhere
// (`AGENTS.md -> ~/.ssh/id_rsa`, `/proc/self/environ`) or is not a regular
// file (a FIFO would block, a device never end); kIo.
Result<std::string> ReadFileWithin(const std::filesystem::path& root,
                                   const std::filesystem::path& rel, size_t max_bytes);

// Exclusive advisory lock on a directory, held for the object's lifetime.
// Blocks until acquired. Not reentrant within one thread.
class DirectoryLock {
 public:
  static Result<DirectoryLock> Acquire(const std::filesystem::path& dir);
  DirectoryLock(DirectoryLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DirectoryLock& operator=(DirectoryLock&&) = delete;
  DirectoryLock(const DirectoryLock&) = delete;
  ~DirectoryLock();

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_;
};

// Removes the temp files WriteFileAtomically leaves in `dir` when its
// process is killed mid-write: a name `.<name>.tandem-tmp.<pid>.<n>` exactly
// (digits only), whose writer's pid is no longer alive, that is a regular
// file (not a link or a directory) owned by this user, and that `is_tracked(name)` says the repository does not track. A
// name is no proof: a repository can commit a file named like a temp, and
// tandem must not delete the repository's files, so the caller passes what
// git tracks (workspace::TrackedPaths). Best effort: errors are ignored.
void RemoveStaleTempFiles(const std::filesystem::path& dir,
                          const std::function<bool(const std::string& name)>& is_tracked);

}  // namespace tandem::platform
