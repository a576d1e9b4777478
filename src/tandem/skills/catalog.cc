#include "tandem/skills/catalog.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "tandem/platform/atomic_file.h"
#include "tandem/tools/text.h"

namespace tandem::skills {

namespace fs = std::filesystem;

std::string_view SkillOriginName(SkillOrigin origin) {
  switch (origin) {
    case SkillOrigin::kRepo: return "repo";
    case SkillOrigin::kClaude: return "claude";
    case SkillOrigin::kUser: return "user";
  }
  return "repo";
}

const FoundSkill* Catalog::Find(std::string_view name) const {
  for (const FoundSkill& s : skills) {
    if (s.skill.name == name) return &s;
  }
  return nullptr;
}

namespace {

// Skills of one root: `root`/`rel`/<name>/SKILL.md, shown as `shown_prefix`/<name>/SKILL.md.
void Scan(const fs::path& root, const std::string& rel, const std::string& shown_prefix,
          SkillOrigin origin, std::set<std::string>& names, Catalog& out) {
  std::error_code ec;
  fs::path dir = root / rel;
  if (!fs::is_directory(dir, ec)) return;
  std::vector<std::string> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    entries.push_back(it->path().filename().string());
  }
  if (ec) {
    out.problems.push_back(fmt::format("{}: cannot list: {}", shown_prefix, ec.message()));
    return;
  }
  std::sort(entries.begin(), entries.end());
  for (const std::string& entry : entries) {
    if (entry.starts_with('.')) continue;
    std::error_code entry_ec;
    if (!fs::is_directory(dir / entry, entry_ec)) continue;
    std::string shown_name = tools::IsValidUtf8(entry) ? entry : tools::SanitizeUtf8(entry);
    std::string shown = shown_prefix + "/" + shown_name + "/SKILL.md";
    auto text = platform::ReadFileWithin(root, fs::path(rel) / entry / "SKILL.md", kMaxSkillBytes + 1);
    if (!text) {
      if (text.error().code() == StatusCode::kNotFound) continue;  // a folder without a skill
      out.problems.push_back(fmt::format("{}:1: {}", shown, text.error().message()));
      continue;
    }
    auto skill = ParseSkill(*text, entry);
    if (!skill) {
      out.problems.push_back(fmt::format("{}:{}: {}", shown, skill.error().line, skill.error().message));
      continue;
    }
    if (!names.insert(skill->name).second) continue;  // an earlier root has this name
    FoundSkill found;
    found.skill = std::move(*skill);
    found.origin = origin;
    found.dir = (dir / entry).string();
    found.shown = std::move(shown);
    out.skills.push_back(std::move(found));
  }
}

}  // namespace

Catalog DiscoverSkills(const SkillRoots& roots) {
  Catalog out;
  std::set<std::string> names;
  if (!roots.repo_root.empty()) {
    Scan(roots.repo_root, roots.repo_dir, roots.repo_dir, SkillOrigin::kRepo, names, out);
    if (roots.repo_dir != ".claude/skills") {
      Scan(roots.repo_root, ".claude/skills", ".claude/skills", SkillOrigin::kClaude, names, out);
    }
  }
  if (!roots.home.empty()) {
    Scan(roots.home, ".agents/skills", "~/.agents/skills", SkillOrigin::kUser, names, out);
  }
  return out;
}

}  // namespace tandem::skills
