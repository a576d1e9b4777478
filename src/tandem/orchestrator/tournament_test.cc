// The fan-out's tournament (tournament.h): the bracket (ordering, byes, odd
// counts, 75 candidates in 74 comparisons), the reviewer's comparisons
// through an in-process scripted ModelClient (the only stand-in), a reply
// without the tool asked once more, a comparison without a verdict decided
// by the score, and RankVariants ordering passing candidates by the
// tournament.
#include "tandem/orchestrator/tournament.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "tandem/orchestrator/fanout.h"

namespace tandem::orchestrator {
namespace {

using ledger::ComparisonRow;
using ledger::VariantRow;
using ledger::VariantState;
using nlohmann::json;
using ledger::ComparisonDecider;

// Plays the bracket with `winner(a, b)` deciding each match.
std::vector<ComparisonRow> Play(Bracket& bracket,
                                const std::function<int64_t(int64_t, int64_t)>& winner) {
  std::vector<ComparisonRow> rows;
  while (!bracket.Done()) {
    std::vector<Bracket::Match> ready = bracket.TakeReady();
    if (ready.empty()) break;
    for (const Bracket::Match& m : ready) {
      ComparisonRow row;
      row.round = m.round;
      row.match = m.id;
      row.a = m.a;
      row.b = m.b;
      row.winner = winner(m.a, m.b);
      bracket.Decide(m.id, row.winner);
      rows.push_back(row);
    }
  }
  return rows;
}

ComparisonRow Row(int64_t round, int64_t match, int64_t a, int64_t b, int64_t winner,
                  ComparisonDecider by = ComparisonDecider::kReviewer) {
  ComparisonRow row;
  row.run_id = "r1";
  row.round = round;
  row.match = match;
  row.a = a;
  row.b = b;
  row.shown_first = a;
  row.winner = winner;
  row.decided_by = by;
  return row;
}

std::vector<int64_t> Seeds(int n) {
  std::vector<int64_t> seeds;
  for (int i = 1; i <= n; ++i) seeds.push_back(i);
  return seeds;
}

TEST(Bracket, FourSeedsPlayOneAgainstFourAndTwoAgainstThreeThenTheFinal) {
  Bracket bracket(Seeds(4));
  EXPECT_EQ(bracket.Matches(), 3);
  EXPECT_EQ(bracket.Rounds(), 2);
  std::vector<Bracket::Match> first = bracket.TakeReady();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].round, 1);
  EXPECT_EQ(std::make_pair(first[0].a, first[0].b), std::make_pair(int64_t{1}, int64_t{4}));
  EXPECT_EQ(std::make_pair(first[1].a, first[1].b), std::make_pair(int64_t{2}, int64_t{3}));
  EXPECT_TRUE(bracket.TakeReady().empty());  // handed out once
  bracket.Decide(first[0].id, 4);
  EXPECT_TRUE(bracket.TakeReady().empty());  // the final waits for both sides
  bracket.Decide(first[1].id, 3);
  std::vector<Bracket::Match> final = bracket.TakeReady();
  ASSERT_EQ(final.size(), 1u);
  EXPECT_EQ(final[0].round, 2);
  // The better seed of the two is always a.
  EXPECT_EQ(std::make_pair(final[0].a, final[0].b), std::make_pair(int64_t{3}, int64_t{4}));
  EXPECT_FALSE(bracket.Done());
  bracket.Decide(final[0].id, 4);
  EXPECT_TRUE(bracket.Done());
  EXPECT_EQ(bracket.Champion(), 4);
}

TEST(Bracket, AWinnerNotInTheMatchIsIgnored) {
  Bracket bracket(Seeds(2));
  std::vector<Bracket::Match> m = bracket.TakeReady();
  ASSERT_EQ(m.size(), 1u);
  bracket.Decide(m[0].id, 7);
  EXPECT_FALSE(bracket.Done());
  bracket.Decide(m[0].id, 2);
  EXPECT_EQ(bracket.Champion(), 2);
}

TEST(Bracket, OddCountsGiveTheTopSeedsByesAndMatchesStartAsSoonAsBothSidesAreKnown) {
  // 5 candidates in a bracket of 8: seeds 1-3 have byes; round 1 is 4 v 5
  // alone, and 2 v 3 (round 2) is ready at once.
  Bracket bracket(Seeds(5));
  EXPECT_EQ(bracket.Matches(), 4);
  EXPECT_EQ(bracket.Rounds(), 3);
  std::vector<Bracket::Match> ready = bracket.TakeReady();
  ASSERT_EQ(ready.size(), 2u);
  EXPECT_EQ(ready[0].round, 1);
  EXPECT_EQ(std::make_pair(ready[0].a, ready[0].b), std::make_pair(int64_t{4}, int64_t{5}));
  EXPECT_EQ(ready[1].round, 2);
  EXPECT_EQ(std::make_pair(ready[1].a, ready[1].b), std::make_pair(int64_t{2}, int64_t{3}));

  // 3 candidates: seed 1 waits for the winner of 2 v 3.
  Bracket three(Seeds(3));
  EXPECT_EQ(three.Matches(), 2);
  std::vector<ComparisonRow> rows = Play(three, [](int64_t a, int64_t b) { return std::max(a, b); });
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(std::make_pair(rows[0].a, rows[0].b), std::make_pair(int64_t{2}, int64_t{3}));
  EXPECT_EQ(std::make_pair(rows[1].a, rows[1].b), std::make_pair(int64_t{1}, int64_t{3}));
  EXPECT_EQ(three.Champion(), 3);
  EXPECT_EQ(TournamentOrder(Seeds(3), rows), (std::vector<int64_t>{3, 1, 2}));
}

TEST(Bracket, SeventyFiveCandidatesTake74ComparisonsInSevenRounds) {
  Bracket bracket(Seeds(75));
  EXPECT_EQ(bracket.Matches(), 74);
  EXPECT_EQ(bracket.Rounds(), 7);
  // The better seed always wins: the score's order, unchanged.
  std::vector<ComparisonRow> rows = Play(bracket, [](int64_t a, int64_t) { return a; });
  EXPECT_EQ(rows.size(), 74u);
  EXPECT_EQ(bracket.Champion(), 1);
  EXPECT_EQ(TournamentOrder(Seeds(75), rows), Seeds(75));
  // Every candidate played; no pair twice.
  std::set<std::pair<int64_t, int64_t>> pairs;
  std::set<int64_t> played;
  for (const auto& r : rows) {
    EXPECT_TRUE(pairs.insert({r.a, r.b}).second);
    played.insert(r.a);
    played.insert(r.b);
  }
  EXPECT_EQ(played.size(), 75u);
}

TEST(TournamentOrder, WinnerThenTheFinalsLoserThenEarlierLosersBySeed) {
  std::vector<ComparisonRow> rows = {Row(1, 1, 1, 4, 4),   // round 1: 4 beat 1
                                     Row(1, 2, 2, 3, 2),   // round 1: 2 beat 3
                                     Row(2, 3, 2, 4, 4)};  // final: 4 beat 2
  EXPECT_EQ(TournamentOrder({1, 2, 3, 4}, rows), (std::vector<int64_t>{4, 2, 1, 3}));
  EXPECT_EQ(TournamentNote(4, rows), "tournament: beat v1, v2; won the final");
  EXPECT_EQ(TournamentNote(1, rows), "tournament: lost to v4 in round 1 of 2");
  EXPECT_EQ(TournamentNote(5, rows), "");
  // A candidate in no comparison comes last; rows naming others are ignored.
  rows.push_back(Row(1, 9, 9, 1, 9));
  EXPECT_EQ(TournamentOrder({1, 2, 3, 4, 5}, rows), (std::vector<int64_t>{4, 2, 1, 3, 5}));
}

TEST(CompareVerdict, ReadsAOrBAndTheReasonAndRefusesAnythingElse) {
  auto a = ParseCompareVerdict(json{{"better", "A"}, {"reason", " handles empty input "}});
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->a_better);
  EXPECT_EQ(a->reason, "handles empty input");
  auto b = ParseCompareVerdict(json{{"better", "b"}});
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->a_better);
  EXPECT_EQ(b->reason, "(no reason given)");
  auto both = ParseCompareVerdict(json{{"better", "both"}, {"reason", "tie"}});
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message().find("'both', not \"A\" or \"B\""), std::string::npos);
  EXPECT_FALSE(ParseCompareVerdict(json{{"reason", "x"}}));
  EXPECT_FALSE(ParseCompareVerdict(json::array()));
}

// The reviewer as a function of the comparison's message and its turn.
// Thread-safe; counts calls; can hold replies until `hold` requests are
// waiting at once.
class ScriptedReviewer : public providers::ModelClient {
 public:
  using Script = std::function<Result<protocol::ModelResponse, protocol::ModelError>(
      const std::string& message, int turn)>;
  explicit ScriptedReviewer(Script script) : script_(std::move(script)) {}

  std::unique_ptr<providers::PendingReply> Start(const protocol::ModelRequest& request,
                                                 providers::StreamObserver*) override {
    int turn = 0;
    for (const auto& m : request.messages) turn += m.role == protocol::Role::kAssistant;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
    }
    EXPECT_EQ(request.system, ComparisonSystemPrompt());
    EXPECT_EQ(request.tools.size(), 1u);
    auto reply = script_(request.messages.front().text, turn);
    return std::make_unique<Pending>(this, std::move(reply));
  }

  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  int most_at_once() const {
    std::lock_guard<std::mutex> lock(mu_);
    return most_at_once_;
  }
  int hold = 0;  // replies wait until this many are waiting (or 10 s pass: then the test fails)

 private:
  class Pending : public providers::PendingReply {
   public:
    Pending(ScriptedReviewer* owner, Result<protocol::ModelResponse, protocol::ModelError> reply)
        : owner_(owner), reply_(std::move(reply)) {}
    Result<protocol::ModelResponse, protocol::ModelError> Wait() override {
      std::unique_lock<std::mutex> lock(owner_->mu_);
      owner_->waiting_++;
      owner_->most_at_once_ = std::max(owner_->most_at_once_, owner_->waiting_);
      owner_->cv_.notify_all();
      if (owner_->hold > 0) {
        owner_->cv_.wait_for(lock, std::chrono::seconds(10),
                             [&] { return owner_->most_at_once_ >= owner_->hold; });
      }
      owner_->waiting_--;
      return reply_;
    }
    void Cancel() override {}

   private:
    ScriptedReviewer* owner_;
    Result<protocol::ModelResponse, protocol::ModelError> reply_;
  };

  Script script_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  int waiting_ = 0;
  int most_at_once_ = 0;
};

protocol::ModelResponse Verdict(const std::string& better, const std::string& reason) {
  protocol::ModelResponse r;
  r.usage.input_tokens = 1000;
  r.usage.output_tokens = 40;
  protocol::ToolCall call;
  call.id = "c1";
  call.name = "compare_verdict";
  call.arguments = json{{"better", better}, {"reason", reason}};
  call.arguments_json = call.arguments.dump();
  r.tool_calls.push_back(call);
  r.stop_reason = protocol::StopReason::kToolUse;
  return r;
}

protocol::ModelResponse Text(const std::string& text) {
  protocol::ModelResponse r;
  r.text = text;
  r.stop_reason = protocol::StopReason::kEndTurn;
  return r;
}

// The lines of candidate A and B in a comparison's message.
std::pair<int, int> Sizes(const std::string& message) {
  static const std::regex kSize(R"(## Candidate ([AB]): \+(\d+)/)");
  std::pair<int, int> sizes{-1, -1};
  for (auto it = std::sregex_iterator(message.begin(), message.end(), kSize);
       it != std::sregex_iterator(); ++it) {
    ((*it)[1] == "A" ? sizes.first : sizes.second) = std::stoi((*it)[2]);
  }
  return sizes;
}

// Candidates 1..4, seeded 1 first, with 1, 5, 10 and 30 lines.
std::vector<TournamentEntry> FourEntries() {
  std::vector<TournamentEntry> entries;
  int lines[] = {1, 5, 10, 30};
  for (int i = 0; i < 4; ++i) {
    TournamentEntry e;
    e.n = i + 1;
    e.lines_added = lines[i];
    e.files = 1;
    e.summary = "variant " + std::to_string(i + 1);
    e.diff = "diff --git a/f b/f\n+line\n";
    entries.push_back(e);
  }
  return entries;
}

class CollectingSink : public protocol::EventSink {
 public:
  void Publish(const protocol::Event& event) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (const auto* call = std::get_if<protocol::ModelCallFinished>(&event.payload)) {
      ++model_calls;
      cost += call->cost_usd;
    }
  }
  std::mutex mu_;
  int model_calls = 0;
  double cost = 0;
};

TournamentEnv Env(ScriptedReviewer& reviewer, protocol::EventSink& sink) {
  TournamentEnv env;
  env.run_id = "r1";
  env.task = "make out.txt say ok";
  env.reviewer.name = "slow";
  env.reviewer.model.id = "slow-1";
  env.reviewer.model.price_input = 3;
  env.reviewer.model.price_output = 15;
  env.reviewer.client = &reviewer;
  env.events = &sink;
  env.parallel = 2;
  return env;
}

// The reviewer prefers the larger change.
Result<protocol::ModelResponse, protocol::ModelError> PrefersLarger(const std::string& message,
                                                                    int) {
  auto [a, b] = Sizes(message);
  return a >= b ? Verdict("A", fmt::format("{} lines cover more", a))
                : Verdict("B", fmt::format("{} lines cover more", b));
}

TEST(Tournament, TheReviewersVerdictsOrderTheCandidatesAndEachComparisonIsOneCallWithTwoDiffs) {
  ScriptedReviewer reviewer(PrefersLarger);
  CollectingSink sink;
  TournamentResult result = RunTournament(FourEntries(), Env(reviewer, sink));
  EXPECT_EQ(result.champion, 4);
  ASSERT_EQ(result.comparisons.size(), 3u);
  EXPECT_EQ(result.calls, 3);
  EXPECT_EQ(reviewer.calls(), 3);
  EXPECT_EQ(sink.model_calls, 3);
  // 1000 tokens in at $3/M and 40 out at $15/M, three times: counted.
  EXPECT_NEAR(result.cost_usd, 3 * (1000 * 3 + 40 * 15) / 1e6, 1e-12);
  EXPECT_NEAR(sink.cost, result.cost_usd, 1e-12);
  for (const ComparisonRow& c : result.comparisons) {
    EXPECT_EQ(c.decided_by, ComparisonDecider::kReviewer);
    EXPECT_EQ(c.winner, std::max(c.a, c.b) == 4 ? 4 : 3) << c.match;
    EXPECT_EQ(c.calls, 1);
    EXPECT_EQ(c.model, "slow");
    EXPECT_NE(c.reason.find("lines cover more"), std::string::npos);
  }
  // Match 2 (even) shows the worse seed first, against position bias.
  EXPECT_EQ(result.comparisons[0].shown_first, result.comparisons[0].a);
  EXPECT_EQ(result.comparisons[1].shown_first, result.comparisons[1].b);
  EXPECT_EQ(TournamentOrder({1, 2, 3, 4}, result.comparisons), (std::vector<int64_t>{4, 3, 1, 2}));
}

TEST(Tournament, RoundOneComparisonsRunAtOnce) {
  ScriptedReviewer reviewer(PrefersLarger);
  reviewer.hold = 2;  // a reply waits until two are in flight
  CollectingSink sink;
  TournamentResult result = RunTournament(FourEntries(), Env(reviewer, sink));
  EXPECT_EQ(reviewer.most_at_once(), 2);
  EXPECT_EQ(result.champion, 4);
}

TEST(Tournament, AReplyWithoutTheToolIsAskedOnceMoreThenTheScoreDecidesThatPairOnly) {
  // 1 v 4: text twice (no verdict); 2 v 3: text, then a verdict; the final
  // as the reviewer says.
  ScriptedReviewer reviewer([](const std::string& message, int turn)
                                -> Result<protocol::ModelResponse, protocol::ModelError> {
    auto [a, b] = Sizes(message);
    if (std::min(a, b) == 1 && std::max(a, b) == 30) return Text("I think A is nicer.");
    if (std::min(a, b) == 5 && turn == 0) return Text("Let me think.");
    return PrefersLarger(message, turn);
  });
  CollectingSink sink;
  TournamentResult result = RunTournament(FourEntries(), Env(reviewer, sink));
  ASSERT_EQ(result.comparisons.size(), 3u);
  const ComparisonRow& first = result.comparisons[0];
  EXPECT_EQ(first.decided_by, ComparisonDecider::kScore);
  EXPECT_EQ(first.winner, 1);  // the better seed advances
  EXPECT_EQ(first.calls, 2);
  EXPECT_NE(first.reason.find("no verdict after asking twice"), std::string::npos) << first.reason;
  const ComparisonRow& second = result.comparisons[1];
  EXPECT_EQ(second.decided_by, ComparisonDecider::kReviewer);
  EXPECT_EQ(second.winner, 3);
  EXPECT_EQ(second.calls, 2);
  // The final (1 v 3) is the reviewer's again: 3 wins.
  EXPECT_EQ(result.comparisons[2].decided_by, ComparisonDecider::kReviewer);
  EXPECT_EQ(result.champion, 3);
  EXPECT_EQ(result.calls, 5);
}

TEST(Tournament, AFailedCallOrASpentBudgetLetsTheScoreDecideWithoutLosingTheTournament) {
  ScriptedReviewer down([](const std::string&, int)
                            -> Result<protocol::ModelResponse, protocol::ModelError> {
    return Unexpected(protocol::ModelError{protocol::ModelErrorKind::kServer, 500, "down", 2});
  });
  CollectingSink sink;
  TournamentResult failed = RunTournament(FourEntries(), Env(down, sink));
  EXPECT_EQ(failed.champion, 1);
  ASSERT_EQ(failed.comparisons.size(), 3u);
  for (const auto& c : failed.comparisons) {
    EXPECT_EQ(c.decided_by, ComparisonDecider::kScore);
    EXPECT_EQ(c.calls, 1);  // a failed call is not asked again
    EXPECT_NE(c.reason.find("could not be asked: down"), std::string::npos) << c.reason;
  }
  EXPECT_EQ(TournamentOrder({1, 2, 3, 4}, failed.comparisons), (std::vector<int64_t>{1, 2, 3, 4}));

  ScriptedReviewer reviewer(PrefersLarger);
  TournamentEnv env = Env(reviewer, sink);
  env.stop = [] { return std::string("the cost budget is spent"); };
  TournamentResult stopped = RunTournament(FourEntries(), env);
  EXPECT_EQ(reviewer.calls(), 0);
  EXPECT_EQ(stopped.champion, 1);
  for (const auto& c : stopped.comparisons) {
    EXPECT_EQ(c.calls, 0);
    EXPECT_EQ(c.model, "");
    EXPECT_NE(c.reason.find("not compared: the cost budget is spent"), std::string::npos);
  }
}

TEST(Tournament, DiffsAreCappedAndRedactedBeforeTheReviewerSeesThem) {
  std::string seen;
  std::mutex mu;
  ScriptedReviewer reviewer([&](const std::string& message, int turn)
                                -> Result<protocol::ModelResponse, protocol::ModelError> {
    std::lock_guard<std::mutex> lock(mu);
    seen += message;
    return PrefersLarger(message, turn);
  });
  std::vector<TournamentEntry> entries = FourEntries();
  entries.resize(2);
  entries[0].diff = "diff --git a/k b/k\n+key = sk-ant-api03-" + std::string(40, 'x') + "\n";
  entries[1].diff = "diff --git a/big b/big\n" + std::string(100 * 1024, 'y') + "\n";
  CollectingSink sink;
  RunTournament(entries, Env(reviewer, sink));
  EXPECT_EQ(seen.find("sk-ant-api03-"), std::string::npos);
  EXPECT_NE(seen.find("[... the diff is cut at 32 KiB]"), std::string::npos);
  EXPECT_LT(seen.size(), 2 * kMaxComparisonDiffBytes + 4096);
}

VariantRow Passed(int64_t n, int64_t lines) {
  VariantRow v;
  v.run_id = "r1";
  v.n = n;
  v.state = VariantState::kPassed;
  v.tree_hash = "t" + std::to_string(n);
  v.final_checkpoint = "c" + std::to_string(n);
  v.lines_added = lines;
  v.files = 1;
  return v;
}

TEST(RankVariantsWithTournament, TheTournamentOrdersPassingCandidatesAndFailingOnesStayBelow) {
  std::vector<VariantRow> rows = {Passed(1, 1), Passed(2, 5), Passed(3, 10), Passed(4, 30)};
  VariantRow failed;
  failed.n = 5;
  failed.state = VariantState::kFailed;
  failed.tree_hash = "t5";
  rows.push_back(failed);
  std::vector<VariantRow> by_score = RankVariants(rows);
  ASSERT_EQ(by_score[0].n, 1);  // the smallest diff scores best
  std::vector<ComparisonRow> comparisons = {
      Row(1, 1, 1, 4, 4, ComparisonDecider::kScore),  // 4 beat 1: the reviewer gave no verdict
      Row(1, 2, 2, 3, 3),                             // 3 beat 2
      Row(2, 3, 3, 4, 4)};                            // 4 beat 3
  std::vector<VariantRow> ranked = RankVariants(rows, comparisons);
  std::vector<int64_t> order;
  for (const auto& v : ranked) order.push_back(v.n);
  EXPECT_EQ(order, (std::vector<int64_t>{4, 3, 1, 2, 5}));
  EXPECT_EQ(*ranked[0].rank, 1);
  EXPECT_EQ(*ranked[4].rank, 5);
  EXPECT_FALSE(ranked[4].score.has_value());
  // The score stays what it was; the reasons say what the tournament did.
  EXPECT_DOUBLE_EQ(*ranked[2].score, 100.0);
  EXPECT_EQ(ranked[0].reasons.rfind("tournament: beat v1 (by score), v3; won the final", 0), 0u)
      << ranked[0].reasons;
}

}  // namespace
}  // namespace tandem::orchestrator
