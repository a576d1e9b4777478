// The fan-out's tournament (docs/FANOUT.md "Tournament"): the reviewer
// model judges a fan-out's passing, deduplicated candidates pairwise
// against the task, in a single-elimination bracket seeded by the score
// (RankVariants): N candidates take N - 1 comparisons in ceil(log2 N)
// rounds, each comparison one model call with two diffs (never one giant
// prompt), so 75 candidates take 74 calls, 7 rounds deep.
//
// The bracket is the standard one (seed 1 meets seed 2 only in the final;
// the top seeds get the byes when N is not a power of two). A comparison
// starts as soon as both its sides are known, up to `parallel` at once,
// through the reviewer's client (so within its provider's RateLimiter). Each
// comparison is one model call with one tool, `compare_verdict`:
//
//   {"better": "A" | "B", "reason": "..."}
//
// A reply without that call (or with arguments tandem cannot read) is asked
// once more; then, like a failed call, a spent budget or an interrupt, the
// score decides that pair: the better seed advances (decided_by = score,
// with the reason). A tournament therefore always finishes, and one decided
// wholly by the score orders the candidates exactly as the score does.
//
// The order (TournamentOrder): the winner, then the final's loser, then the
// semi-finals' losers, and so on; candidates out in the same round keep
// their score order.
//
// Thread-safety: RunTournament is called from one thread and runs its
// comparisons on threads of its own; `events`, the ledgers and the client
// must be thread-safe (they are). The other functions are pure.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tandem/agent/interrupt.h"
#include "tandem/ledger/fanout_ledger.h"
#include "tandem/ledger/ledger.h"
#include "tandem/orchestrator/planner.h"
#include "tandem/protocol/event.h"

namespace tandem::orchestrator {

// What the reviewer is shown of each candidate's diff (two per prompt).
inline constexpr size_t kMaxComparisonDiffBytes = 32 * 1024;

// The single-elimination bracket of `seeds` (variant numbers, best seed
// first, at least two). Pure; not thread-safe (RunTournament holds it under
// its lock).
class Bracket {
 public:
  struct Match {
    int64_t id = 0;     // 1-based: round 1's matches first, each round in bracket order
    int64_t round = 0;  // 1-based
    int64_t a = 0;      // the better seed's variant
    int64_t b = 0;
  };

  explicit Bracket(std::vector<int64_t> seeds);

  // The matches whose two sides are known and that were not handed out
  // before, in id order; each match is handed out once.
  std::vector<Match> TakeReady();
  // Records that `winner` (its a or b) won match `id`; anything else is
  // ignored.
  void Decide(int64_t id, int64_t winner);
  bool Done() const;
  int64_t Champion() const;  // 0 until Done
  int64_t Rounds() const;    // ceil(log2 seeds)
  int64_t Matches() const;   // seeds - 1: a bye is no match

 private:
  struct Node {
    int64_t id = 0;  // 0: a bye (one side only) or an empty slot
    int64_t side[2] = {0, 0};
    int64_t winner = 0;
    bool handed = false;
  };
  void Advance(size_t round, size_t k, int64_t winner);

  std::vector<int64_t> seeds_;
  std::vector<std::vector<Node>> rounds_;  // rounds_[r][k]: round r+1's k-th slot
  int64_t matches_ = 0;
  int64_t champion_ = 0;
};

// A candidate of the tournament.
struct TournamentEntry {
  int64_t n = 0;
  std::string diff;     // its change as a unified diff (RunTournament caps and redacts it)
  std::string summary;  // the executor's finish summary
  int64_t lines_added = 0;
  int64_t lines_removed = 0;
  int64_t files = 0;
};

struct TournamentEnv {
  std::string run_id;  // the fan-out's run: model calls and comparisons are its rows
  std::string task;    // the task as the variants got it, with its acceptance
  ModelSlot reviewer;  // REQUIRED: the reviewer role's model
  protocol::EventSink* events = nullptr;       // REQUIRED: ModelCallFinished per call, notices
  ledger::Ledger* ledger = nullptr;            // optional: a model_calls row per call
  ledger::FanoutLedger* comparisons = nullptr;  // optional: a comparisons row per comparison
  agent::InterruptHub* interrupts = nullptr;   // optional: cancels the calls in flight
  int parallel = 1;                            // comparisons at once
  // Optional, asked before each comparison's call: a non-empty reason (the
  // fan-out's budget is spent) makes the score decide it without a call.
  std::function<std::string()> stop;
};

struct TournamentResult {
  std::vector<ledger::ComparisonRow> comparisons;  // in match order
  int64_t champion = 0;
  int64_t calls = 0;  // model calls made
  double cost_usd = 0;
  double wall_ms = 0;
};

// Runs the bracket over `seeds` (best seed first, at least two) and
// returns every comparison; see the file comment. Never fails: a comparison
// without a verdict is decided by the score, a ledger write that fails is a
// warning notice.
TournamentResult RunTournament(const std::vector<TournamentEntry>& seeds, const TournamentEnv& env);

// The order the comparisons give `seeds` (best seed first): by the round
// each candidate reached (the winner first, then the final's loser, ...),
// ties by seed. Comparisons naming a candidate not in `seeds` are ignored;
// candidates in no comparison come last, by seed.
std::vector<int64_t> TournamentOrder(const std::vector<int64_t>& seeds,
                                     const std::vector<ledger::ComparisonRow>& comparisons);

// One line for variant `n`'s reasons: "tournament: beat v4, v3 (by score);
// won the final" or "... lost to v2 in round 2 of 3". Empty when it was in no
// comparison.
std::string TournamentNote(int64_t n, const std::vector<ledger::ComparisonRow>& comparisons);

const std::string& ComparisonSystemPrompt();
// The one tool the reviewer answers a comparison through.
const protocol::ToolSpec& CompareVerdictTool();

// A compare_verdict call's arguments: true when A is the better, and the
// reason ("(no reason given)" when it has none). InvalidArgument naming
// what is wrong when `better` is not "A" or "B".
struct CompareVerdict {
  bool a_better = true;
  std::string reason;
};
Result<CompareVerdict> ParseCompareVerdict(const nlohmann::json& arguments);

// The comparison's user message: the task, then candidates A and B (their
// size, the executor's summary, the diff as given).
std::string ComparisonMessage(const std::string& task, const TournamentEntry& a,
                              const TournamentEntry& b);

}  // namespace tandem::orchestrator
