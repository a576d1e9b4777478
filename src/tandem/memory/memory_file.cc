#include "tandem/memory/memory_file.h"

#include <system_error>

#include "tandem/platform/atomic_file.h"

namespace tandem::memory {

Result<std::string> ReadMemoryFile(const std::filesystem::path& path) {
  const std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
  auto text = platform::ReadFileWithin(dir, path.filename(), std::string::npos);
  std::error_code ec;
  if (!text && text.error().code() == StatusCode::kNotFound &&
      std::filesystem::is_symlink(path, ec)) {
    return PermissionDenied(path.filename().string() + " is a link to " +
                            std::filesystem::read_symlink(path, ec).string() +
                            ", which does not exist; tandem does not read or write it");
  }
  return text;
}

}  // namespace tandem::memory
