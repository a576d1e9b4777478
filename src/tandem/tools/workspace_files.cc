#include "tandem/tools/workspace_files.h"

#include <algorithm>

#include "tandem/platform/process.h"

namespace tandem::tools {
namespace fs = std::filesystem;

std::vector<std::string> GitArgv(const fs::path& root) {
  // safe.directory: the workspace is the user's own choice, even when owned
  // by another uid (containers); core.quotepath: raw UTF-8 names.
  return {"git", "-C", root.string(), "-c", "safe.directory=*", "-c", "core.quotepath=off"};
}

namespace {

std::vector<std::string> Walk(const fs::path& root, const std::string& rel_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::path start = rel_dir == "." ? root : root / rel_dir;
  if (fs::is_regular_file(start, ec)) return {rel_dir};
  fs::recursive_directory_iterator it(start, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec) && (name == ".git" || name == ".tandem")) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) || it->is_symlink(ec)) {
      out.push_back(it->path().lexically_relative(root).generic_string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<std::vector<std::string>> ListWorkspaceFiles(const fs::path& root, const std::string& rel_dir) {
  platform::ProcessSpec spec;
  spec.argv = GitArgv(root);
  spec.argv.insert(spec.argv.end(), {"ls-files", "--cached", "--others", "--exclude-standard", "-z",
                                     "--", rel_dir, ":(exclude).tandem"});
  spec.output_limit = 64 * 1024 * 1024;
  spec.timeout = std::chrono::milliseconds(60000);
  auto result = platform::RunProcess(spec);
  if (!result) return result.error();
  if (result->exit_code != 0) {
    if (result->output.find("not a git repository") != std::string::npos) return Walk(root, rel_dir);
    return IoError("git ls-files failed: " + result->output.substr(0, 500));
  }
  std::vector<std::string> files;
  const std::string& out = result->output;
  size_t begin = 0;
  while (begin < out.size()) {
    size_t end = out.find('\0', begin);
    if (end == std::string::npos) end = out.size();
    if (end > begin) files.emplace_back(out, begin, end - begin);
    begin = end + 1;
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

}  // namespace tandem::tools
