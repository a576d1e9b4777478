// Unit tests of the server's pure parts: tokenizer, script and fault parsing,
// turn selection and step building.
#include "tests/model_server/script.h"

#include <gtest/gtest.h>

#include "tests/model_server/faults.h"
#include "tests/model_server/reply.h"
#include "tests/model_server/tokenizer.h"

namespace tandem::model_server {
namespace {

std::string Join(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

TEST(Tokenizer, SplitsWordsWithTheirLeadingSpaceAndPunctuationRuns) {
  EXPECT_EQ(SplitTokens("Hello there, world!"),
            (std::vector<std::string>{"Hello", " there", ",", " world", "!"}));
}

TEST(Tokenizer, ConcatenationGivesBackTheInputAndTokensStayShort) {
  const std::string text =
      "def f(x):\n    return x  ** 2  # squared\n\nSupercalifragilistic \xC3\xA9t\xC3\xA9 "
      "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E";
  std::vector<std::string> tokens = SplitTokens(text);
  EXPECT_EQ(Join(tokens), text);
  for (const std::string& token : tokens) {
    EXPECT_LE(token.size(), 11u) << token;  // 8 + at most a 3-byte UTF-8 tail
    // Never starts inside a UTF-8 sequence.
    EXPECT_NE(static_cast<unsigned char>(token[0]) & 0xC0, 0x80) << token;
  }
}

TEST(Tokenizer, EmptyTextHasNoTokens) { EXPECT_TRUE(SplitTokens("").empty()); }

TEST(ScriptParse, ReadsTurnsConditionsToolCallsAndFaults) {
  auto script = ParseScript(R"({
    "tokens_per_second": 50, "models": ["fast-1"],
    "turns": [{"when": {"assistant_turns": 1, "last_message_contains": "FAILED"},
               "text": "fix", "tool_calls": [{"name": "edit", "arguments": {"p": 1}}],
               "faults": [{"kind": "http_429", "times": 2, "retry_after_ms": 200}]}]})");
  ASSERT_TRUE(script) << script.error().ToString();
  EXPECT_EQ(script->tokens_per_second, 50);
  EXPECT_EQ(script->models, std::vector<std::string>{"fast-1"});
  ASSERT_EQ(script->turns.size(), 1u);
  EXPECT_EQ(script->turns[0].when.assistant_turns, 1);
  EXPECT_EQ(script->turns[0].tool_calls[0].arguments, R"({"p":1})");
  EXPECT_EQ(script->turns[0].faults[0].kind, FaultKind::kHttp429);
  EXPECT_EQ(script->turns[0].faults[0].times, 2);
  EXPECT_EQ(script->turns[0].faults[0].retry_after_ms, 200);
}

TEST(ScriptParse, DefaultsModelListToScriptedModel) {
  auto script = ParseScript(R"({"turns": []})");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->models, std::vector<std::string>{"scripted-model"});
}

TEST(ScriptParse, ErrorsNameTheOffendingField) {
  auto bad_kind = ParseScript(R"({"turns": [{}, {"faults": [{"kind": "explode"}]}]})");
  ASSERT_FALSE(bad_kind);
  EXPECT_NE(bad_kind.error().message().find("turns[1].faults[0].kind"), std::string::npos);
  EXPECT_NE(bad_kind.error().message().find("explode"), std::string::npos);

  auto typo = ParseScript(R"({"turns": [{"when": {"assistant_turn": 1}}]})");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message().find("assistant_turn"), std::string::npos);

  auto not_json = ParseScript("{\"turns\": [");
  ASSERT_FALSE(not_json);
  EXPECT_NE(not_json.error().message().find("not valid JSON"), std::string::npos);

  EXPECT_FALSE(ParseScript(R"({"models": []})"));  // no turns
}

TEST(FaultSpec, ParsesKindAndSettings) {
  auto fault = ParseFaultSpec("http_429:times=2,retry_after_ms=100");
  ASSERT_TRUE(fault) << fault.error().ToString();
  EXPECT_EQ(fault->kind, FaultKind::kHttp429);
  EXPECT_EQ(fault->times, 2);
  EXPECT_EQ(fault->retry_after_ms, 100);

  auto every = ParseFaultSpec("reset:after_tokens=5");
  ASSERT_TRUE(every);
  EXPECT_EQ(every->after_tokens, 5);
  EXPECT_LE(every->times, 0);  // command-line faults hit every request by default

  EXPECT_FALSE(ParseFaultSpec("nope"));
  EXPECT_FALSE(ParseFaultSpec("reset:after_tokens=x"));
  EXPECT_FALSE(ParseFaultSpec("reset:colour=5"));
}

TEST(FaultSlot, TakeSucceedsExactlyTimesTimes) {
  Fault fault;
  fault.times = 2;
  FaultSlot slot(fault);
  EXPECT_TRUE(slot.Take());
  EXPECT_TRUE(slot.Take());
  EXPECT_FALSE(slot.Take());
}

TEST(SelectTurn, TemperatureMatchesTheRequestsOrItsAbsence) {
  auto script = ParseScript(R"({"turns": [
      {"when": {"temperature": 0.4}, "text": "cool"},
      {"when": {"temperature": "default"}, "text": "plain"}]})");
  ASSERT_TRUE(script) << script.error().ToString();
  Conversation c;
  EXPECT_EQ(SelectTurn(*script, c), 1u) << "no temperature sent: the default";
  c.temperature = 0.4;
  EXPECT_EQ(SelectTurn(*script, c), 0u);
  c.temperature = 0.8;
  EXPECT_EQ(SelectTurn(*script, c), std::nullopt);
  auto bad = ParseScript(R"({"turns": [{"when": {"temperature": "hot"}}]})");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("turns[0].when.temperature"), std::string::npos)
      << bad.error().message();
}

TEST(SelectTurn, PicksTheFirstTurnWhoseConditionsAllHold) {
  auto script = ParseScript(R"({"turns": [
      {"when": {"assistant_turns": 0, "model": "a"}, "text": "0"},
      {"when": {"last_message_contains": "FAILED"}, "text": "1"},
      {"when": {"system_contains": "planner"}, "text": "2"}]})");
  ASSERT_TRUE(script);
  Conversation c;
  c.model = "a";
  c.message_texts = {"hi"};
  EXPECT_EQ(SelectTurn(*script, c), 0u);
  c.model = "b";
  EXPECT_EQ(SelectTurn(*script, c), std::nullopt);
  c.message_texts = {"x", "tests FAILED"};
  EXPECT_EQ(SelectTurn(*script, c), 1u);
  c.message_texts = {"tests FAILED", "ok"};
  c.system = "you are the planner";
  EXPECT_EQ(SelectTurn(*script, c), 2u);
}

TEST(BuildSteps, InterleavesParallelToolCallsRoundRobin) {
  Reply reply;
  reply.tool_calls = {{"a", "f", "{\"x\":1}"}, {"b", "g", "{}"}};
  std::vector<StreamStep> steps = BuildSteps(reply, /*interleave=*/true);
  ASSERT_GE(steps.size(), 4u);
  EXPECT_EQ(steps[0].kind, StreamStep::kToolStart);
  EXPECT_EQ(steps[0].tool_index, 0);
  EXPECT_EQ(steps[1].kind, StreamStep::kToolStart);
  EXPECT_EQ(steps[1].tool_index, 1);
  EXPECT_EQ(steps[2].tool_index, 0);
  EXPECT_EQ(steps[3].tool_index, 1);
}

TEST(CorruptJson, MakesArgumentsUnparseable) {
  EXPECT_TRUE(nlohmann::json::parse(CorruptJson(R"({"a":1})"), nullptr, false).is_discarded());
  EXPECT_TRUE(nlohmann::json::parse(CorruptJson("{}"), nullptr, false).is_discarded());
}

}  // namespace
}  // namespace tandem::model_server
