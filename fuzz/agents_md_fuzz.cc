// libFuzzer target for AGENTS.md loading: fuzzed file contents in a small
// tree and fuzzed "paths in play" (they come from plan.md scopes, which a
// model writes).
//
// Input: byte 0 picks the byte budget; the rest is
// "<root AGENTS.md>\x01<a/AGENTS.md>\x01<a/b/AGENTS.override.md>\x01<paths, one a line>".
// Properties checked beyond "no crash, no sanitizer report, no exception":
//   - the files used are repo-relative, exist under the names given (no NUL
//     byte: the kernel would read a name only up to it), are unique, never climb out of
//     the root, come root first (shallower before deeper), one per directory,
//     and AGENTS.override.md wins over AGENTS.md;
//   - the text stays near the budget and keeps valid UTF-8 valid;
//   - when not truncated, the text holds every used file's content.
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "tandem/memory/agents_md.h"

namespace {

namespace fs = std::filesystem;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  tandem::fuzz::Fail("agents_md_fuzz", what, detail);
}

const fs::path& Root() {
  static const fs::path root = [] {
    fs::path dir = tandem::fuzz::MakeTempDir("tandem-agents-fuzz");
    fs::create_directories(dir / "a" / "b");
    fs::create_directories(dir / "c");
    return dir;
  }();
  return root;
}

void Write(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

std::string_view Next(std::string_view& rest) {
  size_t sep = rest.find('\x01');
  std::string_view part = rest.substr(0, sep);
  rest = sep == std::string_view::npos ? std::string_view() : rest.substr(sep + 1);
  return part;
}

bool IsBlank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t max_bytes = static_cast<size_t>(data[0]) * 4;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::string_view contents[] = {Next(rest), Next(rest), Next(rest)};
  const char* const files[] = {"AGENTS.md", "a/AGENTS.md", "a/b/AGENTS.override.md"};
  for (int i = 0; i < 3; ++i) Write(Root() / files[i], contents[i]);
  Write(Root() / "a/b/AGENTS.md", "nested agents file\n");
  std::vector<std::string> paths;
  while (!rest.empty() && paths.size() < 8) {
    size_t nl = rest.find('\n');
    paths.emplace_back(rest.substr(0, nl));
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  }

  auto doc = tandem::memory::LoadAgentsDoc(Root().string(), paths, max_bytes);
  if (!doc) Fail("load failed", doc.error().ToString());

  std::set<std::string> dirs;
  size_t depth = 0;
  for (const std::string& f : doc->files) {
    fs::path p(f);
    if (p.is_absolute() || f.find("..") != std::string::npos) Fail("file outside the root", f);
    // The kernel reads a name only up to a NUL: such a name is not the file read.
    if (f.find('\0') != std::string::npos) Fail("file read under a name with a NUL byte", f);
    if (!fs::is_regular_file(Root() / p)) Fail("file does not exist", f);
    if (!dirs.insert(p.parent_path().string()).second) Fail("two files from one directory", f);
    size_t d = static_cast<size_t>(std::distance(p.begin(), p.end()));
    if (d < depth) Fail("deeper file before a shallower one", f);
    depth = d;
    if (f == "a/b/AGENTS.md" && !IsBlank(contents[2])) Fail("AGENTS.override.md did not win", f);
  }
  if (!IsBlank(contents[0]) && (doc->files.empty() || doc->files[0] != "AGENTS.md")) {
    Fail("root AGENTS.md not first", doc->text);
  }
  // The budget plus the truncation notice and a separator.
  if (doc->text.size() > max_bytes + 64) Fail("text over budget", std::to_string(doc->text.size()));
  bool all_utf8 = true;
  for (std::string_view c : contents) all_utf8 = all_utf8 && tandem::fuzz::IsValidUtf8(c);
  if (all_utf8 && !tandem::fuzz::IsValidUtf8(doc->text)) Fail("truncation broke UTF-8", doc->text);
  if (!doc->truncated) {
    for (int i = 0; i < 3; ++i) {
      bool used = std::find(doc->files.begin(), doc->files.end(), files[i]) != doc->files.end();
      if (used && doc->text.find(contents[i]) == std::string::npos) Fail("content missing", files[i]);
    }
  }
  return 0;
}
