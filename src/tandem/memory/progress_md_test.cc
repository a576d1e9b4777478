#include "tandem/memory/progress_md.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tandem/platform/atomic_file.h"

namespace tandem::memory {
namespace {
namespace fs = std::filesystem;

class ProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("progress_md_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "progress.md";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Read() { return platform::ReadWholeFile(path_).value_or("<missing>"); }
  void Write(std::string_view text) { ASSERT_TRUE(platform::WriteFileAtomically(path_, text).ok()); }
  fs::path dir_, path_;
};

TEST_F(ProgressTest, RecordsOutcomesNotesAndNextInTheirSections) {
  ASSERT_TRUE(RecordOutcome(path_, {"T1", "Add the parser", TaskState::kDone, 2,
                                    "ParseIsoDate in src/date.cc\nwith tests"})
                  .ok());
  ASSERT_TRUE(AppendNote(path_, "T1", NoteKind::kDecision, "use std::chrono::parse").ok());
  ASSERT_TRUE(AppendNote(path_, "", NoteKind::kSteer, "don't touch the types yet").ok());
  ASSERT_TRUE(SetNext(path_, {"T2: Use it in the CLI"}).ok());
  EXPECT_EQ(Read(),
            EmptyProgress().substr(0, EmptyProgress().find("## Next")) +
                "## Next\n"
                "\n"
                "- T2: Use it in the CLI\n"
                "\n"
                "## Notes\n"
                "- steer: don't touch the types yet\n"
                "\n"
                "## T1: Add the parser\n"
                "- outcome: done (2 retries)\n"
                "- summary: ParseIsoDate in src/date.cc\n"
                "  with tests\n"
                "- decision: use std::chrono::parse\n");
}

TEST_F(ProgressTest, UpdatingAnOutcomeReplacesItAndKeepsEverythingElse) {
  const std::string person =
      "# Progress\n"
      "My own   notes,  kept as typed.\n"
      "\n"
      "## T1: Parser\n"
      "- outcome: failed (1 retry)\n"
      "- failure: gate test failed\n"
      "    date_test.cc:14: expected 1970\n"
      "A paragraph a person added.\n"
      "\n"
      "## Something else\n"
      "untouched\n";
  Write(person);
  ASSERT_TRUE(RecordOutcome(path_, {"T1", "ignored title", TaskState::kDone, 2, "fixed it"}).ok());
  std::string want = person;
  want.replace(want.find("- outcome: failed (1 retry)\n"), 28,
               "- outcome: done (2 retries)\n- summary: fixed it\n");
  EXPECT_EQ(Read(), want);

  auto outcomes = ReadOutcomes(Read());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].id, "T1");
  EXPECT_EQ(outcomes[0].title, "Parser");
  EXPECT_EQ(outcomes[0].state, TaskState::kDone);
  EXPECT_EQ(outcomes[0].retries, 2);
  EXPECT_EQ(outcomes[0].summary, "fixed it");
}

TEST_F(ProgressTest, ARepeatOfTheLastNoteIsCountedAndAnyOtherRepeatKeepsItsPlace) {
  const std::string failure = "attempt 1 on the executor tier: gate test failed\nline 2 of it";
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(AppendNote(path_, "T1", NoteKind::kFailure, failure).ok());
  }
  ASSERT_TRUE(RecordOutcome(path_, {"T1", "Parse", TaskState::kFailed, 0, ""}).ok());
  // The outcome sits above the notes; the next identical failure is
  // counted with the others. After a different note, a repeat is a line of
  // its own: folding it into the earlier count would put it before the
  // escalation it followed.
  ASSERT_TRUE(AppendNote(path_, "T1", NoteKind::kFailure, failure).ok());
  ASSERT_TRUE(AppendNote(path_, "T1", NoteKind::kDecision, "escalated").ok());
  ASSERT_TRUE(AppendNote(path_, "T1", NoteKind::kFailure, failure).ok());
  ASSERT_TRUE(AppendNote(path_, "T1", NoteKind::kDecision, "escalated").ok());
  // The same text with another kind, or in another section, is another entry.
  ASSERT_TRUE(AppendNote(path_, "T1", NoteKind::kNote, failure).ok());
  ASSERT_TRUE(AppendNote(path_, "T2", NoteKind::kFailure, failure).ok());
  std::string text = Read();
  EXPECT_NE(text.find("- outcome: failed\n"
                      "- failure: attempt 1 on the executor tier: gate test failed\n"
                      "  line 2 of it (×4)\n"
                      "- decision: escalated\n"
                      "- failure: attempt 1 on the executor tier: gate test failed\n"
                      "  line 2 of it\n"
                      "- decision: escalated\n"
                      "- note: attempt 1 on the executor tier: gate test failed\n"
                      "  line 2 of it\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("## T2: T2\n- failure: attempt 1 on the executor tier: gate test failed\n"
                      "  line 2 of it\n"),
            std::string::npos)
      << text;
}

TEST_F(ProgressTest, NoteForAnUnknownTaskCreatesItsSection) {
  ASSERT_TRUE(AppendNote(path_, "T7", NoteKind::kQuestion, "which time zone?").ok());
  ASSERT_TRUE(AppendNote(path_, "T7", NoteKind::kFailure, "first line\n\nsecond line").ok());
  EXPECT_TRUE(Read().ends_with("## T7: T7\n- question: which time zone?\n"
                               "- failure: first line\n  second line\n"))
      << Read();
}

TEST_F(ProgressTest, ConcurrentWritersLoseNoUpdate) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 25; ++i) {
        EXPECT_TRUE(AppendNote(path_, "T" + std::to_string(t), NoteKind::kNote,
                               "n" + std::to_string(t) + "-" + std::to_string(i))
                        .ok());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  std::string text = Read();
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 25; ++i) {
      std::string note = "- note: n" + std::to_string(t) + "-" + std::to_string(i) + "\n";
      EXPECT_NE(text.find(note), std::string::npos) << note;
    }
  }
}

// Found by fuzz/progress_fuzz: a person's unclosed ``` hid every section
// tandem appended after it, so recorded outcomes were never read back.
TEST_F(ProgressTest, UnclosedCodeFenceDoesNotHideSectionsAppendedAfterIt) {
  Write("# Progress\n```\nnot closed\n");
  ASSERT_TRUE(RecordOutcome(path_, {"T1", "Parser", TaskState::kDone, 0, "ok"}).ok());
  std::vector<TaskOutcome> outcomes = ReadOutcomes(Read());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].id, "T1");
  EXPECT_EQ(outcomes[0].state, TaskState::kDone);
  // A closed fence still hides what it quotes.
  EXPECT_TRUE(ReadOutcomes("```\n## T2: x\n- outcome: done\n```\n").empty());
}

// Found by fuzz/progress_fuzz: with the task's heading on the last line and
// no newline after it, the outcome was glued onto the heading's line.
TEST_F(ProgressTest, OutcomeUnderAHeadingWithoutNewlineGoesOnItsOwnLine) {
  Write("# Progress\n## T1: Parser");
  ASSERT_TRUE(RecordOutcome(path_, {"T1", "Parser", TaskState::kFailed, 1, ""}).ok());
  EXPECT_EQ(Read(), "# Progress\n## T1: Parser\n- outcome: failed (1 retry)\n");
  std::vector<TaskOutcome> outcomes = ReadOutcomes(Read());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].state, TaskState::kFailed);
}

// Found by fuzz/progress_fuzz: an indented first line in a task's section
// became a continuation of the outcome inserted above it, so the outcome no
// longer read back.
TEST_F(ProgressTest, OutcomeInsertedAboveAnIndentedLineDoesNotAbsorbIt) {
  Write("## T1: Parser\n  an indented remark\n");
  ASSERT_TRUE(RecordOutcome(path_, {"T1", "Parser", TaskState::kDone, 0, ""}).ok());
  EXPECT_EQ(Read(), "## T1: Parser\n- outcome: done\n\n  an indented remark\n");
  std::vector<TaskOutcome> outcomes = ReadOutcomes(Read());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].state, TaskState::kDone);
}

// Found by fuzz/progress_fuzz: with two outcome entries in a section,
// RecordOutcome replaced the first while ReadOutcomes read the last.
TEST_F(ProgressTest, DuplicateEntriesReadBackWhatWasRecorded) {
  Write("## T1: Parser\n- outcome: running\n- summary: old\n- outcome: done\n- summary: older\n");
  ASSERT_TRUE(RecordOutcome(path_, {"T1", "Parser", TaskState::kFailed, 0, "new"}).ok());
  std::vector<TaskOutcome> outcomes = ReadOutcomes(Read());
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].state, TaskState::kFailed);
  EXPECT_EQ(outcomes[0].summary, "new");
}

// progress.md is read, edited and written back by tandem's own process, and
// parts of it go into prompts: a link leading out of the repository must not
// copy its target into progress.md (and from there to the model), nor be
// written through. Every update is refused, naming the file.
TEST_F(ProgressTest, AProgressMdLinkingOutOfItsDirectoryIsNeitherReadNorWritten) {
  const fs::path outside = dir_.string() + "-outside.md";
  const std::string secret = "# Progress\n\n## Notes\n- note: OUTSIDE-CANARY-5309\n";
  std::ofstream(outside) << secret;
  fs::create_symlink(outside, path_);

  Status s = AppendNote(path_, "", NoteKind::kSteer, "hello");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("progress.md leads outside the repository"), std::string::npos)
      << s.message();
  EXPECT_EQ(RecordOutcome(path_, {"T1", "x", TaskState::kDone, 0, "s"}).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(SetNext(path_, {"T1: x"}).code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(fs::is_symlink(path_)) << "the link was replaced by a copy of its target";
  EXPECT_EQ(platform::ReadWholeFile(outside).value_or(""), secret);
  fs::remove(outside);

  // A link to nothing: creating the file would have to replace or follow it.
  s = AppendNote(path_, "", NoteKind::kSteer, "hello");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("progress.md is a link to " + outside.string()), std::string::npos)
      << s.message();
  EXPECT_FALSE(fs::exists(outside));
}

TEST(ProgressExtract, TakesTheTasksSectionAndGeneralNotesOnly) {
  std::string text =
      "# Progress\nintro prose\n\n## Next\n- T2\n\n## Notes\n- steer: only change src/\n\n"
      "## T1: One\n- outcome: done\n- summary: one done\n\n"
      "## T2: Two\n- decision: mine\n\n"
      "## T3: Three\n- note: not mine\n";
  std::string got = ExtractForTask(text, "T2", 10000, {"T1"});
  EXPECT_EQ(got,
            "## Notes\n- steer: only change src/\n"
            "## T1: One\n- outcome: done\n- summary: one done\n"
            "## T2: Two\n- decision: mine\n");
  EXPECT_EQ(ExtractForTask(text, "T3", 10000),
            "## Notes\n- steer: only change src/\n## T3: Three\n- note: not mine\n");
}

TEST(ProgressExtract, StaysWithinItsBudgetKeepingTheNewestAndMostRelevantEntries) {
  std::string text = "# Progress\n\n## Notes\n";
  for (int i = 0; i < 50; ++i) text += "- steer: general note number " + std::to_string(i) + "\n";
  text += "\n## T1: One\n- outcome: failed (3 retries)\n";
  for (int i = 0; i < 50; ++i) {
    text += "- failure: attempt " + std::to_string(i) + ": " + std::string(80, 'e') + "\n";
  }
  for (size_t budget : {0u, 10u, 100u, 300u, 1000u, 4000u}) {
    std::string got = ExtractForTask(text, "T1", budget);
    EXPECT_LE(got.size(), budget) << budget;
  }
  std::string got = ExtractForTask(text, "T1", 1000);
  EXPECT_NE(got.find("- outcome: failed (3 retries)"), std::string::npos) << got;
  EXPECT_NE(got.find("attempt 49:"), std::string::npos) << got;  // newest kept
  EXPECT_EQ(got.find("attempt 0:"), std::string::npos) << got;   // oldest dropped
  EXPECT_NE(got.find("entries omitted ...]"), std::string::npos) << got;

  // With room left after the task, the newest general notes come in.
  got = ExtractForTask(text, "T1", 8000);
  EXPECT_LE(got.size(), 8000u);
  EXPECT_NE(got.find("general note number 49"), std::string::npos) << got;
}

TEST(ProgressExtract, CutsAnOversizedNewestEntryRatherThanDroppingIt) {
  std::string text = "## T1: One\n- failure: " + std::string(5000, 'z') + "\n";
  std::string got = ExtractForTask(text, "T1", 500);
  EXPECT_LE(got.size(), 500u);
  EXPECT_NE(got.find("- failure: zzz"), std::string::npos) << got;
  EXPECT_NE(got.find("[...]"), std::string::npos) << got;
}

}  // namespace
}  // namespace tandem::memory
