#include "tandem/workspace/empty_dirs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "tandem/workspace/touched_paths.h"
#include "tandem/workspace/worktree_io.h"

namespace tandem::workspace::internal {
namespace {

constexpr std::string_view kTrailer = "Tandem-Empty-Dir: ";

// Opens directory `full` without following a symlink; null when it is not one.
DIR* OpenDir(const std::string& full) {
  int fd = open(full.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return nullptr;
  DIR* d = fdopendir(fd);
  if (d == nullptr) close(fd);
  return d;
}

bool IsDot(const char* name) { return std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0; }

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

}  // namespace

EmptyDirs::EmptyDirs(std::string root, std::function<bool(const std::string&)> skip)
    : root_(std::move(root)), skip_(std::move(skip)),
      link_count_counts_subdirs_(LinkCountCountsSubdirs(root_)) {}

void EmptyDirs::Scan(const std::vector<std::string>& files) {
  dirs_.clear();
  // The directories holding recorded files, each with its subdirectories
  // that hold some too.
  KnownDirs known;
  std::string last = "\n";  // no directory's name
  for (const std::string& f : files) {
    size_t slash = f.rfind('/');
    std::string dir = slash == std::string::npos ? std::string() : f.substr(0, slash);
    if (dir == last) continue;
    last = dir;
    while (known.try_emplace(dir).second && !dir.empty()) {
      std::string parent = Parent(dir);
      known[parent].push_back(dir);
      dir = std::move(parent);
    }
  }
  Walk("", known);
}

void EmptyDirs::Walk(const std::string& top, const KnownDirs& known) {
  std::vector<std::string> stack = {top};
  while (!stack.empty()) {
    std::string dir = std::move(stack.back());
    stack.pop_back();
    if (!dir.empty() && (IsPrivatePath(dir) || skip_(dir))) continue;
    std::string full = root_ + dir;
    if (auto it = known.find(dir); it != known.end() && link_count_counts_subdirs_) {
      // A link count of 2 + its known subdirectories proves it has no
      // other: it holds files, and only those subdirectories need a look.
      struct stat st{};
      if (lstat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode) &&
          st.st_nlink == static_cast<nlink_t>(2 + it->second.size())) {
        stack.insert(stack.end(), it->second.begin(), it->second.end());
        continue;
      }
    }
    DIR* d = OpenDir(full);
    if (d == nullptr) continue;  // gone, a symlink, or unreadable
    std::vector<std::string> subdirs;
    bool any = false;
    bool nested_repository = false;
    while (const dirent* e = readdir(d)) {
      if (IsDot(e->d_name)) continue;
      any = true;
      if (!dir.empty() && std::strcmp(e->d_name, ".git") == 0) nested_repository = true;
      if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) continue;
      std::string child = dir.empty() ? e->d_name : dir + "/" + e->d_name;
      struct stat st{};
      if (e->d_type == DT_DIR || (lstat((root_ + child).c_str(), &st) == 0 && S_ISDIR(st.st_mode))) {
        subdirs.push_back(std::move(child));
      }
    }
    closedir(d);
    if (!any && !dir.empty()) dirs_.insert(dir);
    if (nested_repository) continue;  // not ours, as in git
    for (std::string& s : subdirs) stack.push_back(std::move(s));
  }
}

bool EmptyDirs::IsEmptyDir(const std::string& dir) const {
  DIR* d = OpenDir(root_ + dir);
  if (d == nullptr) return false;
  bool empty = true;
  while (const dirent* e = readdir(d)) {
    if (!IsDot(e->d_name)) {
      empty = false;
      break;
    }
  }
  closedir(d);
  return empty;
}

void EmptyDirs::Update(const std::string& path) {
  if (path.empty()) return;
  dirs_.erase(path);
  std::string prefix = path + "/";
  for (auto it = dirs_.lower_bound(prefix); it != dirs_.end() && it->starts_with(prefix);) {
    it = dirs_.erase(it);
  }
  Walk(path, {});  // nothing when `path` is not a directory any more
  std::string parent = Parent(path);
  if (parent.empty()) return;
  dirs_.erase(parent);
  if (!IsPrivatePath(parent) && !skip_(parent) && IsEmptyDir(parent)) dirs_.insert(parent);
}

std::string EmptyDirs::Encode(const std::set<std::string>& dirs) {
  std::string out;
  for (const std::string& dir : dirs) {
    out += kTrailer;
    for (char c : dir) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '\n';
  }
  return out;
}

std::set<std::string> EmptyDirs::Decode(std::string_view message) {
  std::set<std::string> out;
  size_t at = 0;
  while (at < message.size()) {
    size_t end = message.find('\n', at);
    if (end == std::string_view::npos) end = message.size();
    std::string_view line = message.substr(at, end - at);
    at = end + 1;
    if (!line.starts_with(kTrailer)) continue;
    line.remove_prefix(kTrailer.size());
    std::string dir;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size()) {
        dir += line[++i] == 'n' ? '\n' : line[i];
      } else {
        dir += line[i];
      }
    }
    if (!dir.empty()) out.insert(std::move(dir));
  }
  return out;
}

}  // namespace tandem::workspace::internal
