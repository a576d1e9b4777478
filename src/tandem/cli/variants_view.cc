#include "tandem/cli/variants_view.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <set>

#include <fmt/format.h>

#include "tandem/base/clock.h"

namespace tandem::cli {
namespace {

using ledger::VariantState;

std::string StateLabel(VariantState s) {
  switch (s) {
    case VariantState::kRunning: return "run";
    case VariantState::kPassed: return "pass";
    case VariantState::kFailed: return "fail";
    case VariantState::kCancelled: return "cancel";
    case VariantState::kInterrupted: return "intr";
    case VariantState::kError: return "error";
  }
  return "?";
}

std::string Fit(const std::string& s, size_t width) {
  if (s.size() <= width) return s;
  if (width <= 1) return s.substr(0, width);
  return s.substr(0, width - 1) + "~";
}

// Breaks `text` into lines of at most `width` bytes at spaces.
std::string Wrap(const std::string& text, int width) {
  std::string out, line;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.size() + 1 + word.size() > static_cast<size_t>(width)) {
      out += line + "\n";
      line = "  ";
    }
    line += (line.empty() || line == "  " ? "" : " ") + Fit(word, static_cast<size_t>(width) - 2);
  }
  if (!line.empty()) out += line + "\n";
  return out;
}

std::string Cost(double usd) {
  return usd >= 10 ? fmt::format("${:.2f}", usd) : fmt::format("${:.4f}", usd);
}

std::string Wall(int64_t ms) {
  if (ms < 60'000) return fmt::format("{:.1f}s", ms / 1000.0);
  return fmt::format("{}m{:02}s", ms / 60'000, (ms / 1000) % 60);
}

struct Record {
  int wins = 0;
  int losses = 0;
};

// Each variant's wins and losses in the tournament.
std::map<int64_t, Record> Records(const std::vector<ledger::ComparisonRow>& comparisons) {
  std::map<int64_t, Record> records;
  for (const auto& c : comparisons) {
    int64_t loser = c.winner == c.a ? c.b : c.a;
    records[c.winner].wins++;
    records[loser].losses++;
  }
  return records;
}

}  // namespace

Result<std::unique_ptr<ledger::FanoutLedger>, ExitCode> OpenFanoutLedger(
    const ledger::Ledger& ledger, std::FILE* err) {
  auto opened = ledger::FanoutLedger::Open(ledger, WallClockMs);
  if (!opened) {
    fmt::print(err, "tandem: ledger: {}\n", opened.error().message());
    return kExitInternal;
  }
  return std::move(*opened);
}

int TerminalWidth() {
  if (const char* c = std::getenv("COLUMNS")) {
    int n = std::atoi(c);
    if (n >= 40) return n;
  }
  struct winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) return ws.ws_col;
  return 80;
}

std::string CompactCount(int64_t n) {
  if (n < 1000) return std::to_string(n);
  if (n < 1'000'000) return fmt::format("{:.1f}k", n / 1000.0);
  return fmt::format("{:.1f}M", n / 1'000'000.0);
}

std::string FormatVariantsTable(const ledger::RunRow& run,
                                const std::vector<ledger::VariantRow>& ranked,
                                const std::vector<ledger::PickRecord>& picks, int width,
                                const std::vector<ledger::ComparisonRow>& comparisons) {
  width = std::max(width, 80);
  int passed = 0;
  double cost = 0;
  std::set<std::string> trees;
  for (const auto& v : ranked) {
    cost += v.cost_usd;
    if (v.state == VariantState::kPassed) {
      ++passed;
      trees.insert(v.tree_hash);
    }
  }
  std::string out = fmt::format("fan-out {} · {} variants · {}\n", run.id, ranked.size(),
                                protocol::Name(run.outcome));
  out += Fit("task: " + run.goal.substr(0, run.goal.find('\n')), static_cast<size_t>(width)) + "\n";
  out += fmt::format("{} passed · {} distinct passing tree{} · {} spent", passed, trees.size(),
                     trees.size() == 1 ? "" : "s", Cost(cost));
  for (const auto& p : picks) {
    out += fmt::format(" · {} v{}", p.applied ? "picked" : "refused", p.variant);
  }
  out += "\n";
  std::map<int64_t, Record> records = Records(comparisons);
  bool tournament = !comparisons.empty();
  if (tournament) {
    int by_score = 0;
    double spent = 0;
    for (const auto& c : comparisons) {
      by_score += c.decided_by == ledger::ComparisonDecider::kScore;
      spent += c.cost_usd;
    }
    std::string model;
    for (const auto& c : comparisons) {
      if (!c.model.empty()) model = c.model;
    }
    out += Fit(fmt::format("tournament: {} comparison{} by {}{} · {} · ranks the passing ones",
                           comparisons.size(), comparisons.size() == 1 ? "" : "s",
                           model.empty() ? "the score" : model,
                           by_score > 0 ? fmt::format(" ({} by score)", by_score) : "", Cost(spent)),
               static_cast<size_t>(width)) +
           "\n";
  }
  out += "\n";
  bool wide = width >= 120;
  // The w-l column takes its 4 columns from the model's.
  size_t model_w = (wide ? 20 : 12) - (tournament ? 4 : 0);
  std::string head = fmt::format("{:>4} {:<4} {:<{}} {:>4} {:<6} {:>9} {:>5} {:>6} {:>7} {:>6} {:>5}",
                                 "rank", "var", "model", model_w, "temp", "gates", "+/-", "files",
                                 "tokens", "cost", "time", "score");
  if (tournament) head += fmt::format(" {:>3}", "w-l");
  size_t fixed = head.size();
  bool approach_col = wide && static_cast<size_t>(width) > fixed + 12;
  if (approach_col) head += "  approach";
  out += head + "\n";
  for (const auto& v : ranked) {
    std::string rank = v.rank ? std::to_string(*v.rank) : (v.duplicate_of ? "=" : "-");
    std::string temp = v.temperature ? fmt::format("{:.1f}", *v.temperature) : "def";
    std::string lines = fmt::format("+{}/-{}", v.lines_added, v.lines_removed);
    std::string score = v.score ? fmt::format("{:.1f}", *v.score) : "-";
    std::string row = fmt::format(
        "{:>4} {:<4} {:<{}} {:>4} {:<6} {:>9} {:>5} {:>6} {:>7} {:>6} {:>5}", rank,
        "v" + std::to_string(v.n), Fit(v.model, model_w), model_w, temp, StateLabel(v.state),
        Fit(lines, 9), v.files, CompactCount(v.tokens_in + v.tokens_out), Cost(v.cost_usd),
        Wall(v.wall_ms), score);
    if (tournament) {
      auto r = records.find(v.n);
      row += fmt::format(" {:>3}", r == records.end()
                                       ? "-"
                                       : fmt::format("{}-{}", r->second.wins, r->second.losses));
    }
    if (approach_col) {
      row += "  " + Fit(v.approach.substr(0, v.approach.find('\n')),
                        static_cast<size_t>(width) - fixed - 2);
    }
    out += row + "\n";
    if (!approach_col && !v.approach.empty()) {
      out += Fit("          approach: " + v.approach.substr(0, v.approach.find('\n')),
                 static_cast<size_t>(width)) +
             "\n";
    }
  }
  for (const auto& v : ranked) {
    if (v.rank && *v.rank == 1) out += "\n" + Wrap(fmt::format("why v{} ranks first: {}", v.n, v.reasons), width);
  }
  out += "\n`tandem variants show VARIANT` shows a variant's reasons, diff and gate output;\n"
         "`tandem pick VARIANT [--only PATH...]` applies it (`tandem undo` reverts).\n";
  return out;
}

nlohmann::json VariantsToJson(const ledger::RunRow& run,
                              const std::vector<ledger::VariantRow>& ranked,
                              const std::vector<ledger::PickRecord>& picks,
                              const std::vector<ledger::ComparisonRow>& comparisons) {
  std::map<int64_t, Record> records = Records(comparisons);
  nlohmann::json variants = nlohmann::json::array();
  for (const auto& v : ranked) {
    nlohmann::json j = {{"n", v.n},
                        {"id", "v" + std::to_string(v.n)},
                        {"rank", v.rank ? nlohmann::json(*v.rank) : nlohmann::json(nullptr)},
                        {"score", v.score ? nlohmann::json(*v.score) : nlohmann::json(nullptr)},
                        {"state", ledger::ToString(v.state)},
                        {"model", v.model},
                        {"temperature", v.temperature ? nlohmann::json(*v.temperature)
                                                      : nlohmann::json(nullptr)},
                        {"approach", v.approach},
                        {"duplicate_of", v.duplicate_of ? nlohmann::json(*v.duplicate_of)
                                                        : nlohmann::json(nullptr)},
                        {"tree", v.tree_hash},
                        {"final_checkpoint", v.final_checkpoint},
                        {"lines_added", v.lines_added},
                        {"lines_removed", v.lines_removed},
                        {"files", v.files},
                        {"tokens_in", v.tokens_in},
                        {"tokens_out", v.tokens_out},
                        {"cost_usd", v.cost_usd},
                        {"wall_ms", v.wall_ms},
                        {"gate_ms", v.gate_ms},
                        {"reasons", v.reasons},
                        {"detail", v.detail}};
    auto r = records.find(v.n);
    j["tournament"] = r == records.end() ? nlohmann::json(nullptr)
                                         : nlohmann::json{{"wins", r->second.wins},
                                                          {"losses", r->second.losses}};
    variants.push_back(std::move(j));
  }
  nlohmann::json p = nlohmann::json::array();
  for (const auto& pick : picks) {
    p.push_back({{"variant", pick.variant},
                 {"rank", pick.rank ? nlohmann::json(*pick.rank) : nlohmann::json(nullptr)},
                 {"applied", pick.applied},
                 {"paths", pick.paths},
                 {"pick_run", pick.pick_run_id},
                 {"reason", pick.reason},
                 {"waited_ms", pick.waited_ms}});
  }
  // The whole fan-out's spend (approaches, variants, tournament): the run's
  // once it ended, else what the rows say so far.
  double cost = 0;
  for (const auto& v : ranked) cost += v.cost_usd;
  for (const auto& c : comparisons) cost += c.cost_usd;
  if (run.ended_at) cost = run.totals.cost_usd;
  return {{"run", run.id},
          {"task", run.goal},
          {"outcome", protocol::Name(run.outcome)},
          {"cost_usd", cost},
          {"base_checkpoint", run.base_checkpoint},
          {"variants", std::move(variants)},
          {"picks", std::move(p)},
          {"comparisons", ComparisonsToJson(comparisons)}};
}

nlohmann::json ComparisonsToJson(const std::vector<ledger::ComparisonRow>& comparisons) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : comparisons) {
    out.push_back({{"round", c.round},
                   {"match", c.match},
                   {"a", c.a},
                   {"b", c.b},
                   {"shown_first", c.shown_first},
                   {"winner", c.winner},
                   {"decided_by", ledger::ToString(c.decided_by)},
                   {"reason", c.reason},
                   {"model", c.model},
                   {"calls", c.calls},
                   {"tokens_in", c.tokens_in},
                   {"tokens_out", c.tokens_out},
                   {"cost_usd", c.cost_usd},
                   {"wall_ms", c.wall_ms}});
  }
  return out;
}

FanoutSummary SummarizeFanout(const std::string& plan_run, const ledger::RunRow& fanout,
                              const std::vector<ledger::VariantRow>& ranked) {
  FanoutSummary f;
  f.run = fanout;
  std::string rest = fanout.id.size() > plan_run.size() + 1 ? fanout.id.substr(plan_run.size() + 1)
                                                            : fanout.id;
  f.task = rest;
  if (size_t dot = rest.rfind('.'); dot != std::string::npos && dot + 1 < rest.size() &&
                                    rest.find_first_not_of("0123456789", dot + 1) == std::string::npos &&
                                    rest.size() - dot - 1 <= 9) {
    f.task = rest.substr(0, dot);
    f.attempt = std::stoll(rest.substr(dot + 1));
  }
  double spent = 0;
  for (const ledger::VariantRow& v : ranked) {
    ++f.variants;
    ++f.states[std::string(ledger::ToString(v.state))];
    spent += v.cost_usd;
    if (v.state != VariantState::kPassed) continue;
    ++f.passed;
    if (v.rank && *v.rank == 1) f.winner = v.n;
  }
  f.cost_usd = fanout.ended_at ? fanout.totals.cost_usd : spent;
  return f;
}

std::string FormatFanoutsTable(const ledger::RunRow& plan_run,
                               const std::vector<FanoutSummary>& fanouts, int width) {
  width = std::max(width, 80);
  std::string out = fmt::format("run {} ({}) · {} fan-out{} (plan.md tasks with `variants: N`)\n",
                                plan_run.id, plan_run.kind, fanouts.size(),
                                fanouts.size() == 1 ? "" : "s");
  out += Fit("goal: " + plan_run.goal.substr(0, plan_run.goal.find('\n')),
             static_cast<size_t>(width)) +
         "\n\n";
  out += fmt::format("{:<10} {:>3} {:<11} {:>6} {:<4} {:>8}  {}\n", "task", "try", "outcome",
                     "passed", "win", "cost", "fan-out");
  for (const FanoutSummary& f : fanouts) {
    out += fmt::format("{:<10} {:>3} {:<11} {:>6} {:<4} {:>8}  {}\n", Fit(f.task, 10),
                       f.attempt > 0 ? std::to_string(f.attempt) : "-",
                       protocol::Name(f.run.outcome),
                       fmt::format("{}/{}", f.passed, f.variants),
                       f.winner ? "v" + std::to_string(*f.winner) : "-", Cost(f.cost_usd),
                       f.run.id);
  }
  out += "\n`tandem variants FANOUT` ranks one fan-out's variants;\n"
         "`tandem pick FANOUT/N` applies one of them (`tandem undo` reverts).\n";
  return out;
}

nlohmann::json FanoutsToJson(const ledger::RunRow& plan_run,
                             const std::vector<FanoutSummary>& fanouts) {
  nlohmann::json list = nlohmann::json::array();
  for (const FanoutSummary& f : fanouts) {
    list.push_back({{"id", f.run.id},
                    {"task", f.task},
                    {"attempt", f.attempt},
                    {"outcome", protocol::Name(f.run.outcome)},
                    {"goal", f.run.goal},
                    {"variants", f.variants},
                    {"passed", f.passed},
                    {"states", f.states},
                    {"winner", f.winner ? nlohmann::json(*f.winner) : nlohmann::json(nullptr)},
                    {"cost_usd", f.cost_usd}});
  }
  return {{"run", plan_run.id},
          {"kind", plan_run.kind},
          {"goal", plan_run.goal},
          {"fanouts", std::move(list)}};
}

Result<VariantRef> ResolveVariant(ledger::Ledger& ledger, const std::string& text,
                                  bool run_only) {
  auto number = [](std::string s) -> std::optional<int64_t> {
    if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) s = s.substr(1);
    if (s.empty() || s.size() > 3 || s.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    return std::stoll(s);
  };
  VariantRef ref;
  std::string rest = text;
  size_t slash = text.find('/');
  size_t dot = text.rfind(".v");
  if (slash != std::string::npos) {
    ref.run_id = text.substr(0, slash);
    rest = text.substr(slash + 1);
  } else if (dot != std::string::npos && dot > 0) {
    ref.run_id = text.substr(0, dot);
    rest = text.substr(dot + 1);
  } else if (run_only) {
    ref.run_id = text;
    rest.clear();
  }
  if (!rest.empty()) {
    auto n = number(rest);
    if (!n || *n < 1) {
      return InvalidArgument("'" + text +
                             "' is not a variant: expected N, vN, RUN/N or RUN.vN (see `tandem "
                             "variants`)");
    }
    ref.n = *n;
  } else if (!run_only) {
    return InvalidArgument("name a variant: N, vN, RUN/N or RUN.vN (see `tandem variants`)");
  }
  if (ref.run_id.empty()) {
    auto last = TRY(ledger.LastRun("fanout"));
    if (!last) return NotFound("no fan-out in this repository yet (`tandem do --variants N`)");
    ref.run_id = last->id;
  } else {
    auto run = TRY(ledger.GetRun(ref.run_id));
    if (!run || run->kind != "fanout") return NotFound("no fan-out run " + ref.run_id);
  }
  return ref;
}

}  // namespace tandem::cli
