#include "tandem/cli/live_input.h"

#include <gtest/gtest.h>

namespace tandem::cli {
namespace {

TEST(ShowControlChars, EscapesWhatWouldActOnTheTerminal) {
  // A carriage return could hide "rm -rf ~" behind "echo safe" on screen;
  // ESC sequences could clear or recolor it.
  EXPECT_EQ(ShowControlChars("rm -rf ~\recho safe"), "rm -rf ~\\x0decho safe");
  EXPECT_EQ(ShowControlChars("a\x1b[2Jb\x7f"), "a\\x1b[2Jb\\x7f");
  EXPECT_EQ(ShowControlChars("x\xc2\x9by"), "x\\u009by");  // a C1 CSI
  EXPECT_EQ(ShowControlChars("tab\there"), "tab\\x09here");
}

TEST(ShowControlChars, KeepsPrintableTextAndMarksContinuationLines) {
  EXPECT_EQ(ShowControlChars("git push origin main"), "git push origin main");
  EXPECT_EQ(ShowControlChars("héllo ✓"), "héllo ✓");
  EXPECT_EQ(ShowControlChars("echo a\necho b"), "echo a\n  | echo b");
}

TEST(ShowControlChars, ApprovalPromptShowsTheEscapedCommand) {
  orchestrator::ApprovalRequest request;
  request.task_id = "T1";
  request.command = "git push\rls";
  request.what = "git push\rls";
  request.why = "pushes\x1b[8m";
  std::string prompt = ApprovalPrompt({7, request});
  EXPECT_NE(prompt.find("approval #7"), std::string::npos) << prompt;
  EXPECT_EQ(prompt.find('\r'), std::string::npos);
  EXPECT_EQ(prompt.find('\x1b'), std::string::npos);
  EXPECT_NE(prompt.find("git push\\x0dls"), std::string::npos) << prompt;
}

TEST(ParseApprovalLine, OnlyYesApprovesAndTheRestIsTheReason) {
  auto yes = ParseApprovalLine("y: release day");
  EXPECT_TRUE(yes.approved);
  EXPECT_EQ(yes.reason, "release day");
  EXPECT_FALSE(ParseApprovalLine("yeah sure").approved);
  EXPECT_FALSE(ParseApprovalLine("").approved);
}


using protocol::OpKind;

std::vector<orchestrator::OpenApproval> OpenOnes(std::vector<int64_t> ids) {
  std::vector<orchestrator::OpenApproval> out;
  for (int64_t id : ids) out.push_back({id, {}});
  return out;
}

TEST(ParseLiveLine, WithNoPromptOpenALineIsASteerNoteForTheRunningTasks) {
  auto op = ParseLiveLine("  keep the old API  ", {});
  ASSERT_TRUE(op.has_value() && op->has_value());
  EXPECT_EQ((*op)->kind, OpKind::kSteer);
  EXPECT_EQ((*op)->text, "keep the old API");
  EXPECT_EQ((*op)->task_id, "");
  EXPECT_EQ((*op)->source, "terminal");
}

TEST(ParseLiveLine, ABlankLineIsNoOp) {
  auto op = ParseLiveLine("   ", OpenOnes({1}));
  ASSERT_TRUE(op.has_value());
  EXPECT_FALSE(op->has_value());
}

TEST(ParseLiveLine, WithOnePromptOpenYesOrNoAnswersIt) {
  auto yes = ParseLiveLine("y ship it", OpenOnes({4}));
  ASSERT_TRUE(yes.has_value() && yes->has_value());
  EXPECT_EQ((*yes)->kind, OpKind::kApprove);
  EXPECT_EQ((*yes)->approval_id, 4);
  EXPECT_EQ((*yes)->text, "ship it");
  auto other = ParseLiveLine("sure", OpenOnes({4}));  // only y/yes approves
  ASSERT_TRUE(other.has_value() && other->has_value());
  EXPECT_EQ((*other)->kind, OpKind::kDeny);
  EXPECT_EQ((*other)->approval_id, 4);
}

TEST(ParseLiveLine, WithSeveralPromptsOpenTheAnswerMustNameOne) {
  auto bare = ParseLiveLine("y", OpenOnes({2, 3}));
  ASSERT_FALSE(bare.has_value());
  EXPECT_NE(bare.error().message().find("#2, #3"), std::string::npos) << bare.error().message();
  auto named = ParseLiveLine("n 3 wrong branch", OpenOnes({2, 3}));
  ASSERT_TRUE(named.has_value() && named->has_value());
  EXPECT_EQ((*named)->kind, OpKind::kDeny);
  EXPECT_EQ((*named)->approval_id, 3);
  EXPECT_EQ((*named)->text, "wrong branch");
  auto hashed = ParseLiveLine("yes #2", OpenOnes({2, 3}));
  ASSERT_TRUE(hashed.has_value() && hashed->has_value());
  EXPECT_EQ((*hashed)->kind, OpKind::kApprove);
  EXPECT_EQ((*hashed)->approval_id, 2);
}

TEST(ParseLiveLine, SlashCommandsAreOpsWithIds) {
  auto cancel = ParseLiveLine("/cancel T3", {});
  ASSERT_TRUE(cancel.has_value() && cancel->has_value());
  EXPECT_EQ((*cancel)->kind, OpKind::kCancel);
  EXPECT_EQ((*cancel)->task_id, "T3");
  auto steer = ParseLiveLine("/steer T2 only touch src/", OpenOnes({1}));
  ASSERT_TRUE(steer.has_value() && steer->has_value());
  EXPECT_EQ((*steer)->kind, OpKind::kSteer);
  EXPECT_EQ((*steer)->task_id, "T2");
  EXPECT_EQ((*steer)->text, "only touch src/");
  auto approve = ParseLiveLine("/approve 9 fine", {});
  ASSERT_TRUE(approve.has_value() && approve->has_value());
  EXPECT_EQ((*approve)->kind, OpKind::kApprove);
  EXPECT_EQ((*approve)->approval_id, 9);
  EXPECT_EQ((*approve)->text, "fine");
  auto stop = ParseLiveLine("/stop", {});
  ASSERT_TRUE(stop.has_value() && stop->has_value());
  EXPECT_EQ((*stop)->kind, OpKind::kInterrupt);
}

TEST(ParseLiveLine, AMalformedCommandSaysWhatToType) {
  for (const char* line : {"/cancel", "/approve x", "/steer T1", "/frobnicate"}) {
    auto op = ParseLiveLine(line, {});
    ASSERT_FALSE(op.has_value()) << line;
    EXPECT_EQ(op.error().code(), StatusCode::kInvalidArgument) << line;
  }
}

}  // namespace
}  // namespace tandem::cli
