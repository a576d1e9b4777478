// Aggregates over the ledger for `tandem stats` (the metrics module turns
// them into rates and per-outcome costs; definitions in docs/METRICS.md).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

namespace tandem::ledger {

// Which rows count: rows are windowed by the start time of the run they
// belong to. Empty strings match all.
struct StatsFilter {
  int64_t since_ms = 0;                                    // inclusive
  int64_t until_ms = std::numeric_limits<int64_t>::max();  // exclusive
  std::string repo{};
  std::string kind{};
};

// One tier's tasks (tasks.tier).
struct TierStatsRow {
  std::string tier{};
  int64_t tasks = 0;
  int64_t done = 0;
  int64_t failed = 0;
  int64_t skipped = 0;
  int64_t attempts = 0;
  int64_t escalated_from = 0;  // escalations whose from_tier is this tier
};

// Totals over the runs that match a filter.
struct RunStatsRow {
  int64_t runs = 0;
  int64_t runs_succeeded = 0;
  int64_t runs_failed = 0;
  int64_t runs_interrupted = 0;
  int64_t runs_cancelled = 0;
  int64_t runs_running = 0;
  int64_t tasks = 0;
  int64_t tasks_done = 0;
  int64_t tasks_failed = 0;
  int64_t tasks_skipped = 0;
  int64_t steps = 0;
  int64_t retries = 0;  // steps with attempt > 1
  int64_t rollbacks = 0;
  int64_t escalations = 0;
  int64_t approvals = 0;  // decisions, approved or denied
  int64_t denials = 0;
  int64_t human_ms = 0;  // approvals.waited_ms decided by a person
  int64_t steer_notes = 0;
  double cost_usd = 0;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  int64_t tokens_cached = 0;
  int64_t model_ms = 0;
  int64_t tool_ms = 0;
  int64_t gate_ms = 0;  // gate executions, cache hits excluded
  int64_t gate_cache_hits = 0;
  int64_t wall_ms = 0;  // of ended runs
};

// A value from Ledger::Query: NULL, INTEGER, REAL or TEXT (BLOBs read as text).
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

struct QueryResult {
  std::vector<std::string> columns{};
  std::vector<std::vector<SqlValue>> rows{};
};

}  // namespace tandem::ledger
