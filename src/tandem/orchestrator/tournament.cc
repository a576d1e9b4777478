#include "tandem/orchestrator/tournament.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "tandem/agent/model_call_row.h"
#include "tandem/agent/patch_filter.h"
#include "tandem/base/clock.h"
#include "tandem/base/mutex.h"
#include "tandem/base/redact.h"
#include "tandem/base/strings.h"
#include "tandem/memory/plan_md.h"
#include "tandem/memory/progress_md.h"

namespace tandem::orchestrator {
namespace {

using SteadyClock = std::chrono::steady_clock;
using ledger::ComparisonRow;
using ledger::ComparisonDecider;

// Seeds 1..size in bracket positions: 1 and 2 can meet only in the final,
// 1-4 only in the semi-finals, and so on ([1,4,2,3] for 4).
std::vector<int64_t> StandardOrder(int64_t size) {
  std::vector<int64_t> order = {1};
  while (static_cast<int64_t>(order.size()) < size) {
    int64_t m = static_cast<int64_t>(order.size()) * 2;
    std::vector<int64_t> next;
    for (int64_t s : order) {
      next.push_back(s);
      next.push_back(m + 1 - s);
    }
    order = std::move(next);
  }
  return order;
}

std::string OneLine(const std::string& text, size_t max) {
  std::string line(TrimSpace(text.substr(0, text.find('\n'))));
  if (line.size() > max) {
    size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    line = line.substr(0, cut) + "...";
  }
  return line;
}

// One tournament: the bracket, the comparisons in flight (a jthread each),
// and the rows of those decided.
class Tournament {
 public:
  Tournament(const std::vector<TournamentEntry>& seeds, const TournamentEnv& env)
      : env_(env), bracket_(Numbers(seeds)) {
    for (const TournamentEntry& e : seeds) {
      TournamentEntry shown = e;
      shown.diff = Redactor::Apply(agent::FilterPatch(
          e.diff, {std::string(memory::kPlanFileName), std::string(memory::kProgressFileName)},
          kMaxComparisonDiffBytes));
      shown.summary = Redactor::Apply(OneLine(e.summary, 2000));
      entries_[e.n] = std::move(shown);
    }
  }

  ~Tournament() { running_.clear(); }  // joins

  TournamentResult Run() {
    auto start = SteadyClock::now();
    int parallel = std::max(1, env_.parallel);
    Notice(fmt::format("tournament: {} candidates, {} comparisons in {} round{} by the reviewer "
                       "({}), {} at once",
                       entries_.size(), bracket_.Matches(), bracket_.Rounds(),
                       bracket_.Rounds() == 1 ? "" : "s", env_.reviewer.name, parallel));
    std::deque<Bracket::Match> ready;
    while (!bracket_.Done()) {
      for (const Bracket::Match& m : bracket_.TakeReady()) ready.push_back(m);
      while (!ready.empty() && static_cast<int>(running_.size()) < parallel) {
        Bracket::Match m = ready.front();
        ready.pop_front();
        running_[m.id] = std::jthread([this, m] {
          ComparisonRow row = Compare(m);
          MutexLock lock(mu_);
          done_.push_back(std::move(row));
          cv_.notify_all();
        });
      }
      if (running_.empty()) break;  // nothing ready and nothing running: cannot happen
      std::deque<ComparisonRow> done;
      {
        MutexLock lock(mu_);
        while (done_.empty()) cv_.wait(mu_);
        done.swap(done_);
      }
      for (ComparisonRow& row : done) Settle(std::move(row));
    }
    result_.champion = bracket_.Champion();
    result_.wall_ms = MsSince(start);
    std::sort(result_.comparisons.begin(), result_.comparisons.end(),
              [](const ComparisonRow& x, const ComparisonRow& y) { return x.match < y.match; });
    Notice(fmt::format("tournament: v{} won ({} reviewer call{}, ${:.4f}, {:.1f} s)",
                       result_.champion, result_.calls, result_.calls == 1 ? "" : "s",
                       result_.cost_usd, result_.wall_ms / 1000.0));
    return std::move(result_);
  }

 private:
  static std::vector<int64_t> Numbers(const std::vector<TournamentEntry>& seeds) {
    std::vector<int64_t> ns;
    for (const TournamentEntry& e : seeds) ns.push_back(e.n);
    return ns;
  }

  void Notice(std::string text, protocol::NoticeLevel level = protocol::NoticeLevel::kInfo) {
    env_.events->Publish({{env_.run_id, "", "reviewer"}, WallClockMs(),
                          protocol::Notice{level, std::move(text)}});
  }

  // On the scheduler's thread: the row is stored and its winner advances.
  void Settle(ComparisonRow row) {
    auto it = running_.find(row.match);
    if (it != running_.end()) {
      it->second.join();
      running_.erase(it);
    }
    if (env_.comparisons) {
      Status recorded = env_.comparisons->RecordComparison(row);
      if (!recorded.ok()) {
        Notice("ledger: a tournament comparison not recorded: " + recorded.message(),
               protocol::NoticeLevel::kWarn);
      }
    }
    int64_t loser = row.winner == row.a ? row.b : row.a;
    Notice(fmt::format("tournament round {}: v{} beat v{} ({}): {}", row.round, row.winner, loser,
                       ledger::ToString(row.decided_by), OneLine(row.reason, 160)));
    result_.calls += row.calls;
    result_.cost_usd += row.cost_usd;
    bracket_.Decide(row.match, row.winner);
    result_.comparisons.push_back(std::move(row));
  }

  void RecordCall(const Result<protocol::ModelResponse, protocol::ModelError>& reply,
                  double cost) {
    if (!env_.ledger || env_.run_id.empty()) return;
    const ModelSlot& m = env_.reviewer;
    agent::ModelCallWho who{env_.run_id, std::nullopt, "reviewer", m.provider, m.model.id,
                            m.model.fast_mode};
    Status recorded = env_.ledger->RecordModelCall(reply ? agent::ModelCallRow(who, *reply, cost)
                                                         : agent::ModelCallRow(who, reply.error()));
    if (!recorded.ok()) {
      Notice("ledger: a model call not recorded: " + recorded.message(),
             protocol::NoticeLevel::kWarn);
    }
  }

  // On the comparison's thread: one model call (two when the first reply
  // has no verdict), or the score when there is none.
  ComparisonRow Compare(const Bracket::Match& m) {
    auto start = SteadyClock::now();
    ComparisonRow row;
    row.run_id = env_.run_id;
    row.round = m.round;
    row.match = m.id;
    row.a = m.a;
    row.b = m.b;
    // Even-numbered matches show the worse seed first, so a reviewer's
    // position bias does not favour the seeds.
    row.shown_first = m.id % 2 == 0 ? m.b : m.a;
    int64_t shown_second = row.shown_first == m.a ? m.b : m.a;
    auto by_score = [&](const std::string& why) {
      row.decided_by = ComparisonDecider::kScore;
      row.winner = m.a;
      row.reason = why + "; the better score advances";
      row.wall_ms = static_cast<int64_t>(MsSince(start));
      return row;
    };
    if (env_.interrupts && env_.interrupts->interrupted()) return by_score("not compared: interrupted");
    if (env_.stop) {
      if (std::string why = env_.stop(); !why.empty()) return by_score("not compared: " + why);
    }
    const ModelSlot& reviewer = env_.reviewer;
    protocol::ModelRequest request;
    request.model = reviewer.model.id;
    request.system = ComparisonSystemPrompt();
    request.tools = {CompareVerdictTool()};
    request.max_tokens = static_cast<int>(reviewer.model.max_output_tokens);
    request.messages.push_back(protocol::Message::User(
        ComparisonMessage(env_.task, entries_.at(row.shown_first), entries_.at(shown_second))));
    row.model = reviewer.name;
    std::string error;
    for (int ask = 0; ask < 2; ++ask) {
      std::unique_ptr<providers::PendingReply> pending = reviewer.client->Start(request, nullptr);
      agent::InterruptHub::Handle interrupt = 0;
      if (env_.interrupts) {
        interrupt = env_.interrupts->Subscribe([&pending] { pending->Cancel(); });
      }
      auto reply = pending->Wait();
      if (env_.interrupts) env_.interrupts->Unsubscribe(interrupt);
      double cost = reply ? config::ReplyCostUsd(reviewer.model, *reply) : 0;
      RecordCall(reply, cost);
      ++row.calls;
      if (!reply) {
        return by_score(fmt::format("no verdict: the reviewer ({}) could not be asked: {}",
                                    reviewer.name, reply.error().message));
      }
      row.tokens_in += reply->usage.input_tokens;
      row.tokens_out += reply->usage.output_tokens;
      row.cost_usd += cost;
      env_.events->Publish({{env_.run_id, "", "reviewer"}, WallClockMs(),
                            protocol::ModelCallFinished{reviewer.name, reply->usage,
                                                        reply->timings, cost, reply->retries}});
      protocol::Message answer{protocol::Role::kAssistant, reply->text, reply->tool_calls, {},
                               false};
      std::vector<protocol::Message> results;
      error = "the reviewer answered without the compare_verdict tool call";
      for (const protocol::ToolCall& call : reply->tool_calls) {
        if (call.name != CompareVerdictTool().name) {
          results.push_back(protocol::Message::ToolResult(
              call.id, "unknown tool: answer with compare_verdict", true));
          continue;
        }
        auto verdict = ParseCompareVerdict(call.arguments);
        if (verdict) {
          row.decided_by = ComparisonDecider::kReviewer;
          row.winner = verdict->a_better ? row.shown_first : shown_second;
          row.reason = verdict->reason;
          row.wall_ms = static_cast<int64_t>(MsSince(start));
          return row;
        }
        error = verdict.error().message();
        results.push_back(protocol::Message::ToolResult(call.id, error, true));
      }
      request.messages.push_back(std::move(answer));
      for (protocol::Message& r : results) request.messages.push_back(std::move(r));
      request.messages.push_back(protocol::Message::User(
          "Answer only by calling the compare_verdict tool: better = \"A\" or \"B\", and the "
          "reason."));
    }
    return by_score("no verdict after asking twice: " + error);
  }

  const TournamentEnv& env_;
  std::map<int64_t, TournamentEntry> entries_;  // by n, diffs capped and redacted
  Bracket bracket_;                             // the scheduler's thread only
  std::map<int64_t, std::jthread> running_;     // by match id; the scheduler's thread only
  TournamentResult result_;                     // the scheduler's thread only

  Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<ComparisonRow> done_ GUARDED_BY(mu_);
};

}  // namespace

Bracket::Bracket(std::vector<int64_t> seeds) : seeds_(std::move(seeds)) {
  int64_t n = static_cast<int64_t>(seeds_.size());
  if (n < 2) {
    champion_ = n == 1 ? seeds_[0] : 0;
    return;
  }
  int64_t size = 1;
  while (size < n) size *= 2;
  std::vector<int64_t> order = StandardOrder(size);
  for (int64_t slots = size / 2; slots >= 1; slots /= 2) {
    rounds_.emplace_back(static_cast<size_t>(slots));
  }
  std::vector<Node>& first = rounds_[0];
  for (size_t k = 0; k < first.size(); ++k) {
    for (size_t s = 0; s < 2; ++s) {
      int64_t seed = order[2 * k + s];
      first[k].side[s] = seed <= n ? seeds_[static_cast<size_t>(seed - 1)] : 0;
    }
  }
  // Ids: round 1's real matches, then every later slot (a bye never meets a
  // bye: there are fewer byes than round-1 slots).
  for (size_t r = 0; r < rounds_.size(); ++r) {
    for (Node& node : rounds_[r]) {
      if (r > 0 || (node.side[0] != 0 && node.side[1] != 0)) node.id = ++matches_;
    }
  }
  for (size_t k = 0; k < first.size(); ++k) {
    if (first[k].id == 0) {
      first[k].winner = first[k].side[0] != 0 ? first[k].side[0] : first[k].side[1];
      Advance(0, k, first[k].winner);
    }
  }
}

void Bracket::Advance(size_t round, size_t k, int64_t winner) {
  if (round + 1 >= rounds_.size()) {
    champion_ = winner;
    return;
  }
  rounds_[round + 1][k / 2].side[k % 2] = winner;
}

std::vector<Bracket::Match> Bracket::TakeReady() {
  std::vector<Match> ready;
  auto seed = [&](int64_t v) {
    return std::find(seeds_.begin(), seeds_.end(), v) - seeds_.begin();
  };
  for (size_t r = 0; r < rounds_.size(); ++r) {
    for (Node& node : rounds_[r]) {
      if (node.id == 0 || node.handed || node.side[0] == 0 || node.side[1] == 0) continue;
      node.handed = true;
      Match m;
      m.id = node.id;
      m.round = static_cast<int64_t>(r) + 1;
      bool first_better = seed(node.side[0]) < seed(node.side[1]);
      m.a = first_better ? node.side[0] : node.side[1];
      m.b = first_better ? node.side[1] : node.side[0];
      ready.push_back(m);
    }
  }
  std::sort(ready.begin(), ready.end(), [](const Match& x, const Match& y) { return x.id < y.id; });
  return ready;
}

void Bracket::Decide(int64_t id, int64_t winner) {
  for (size_t r = 0; r < rounds_.size(); ++r) {
    for (size_t k = 0; k < rounds_[r].size(); ++k) {
      Node& node = rounds_[r][k];
      if (node.id != id) continue;
      bool a_side = node.side[0] != 0 && winner == node.side[0];
      bool b_side = node.side[1] != 0 && winner == node.side[1];
      if (node.winner != 0 || (!a_side && !b_side)) return;
      node.winner = winner;
      Advance(r, k, winner);
      return;
    }
  }
}

bool Bracket::Done() const { return champion_ != 0; }
int64_t Bracket::Champion() const { return champion_; }
int64_t Bracket::Rounds() const { return static_cast<int64_t>(rounds_.size()); }
int64_t Bracket::Matches() const { return matches_; }

TournamentResult RunTournament(const std::vector<TournamentEntry>& seeds,
                               const TournamentEnv& env) {
  if (seeds.size() < 2 || !env.reviewer.client || !env.events) {
    TournamentResult result;
    result.champion = seeds.empty() ? 0 : seeds[0].n;
    return result;
  }
  Tournament tournament(seeds, env);
  return tournament.Run();
}

std::vector<int64_t> TournamentOrder(const std::vector<int64_t>& seeds,
                                     const std::vector<ComparisonRow>& comparisons) {
  std::map<int64_t, size_t> seed;
  for (size_t i = 0; i < seeds.size(); ++i) seed.emplace(seeds[i], i);
  std::map<int64_t, int64_t> reached;
  for (const ComparisonRow& c : comparisons) {
    if (!seed.count(c.a) || !seed.count(c.b) || (c.winner != c.a && c.winner != c.b)) continue;
    int64_t loser = c.winner == c.a ? c.b : c.a;
    reached[loser] = std::max(reached[loser], c.round);
    reached[c.winner] = std::max(reached[c.winner], c.round + 1);
  }
  std::vector<int64_t> order = seeds;
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
    auto rx = reached.find(x), ry = reached.find(y);
    int64_t vx = rx == reached.end() ? 0 : rx->second;
    int64_t vy = ry == reached.end() ? 0 : ry->second;
    if (vx != vy) return vx > vy;
    return seed[x] < seed[y];
  });
  return order;
}

std::string TournamentNote(int64_t n, const std::vector<ComparisonRow>& comparisons) {
  int64_t rounds = 0;
  for (const ComparisonRow& c : comparisons) rounds = std::max(rounds, c.round);
  std::vector<std::string> beat;
  std::string lost;
  bool won_final = false;
  for (const ComparisonRow& c : comparisons) {
    if (c.a != n && c.b != n) continue;
    std::string how = c.decided_by == ComparisonDecider::kScore ? " (by score)" : "";
    if (c.winner == n) {
      beat.push_back(fmt::format("v{}{}", c.winner == c.a ? c.b : c.a, how));
      if (c.round == rounds) won_final = true;
    } else {
      lost = fmt::format("lost to v{} in round {} of {}{}", c.winner, c.round, rounds, how);
    }
  }
  if (beat.empty() && lost.empty()) return "";
  std::string note = "tournament: ";
  if (!beat.empty()) note += fmt::format("beat {}", fmt::join(beat, ", "));
  if (!lost.empty()) note += (beat.empty() ? "" : "; ") + lost;
  if (won_final) note += "; won the final";
  return note;
}

const std::string& ComparisonSystemPrompt() {
  static const std::string kPrompt =
      R"(You are the reviewer of tandem, judging a tournament between candidate changes. Several fast executor models attempted the same task independently, each in its own copy of the repository; every candidate shown to you already passes the repository's gates (tests, linters). You see the task and two candidates' diffs, A and B.

Decide which change a careful maintainer would rather merge: the one that does what the task asks (and meets its acceptance) more correctly and completely, handles the cases the task implies, fits the repository's style, and changes nothing the task did not ask for. Neither size nor the order shown is a merit in itself.

Answer only by calling the compare_verdict tool, once: better = "A" or "B", and reason = one or two sentences saying why.)";
  return kPrompt;
}

const protocol::ToolSpec& CompareVerdictTool() {
  static const protocol::ToolSpec kTool{
      "compare_verdict",
      "Your verdict on two candidate changes for the task: which is better (A or B) and why.",
      nlohmann::json::parse(R"({
  "type": "object",
  "properties": {
    "better": {"type": "string", "enum": ["A", "B"]},
    "reason": {"type": "string", "description": "one or two sentences: why it is the better change"}
  },
  "required": ["better", "reason"]
})")};
  return kTool;
}

Result<CompareVerdict> ParseCompareVerdict(const nlohmann::json& arguments) {
  if (!arguments.is_object()) return InvalidArgument("the compare_verdict arguments are not an object");
  auto better = arguments.find("better");
  if (better == arguments.end() || !better->is_string()) {
    return InvalidArgument("the compare_verdict call has no `better` (\"A\" or \"B\")");
  }
  std::string which(TrimSpace(better->get<std::string>()));
  if (which.size() != 1 || (which[0] != 'A' && which[0] != 'B' && which[0] != 'a' &&
                            which[0] != 'b')) {
    return InvalidArgument("the compare_verdict call's `better` is '" + OneLine(which, 40) +
                           "', not \"A\" or \"B\"");
  }
  CompareVerdict verdict;
  verdict.a_better = which[0] == 'A' || which[0] == 'a';
  if (auto reason = arguments.find("reason"); reason != arguments.end() && reason->is_string()) {
    verdict.reason = std::string(TrimSpace(reason->get<std::string>()));
  }
  if (verdict.reason.empty()) verdict.reason = "(no reason given)";
  return verdict;
}

std::string ComparisonMessage(const std::string& task, const TournamentEntry& a,
                              const TournamentEntry& b) {
  std::string out = "Task:\n" + task + "\n";
  auto candidate = [&](const char* name, const TournamentEntry& e) {
    out += fmt::format("\n## Candidate {}: +{}/-{} lines in {} file{}\n", name, e.lines_added,
                       e.lines_removed, e.files, e.files == 1 ? "" : "s");
    out += "The executor's summary: " + (e.summary.empty() ? std::string("(none)") : e.summary) +
           "\n\n";
    out += e.diff.empty() ? "(no diff)\n" : e.diff;
    if (!out.ends_with('\n')) out += '\n';
  };
  candidate("A", a);
  candidate("B", b);
  out += "\nWhich candidate is the better change for the task? Call compare_verdict.\n";
  return out;
}

}  // namespace tandem::orchestrator
