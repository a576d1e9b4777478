#include "tests/model_server/stream_writer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/model_server/openai_wire.h"

namespace tandem::model_server {
namespace {

size_t CountEvents(const std::string& s) {
  size_t n = 0;
  for (size_t pos = s.find("data: "); pos != std::string::npos; pos = s.find("data: ", pos + 1))
    ++n;
  return n;
}

// A plan of `tokens` one-word text steps whose schedule started long ago,
// so every step is already due when the writer gets to it.
StreamPlan LatePlan(int tokens, std::vector<Fault> faults = {}) {
  StreamPlan plan;
  plan.encoder = OpenAiWire().NewEncoder(ResponseMeta{"chatcmpl-1", "m", 1, false});
  for (int i = 0; i < tokens; ++i) plan.steps.push_back(StreamStep{StreamStep::kText, -1, " w"});
  plan.faults = std::move(faults);
  plan.start = StopSignal::Clock::now() - std::chrono::hours(1);
  plan.tokens_per_second = 10;
  return plan;
}

TEST(StreamWriter, AWriterBehindScheduleSendsAllDueTokensInOneWriteOneEventEach) {
  StreamPlan plan = LatePlan(100);
  StopSignal stop;
  std::vector<std::string> writes;
  auto end = WriteStream(plan, stop, [&](const std::string& data) {
    writes.push_back(data);
    return true;
  });
  EXPECT_EQ(end, StreamEnd::kComplete);
  ASSERT_EQ(writes.size(), 3u);  // preamble, all 100 tokens, finish
  EXPECT_EQ(CountEvents(writes[1]), 100u);
  EXPECT_EQ(plan.usage.output_tokens, 100);
}

TEST(StreamWriter, ABatchOfDueTokensEndsWhereAFaultFires) {
  Fault truncate;
  truncate.kind = FaultKind::kTruncate;
  truncate.after_tokens = 30;
  StreamPlan plan = LatePlan(100, {truncate});
  StopSignal stop;
  std::vector<std::string> writes;
  auto end = WriteStream(plan, stop, [&](const std::string& data) {
    writes.push_back(data);
    return true;
  });
  EXPECT_EQ(end, StreamEnd::kComplete);
  ASSERT_EQ(writes.size(), 2u);  // preamble, the 30 tokens before the cut; no finish
  EXPECT_EQ(CountEvents(writes[1]), 30u);
  EXPECT_EQ(plan.usage.output_tokens, 30);
}

}  // namespace
}  // namespace tandem::model_server
