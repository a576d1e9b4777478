// Honest figures end to end: what `tandem stats` and a run's totals report
// after real runs against the scripted model server streaming at a known
// rate. A model is named by its provider and the model id sent to it, a
// reply too short to be a rate is left out of the speed, and an undo is not
// a run. (The re-plan's share of a run's totals: orchestrator_tiers_test.)
#include <gtest/gtest.h>

#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

constexpr int kTokensPerSecond = 1000;

class FiguresTest : public E2eTest {};

// `words` one-word tokens of prose.
std::string Prose(int words) {
  std::string text;
  for (int i = 0; i < words; ++i) text += i == 0 ? "word" : " word";
  return text;
}

TEST_F(FiguresTest, StatsNamesTheModelOnceMeasuresOnlyReplyLongEnoughAndSkipsTheUndo) {
  MakePassingRepo();
  // Reply 1 streams 1,000 tokens of text and a tool call at 1,000 tok/s (a
  // second: a late read on a loaded machine moves the figure little);
  // reply 2 is a one-line finish, a burst of a few tokens.
  json script = Script({Turn(0, {Call("write_file", {{"path", "a.txt"}, {"content", "a\n"}})},
                             Prose(1000)),
                        Finish(1)});
  script["tokens_per_second"] = kTokensPerSecond;
  script["ttft_ms"] = 20;
  StartServer(script);
  // The model's key is what discovery would name it: "<provider>/<id>".
  WriteUserConfig("[providers.local]\nwire = \"openai\"\nbase_url = \"" + server().base_url() +
                  "\"\n[models.\"local/scripted-model\"]\nprovider = \"local\"\n"
                  "id = \"scripted-model\"\n[roles]\nexecutor = \"local/scripted-model\"\n"
                  "planner = \"local/scripted-model\"\nreviewer = \"local/scripted-model\"\n");

  TandemRun run = Do("write a.txt");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto calls = run.Events("model_call_finished");
  ASSERT_EQ(calls.size(), 2u) << run.Describe();
  EXPECT_GT(calls[0].value("tokens_per_s", 0.0), 0.0) << calls[0].dump();
  EXPECT_EQ(calls[1].value("tokens_per_s", -1.0), 0.0) << calls[1].dump();  // no rate
  TandemRun undo = RunTandem({"undo"});
  ASSERT_EQ(undo.exit_code, 0) << undo.Describe();

  TandemRun stats = RunTandem({"stats", "--json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.Describe();
  json j = json::parse(stats.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << stats.out;
  // The undo is not a run: one run, and its wall time only.
  EXPECT_EQ(j["runs"]["total_all_kinds"], 1) << stats.out;
  EXPECT_EQ(j["runs"]["total"], 1) << stats.out;
  EXPECT_EQ(j["time"]["runs"], 1) << stats.out;
  ASSERT_EQ(j["models"].size(), 1u) << stats.out;
  const json& model = j["models"][0];
  EXPECT_EQ(model["provider"], "local");
  EXPECT_EQ(model["model"], "scripted-model");
  EXPECT_EQ(model["calls"], 2);
  // Only the long reply has a speed (a burst counted as a rate would read
  // 100 times the server's), and it is the one rule (base/token_rate.h)
  // applied to that reply's ledger row, exactly.
  EXPECT_EQ(model["tokens_per_s"]["samples"], 1) << stats.out;
  auto ledger = OpenLedger();
  ASSERT_NE(ledger, nullptr);
  auto rows = ledger->Query(
      "SELECT tokens_out, ttft_ms, duration_ms, tokens_per_s FROM model_calls ORDER BY id");
  ASSERT_TRUE(rows.has_value()) << rows.error().ToString();
  ASSERT_EQ(rows->rows.size(), 2u);
  const auto& lng = rows->rows[0];
  int64_t tokens_out = std::get<int64_t>(lng[0]);
  int64_t ttft_ms = std::get<int64_t>(lng[1]);
  int64_t duration_ms = std::get<int64_t>(lng[2]);
  ASSERT_GT(duration_ms - ttft_ms, 0);
  double expected = static_cast<double>(tokens_out - 1) * 1000.0 /
                    static_cast<double>(duration_ms - ttft_ms);
  EXPECT_DOUBLE_EQ(model["tokens_per_s"]["median"].get<double>(), expected) << stats.out;
  EXPECT_DOUBLE_EQ(model["tokens_per_s_overall"].get<double>(), expected) << stats.out;
  // The event and the row carry the client's figure from the same timings.
  EXPECT_DOUBLE_EQ(std::get<double>(lng[3]), calls[0].value("tokens_per_s", 0.0));
  EXPECT_EQ(std::get<double>(rows->rows[1][3]), 0.0);  // the burst: no rate

  TandemRun text = RunTandem({"stats"});
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_NE(text.out.find("local/scripted-model"), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("local/local/"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("1 runs (1 do/run/demo"), std::string::npos) << text.out;
}

}  // namespace
}  // namespace tandem::e2e
