#include "tandem/agent/repo_view.h"

#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "tandem/platform/process.h"

namespace tandem::agent {

std::string BuildRepoView(const std::string& repo_root, size_t max_paths) {
  platform::ProcessSpec spec;
  spec.argv = {"git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"};
  spec.cwd = repo_root;
  spec.timeout = std::chrono::seconds(10);
  spec.output_limit = 64 << 20;
  auto run = platform::RunProcess(spec);
  if (!run || !run->ok()) return "";
  std::vector<std::string> paths;
  std::string_view out = run->output;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\0', start);
    if (end == std::string_view::npos) end = out.size();
    if (end > start) paths.emplace_back(out.substr(start, end - start));
    start = end + 1;
  }
  std::string view = fmt::format("{} files\n", paths.size());
  if (paths.size() <= max_paths) {
    for (const auto& p : paths) view += p + "\n";
    return view;
  }
  // Too many to list: top-level files, then each top-level directory with its count.
  std::map<std::string, size_t> dirs;
  std::vector<std::string> top_files;
  for (const auto& p : paths) {
    size_t slash = p.find('/');
    if (slash == std::string::npos) {
      top_files.push_back(p);
    } else {
      dirs[p.substr(0, slash + 1)]++;
    }
  }
  size_t shown = 0;
  for (const auto& f : top_files) {
    if (shown++ >= max_paths / 2) break;
    view += f + "\n";
  }
  for (const auto& [dir, count] : dirs) {
    if (shown++ >= max_paths) {
      view += "...\n";
      break;
    }
    view += fmt::format("{} ({} files)\n", dir, count);
  }
  return view;
}

}  // namespace tandem::agent
