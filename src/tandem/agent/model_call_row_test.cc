#include "tandem/agent/model_call_row.h"

#include <gtest/gtest.h>

namespace tandem::agent {
namespace {

protocol::ModelResponse Reply() {
  protocol::ModelResponse reply;
  reply.usage.input_tokens = 100;
  reply.usage.output_tokens = 20;
  reply.timings.time_to_first_token_ms = 40;
  reply.timings.total_ms = 90;
  return reply;
}

TEST(ModelCallRow, AFastModeModelIsItsOwnTier) {
  ModelCallWho who{"r", std::nullopt, "executor", "anthropic", "claude-opus-5-5", true};
  ledger::ModelCallRecord row = ModelCallRow(who, Reply(), 0.5);
  EXPECT_EQ(row.role, "executor");
  EXPECT_EQ(row.tier, "executor+fast_mode");
  who.fast_mode = false;
  EXPECT_EQ(ModelCallRow(who, Reply(), 0.5).tier, "executor");
  who.fast_mode = true;
  EXPECT_EQ(ModelCallRow(who, protocol::ModelError{}).tier, "executor+fast_mode");
}

TEST(ModelCallRow, APoolsReplyIsRecordedAsTheMemberThatServedIt) {
  ModelCallWho who{"r", std::nullopt, "executor", "first", "first-model", false};
  protocol::ModelResponse reply = Reply();
  reply.served_by = protocol::ServedBy{.model_name = "fast-one",
                                       .provider = "second",
                                       .model_id = "second-model",
                                       .fast_mode = true};
  ledger::ModelCallRecord row = ModelCallRow(who, reply, 0.25);
  EXPECT_EQ(row.provider, "second");
  EXPECT_EQ(row.model, "second-model");
  EXPECT_EQ(row.tier, "executor+fast_mode");
  EXPECT_EQ(row.cost_usd, 0.25);
  EXPECT_EQ(row.ttft_ms, 40);
}

}  // namespace
}  // namespace tandem::agent
