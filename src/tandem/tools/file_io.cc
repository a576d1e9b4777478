#include "tandem/tools/file_io.h"

#include "tandem/platform/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tandem::tools {
namespace fs = std::filesystem;

Result<std::string> ReadSmallFile(const fs::path& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("no such file");
    return IoError(std::strerror(errno));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return FailedPrecondition("not a regular file");
  }
  if (static_cast<size_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return FailedPrecondition("file is " + std::to_string(st.st_size) + " bytes (limit " +
                              std::to_string(max_bytes) + ")");
  }
  std::string data;
  data.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  data.resize(got);
  return data;
}

Status WriteFileAtomic(const fs::path& path, std::string_view content) {
  platform::WriteOptions options;
  options.durable = false;
  options.create_parents = true;
  return platform::WriteFileAtomically(path, content, options);
}

}  // namespace tandem::tools
