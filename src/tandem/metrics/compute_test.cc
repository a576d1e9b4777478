// Stats from the known ledger (known_ledger.h) match hand-computed figures.
// Counts are compared exactly; money and rates with EXPECT_DOUBLE_EQ (the
// same arithmetic in a different summation order may differ in the last bit).
#include "tandem/metrics/compute.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tandem/base/token_rate.h"
#include "tandem/metrics/known_ledger.h"
#include "tandem/metrics/read_facts.h"
#include "tandem/metrics/stats.h"

namespace tandem::metrics {
namespace {

using testing::kDay;
using testing::kNow;
using testing::KnownLedger;
using testing::kT0;
using testing::TempDir;

class KnownLedgerStats : public ::testing::Test {
 protected:
  Report Compute(const Window& window) {
    auto facts = ReadLedgerFacts(known_.ledger(), window);
    EXPECT_TRUE(facts) << facts.error().ToString();
    return ComputeReport(facts.value_or(LedgerFacts{}), window);
  }
  Report Week() { return Compute(*ParseSince("7d", kNow)); }

  TempDir dir_;
  KnownLedger known_{dir_.path() / "ledger.db"};
};

const CallGroup* FindGroup(const std::vector<CallGroup>& groups, const std::string& name) {
  for (const CallGroup& g : groups) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

const TierGroup* FindTier(const Report& r, const std::string& tier) {
  for (const TierGroup& g : r.tiers) {
    if (g.tier == tier) return &g;
  }
  return nullptr;
}

TEST_F(KnownLedgerStats, RunCompletionCountsOnlyOutcomeRunsAndPeopleMakeARunAssisted) {
  Report r = Week();
  EXPECT_FALSE(r.empty);
  // In the window: A, B, C, D, F (E is ten days old; U is an undo, not a run).
  EXPECT_EQ(r.runs.total_all_kinds, 5);
  // Outcome kinds (do/run/demo): A, B, C, F; D is a plan.
  EXPECT_EQ(r.runs.total, 4);
  EXPECT_EQ(r.runs.running, 1);    // F
  EXPECT_EQ(r.runs.finished, 3);   // A, B, C
  EXPECT_EQ(r.runs.succeeded, 2);  // A, C
  EXPECT_EQ(r.runs.failed, 1);     // B
  EXPECT_EQ(r.runs.interrupted, 0);
  EXPECT_EQ(r.runs.cancelled, 0);
  // B: person approvals and a steer note; C: a steer note (never delivered).
  EXPECT_EQ(r.runs.assisted, 2);
  EXPECT_EQ(r.runs.unassisted, 1);  // A: succeeded with nobody's help
  EXPECT_DOUBLE_EQ(*r.runs.success_rate, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(*r.runs.unassisted_rate, 1.0 / 3.0);
}

TEST_F(KnownLedgerStats, TaskUnitsRetriesRollbacksAndEscalations) {
  Report r = Week();
  // Units: A (implicit), t1..t5 of B, C (implicit), F (implicit) = 8.
  EXPECT_EQ(r.tasks.total, 8);
  EXPECT_EQ(r.tasks.done, 5);      // A, t1, t3, t5, C
  EXPECT_EQ(r.tasks.failed, 1);    // t2
  EXPECT_EQ(r.tasks.skipped, 1);   // t4 (denied)
  EXPECT_EQ(r.tasks.finished, 7);  // 5 + 1 + 1; F is still running
  // Done without a person: A and t5 (t5's approval came from policy). t1 got
  // a steer note, t3 a person's approval (named through its step), C's run a
  // steer note.
  EXPECT_EQ(r.tasks.unassisted, 2);
  EXPECT_DOUBLE_EQ(*r.tasks.success_rate, 5.0 / 7.0);
  EXPECT_DOUBLE_EQ(*r.tasks.unassisted_rate, 2.0 / 7.0);
  // With steps: every unit but t4.
  EXPECT_EQ(r.tasks.attempted, 7);
  // Retries = rises of steps.attempt from step to step + (tasks.attempts - 1):
  // A: attempts 1, 1, 2 -> one rise = 1 (an implicit unit has no tasks row).
  // t2: 1, 2 | 1 -> one rise, plus a second try of the task (attempts 2) = 2.
  // t1, t3, t5: one step, attempts 1 -> 0. C, F: 0. Total 3.
  EXPECT_EQ(r.tasks.retries, 3);
  EXPECT_DOUBLE_EQ(*r.tasks.retries_per_task, 3.0 / 7.0);
  // Rollbacks: A 1 + t2 3 = 4.
  EXPECT_EQ(r.tasks.rollbacks, 4);
  EXPECT_DOUBLE_EQ(*r.tasks.rollbacks_per_task, 4.0 / 7.0);
  EXPECT_EQ(r.tasks.escalations, 1);
}

TEST_F(KnownLedgerStats, HumanMinutesAreApprovalWaitsByAPersonAndNotesAreCounted) {
  Report r = Week();
  EXPECT_EQ(r.human.person_decisions, 2);  // t3 approved, t4 denied
  EXPECT_EQ(r.human.person_denials, 1);
  EXPECT_EQ(r.human.policy_decisions, 1);  // t5
  // 90,000 + 30,000 ms; the policy's 5 ms is not a person's time.
  EXPECT_EQ(r.human.approval_wait_ms, 120'000);
  EXPECT_DOUBLE_EQ(r.human.minutes, 2.0);               // 120,000 / 60,000
  EXPECT_DOUBLE_EQ(*r.human.minutes_per_run, 0.5);      // 2 min / 4 outcome runs
  EXPECT_EQ(r.human.steer_notes, 2);                    // B's and C's
  EXPECT_DOUBLE_EQ(*r.human.steer_notes_per_run, 0.5);  // 2 / 4
}

TEST_F(KnownLedgerStats, CostPerSuccessIncludesFailuresAndPlanning) {
  Report r = Week();
  // A 0.010+0.012+0.015 = 0.037; B 0.008+0.009+0.010+0.011+0.090+0.030 = 0.158;
  // C 0.005; D 0.050; F 0.001 (a failed call still costs). Sum 0.251.
  EXPECT_DOUBLE_EQ(r.cost.spend_usd, 0.251);
  EXPECT_EQ(r.cost.successes, 2);
  EXPECT_DOUBLE_EQ(*r.cost.per_success_usd, 0.1255);  // 0.251 / 2
  // in:  A 1000+1200+1500 = 3700; B 800+900+1000+1100+3000+1000 = 7800;
  //      C 500; D 2000; F 100 -> 14100
  // out: A 200+300+100 = 600; B 100+90+100+110+600+200 = 1200; C 50; D 500 -> 2350
  EXPECT_EQ(r.cost.tokens_in, 14'100);
  EXPECT_EQ(r.cost.tokens_out, 2'350);
  EXPECT_EQ(r.cost.tokens_cached, 400);
  EXPECT_EQ(r.cost.tokens, 16'450);
  EXPECT_DOUBLE_EQ(*r.cost.per_token_usd, 0.251 / 16'450);
  EXPECT_DOUBLE_EQ(*r.cost.per_mtok_usd, 0.251 * 1e6 / 16'450);  // ~$15.26 per 1M
}

TEST_F(KnownLedgerStats, WallTimeSplitsOverEndedRuns) {
  Report r = Week();
  // Ended: A 10 s, D 10 s, B 200 s, C 30 s; F is running and left out, and
  // U's 2 s are an undo's, not a run's.
  EXPECT_EQ(r.time.runs, 4);
  EXPECT_EQ(r.time.wall_ms, 250'000);
  // model: A 600+800+500 = 1900; D 5000; B 620+410+530+690+6900+2800 = 11950;
  // C 400 -> 19250 (F's 2000 is not counted: F has not ended).
  EXPECT_EQ(r.time.model_ms, 19'250);
  EXPECT_EQ(r.time.tool_ms, 400);  // A 50+30+20; B 40+200; C 60
  // gates: A 1000+1000 (the cache hit's 1000 excluded); B 500*6; C 700.
  EXPECT_EQ(r.time.gate_ms, 5'700);
  EXPECT_EQ(r.time.gate_cache_hits, 1);
  EXPECT_EQ(r.time.person_ms, 120'000);
  // 250000 - 19250 - 400 - 5700 - 120000
  EXPECT_EQ(r.time.tandem_ms, 104'650);
  EXPECT_DOUBLE_EQ(*r.time.model_share, 0.077);    // 19250 / 250000
  EXPECT_DOUBLE_EQ(*r.time.tool_share, 0.0016);    // 400 / 250000
  EXPECT_DOUBLE_EQ(*r.time.gate_share, 0.0228);    // 5700 / 250000
  EXPECT_DOUBLE_EQ(*r.time.person_share, 0.48);    // 120000 / 250000
  EXPECT_DOUBLE_EQ(*r.time.tandem_share, 0.4186);  // 104650 / 250000
}

TEST_F(KnownLedgerStats, PerModelSpeedCostAndCompletion) {
  Report r = Week();
  ASSERT_EQ(r.models.size(), 2u);
  EXPECT_EQ(r.models[0].name, "big");  // sorted by (provider, model)
  EXPECT_EQ(r.models[1].name, "fast");

  const CallGroup& big = r.models[0];
  EXPECT_EQ(big.provider, "p");
  EXPECT_EQ(big.calls, 3);  // D, t3, t5
  EXPECT_EQ(big.errors, 0);
  EXPECT_EQ(big.tokens_in, 6'000);         // 2000 + 3000 + 1000
  EXPECT_EQ(big.tokens_out, 1'300);        // 500 + 600 + 200
  EXPECT_DOUBLE_EQ(big.spend_usd, 0.170);  // 0.050 + 0.090 + 0.030
  EXPECT_DOUBLE_EQ(*big.spend_share, 0.170 / 0.251);
  EXPECT_DOUBLE_EQ(*big.per_mtok_usd, 0.170 * 1e6 / 7'300);
  EXPECT_EQ(big.model_ms, 14'700);  // 5000 + 6900 + 2800
  // Outcome runs it served: B only (D is a plan). B failed.
  EXPECT_EQ(big.runs, 1);
  EXPECT_EQ(big.runs_finished, 1);
  EXPECT_EQ(big.runs_succeeded, 0);
  EXPECT_DOUBLE_EQ(*big.success_rate, 0.0);
  EXPECT_FALSE(big.per_success_usd.has_value());  // no success: no figure, not inf
  // ttft sorted 800, 900, 1000: p50 rank ceil(1.5) = 2, p90 rank ceil(2.7) = 3.
  EXPECT_EQ(big.ttft_ms.samples, 3);
  EXPECT_DOUBLE_EQ(*big.ttft_ms.median, 900);
  EXPECT_DOUBLE_EQ(*big.ttft_ms.p90, 1000);
  // tokens/s per call = (out - 1) * 1000 / (duration - ttft):
  // D 499000/4000 = 124.75, t3 599000/6000 = 99.83, t5 199000/2000 = 99.5.
  EXPECT_EQ(big.tokens_per_s.samples, 3);
  EXPECT_DOUBLE_EQ(*big.tokens_per_s.median, 599'000.0 / 6'000);
  EXPECT_DOUBLE_EQ(*big.tokens_per_s.p90, 124.75);
  // Overall: (499 + 599 + 199) * 1000 / (4000 + 6000 + 2000).
  EXPECT_DOUBLE_EQ(*big.tokens_per_s_overall, 1'297'000.0 / 12'000);

  const CallGroup& fast = r.models[1];
  EXPECT_EQ(fast.calls, 9);           // A 3, B 4, C 1, F 1
  EXPECT_EQ(fast.errors, 1);          // F's
  EXPECT_EQ(fast.tokens_in, 8'100);   // 3700 + 3800 + 500 + 100
  EXPECT_EQ(fast.tokens_out, 1'050);  // 600 + 400 + 50 + 0
  EXPECT_EQ(fast.tokens_cached, 400);
  EXPECT_DOUBLE_EQ(fast.spend_usd, 0.081);  // 0.037 + 0.038 + 0.005 + 0.001
  EXPECT_EQ(fast.model_ms, 6'550);          // 1900 + 2250 + 400 + 2000
  EXPECT_EQ(fast.runs, 4);                  // A, B, C, F
  EXPECT_EQ(fast.runs_finished, 3);
  EXPECT_EQ(fast.runs_succeeded, 2);
  EXPECT_EQ(fast.runs_unassisted, 1);
  EXPECT_DOUBLE_EQ(*fast.success_rate, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(*fast.unassisted_rate, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(*fast.per_success_usd, 0.0405);  // 0.081 / 2
  // Successful calls' ttft sorted: 100 110 120 130 140 150 200 300 (F's
  // failed call is left out): p50 rank 4 -> 130, p90 rank ceil(7.2) = 8 -> 300.
  EXPECT_EQ(fast.ttft_ms.samples, 8);
  EXPECT_DOUBLE_EQ(*fast.ttft_ms.median, 130);
  EXPECT_DOUBLE_EQ(*fast.ttft_ms.p90, 300);
  // tokens/s: A 199000/500 = 398, 299000/600 = 498.33, 99000/200 = 495;
  // B 99000/500 = 198, 89000/300 = 296.67, 99000/400 = 247.5,
  // 109000/550 = 198.18; C 49000/250 = 196.
  // Sorted 196 198 198.18 247.5 296.67 398 495 498.33.
  EXPECT_EQ(fast.tokens_per_s.samples, 8);
  EXPECT_DOUBLE_EQ(*fast.tokens_per_s.median, 247.5);
  EXPECT_DOUBLE_EQ(*fast.tokens_per_s.p90, 299'000.0 / 600);
  // Overall: (A 199+299+99 + B 99+89+99+109 + C 49 = 1042) * 1000 /
  // (A 1300 + B 1750 + C 250).
  EXPECT_DOUBLE_EQ(*fast.tokens_per_s_overall, 1'042'000.0 / 3'300);
}

TEST_F(KnownLedgerStats, PerRoleGroupsCallsByTheRoleTheyServed) {
  Report r = Week();
  ASSERT_EQ(r.roles.size(), 2u);
  const CallGroup* executor = FindGroup(r.roles, "executor");
  const CallGroup* planner = FindGroup(r.roles, "planner");
  ASSERT_TRUE(executor && planner);
  // executor: the 9 fast calls and big's calls for t3 and t5.
  EXPECT_EQ(executor->calls, 11);
  EXPECT_EQ(executor->tokens_in, 12'100);                // 8100 + 3000 + 1000
  EXPECT_EQ(executor->tokens_out, 1'850);                // 1050 + 600 + 200
  EXPECT_DOUBLE_EQ(executor->spend_usd, 0.201);          // 0.081 + 0.090 + 0.030
  EXPECT_DOUBLE_EQ(*executor->per_success_usd, 0.1005);  // 0.201 / 2 (A, C)
  EXPECT_EQ(executor->runs, 4);
  // ttft: fast's 8 plus 900, 800 -> 100 110 120 130 140 150 200 300 800 900:
  // p50 rank 5 -> 140, p90 rank 9 -> 800.
  EXPECT_DOUBLE_EQ(*executor->ttft_ms.median, 140);
  EXPECT_DOUBLE_EQ(*executor->ttft_ms.p90, 800);
  // tokens/s: 99.5 99.83 196 198 198.18 247.5 296.67 398 495 498.33:
  // p50 rank 5 -> 198.18, p90 rank 9 -> 495.
  EXPECT_DOUBLE_EQ(*executor->tokens_per_s.median, 109'000.0 / 550);
  EXPECT_DOUBLE_EQ(*executor->tokens_per_s.p90, 495);
  // (1042 + 599 + 199) * 1000 / (3300 + 6000 + 2000).
  EXPECT_DOUBLE_EQ(*executor->tokens_per_s_overall, 1'840'000.0 / 11'300);
  // planner: D's one call; D is a plan, so no outcome runs and no rates.
  EXPECT_EQ(planner->calls, 1);
  EXPECT_DOUBLE_EQ(planner->spend_usd, 0.050);
  EXPECT_EQ(planner->runs, 0);
  EXPECT_FALSE(planner->success_rate.has_value());
  EXPECT_FALSE(planner->per_success_usd.has_value());
  EXPECT_DOUBLE_EQ(*planner->ttft_ms.median, 1000);
  EXPECT_DOUBLE_EQ(*planner->tokens_per_s_overall, 124.75);  // 499000 / 4000
}

TEST_F(KnownLedgerStats, PerTierTasksEscalationsAndSpend) {
  Report r = Week();
  ASSERT_EQ(r.tiers.size(), 2u);
  const TierGroup* ex = FindTier(r, "executor");
  const TierGroup* pl = FindTier(r, "planner");
  ASSERT_TRUE(ex && pl);
  // executor units: A (done), t1 (done, steered), t2 (failed), t4 (skipped),
  // C (done, steered), F (running).
  EXPECT_EQ(ex->tasks.total, 6);
  EXPECT_EQ(ex->tasks.done, 3);
  EXPECT_EQ(ex->tasks.finished, 5);
  EXPECT_EQ(ex->tasks.unassisted, 1);
  EXPECT_DOUBLE_EQ(*ex->tasks.success_rate, 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(*ex->tasks.unassisted_rate, 1.0 / 5.0);
  EXPECT_EQ(ex->tasks.attempted, 5);  // all but t4
  EXPECT_EQ(ex->tasks.retries, 3);    // A 1 + t2 (1 rise + 1 more try)
  EXPECT_DOUBLE_EQ(*ex->tasks.retries_per_task, 3.0 / 5.0);
  EXPECT_EQ(ex->tasks.rollbacks, 4);
  EXPECT_EQ(ex->tasks.escalations, 1);  // t2 escalated from executor
  EXPECT_EQ(ex->escalated_to, 0);
  EXPECT_EQ(ex->calls, 9);
  EXPECT_DOUBLE_EQ(ex->spend_usd, 0.081);
  EXPECT_DOUBLE_EQ(*ex->per_done_task_usd, 0.027);  // 0.081 / 3
  // Succeeded runs with an executor-tier call: A (10 s) and C (30 s).
  EXPECT_EQ(ex->runs_succeeded, 2);
  EXPECT_DOUBLE_EQ(*ex->per_success_usd, 0.081 / 2);
  EXPECT_DOUBLE_EQ(*ex->minutes_per_success, (10.0 + 30.0) / 2 / 60);
  // The planner tier's calls are in D (a plan: no outcome) and B (failed).
  EXPECT_EQ(FindTier(r, "planner")->runs_succeeded, 0);
  EXPECT_FALSE(FindTier(r, "planner")->per_success_usd.has_value());
  EXPECT_FALSE(FindTier(r, "planner")->minutes_per_success.has_value());
  // planner units: t3 (done, approved by a person), t5 (done, by policy).
  EXPECT_EQ(pl->tasks.total, 2);
  EXPECT_EQ(pl->tasks.done, 2);
  EXPECT_EQ(pl->tasks.unassisted, 1);
  EXPECT_DOUBLE_EQ(*pl->tasks.success_rate, 1.0);
  EXPECT_DOUBLE_EQ(*pl->tasks.unassisted_rate, 0.5);
  EXPECT_EQ(pl->tasks.retries, 0);
  EXPECT_DOUBLE_EQ(*pl->tasks.retries_per_task, 0.0);
  EXPECT_EQ(pl->tasks.escalations, 0);
  EXPECT_EQ(pl->escalated_to, 1);
  EXPECT_EQ(pl->calls, 3);  // D, t3, t5 (model_calls.tier)
  EXPECT_DOUBLE_EQ(pl->spend_usd, 0.170);
  EXPECT_DOUBLE_EQ(*pl->per_done_task_usd, 0.085);  // 0.170 / 2
}

TEST_F(KnownLedgerStats, AllTimeAddsTheOldRun) {
  Report r = Compute(AllTime());
  EXPECT_EQ(r.runs.total_all_kinds, 6);
  EXPECT_EQ(r.runs.total, 5);
  EXPECT_EQ(r.runs.finished, 4);
  EXPECT_EQ(r.runs.failed, 2);                        // B, E
  EXPECT_DOUBLE_EQ(*r.runs.success_rate, 0.5);        // 2 / 4
  EXPECT_DOUBLE_EQ(r.cost.spend_usd, 1.251);          // 0.251 + E's 1.000
  EXPECT_DOUBLE_EQ(*r.cost.per_success_usd, 0.6255);  // 1.251 / 2
  EXPECT_EQ(r.time.wall_ms, 255'000);                 // + E's 5 s
}

TEST_F(KnownLedgerStats, WindowStartIsInclusiveAndEndExclusive) {
  // [T+60s, T+200s): B (starts exactly at T+60s) and C; not A, D (earlier)
  // nor F (starts exactly at the end).
  Window w{kT0 + 60'000, kT0 + 200'000, "test"};
  Report r = Compute(w);
  EXPECT_EQ(r.runs.total_all_kinds, 2);
  EXPECT_EQ(r.runs.succeeded, 1);             // C
  EXPECT_EQ(r.runs.failed, 1);                // B
  EXPECT_DOUBLE_EQ(r.cost.spend_usd, 0.163);  // B 0.158 + C 0.005
  EXPECT_EQ(r.tasks.total, 6);                // t1..t5 + C
  EXPECT_EQ(r.tasks.retries, 2);              // t2
  // A window that starts after every run is empty.
  Report none = Compute(Window{kNow, std::numeric_limits<int64_t>::max(), "later"});
  EXPECT_TRUE(none.empty);
  // ...and one ten days back holds only E.
  Report old = Compute(Window{kT0 - 11 * kDay, kT0 - 9 * kDay, "old"});
  EXPECT_EQ(old.runs.total, 1);
  EXPECT_EQ(old.runs.failed, 1);
  EXPECT_DOUBLE_EQ(old.cost.spend_usd, 1.0);
}

// Speeds are measured only over replies long enough to be a rate
// (base/token_rate.h): tokens after the first over the time from the first
// to the last. A burst of a few tokens within a millisecond, as a fast
// server's short tool-call reply is, would otherwise read ~100,000 tok/s.
TEST(StreamingSpeed, ShortRepliesAreLeftOutAndTheFirstTokenStartsTheClock) {
  TempDir dir;
  int64_t now = kT0;
  auto opened = ledger::Ledger::Open({dir.path() / "ledger.db", [&] { return now; }});
  ASSERT_TRUE(opened) << opened.error().ToString();
  ledger::Ledger& db = **opened;
  ASSERT_TRUE(db.BeginRun({.id = "R", .kind = "do", .goal = "g", .repo = "/repo"}).ok());
  auto call = [&](int64_t out, int64_t ttft, int64_t duration, double stored_speed = 0) {
    ledger::ModelCallRecord c;
    c.run_id = "R";
    c.role = c.tier = "executor";
    c.provider = "p";
    c.model = "m";
    c.tokens_out = out;
    c.ttft_ms = ttft;
    c.duration_ms = duration;
    c.tokens_per_s = stored_speed;
    ASSERT_TRUE(db.RecordModelCall(c).ok());
  };
  call(5, 100, 100);    // a burst: 4 tokens after the first in under 1 ms
  call(16, 100, 200);   // 15 tokens after the first: too few to be a rate
  call(200, 100, 110);  // 199 tokens within 10 ms: too short a span
  // An older row whose stored speed came from the burst formula: stats
  // measures from the row's tokens and times, not from that column.
  call(3, 50, 50, /*stored_speed=*/123'811);
  call(101, 50, 150);   // 100 tokens over 100 ms: 1,000 tok/s
  call(201, 40, 240);   // 200 tokens over 200 ms: 1,000 tok/s
  now = kT0 + 1'000;
  ASSERT_TRUE(db.EndRun("R", {.outcome = ledger::RunOutcome::kSucceeded}).ok());
  auto facts = ReadLedgerFacts(db, AllTime());
  ASSERT_TRUE(facts) << facts.error().ToString();
  Report r = ComputeReport(*facts, AllTime());
  ASSERT_EQ(r.models.size(), 1u);
  EXPECT_EQ(r.models[0].calls, 6);
  EXPECT_EQ(r.models[0].tokens_per_s.samples, 2);
  EXPECT_DOUBLE_EQ(*r.models[0].tokens_per_s.median, 1000);
  EXPECT_DOUBLE_EQ(*r.models[0].tokens_per_s.p90, 1000);
  EXPECT_DOUBLE_EQ(*r.models[0].tokens_per_s_overall, 1000);  // 300 tokens / 300 ms
  // The ledger itself stores no speed for a reply that has none.
  auto stored = db.Query("SELECT tokens_per_s FROM model_calls ORDER BY id", {});
  ASSERT_TRUE(stored) << stored.error().ToString();
  ASSERT_EQ(stored->rows.size(), 6u);
  EXPECT_EQ(std::get<double>(stored->rows[0][0]), 0.0);
  EXPECT_EQ(std::get<double>(stored->rows[1][0]), 0.0);
  EXPECT_EQ(std::get<double>(stored->rows[2][0]), 0.0);
  EXPECT_EQ(std::get<double>(stored->rows[4][0]), 1000.0);
}

TEST(StreamingSpeed, AReplyWithTooFewTokensOrTooShortASpanHasNoSpeed) {
  EXPECT_EQ(ReplyTokensPerSecond(1, 100, 100.001), 0);
  EXPECT_EQ(ReplyTokensPerSecond(kMinRateTokens, 0, 1000), 0);
  EXPECT_EQ(ReplyTokensPerSecond(kMinRateTokens + 1, 0, kMinRateSpanMs - 0.5), 0);
  EXPECT_DOUBLE_EQ(ReplyTokensPerSecond(kMinRateTokens + 1, 10, 10 + kMinRateSpanMs),
                   kMinRateTokens * 1000.0 / kMinRateSpanMs);
}

TEST(EmptyLedger, MissingFileIsNoRunsYetAndIsNotCreated) {
  TempDir dir;
  auto path = dir.path() / ".tandem" / "ledger.db";
  auto report = ReportFromLedgerFile(path, AllTime(), [] { return kNow; });
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_TRUE(report->empty);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(report->runs.total, 0);
  EXPECT_FALSE(report->runs.success_rate.has_value());
  EXPECT_FALSE(report->cost.per_success_usd.has_value());
  EXPECT_FALSE(report->cost.per_mtok_usd.has_value());
  EXPECT_FALSE(report->tasks.retries_per_task.has_value());
  EXPECT_FALSE(report->human.minutes_per_run.has_value());
  EXPECT_FALSE(report->time.model_share.has_value());
  EXPECT_TRUE(report->models.empty());
}

TEST(EmptyLedger, ExistingLedgerWithoutRunsIsEmpty) {
  TempDir dir;
  auto path = dir.path() / "ledger.db";
  ASSERT_TRUE(ledger::Ledger::Open({path, [] { return kNow; }}));
  auto report = ReportFromLedgerFile(path, AllTime(), [] { return kNow; });
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_TRUE(report->empty);
  EXPECT_FALSE(report->runs.unassisted_rate.has_value());
}

TEST(EmptyLedger, NotADatabaseIsAnErrorNotAnEmptyReport) {
  TempDir dir;
  auto path = dir.path() / "ledger.db";
  { std::ofstream(path) << "this is not sqlite, just text that is long enough to matter\n"; }
  auto report = ReportFromLedgerFile(path, AllTime(), [] { return kNow; });
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tandem::metrics

namespace tandem::metrics {
namespace {

TEST(ReviewFiguresTest, CountRejectionsFixesAndCostPerSuccess) {
  LedgerFacts facts;
  facts.runs = {{"R", "run", "succeeded", 1000, 2000}, {"P", "plan", "succeeded", 1000, 2000}};
  facts.reviews = {
      {"R", "T1", "request_changes", 0.02},  // rejected, then fixed
      {"R", "T1", "approve", 0.03},
      {"R", "T2", "approve", 0.01},          // approved at once
      {"R", "T3", "request_changes", 0.02},  // rejected, never fixed
      {"R", "T3", "request_changes", 0.02},
      {"P", "T9", "approve", 1.00},          // not an outcome run: left out
  };
  Report r = ComputeReport(facts, AllTime());
  EXPECT_EQ(r.reviews.reviews, 5);
  EXPECT_EQ(r.reviews.tasks_reviewed, 3);
  EXPECT_DOUBLE_EQ(*r.reviews.reviews_per_task, 5.0 / 3);
  EXPECT_EQ(r.reviews.rejected, 3);
  EXPECT_DOUBLE_EQ(*r.reviews.rejected_share, 3.0 / 5);
  EXPECT_EQ(r.reviews.tasks_rejected, 2);
  EXPECT_EQ(r.reviews.tasks_fixed, 1);
  EXPECT_DOUBLE_EQ(*r.reviews.fixed_rate, 0.5);
  EXPECT_NEAR(r.reviews.cost_usd, 0.10, 1e-12);
  EXPECT_NEAR(*r.reviews.per_success_usd, 0.10, 1e-12);  // one succeeded outcome run
}

TEST(ReviewFiguresTest, NoReviewsLeaveTheRatesEmpty) {
  LedgerFacts facts;
  facts.runs = {{"R", "do", "succeeded", 1000, 2000}};
  Report r = ComputeReport(facts, AllTime());
  EXPECT_EQ(r.reviews.reviews, 0);
  EXPECT_FALSE(r.reviews.rejected_share.has_value());
  EXPECT_FALSE(r.reviews.fixed_rate.has_value());
}

}  // namespace
}  // namespace tandem::metrics
