#include "tandem/memory/plan_md.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tandem/platform/atomic_file.h"

namespace tandem::memory {
namespace {
namespace fs = std::filesystem;

constexpr std::string_view kGoodPlan =
    "# Plan: Parse dates everywhere\n"
    "\n"
    "Some prose a person wrote. It is ignored.\n"
    "\n"
    "- [x] T1: Add the date parser\n"
    "  - do: Parse ISO-8601 dates in src/date.cc.\n"
    "    Reject dates before 1970.\n"
    "  - scope: src/date.cc, tests/date_test.cc\n"
    "  - accept: gates build, test; check `ctest -R date`\n"
    "  - risk: reversible\n"
    "  - after: —\n"
    "\n"
    "- [ ] T2: Use it in the CLI\n"
    "  - do: Call ParseIsoDate from src/cli.cc.\n"
    "  - scope: src/cli.cc\n"
    "  - risk: irreversible\n"
    "  - after: T1\n"
    "- [?] T3: Publish\n"
    "  - do: Tag the release.\n"
    "  - accept: gates none; check ``git tag | grep `v1` ``\n"
    "  - after: T1, T2\n";

Plan ParseOk(std::string_view text) {
  auto plan = ParsePlan(text);
  EXPECT_TRUE(plan.has_value()) << plan.error().ToString();
  return plan ? *plan : Plan{};
}

std::string ParseError(std::string_view text) {
  auto plan = ParsePlan(text);
  EXPECT_FALSE(plan.has_value());
  if (plan) return "";
  EXPECT_EQ(plan.error().code(), StatusCode::kInvalidArgument);
  return plan.error().message();
}

// A minimal valid task body.
std::string Task(std::string_view head, std::string_view extra = "") {
  return std::string(head) + "\n  - do: something\n" + std::string(extra);
}

TEST(PlanMd, ParsesEveryFieldOfAGoodPlan) {
  Plan plan = ParseOk(kGoodPlan);
  EXPECT_EQ(plan.goal, "Parse dates everywhere");
  ASSERT_EQ(plan.tasks.size(), 3u);
  const PlanTask& t1 = plan.tasks[0];
  EXPECT_EQ(t1.id, "T1");
  EXPECT_EQ(t1.title, "Add the date parser");
  EXPECT_EQ(t1.state, TaskState::kDone);
  EXPECT_EQ(t1.what, "Parse ISO-8601 dates in src/date.cc.\nReject dates before 1970.");
  EXPECT_EQ(t1.scope, (std::vector<std::string>{"src/date.cc", "tests/date_test.cc"}));
  ASSERT_TRUE(t1.gates.has_value());
  EXPECT_EQ(*t1.gates, (std::vector<std::string>{"build", "test"}));
  EXPECT_EQ(t1.checks, std::vector<std::string>{"ctest -R date"});
  EXPECT_EQ(t1.risk, Risk::kReversible);
  EXPECT_TRUE(t1.after.empty());
  EXPECT_EQ(t1.line, 5);

  const PlanTask& t2 = plan.tasks[1];
  EXPECT_EQ(t2.state, TaskState::kPending);
  EXPECT_FALSE(t2.gates.has_value());  // default: all gates
  EXPECT_EQ(t2.risk, Risk::kIrreversible);
  EXPECT_EQ(t2.after, std::vector<std::string>{"T1"});

  const PlanTask& t3 = plan.tasks[2];
  EXPECT_EQ(t3.state, TaskState::kWaiting);
  ASSERT_TRUE(t3.gates.has_value());
  EXPECT_TRUE(t3.gates->empty());
  EXPECT_EQ(t3.checks, std::vector<std::string>{"git tag | grep `v1`"});
  EXPECT_EQ(t3.after, (std::vector<std::string>{"T1", "T2"}));
}

TEST(PlanMd, OverlapsListsTasksThatMayRunBesideIt) {
  auto plan = ParsePlan(
      "- [ ] T1: a\n  - do: x\n  - scope: shared.txt\n  - overlaps: T2, T3\n\n"
      "- [ ] T2: b\n  - do: y\n  - scope: shared.txt\n");
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  EXPECT_EQ(plan->tasks[0].may_overlap_with, (std::vector<std::string>{"T2", "T3"}));
  EXPECT_TRUE(plan->tasks[1].may_overlap_with.empty());
  EXPECT_EQ(ParseError("- [ ] T1: a\n  - do: x\n  - overlaps: 2x\n"),
            "line 3: expected task ids after 'overlaps:', found '2x'");
}

TEST(PlanMd, ReviewSetsTheTasksReviewPolicyAndRoundTrips) {
  auto plan = ParsePlan(
      "- [ ] T1: a\n  - do: x\n  - review: always\n\n"
      "- [ ] T2: b\n  - do: y\n  - review: irreversible, large\n\n"
      "- [ ] T3: c\n  - do: z\n");
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  ASSERT_TRUE(plan->tasks[0].review.has_value());
  EXPECT_TRUE(plan->tasks[0].review->always);
  EXPECT_EQ(protocol::Name(*plan->tasks[1].review), "irreversible,large");
  EXPECT_FALSE(plan->tasks[2].review.has_value());
  auto again = ParsePlan(RenderPlan(*plan));
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_EQ(again->tasks[0].review, plan->tasks[0].review);
  EXPECT_EQ(ParseError("- [ ] T1: a\n  - do: x\n  - review: often\n"),
            "line 3: bad review in task T1: unknown review policy value 'often'; expected never, "
            "irreversible, large or always, or a list such as \"irreversible,large\"");
}

TEST(PlanMd, VariantsSetsHowManyAgentsTryTheTaskAndRoundTrips) {
  auto plan = ParsePlan(
      "- [ ] T1: a\n  - do: x\n  - variants: 3\n\n"
      "- [ ] T2: b\n  - do: y\n  - variants: 75\n\n"
      "- [ ] T3: c\n  - do: z\n  - variants: 1\n\n"
      "- [ ] T4: d\n  - do: w\n");
  ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
  EXPECT_EQ(plan->tasks[0].variants, 3);
  EXPECT_EQ(plan->tasks[1].variants, 75);
  EXPECT_EQ(plan->tasks[2].variants, 1);
  EXPECT_EQ(plan->tasks[3].variants, 1) << "no field: an ordinary task";
  std::string rendered = RenderPlan(*plan);
  EXPECT_NE(rendered.find("  - variants: 3\n"), std::string::npos) << rendered;
  EXPECT_EQ(rendered.find("variants: 1"), std::string::npos) << "1 is the default: not written";
  auto again = ParsePlan(rendered);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  for (size_t i = 0; i < plan->tasks.size(); ++i) {
    EXPECT_EQ(again->tasks[i].variants, plan->tasks[i].variants) << plan->tasks[i].id;
  }
}

TEST(PlanMd, BadVariantsAreErrorsNamingTheLineAndTheRange) {
  for (std::string bad : {"0", "76", "-2", "three", "2.5", "", "1000000000000", "3 4"}) {
    EXPECT_EQ(ParseError("- [ ] T1: a\n  - do: x\n\n- [ ] T2: b\n  - do: y\n  - variants: " +
                         bad + "\n"),
              "line 6: bad variants '" + bad +
                  "' in task T2; expected a whole number from 1 to 75")
        << bad;
  }
  EXPECT_EQ(ParseError("- [ ] T1: a\n  - do: x\n  - variants: 2\n  - variants: 3\n"),
            "line 4: duplicate field 'variants' in task T1; first given on line 3");
}

TEST(PlanMd, ATaskIdGitCannotNameARefAfterIsAnErrorNamingTheLine) {
  for (std::string bad : {"T1..2", "T1.", "T..", "T3.1..a"}) {
    EXPECT_EQ(ParseError("- [ ] T0: a\n  - do: x\n\n- [ ] " + bad + ": b\n  - do: y\n"),
              "line 4: task id '" + bad +
                  "' holds '..' or ends with '.', which tandem cannot name its checkpoint refs "
                  "after; use ids such as T3 or T3.1")
        << bad;
  }
  Plan plan = ParseOk(Task("- [ ] T3.1: a") + Task("- [ ] T3.1.b-c_d: b"));
  ASSERT_EQ(plan.tasks.size(), 2u);
  EXPECT_EQ(plan.tasks[1].id, "T3.1.b-c_d");
}

TEST(PlanMd, ReadsEveryCheckboxState) {
  Plan plan = ParseOk(Task("- [ ] A: a") + Task("- [~] B: b") + Task("- [X] C: c") +
                      Task("- [!] D: d") + Task("- [-] E: e") + Task("- [?] F: f"));
  ASSERT_EQ(plan.tasks.size(), 6u);
  TaskState want[] = {TaskState::kPending, TaskState::kRunning, TaskState::kDone,
                      TaskState::kFailed,  TaskState::kSkipped, TaskState::kWaiting};
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(plan.tasks[i].state, want[i]) << i;
}

TEST(PlanMd, ProseListsLinksAndCodeBlocksOutsideTasksAreIgnored) {
  Plan plan = ParseOk(
      "Intro\n"
      "- a plain bullet: with a colon\n"
      "- [docs](docs/FORMATS.md)\n"
      "```\n"
      "- [ ] X1: an example inside a code block\n"
      "```\n"
      "## Phase 1\n" +
      Task("- [ ] T1: real") + "A paragraph after the task ends it.\n  indented prose\n");
  ASSERT_EQ(plan.tasks.size(), 1u);
  EXPECT_EQ(plan.tasks[0].id, "T1");
  EXPECT_TRUE(plan.goal.empty());
}

TEST(PlanMd, TextWithoutATaskIsAnErrorSayingWhy) {
  EXPECT_EQ(ParseError(""),
            "the file is empty; expected at least one task line '- [ ] <id>: <title>' at the "
            "start of a line, followed by '  - do: <what to do>'");
  EXPECT_NE(ParseError(" \n\n").find("the file is empty"), std::string::npos);
  EXPECT_NE(ParseError("# Plan\n\nNothing yet.\n").find("no task found"), std::string::npos);
  EXPECT_NE(ParseError(std::string("\x7f" "ELF\x02\x01\0\0\xff\xfe garbage", 17))
                .find("not a text file (a NUL byte at offset 6)"),
            std::string::npos);
  // Indented task lines are prose.
  EXPECT_NE(ParseError("  - [ ] T1: a\n    - do: x\n").find("no task found"), std::string::npos);
}

TEST(PlanMd, MisspelledCheckboxIsAnErrorNamingTheLine) {
  const char* expected =
      "line 3: expected a task line '- [ ] <id>: <title>' (a dash, one space, then the "
      "checkbox), found ";
  EXPECT_EQ(ParseError("# Plan\n\n-[ ] T1: a\n  - do: x\n"),
            std::string(expected) + "'-[ ] T1: a'");
  // Also after a good task: read as prose, the task would silently not run.
  EXPECT_EQ(ParseError(Task("- [ ] T1: a") + "-  [x] T2: b\n  - do: y\n"),
            "line 3: expected a task line '- [ ] <id>: <title>' (a dash, one space, then the "
            "checkbox), found '-  [x] T2: b'");
  EXPECT_NE(ParseError("- [] T1: a\n  - do: x\n").find("line 1: expected a task line"),
            std::string::npos);
  // Links and bracketed prose stay prose.
  EXPECT_EQ(ParseOk(Task("- [ ] T1: a") + "\n-[docs](x.md)\n- [note] later\n").tasks.size(), 1u);
}

TEST(PlanMd, AUtf8ByteOrderMarkAtTheTopIsSkipped) {
  std::string text = "\xEF\xBB\xBF" + Task("- [ ] T1: first") + Task("- [ ] T2: second");
  Plan plan = ParseOk(text);
  ASSERT_EQ(plan.tasks.size(), 2u);
  EXPECT_EQ(plan.tasks[0].id, "T1");
  EXPECT_EQ(plan.tasks[0].line, 1);
  // Checkbox updates land on the mark, after the byte-order mark.
  EXPECT_EQ(TaskMarkOffset(text, plan.tasks[0]), 6u);
  EXPECT_EQ(text[TaskMarkOffset(text, plan.tasks[1])], ' ');
  EXPECT_EQ(text.substr(TaskMarkOffset(text, plan.tasks[1]) - 3, 8), "- [ ] T2");
}

TEST(PlanMd, ScopesOutsideTheRepositoryOrEmptyAreErrorsNamingTheLine) {
  EXPECT_EQ(ParseError(Task("- [ ] T1: a", "  - scope: src/**, ../**\n")),
            "line 3: scope '../**' of task T1: '..' leaves the repository; expected a path glob "
            "relative to the repository root such as 'src/**'");
  EXPECT_NE(ParseError(Task("- [ ] T1: a", "  - scope: /etc/**\n"))
                .find("line 3: scope '/etc/**' of task T1: an absolute path"),
            std::string::npos);
  EXPECT_NE(ParseError(Task("- [ ] T1: a", "  - scope: src/../../x\n")).find("'..'"),
            std::string::npos);
  EXPECT_NE(ParseError(Task("- [ ] T1: a", "  - scope: ~/.ssh/*\n")).find("home directory"),
            std::string::npos);
  EXPECT_NE(ParseError(Task("- [ ] T1: a", "  - scope:\n")).find("line 3: empty scope in task T1"),
            std::string::npos);
  EXPECT_EQ(ParseOk(Task("- [ ] T1: a", "  - scope: src/..x/**, a..b\n")).tasks[0].scope,
            (std::vector<std::string>{"src/..x/**", "a..b"}));
}

TEST(PlanMd, MalformedPlansNameTheLineWhatWasExpectedAndWhatWasFound) {
  EXPECT_EQ(ParseError("# Plan: x\n\n- [ ] T1: a\n  - do: x\n  - owner: me\n"),
            "line 5: unknown field 'owner' in task T1; expected do, scope, accept, risk, after, "
            "overlaps, review or variants");
  EXPECT_EQ(ParseError(Task("- [ ] T1: a") + Task("- [ ] T1: b")),
            "line 3: duplicate task id 'T1'; first defined on line 1");
  EXPECT_EQ(ParseError(Task("- [ ] T1: a", "  - after: T9\n")),
            "line 3: task T1 depends on unknown task 'T9'; expected the id of a task in this plan");
  EXPECT_EQ(ParseError(Task("- [ ] T1: a", "  - risk: maybe\n")),
            "line 3: bad risk 'maybe' in task T1; expected 'reversible' or 'irreversible'");
  EXPECT_EQ(ParseError("- [ ] T1: a\n  - scope: x\n"),
            "line 1: task T1 has no 'do' field; expected '- do: <what to do>' under it");
  EXPECT_EQ(ParseError(Task("- [ ] T1: a", "  - do: again\n")),
            "line 3: duplicate field 'do' in task T1; first given on line 2");
  EXPECT_EQ(ParseError("- [y] T1: a\n"),
            "line 1: unknown checkbox '[y]'; expected '[ ]' pending, '[~]' running, '[x]' done, "
            "'[!]' failed, '[-]' skipped or '[?]' waiting");
  EXPECT_EQ(ParseError("- [ ] add the parser\n"),
            "line 1: expected a task line '- [ ] <id>: <title>' with an id such as T1, found "
            "'- [ ] add the parser'");
  EXPECT_EQ(ParseError("- [ ] T1:\n"), "line 1: task T1 has no title after 'T1:'");
  EXPECT_EQ(ParseError("- [ ] T1: a\n  note without a field\n"),
            "line 2: expected a field such as '- do: <what to do>' under task T1, found "
            "'note without a field'");
  EXPECT_EQ(ParseError(Task("- [ ] T1: a", "  - accept: tests pass\n")),
            "line 3: expected 'gates <name>, ...' or 'check `<command>`' in the acceptance of "
            "task T1, found 'tests pass'");
  EXPECT_EQ(ParseError(Task("- [ ] T1: a", "  - accept: check `make test\n")),
            "line 3: expected a command in backticks after 'check', found '`make test'");
  EXPECT_EQ(ParseError(Task("- [ ] T1: a", "  - [ ] T2: nested\n")),
            "line 3: expected a field of task T1, found a nested task '- [ ] T2: nested'; tasks "
            "start at the beginning of a line");
  EXPECT_EQ(ParseError(Task("- [ ] T1: a", std::string("  - scope: src/a.cc\0/x, b\n", 26))),
            "line 3: scope 'src/a.cc?/x' of task T1: a NUL byte ends a path early, so it would "
            "name a path it does not say; expected a path glob relative to the repository root "
            "such as 'src/**'");
  EXPECT_EQ(ParseError("# Plan: a\n# Plan: b\n"),
            "line 2: a second '# Plan' title; expected one per file (the first is on line 1)");
  EXPECT_EQ(ParseError("```\n- [ ] T1: hidden\n"),
            "line 1: code block opened here is never closed; expected a closing ``` line, found "
            "the end of the file");
}

TEST(PlanMd, DependencyCycleIsNamed) {
  std::string text = Task("- [ ] T1: a", "  - after: T3\n") + Task("- [ ] T2: b", "  - after: T1\n") +
                     Task("- [ ] T3: c", "  - after: T2\n") + Task("- [ ] T4: d", "  - after: T3\n");
  EXPECT_EQ(ParseError(text),
            "line 1: dependency cycle T1 -> T3 -> T2 -> T1; expected 'after' to name earlier work "
            "only");
  EXPECT_EQ(ParseError(Task("- [ ] T1: a", "  - after: T1\n")),
            "line 1: dependency cycle T1 -> T1; expected 'after' to name earlier work only");
}

TEST(PlanMd, LongDependencyChainDoesNotOverflowTheStack) {
  std::string text = Task("- [ ] T0: first");
  for (int i = 1; i < 20000; ++i) {
    text += Task("- [ ] T" + std::to_string(i) + ": t", "  - after: T" + std::to_string(i - 1) + "\n");
  }
  EXPECT_EQ(ParseOk(text).tasks.size(), 20000u);
}

TEST(PlanMd, RenderThenParseRoundTrips) {
  Plan plan;
  plan.goal = "Ship it";
  PlanTask a;
  a.id = "T1";
  a.title = "First";
  a.state = TaskState::kFailed;
  a.what = "Line one\n\n- a bullet that looks like a field\n\\- escaped already\nlast";
  a.scope = {"src/**/*.cc", "docs/x.md"};
  a.gates = std::vector<std::string>{"build"};
  a.checks = {"echo `date`", "test -f x; echo ok"};
  PlanTask b;
  b.id = "T2";
  b.title = "Second";
  b.what = "Do it.";
  b.gates = std::vector<std::string>{};
  b.risk = Risk::kIrreversible;
  b.after = {"T1"};
  plan.tasks = {a, b};

  std::string text = RenderPlan(plan);
  Plan back = ParseOk(text);
  EXPECT_EQ(back.goal, plan.goal);
  ASSERT_EQ(back.tasks.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const PlanTask& x = plan.tasks[i];
    const PlanTask& y = back.tasks[i];
    EXPECT_EQ(y.id, x.id);
    EXPECT_EQ(y.title, x.title);
    EXPECT_EQ(y.state, x.state);
    EXPECT_EQ(y.what, x.what);
    EXPECT_EQ(y.scope, x.scope);
    EXPECT_EQ(y.gates, x.gates);
    EXPECT_EQ(y.checks, x.checks);
    EXPECT_EQ(y.risk, x.risk);
    EXPECT_EQ(y.after, x.after);
  }
  EXPECT_EQ(RenderPlan(back), text);
}

TEST(PlanMd, ReadyTasksArePendingWithAllDependenciesDone) {
  Plan plan = ParseOk(Task("- [x] A: done") + Task("- [ ] B: ready", "  - after: A\n") +
                      Task("- [ ] C: waits for B", "  - after: A, B\n") +
                      Task("- [!] D: failed") + Task("- [ ] E: blocked by failure", "  - after: D\n") +
                      Task("- [ ] F: no deps") + Task("- [~] G: running"));
  std::vector<std::string> ids;
  for (const PlanTask* t : ReadyTasks(plan)) ids.push_back(t->id);
  EXPECT_EQ(ids, (std::vector<std::string>{"B", "F"}));
}

class PlanFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("plan_md_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "plan.md";
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(std::string_view text) { std::ofstream(path_, std::ios::binary) << text; }
  std::string Read() {
    std::ifstream in(path_, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  std::vector<std::string> Entries() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    return names;
  }
  fs::path dir_, path_;
};

TEST_F(PlanFileTest, SetTaskStateChangesOnlyThatCheckbox) {
  // A person's odd spacing, CRLF line ends, trailing spaces, extra prose.
  const std::string original =
      "#   Notes first\r\n"
      "Some   prose,\twith tabs   \r\n"
      "# Plan:   Goal  \r\n"
      "- [ ]   T1 :   Odd   spacing   \r\n"
      "      - do:   keep   me  \r\n"
      "\t- risk:  reversible\r\n"
      "\r\n"
      "Prose between tasks.\n"
      "- [ ] T2: second\n"
      "  - do: x\n"
      "  - after: T1\n"
      "trailing prose without newline";
  Write(original);
  ASSERT_TRUE(SetTaskState(path_, "T1", TaskState::kDone).ok());
  std::string expected = original;
  size_t at = expected.find("- [ ]   T1");
  expected[at + 3] = 'x';
  EXPECT_EQ(Read(), expected);

  ASSERT_TRUE(SetTaskState(path_, "T2", TaskState::kWaiting).ok());
  expected[expected.find("- [ ] T2") + 3] = '?';
  EXPECT_EQ(Read(), expected);

  auto plan = LoadPlan(path_);
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_EQ(plan->tasks[0].state, TaskState::kDone);
  EXPECT_EQ(plan->tasks[1].state, TaskState::kWaiting);
  EXPECT_EQ(Entries(), std::vector<std::string>{"plan.md"});  // no temp file left behind
}

TEST_F(PlanFileTest, SetTaskStateReplacesTheFileByRename) {
  Write(kGoodPlan);
  struct stat before, after;
  ASSERT_EQ(::stat(path_.c_str(), &before), 0);
  ASSERT_TRUE(SetTaskState(path_, "T2", TaskState::kRunning).ok());
  ASSERT_EQ(::stat(path_.c_str(), &after), 0);
  // A new inode: the content was written elsewhere and renamed into place,
  // never rewritten in place where a crash could tear it.
  EXPECT_NE(before.st_ino, after.st_ino);
  EXPECT_EQ(Entries(), std::vector<std::string>{"plan.md"});
}

TEST_F(PlanFileTest, SetTaskStateRefusesUnknownIdsAndMalformedPlans) {
  Write(kGoodPlan);
  EXPECT_EQ(SetTaskState(path_, "T9", TaskState::kDone).code(), StatusCode::kNotFound);
  Write("- [ ] T1: a\n  - bogus: x\n");
  Status s = SetTaskState(path_, "T1", TaskState::kDone);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();
  EXPECT_EQ(Read(), "- [ ] T1: a\n  - bogus: x\n");
}

TEST_F(PlanFileTest, LoadPlanPrefixesErrorsWithThePathAndReportsMissingFiles) {
  EXPECT_EQ(LoadPlan(path_).error().code(), StatusCode::kNotFound);
  Write("- [ ] T1: a\n");
  auto plan = LoadPlan(path_);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message().rfind(path_.string() + ": line 1:", 0), 0u)
      << plan.error().message();
  Write("- [ ] T1: a\n  - do: x\n  - variants: 99\n");
  plan = LoadPlan(path_);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message(),
            path_.string() + ": line 3: bad variants '99' in task T1; expected a whole number "
                             "from 1 to 75");
}

// plan.md is read by tandem's own process and its tasks go to the model: a
// link (committed, or made by a model's command) must not bring a file from
// outside the repository or from .git in, nor be written through.
TEST_F(PlanFileTest, APlanMdLinkingOutOfItsDirectoryIsNeitherReadNorUpdated) {
  const fs::path outside = dir_.string() + "-outside.md";
  std::ofstream(outside) << "- [ ] T1: OUTSIDE-CANARY-1207\n  - do: x\n";
  fs::create_symlink(outside, path_);

  auto plan = LoadPlan(path_);
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(plan.error().message().find("plan.md leads outside the repository, to " +
                                        outside.string()),
            std::string::npos)
      << plan.error().message();
  EXPECT_EQ(plan.error().message().find("OUTSIDE-CANARY"), std::string::npos);
  EXPECT_EQ(SetTaskState(path_, "T1", TaskState::kDone).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(fs::is_symlink(path_));
  std::ifstream in(outside);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "- [ ] T1: OUTSIDE-CANARY-1207");
  fs::remove(outside);

  // Into .git, and to nothing at all, are refused too; a link inside is read.
  fs::remove(path_);
  fs::create_directories(dir_ / ".git");
  std::ofstream(dir_ / ".git/plan.md") << "- [ ] T1: a\n  - do: x\n";
  fs::create_symlink(".git/plan.md", path_);
  EXPECT_EQ(LoadPlan(path_).error().code(), StatusCode::kPermissionDenied);
  fs::remove(path_);
  fs::create_symlink(dir_.string() + "-nowhere/plan.md", path_);
  auto dangling = LoadPlan(path_);
  ASSERT_FALSE(dangling);
  EXPECT_EQ(dangling.error().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(dangling.error().message().find("plan.md is a link to"), std::string::npos)
      << dangling.error().message();
  fs::remove(path_);
  fs::create_directories(dir_ / "docs");
  std::ofstream(dir_ / "docs/plan.md") << "- [ ] T1: a\n  - do: x\n";
  fs::create_symlink("docs/plan.md", path_);
  EXPECT_TRUE(LoadPlan(path_)) << "a link inside the repository is followed";
}

}  // namespace
}  // namespace tandem::memory
