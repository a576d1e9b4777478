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
  std::string prompt = ApprovalPrompt(request);
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

}  // namespace
}  // namespace tandem::cli
