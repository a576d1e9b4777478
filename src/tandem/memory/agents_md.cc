#include "tandem/memory/agents_md.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <string_view>

#include "tandem/base/strings.h"
#include "tandem/platform/atomic_file.h"

namespace tandem::memory {
namespace fs = std::filesystem;
namespace {

// Reads `rel` if it exists, at most `max_bytes` of it ("" when missing);
// a file that leads out of the repository is noted in `refused`, not read.
Result<std::string> ReadIfPresent(const fs::path& root, const fs::path& rel, size_t max_bytes,
                                  std::vector<std::string>* refused) {
  auto text = platform::ReadFileWithin(root, rel, max_bytes);
  if (text) return std::move(*text);
  if (text.error().code() == StatusCode::kNotFound) return std::string();
  if (text.error().code() == StatusCode::kPermissionDenied) {
    refused->push_back(text.error().message());
    return std::string();
  }
  return text.error();
}

constexpr size_t kBlankMargin = 64 * 1024;

bool IsBlank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

}  // namespace

Result<AgentsDoc> LoadAgentsDoc(const std::string& root, const std::vector<std::string>& paths,
                                size_t max_bytes) {
  // Directories from the root down to each path's directory, root first,
  // shallower before deeper, each once.
  std::vector<fs::path> dirs{fs::path()};
  std::set<std::string> seen{""};
  for (const std::string& p : paths) {
    // A NUL byte names no file: the kernel would read the path up to it, so
    // "a/AGENTS.md\0/x" would read a/AGENTS.md under a bogus name.
    if (p.find('\0') != std::string::npos) continue;
    fs::path rel = fs::path(p).lexically_normal();
    if (rel.is_absolute() || (!rel.empty() && *rel.begin() == "..")) continue;
    // The error_code form: a path from a plan (a model wrote it) may be too
    // long or otherwise unusable, which must not throw out of this module.
    std::error_code ec;
    fs::path dir = fs::is_directory(fs::path(root) / rel, ec) ? rel : rel.parent_path();
    fs::path acc;
    for (const auto& part : dir) {
      if (part == "." || part.empty()) continue;
      acc /= part;
      if (seen.insert(acc.string()).second) dirs.push_back(acc);
    }
  }
  std::stable_sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
    return std::distance(a.begin(), a.end()) < std::distance(b.begin(), b.end());
  });

  AgentsDoc doc;
  for (const fs::path& dir : dirs) {
    for (const char* name : {"AGENTS.override.md", "AGENTS.md"}) {
      fs::path rel = dir / name;
      // Read past the budget by a margin: a file whose first bytes are blank
      // (a leading blank line, a small budget) is not a blank file.
      std::string content =
          TRY(ReadIfPresent(root, rel, max_bytes + 1 + kBlankMargin, &doc.refused));
      if (IsBlank(content)) continue;
      std::string part = "# " + rel.string() + "\n" + content;
      if (part.back() != '\n') part += '\n';
      const size_t used = doc.text.size() + (doc.text.empty() ? 0 : 1);  // '\n' between parts
      if (used + part.size() > max_bytes) {
        constexpr std::string_view kNotice = "\n[... AGENTS.md truncated ...]\n";
        size_t room = max_bytes > used + kNotice.size() ? max_bytes - used - kNotice.size() : 0;
        part = CutUtf8(part, room) + std::string(kNotice);
        doc.truncated = true;
      }
      if (!doc.text.empty()) doc.text += '\n';
      doc.text += part;
      doc.files.push_back(rel.string());
      break;  // at most one file per directory
    }
    if (doc.truncated) break;
  }
  return doc;
}

}  // namespace tandem::memory
