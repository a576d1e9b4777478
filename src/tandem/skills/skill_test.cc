#include "tandem/skills/skill.h"

#include <gtest/gtest.h>

namespace tandem::skills {
namespace {

constexpr std::string_view kGood =
    "---\n"
    "name: fix-date-parsing\n"
    "description: >\n"
    "  Fixes date parsing bugs in src/date.\n"
    "  Use when a date test fails.\n"
    "license: MIT\n"
    "allowed-tools:\n"
    "  - read_file\n"
    "  - edit_file\n"
    "metadata:\n"
    "  tandem-source-run: \"20261202-101010-abcd\"\n"
    "  tandem-gates: 'test, lint'\n"
    "  author: me   # a comment\n"
    "---\n"
    "# Fix date parsing\n"
    "\n"
    "1. Run the test.\n";

TEST(ParseSkill, ReadsTheFrontmatterFieldsAndTheBody) {
  auto skill = ParseSkill(kGood, "fix-date-parsing");
  ASSERT_TRUE(skill) << skill.error().line << ": " << skill.error().message;
  EXPECT_EQ(skill->name, "fix-date-parsing");
  EXPECT_EQ(skill->description, "Fixes date parsing bugs in src/date. Use when a date test fails.\n");
  EXPECT_EQ(skill->license, "MIT");
  EXPECT_EQ(skill->allowed_tools, "read_file edit_file");
  EXPECT_EQ(skill->Meta("tandem-source-run"), "20261202-101010-abcd");
  EXPECT_EQ(skill->Meta("tandem-gates"), "test, lint");
  EXPECT_EQ(skill->Meta("author"), "me");
  EXPECT_EQ(skill->body, "# Fix date parsing\n\n1. Run the test.\n");
  EXPECT_EQ(skill->body_line, 15);
}

TEST(ParseSkill, LiteralBlockKeepsLinesAndStripChompsTheLastNewline) {
  auto skill = ParseSkill("---\nname: a\ndescription: |-\n  one\n  two\n---\n", "a");
  ASSERT_TRUE(skill) << skill.error().message;
  EXPECT_EQ(skill->description, "one\ntwo");
}

TEST(ParseSkill, QuotedValuesUnescape) {
  auto skill = ParseSkill(
      "---\nname: a\ndescription: \"say \\\"hi\\\" \\u00e9\"\nlicense: 'it''s'\n---\nbody\n", "a");
  ASSERT_TRUE(skill) << skill.error().message;
  EXPECT_EQ(skill->description, "say \"hi\" \xC3\xA9");
  EXPECT_EQ(skill->license, "it's");
}

struct BadCase {
  const char* what;
  std::string text;
  int line;
  const char* message;
};

class ParseSkillRefuses : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseSkillRefuses, NamingTheLine) {
  const BadCase& c = GetParam();
  auto skill = ParseSkill(c.text, "a-skill");
  ASSERT_FALSE(skill) << c.what;
  EXPECT_EQ(skill.error().line, c.line) << c.what << ": " << skill.error().message;
  EXPECT_NE(skill.error().message.find(c.message), std::string::npos)
      << c.what << ": " << skill.error().message;
}

std::string LongBody(int lines) {
  std::string s;
  for (int i = 0; i < lines; ++i) s += "line\n";
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseSkillRefuses,
    ::testing::Values(
        BadCase{"no frontmatter", "# just markdown\n", 1, "no YAML frontmatter"},
        BadCase{"unclosed", "---\nname: a-skill\n", 1, "not closed"},
        BadCase{"no name", "---\ndescription: d\n---\n", 1, "no 'name'"},
        BadCase{"upper-case name", "---\ndescription: d\nname: A-Skill\n---\n", 3, "lowercase"},
        BadCase{"double hyphen", "---\nname: a--skill\ndescription: d\n---\n", 2, "'--'"},
        BadCase{"leading hyphen", "---\nname: -a\ndescription: d\n---\n", 2, "start or end"},
        BadCase{"name too long", "---\nname: " + std::string(65, 'a') + "\ndescription: d\n---\n", 2,
                "at most 64"},
        BadCase{"name differs from folder", "---\nname: other\ndescription: d\n---\n", 2,
                "differs from its folder"},
        BadCase{"no description", "---\nname: a-skill\n---\n", 1, "no 'description'"},
        BadCase{"empty description", "---\nname: a-skill\ndescription: ''\n---\n", 3, "empty"},
        BadCase{"description too long",
                "---\nname: a-skill\ndescription: " + std::string(1025, 'x') + "\n---\n", 3,
                "at most 1024"},
        BadCase{"body over 500 lines", "---\nname: a-skill\ndescription: d\n---\n" + LongBody(501),
                505, "at most 500"},
        BadCase{"invalid UTF-8", "---\nname: a-skill\ndescription: d \xff\n---\n", 3, "invalid UTF-8"},
        BadCase{"duplicate key", "---\nname: a-skill\ndescription: d\nname: a-skill\n---\n", 4,
                "duplicate key 'name'"},
        BadCase{"tab indentation", "---\nname: a-skill\ndescription: d\nmetadata:\n\tx: y\n---\n", 5,
                "tab"},
        BadCase{"not key value", "---\nname: a-skill\njust words\n---\n", 3, "expected 'key: value'"},
        BadCase{"flow map", "---\nname: a-skill\ndescription: d\nmetadata: {a: b}\n---\n", 4, "flow"},
        BadCase{"nested too deep", "---\nname: a-skill\ndescription: d\nmetadata:\n  a:\n    b: c\n---\n",
                6, "deeper than one level"},
        BadCase{"unknown escape of a non-ASCII byte",
                "---\nname: a-skill\ndescription: \"a \\\xef\xbb\xbf\"\n---\n", 3, "byte 0xef"},
        BadCase{"unclosed quote", "---\nname: a-skill\ndescription: \"abc\n---\n", 3, "unclosed"},
        BadCase{"name is a map", "---\nname:\n  x: y\ndescription: d\n---\n", 2, "must be a string"},
        BadCase{"plain value with colon", "---\nname: a-skill\ndescription: use: this\n---\n", 3,
                "quote it"},
        BadCase{"huge file", "---\nname: a-skill\ndescription: d\n---\n" + std::string(300000, 'x'), 1,
                "larger than"}),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      std::string n = info.param.what;
      for (char& c : n) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return n;
    });

TEST(RenderSkill, ReadsBackAsTheSameFields) {
  Skill s;
  s.name = "add-endpoint";
  s.description = "Adds an HTTP endpoint: route, handler, test.\nUse for \"new route\" tasks.";
  s.SetMeta("tandem-source-run", "20261202-1");
  s.SetMeta("tandem-gates", "test: make test");
  s.body = "# Steps\n\n1. edit\n";
  auto back = ParseSkill(RenderSkill(s), "add-endpoint");
  ASSERT_TRUE(back) << back.error().line << ": " << back.error().message;
  EXPECT_EQ(back->description, s.description);
  EXPECT_EQ(back->metadata, s.metadata);
  EXPECT_EQ(back->body, s.body);
}

// Found by skill_fuzz (fuzz/corpus/skill/crash-cr-run-40bd5599): a body
// line ending in "\r\r\n" kept one "\r", which the rendered file's next
// read took as part of its line end: the skill read back different.
TEST(ParseSkill, EveryCarriageReturnBeforeANewlineEndsTheLineSoTheSkillRendersBackTheSame) {
  auto skill = ParseSkill(
      "---\r\nname: a-skill\r\ndescription: d\r\n---\r\n0. Run the\r\r\r\nnext a\rb\n",
      "a-skill");
  ASSERT_TRUE(skill) << skill.error().line << ": " << skill.error().message;
  EXPECT_EQ(skill->body, "0. Run the\nnext a\rb\n");  // a carriage return inside a line stays
  auto back = ParseSkill(RenderSkill(*skill), "a-skill");
  ASSERT_TRUE(back) << back.error().line << ": " << back.error().message;
  EXPECT_EQ(back->body, skill->body);
}

}  // namespace
}  // namespace tandem::skills
