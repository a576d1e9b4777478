// The --json object and the text view carry the same figures as the report.
#include <gtest/gtest.h>

#include "tandem/metrics/compute.h"
#include "tandem/metrics/known_ledger.h"
#include "tandem/metrics/read_facts.h"
#include "tandem/metrics/report_json.h"
#include "tandem/metrics/report_text.h"

namespace tandem::metrics {
namespace {

using nlohmann::json;
using testing::kNow;
using testing::KnownLedger;
using testing::TempDir;

Report KnownWeek(KnownLedger& known) {
  Window week = *ParseSince("7d", kNow);
  auto facts = ReadLedgerFacts(known.ledger(), week);
  EXPECT_TRUE(facts);
  return ComputeReport(facts.value_or(LedgerFacts{}), week);
}

TEST(ReportJson, ParsesBackWithTheSameNumbers) {
  TempDir dir;
  KnownLedger known(dir.path() / "ledger.db");
  Report r = KnownWeek(known);
  // Through text, as a script would see it.
  json j = json::parse(ReportToJson(r, "/repo").dump());
  EXPECT_EQ(j["schema"], "tandem.stats/1");
  EXPECT_EQ(j["repo"], "/repo");
  EXPECT_EQ(j["empty"], false);
  EXPECT_FALSE(j.contains("message"));
  EXPECT_EQ(j["window"]["since_ms"], kNow - 7 * testing::kDay);
  EXPECT_TRUE(j["window"]["until_ms"].is_null());
  EXPECT_EQ(j["runs"]["total"], 4);
  EXPECT_EQ(j["runs"]["succeeded"], 2);
  EXPECT_EQ(j["runs"]["unassisted"], 1);
  EXPECT_DOUBLE_EQ(j["runs"]["success_rate"].get<double>(), 2.0 / 3.0);
  EXPECT_EQ(j["tasks"]["retries"], 3);
  EXPECT_EQ(j["tasks"]["rollbacks"], 4);
  EXPECT_EQ(j["tasks"]["escalations"], 1);
  EXPECT_DOUBLE_EQ(j["tasks"]["retries_per_task"].get<double>(), 3.0 / 7.0);
  EXPECT_EQ(j["human"]["approval_wait_ms"], 120'000);
  EXPECT_DOUBLE_EQ(j["human"]["minutes_per_run"].get<double>(), 0.5);
  EXPECT_EQ(j["human"]["steer_notes"], 2);
  EXPECT_DOUBLE_EQ(j["cost"]["spend_usd"].get<double>(), r.cost.spend_usd);
  EXPECT_DOUBLE_EQ(j["cost"]["per_success_usd"].get<double>(), 0.1255);
  EXPECT_DOUBLE_EQ(j["cost"]["per_mtok_usd"].get<double>(), *r.cost.per_mtok_usd);
  EXPECT_EQ(j["time"]["tandem_ms"], 104'650);
  EXPECT_DOUBLE_EQ(j["time"]["shares"]["person"].get<double>(), 0.48);
  ASSERT_EQ(j["models"].size(), 2u);
  EXPECT_EQ(j["models"][1]["provider"], "p");
  EXPECT_EQ(j["models"][1]["model"], "fast");
  EXPECT_DOUBLE_EQ(j["models"][1]["ttft_ms"]["p90"].get<double>(), 300);
  EXPECT_DOUBLE_EQ(j["models"][1]["tokens_per_s"]["median"].get<double>(), 247.5);
  // No success: null, never NaN or infinity (which JSON cannot carry).
  EXPECT_TRUE(j["models"][0]["per_success_usd"].is_null());
  ASSERT_EQ(j["roles"].size(), 2u);
  EXPECT_EQ(j["roles"][0]["role"], "executor");
  ASSERT_EQ(j["tiers"].size(), 2u);
  EXPECT_EQ(j["tiers"][1]["tier"], "planner");
  EXPECT_EQ(j["tiers"][1]["escalated_to"], 1);
  EXPECT_DOUBLE_EQ(j["tiers"][1]["per_done_task_usd"].get<double>(), 0.085);
}

TEST(ReportJson, EmptyReportSaysNoRunsYetWithNullRates) {
  Report r = ComputeReport(LedgerFacts{}, AllTime());
  std::string text = ReportToJson(r, "/repo").dump();
  EXPECT_EQ(text.find("NaN"), std::string::npos);
  json j = json::parse(text);
  EXPECT_EQ(j["empty"], true);
  EXPECT_EQ(j["message"], "no runs yet");
  EXPECT_EQ(j["runs"]["total"], 0);
  EXPECT_TRUE(j["runs"]["success_rate"].is_null());
  EXPECT_TRUE(j["cost"]["per_success_usd"].is_null());
  EXPECT_TRUE(j["time"]["shares"]["model"].is_null());
  EXPECT_TRUE(j["models"].is_array());
  EXPECT_TRUE(j["models"].empty());
}

TEST(ReportText, ShowsTheHeadlineFigures) {
  TempDir dir;
  KnownLedger known(dir.path() / "ledger.db");
  std::string text = RenderReportText(KnownWeek(known), "/repo");
  EXPECT_NE(text.find("runs: 2 of 3 finished succeeded (66.7%), 1 without a person (33.3%)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("3 retries over 7 attempted tasks (0.43 per task) · 4 rollbacks · "
                      "1 escalations"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("2.0 min waiting for 2 approval decisions (0.50 min per run)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("$0.2510 spent · $0.1255 per success (2)"), std::string::npos) << text;
  EXPECT_NE(text.find("person 48.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("p/fast"), std::string::npos) << text;
  EXPECT_EQ(text.find("nan"), std::string::npos) << text;
}

TEST(ReportText, EmptyWindowSaysNoRunsYet) {
  std::string text = RenderReportText(ComputeReport(LedgerFacts{}, AllTime()), "/repo");
  EXPECT_NE(text.find("no runs yet"), std::string::npos) << text;
  EXPECT_EQ(text.find("nan"), std::string::npos) << text;
}

}  // namespace
}  // namespace tandem::metrics
