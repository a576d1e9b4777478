// SKILL.md in the Agent Skills format (agentskills.io): a folder <name>/
// holding SKILL.md, whose YAML frontmatter carries `name` (1-64 of a-z, 0-9
// and '-', no leading, trailing or doubled '-', equal to the folder's name),
// `description` (1-1,024 characters: what it does and when to use it) and
// optionally `license`, `compatibility` (<= 500 characters), `allowed-tools`
// and `metadata` (a map of strings, where tandem keeps its own fields:
// docs/SKILLS.md), followed by a Markdown body of at most 500 lines.
//
// tandem reads the frontmatter as the subset of YAML that skills use:
// `key: value` lines with plain, 'single-' or "double-quoted" scalars,
// block scalars (| and >, with - or + chomping), a plain scalar continued on
// more-indented lines, and one level of nesting (a map of scalars, as
// `metadata`, or a list of scalars, as `allowed-tools`). Anything else is
// an error naming its line, never a guess. Keys it does not know are kept
// and ignored (Claude Code adds its own).
//
// A skill is untrusted text from the repository or the user's home: it goes
// to the model as context, nothing in it runs. Pure functions, no I/O,
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tandem/base/status.h"

namespace tandem::skills {

inline constexpr size_t kMaxNameChars = 64;
inline constexpr size_t kMaxDescriptionChars = 1024;
inline constexpr size_t kMaxCompatibilityChars = 500;
inline constexpr int kMaxBodyLines = 500;
// A SKILL.md larger than this is refused unread past it (500 lines of
// generous Markdown fit several times over).
inline constexpr size_t kMaxSkillBytes = 256 * 1024;

// What is wrong with a SKILL.md, at which line (1-based, of the file).
struct SkillError {
  int line = 1;
  std::string message;
};

struct Skill {
  std::string name;
  std::string description;
  std::string license;
  std::string compatibility;
  std::string allowed_tools;  // a list is kept joined by spaces
  // metadata, in file order; keys unique.
  std::vector<std::pair<std::string, std::string>> metadata;
  std::string body;  // the Markdown after the frontmatter
  int body_line = 0;  // the file line the body starts on

  // The metadata value of `key`, or "" when absent.
  std::string_view Meta(std::string_view key) const;
  void SetMeta(std::string_view key, std::string value);
};

// Whether `name` keeps the naming rules; the reason when not.
std::optional<std::string> NameProblem(std::string_view name);

// Parses and validates SKILL.md `text` found in folder `dir_name` (empty:
// the folder name is not checked). Invalid UTF-8, a missing or unclosed
// frontmatter, YAML outside the subset, a duplicate key, a rule broken by
// name/description/compatibility, or a body over 500 lines: the error and
// its line.
Result<Skill, SkillError> ParseSkill(std::string_view text, std::string_view dir_name);

// The SKILL.md text of `skill` (every value double-quoted, so ParseSkill
// reads back the same fields). REQUIRES: the fields are valid UTF-8.
std::string RenderSkill(const Skill& skill);

}  // namespace tandem::skills
