// tandem variants [RUN] [--json]: a fan-out's variants, ranked (the last
// fan-out by default); RUN may be a plan run (`tandem run`), whose tasks'
// fan-outs are listed (or shown, when there is one). tandem variants show
// VARIANT: one variant's reasons, diff and gate output.
#include <fmt/format.h>

#include <map>

#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/runtime.h"
#include "tandem/cli/variants_view.h"
#include "tandem/orchestrator/fanout.h"
#include "tandem/workspace/workspace.h"

namespace tandem::cli {
namespace {

struct VariantsOptions {
  std::string run;
  std::string variant;
  bool json = false;
};

// Fan-out `run_id`'s variants, ranked: the table or JSON.
int ShowFanout(ledger::Ledger& ledger, ledger::FanoutLedger& fan, const std::string& run_id,
               bool json) {
  auto run = ledger.GetRun(run_id);
  auto ranked = orchestrator::LoadRankedFanout(fan, run_id);
  auto picks = fan.ListPicks(run_id);
  if (!run || !*run || !ranked || !picks) {
    fmt::print(stderr, "tandem: ledger: {}\n",
               !run ? run.error().message() : !ranked ? ranked.error().message()
                                                       : !picks ? picks.error().message()
                                                                : "run not found");
    return kExitInternal;
  }
  if (json) {
    nlohmann::json j = VariantsToJson(**run, ranked->variants, *picks, ranked->comparisons);
    // --approaches: the planner's call(s), part of the fan-out's spend.
    auto planner = fan.CallsByRole(run_id, "planner");
    if (!planner) {
      fmt::print(stderr, "tandem: ledger: {}\n", planner.error().message());
      return kExitInternal;
    }
    j["approaches"] = planner->calls == 0
                          ? nlohmann::json(nullptr)
                          : nlohmann::json{{"model", planner->model},
                                           {"calls", planner->calls},
                                           {"tokens_in", planner->tokens_in},
                                           {"tokens_out", planner->tokens_out},
                                           {"cost_usd", planner->cost_usd}};
    fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    fmt::print("{}", FormatVariantsTable(**run, ranked->variants, *picks, TerminalWidth(),
                                         ranked->comparisons));
  }
  return kExitSuccess;
}

// A plan run's fan-outs (its tasks with `variants: N`): one line each, or
// the fan-out itself when there is exactly one.
int ListPlanFanouts(ledger::Ledger& ledger, ledger::FanoutLedger& fan, const ledger::RunRow& run,
                    bool json) {
  auto fanouts = fan.FanoutsOf(run.id);
  if (!fanouts) {
    fmt::print(stderr, "tandem: ledger: {}\n", fanouts.error().message());
    return kExitInternal;
  }
  if (fanouts->empty()) {
    fmt::print(stderr,
               "tandem: run {} ({}) has no fan-out: none of its tasks has `variants: N` "
               "(`tandem variants` alone shows the last fan-out)\n",
               run.id, run.kind);
    return kExitUsage;
  }
  if (fanouts->size() == 1) return ShowFanout(ledger, fan, fanouts->front().id, json);
  std::vector<FanoutSummary> summaries;
  for (const ledger::RunRow& f : *fanouts) {
    auto ranked = orchestrator::LoadRankedFanout(fan, f.id);
    if (!ranked) {
      fmt::print(stderr, "tandem: ledger: {}\n", ranked.error().message());
      return kExitInternal;
    }
    summaries.push_back(SummarizeFanout(run.id, f, ranked->variants));
  }
  if (json) {
    fmt::print("{}\n", FanoutsToJson(run, summaries)
                           .dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    fmt::print("{}", FormatFanoutsTable(run, summaries, TerminalWidth()));
  }
  return kExitSuccess;
}

int RunVariantsList(const std::string& root, const VariantsOptions& o) {
  auto ledger = OpenLedger(root);
  if (!ledger) return ledger.error();
  auto fan = OpenFanoutLedger(**ledger);
  if (!fan) return fan.error();
  if (!o.run.empty()) {
    // A run named whole: a fan-out, or a plan run whose tasks fanned out.
    auto named = (*ledger)->GetRun(o.run);
    if (!named) {
      fmt::print(stderr, "tandem: ledger: {}\n", named.error().message());
      return kExitInternal;
    }
    if (*named && (*named)->kind == "fanout") return ShowFanout(**ledger, **fan, o.run, o.json);
    if (*named) return ListPlanFanouts(**ledger, **fan, **named, o.json);
  }
  auto ref = ResolveVariant(**ledger, o.run, /*run_only=*/true);
  if (!ref) {
    fmt::print(stderr, "tandem: {}\n", ref.error().message());
    return kExitUsage;
  }
  return ShowFanout(**ledger, **fan, ref->run_id, o.json);
}

int RunVariantsShow(const std::string& root, const VariantsOptions& o) {
  auto ledger = OpenLedger(root);
  if (!ledger) return ledger.error();
  auto fan = OpenFanoutLedger(**ledger);
  if (!fan) return fan.error();
  auto ref = ResolveVariant(**ledger, o.variant, /*run_only=*/false);
  if (!ref) {
    fmt::print(stderr, "tandem: {}\n", ref.error().message());
    return kExitUsage;
  }
  auto run = (*ledger)->GetRun(ref->run_id);
  auto loaded = orchestrator::LoadRankedFanout(**fan, ref->run_id);
  if (!run || !*run || !loaded) {
    fmt::print(stderr, "tandem: ledger: {}\n",
               !run ? run.error().message() : !loaded ? loaded.error().message() : "no such run");
    return kExitInternal;
  }
  const std::vector<ledger::VariantRow>& ranked = loaded->variants;
  // The comparisons this variant was in, in match order.
  std::vector<ledger::ComparisonRow> matches;
  for (const auto& c : loaded->comparisons) {
    if (c.a == ref->n || c.b == ref->n) matches.push_back(c);
  }
  const ledger::VariantRow* v = nullptr;
  for (const auto& r : ranked) {
    if (r.n == ref->n) v = &r;
  }
  if (!v) {
    fmt::print(stderr, "tandem: fan-out {} has no variant {} (it has {})\n", ref->run_id, ref->n,
               ranked.size());
    return kExitUsage;
  }
  std::string patch;
  if (!v->final_checkpoint.empty()) {
    auto ws = workspace::Workspace::Open(root);
    auto base = workspace::CheckpointId::Parse((*run)->base_checkpoint);
    auto final = workspace::CheckpointId::Parse(v->final_checkpoint);
    if (!ws || !base || !final) {
      fmt::print(stderr, "tandem: cannot read variant {}'s tree\n", v->n);
      return kExitInternal;
    }
    auto p = (*ws)->Patch(*base, *final);
    if (!p) {
      fmt::print(stderr, "tandem: variant {}'s diff: {} (was it collected by `tandem gc`?)\n",
                 v->n, p.error().message());
      return kExitInternal;
    }
    patch = std::move(*p);
  }
  auto gate_rows = (*fan)->TaskGateRuns(ref->run_id, "v" + std::to_string(v->n));
  // The last verdict each gate gave (a cache hit repeats the one before),
  // in the order the gates first ran.
  std::vector<std::string> order;
  std::map<std::string, ledger::GateRunRecord> last;
  for (const auto& g : gate_rows ? *gate_rows : std::vector<ledger::GateRunRecord>{}) {
    if (!last.count(g.gate)) {
      order.push_back(g.gate);
    } else if (g.verdict == ledger::GateVerdict::kCached) {
      continue;  // the same verdict again, served from the cache
    }
    last[g.gate] = g;
  }
  if (o.json) {
    nlohmann::json j = VariantsToJson(**run, {*v}, {}, matches)["variants"][0];
    j["run"] = ref->run_id;
    j["comparisons"] = ComparisonsToJson(matches);
    j["diff"] = patch;
    nlohmann::json gates = nlohmann::json::array();
    for (const auto& name : order) {
      const auto& g = last[name];
      gates.push_back({{"gate", g.gate},
                       {"verdict", ledger::ToString(g.verdict)},
                       {"duration_ms", g.duration_ms},
                       {"exit_code", g.exit_code ? nlohmann::json(*g.exit_code) : nlohmann::json(nullptr)},
                       {"output", g.output_excerpt}});
    }
    j["gates"] = std::move(gates);
    fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return kExitSuccess;
  }
  fmt::print("variant v{} of fan-out {} · {} · rank {}{}\n", v->n, ref->run_id,
             ledger::ToString(v->state),
             v->rank ? std::to_string(*v->rank) : (v->duplicate_of ? "= v" + std::to_string(*v->duplicate_of) : "-"),
             v->score ? fmt::format(" · score {:.1f}", *v->score) : "");
  fmt::print("model {} · temperature {}{}\n", v->model,
             v->temperature ? fmt::format("{:.1f}", *v->temperature) : "default",
             v->approach.empty() ? "" : " · approach: " + v->approach);
  fmt::print("+{}/-{} in {} file(s) · {} tokens · ${:.4f} · {:.1f} s (gates {:.1f} s)\n",
             v->lines_added, v->lines_removed, v->files, CompactCount(v->tokens_in + v->tokens_out),
             v->cost_usd, v->wall_ms / 1000.0, v->gate_ms / 1000.0);
  fmt::print("why: {}\n", v->reasons);
  if (!v->detail.empty() && v->state != ledger::VariantState::kPassed) {
    fmt::print("detail: {}\n", v->detail);
  }
  if (!v->final_checkpoint.empty()) {
    fmt::print("tree {} · checkpoint {} (refs/tandem/runs/{}.v{}/)\n", v->tree_hash.substr(0, 12),
               v->final_checkpoint.substr(0, 12), ref->run_id, v->n);
  }
  if (!matches.empty()) {
    int wins = 0;
    for (const auto& c : matches) wins += c.winner == v->n;
    int losses = static_cast<int>(matches.size()) - wins;
    fmt::print("\n── tournament: {} win{}, {} loss{} ──\n", wins, wins == 1 ? "" : "s", losses,
               losses == 1 ? "" : "es");
    for (const auto& c : matches) {
      int64_t other = c.a == v->n ? c.b : c.a;
      fmt::print("round {}: {} v{} ({}{}): {}\n", c.round, c.winner == v->n ? "beat" : "lost to",
                 other, ledger::ToString(c.decided_by),
                 c.decided_by == ledger::ComparisonDecider::kReviewer ? " " + c.model : "",
                 c.reason);
    }
  }
  fmt::print("\n── diff ──\n{}", patch.empty() ? "(no change)\n" : patch);
  fmt::print("\n── gates ──\n");
  if (order.empty()) fmt::print("(no gate ran)\n");
  for (const auto& name : order) {
    const auto& g = last[name];
    fmt::print("{}: {} ({:.1f} s)\n", g.gate, ledger::ToString(g.verdict), g.duration_ms / 1000.0);
    if (!g.output_excerpt.empty()) fmt::print("{}\n", g.output_excerpt);
  }
  return kExitSuccess;
}

}  // namespace

CommandRun SetupVariants(CLI::App& app) {
  auto o = std::make_shared<VariantsOptions>();
  app.add_option("run", o->run,
                 "The fan-out run (default: the last one), or a plan run: its tasks' fan-outs");
  app.add_flag("--json", o->json, "Print JSON");
  CLI::App* show = app.add_subcommand("show", "One variant's reasons, diff and gate output");
  show->add_option("variant", o->variant, "N, vN, RUN/N or RUN.vN")->required();
  show->add_flag("--json", o->json, "Print JSON");
  return [o, show](const Invocation& in) {
    if (in.repo_root.empty()) {
      fmt::print(stderr, "tandem: not inside a git repository\n");
      return static_cast<int>(kExitUsage);
    }
    return show->parsed() ? RunVariantsShow(in.repo_root, *o) : RunVariantsList(in.repo_root, *o);
  };
}

}  // namespace tandem::cli
