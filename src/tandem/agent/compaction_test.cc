#include "tandem/agent/compaction.h"

#include <gtest/gtest.h>

namespace tandem::agent {
namespace {

using protocol::Message;
using protocol::Role;

Message Assistant(const std::string& id, const std::string& name) {
  Message m{Role::kAssistant, "", {}, {}, false};
  m.tool_calls.push_back({id, name, "{\"path\":\"a.txt\"}", {}, ""});
  return m;
}

std::vector<Message> Conversation(int steps, size_t result_bytes) {
  std::vector<Message> messages{Message::User("the task")};
  for (int i = 0; i < steps; ++i) {
    std::string id = "c" + std::to_string(i);
    messages.push_back(Assistant(id, "read_file"));
    messages.push_back(Message::ToolResult(id, std::string(result_bytes, 'x'), false));
  }
  return messages;
}

TEST(CompactHistory, UnderBudgetNothingChanges) {
  auto messages = Conversation(3, 100);
  auto copy = messages;
  CompactionStats stats = CompactHistory(messages, 100000);
  EXPECT_EQ(stats.elided_results, 0);
  ASSERT_EQ(messages.size(), copy.size());
  for (size_t i = 0; i < messages.size(); ++i) EXPECT_EQ(messages[i].text, copy[i].text);
}

TEST(CompactHistory, ElidesOldToolOutputFirstAndKeepsTheFirstMessage) {
  auto messages = Conversation(10, 4000);  // ~1000 tokens per result
  CompactionStats stats = CompactHistory(messages, 7000, 4);
  EXPECT_GT(stats.elided_results, 0);
  EXPECT_EQ(stats.folded_messages, 0);
  EXPECT_LE(stats.tokens_after, 7000);
  EXPECT_EQ(messages[0].text, "the task");
  EXPECT_NE(messages[2].text.find("output elided"), std::string::npos);
  // The recent results are intact.
  EXPECT_EQ(messages.back().text.size(), 4000u);
}

TEST(CompactHistory, FoldsOldTurnsWhenElidingIsNotEnoughWithoutOrphaningToolResults) {
  auto messages = Conversation(60, 100);  // many small turns: eliding does not help
  CompactionStats stats = CompactHistory(messages, 1200, 6);
  EXPECT_GT(stats.folded_messages, 0);
  EXPECT_LE(stats.tokens_after, 1200);
  EXPECT_EQ(messages[0].text, "the task");
  EXPECT_EQ(messages[1].role, Role::kUser);
  EXPECT_NE(messages[1].text.find("summarized by tandem"), std::string::npos);
  EXPECT_EQ(messages[2].role, Role::kAssistant);
  // Every tool result follows an assistant turn that made its call.
  for (size_t i = 1; i < messages.size(); ++i) {
    if (messages[i].role != Role::kTool) continue;
    bool found = false;
    for (size_t j = i; j-- > 0;) {
      if (messages[j].role != Role::kAssistant) continue;
      for (const auto& c : messages[j].tool_calls) found |= c.id == messages[i].tool_call_id;
      break;
    }
    EXPECT_TRUE(found) << "orphaned tool result at " << i;
  }
}

}  // namespace
}  // namespace tandem::agent
