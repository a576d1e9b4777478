// libFuzzer target for SKILL.md parsing and validation (skills/skill.h): the
// file comes from the repository or the user's home, so any bytes.
//
// Input: byte 0 picks the folder name the file is checked against (0: none,
// else "a-skill"); the rest is the file.
// Properties checked beyond "no crash, no sanitizer report, no exception":
//   - an error names a line inside the file (1..lines+1);
//   - an accepted skill keeps the rules: its name passes NameProblem (and
//     equals the folder), the description is non-empty and at most 1,024
//     characters, the body at most 500 lines, every field valid UTF-8;
//   - RenderSkill of an accepted skill parses back to the same fields.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "tandem/skills/skill.h"
#include "tandem/tools/text.h"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  tandem::fuzz::Fail("skill_fuzz", what, detail);
}

size_t Chars(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view dir = data[0] % 2 == 0 ? std::string_view() : std::string_view("a-skill");
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto skill = tandem::skills::ParseSkill(text, dir);
  if (!skill) {
    int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
    if (skill.error().line < 1 || skill.error().line > lines + 1) {
      Fail("an error line outside the file",
           std::to_string(skill.error().line) + " of " + std::to_string(lines));
    }
    if (skill.error().message.empty()) Fail("an error without a message", "");
    if (!tandem::tools::IsValidUtf8(skill.error().message)) Fail("an error message not UTF-8", "");
    return 0;
  }
  const tandem::skills::Skill& s = *skill;
  if (auto problem = tandem::skills::NameProblem(s.name)) Fail("an accepted bad name", s.name);
  if (!dir.empty() && s.name != dir) Fail("a name unlike its folder", s.name);
  if (s.description.empty() || Chars(s.description) > tandem::skills::kMaxDescriptionChars) {
    Fail("an accepted bad description", s.description);
  }
  if (std::count(s.body.begin(), s.body.end(), '\n') > tandem::skills::kMaxBodyLines) {
    Fail("an accepted long body", std::to_string(s.body.size()));
  }
  for (const std::string* f : {&s.name, &s.description, &s.license, &s.compatibility,
                               &s.allowed_tools, &s.body}) {
    if (!tandem::tools::IsValidUtf8(*f)) Fail("a field not UTF-8", *f);
  }
  std::string rendered = tandem::skills::RenderSkill(s);
  auto back = tandem::skills::ParseSkill(rendered, dir);
  if (!back) {
    Fail("a rendered skill does not parse back",
         std::to_string(back.error().line) + ": " + back.error().message + "\n" + rendered);
  }
  if (back->name != s.name || back->description != s.description || back->license != s.license ||
      back->compatibility != s.compatibility || back->allowed_tools != s.allowed_tools ||
      back->metadata != s.metadata || back->body != s.body) {
    Fail("a rendered skill reads back different", rendered);
  }
  return 0;
}
