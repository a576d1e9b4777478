// `tandem do --variants N`: the fan-out (orchestrator/fanout.h) from the
// command line: the executor pool, the planner's approaches, the live view
// (one line per variant started and finished) and the ranked table at the
// end.
#include <fmt/format.h>

#include <optional>

#include "tandem/agent/interrupt.h"
#include "tandem/agent/task_runner.h"
#include "tandem/base/clock.h"
#include "tandem/cli/do_run.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/gates.h"
#include "tandem/cli/runtime.h"
#include "tandem/cli/signals.h"
#include "tandem/cli/variants_view.h"
#include "tandem/orchestrator/fanout.h"
#include "tandem/orchestrator/planner.h"

namespace tandem::cli {
namespace {

// The terminal view of a fan-out: variants start and finish, notices and
// the run's own start and end; the agents' streams stay in the ledger.
class FanoutView : public protocol::EventSink {
 public:
  explicit FanoutView(protocol::EventSink* inner) : inner_(inner) {}
  void Publish(const protocol::Event& event) override {
    bool shown = std::holds_alternative<protocol::RunStarted>(event.payload) ||
                 std::holds_alternative<protocol::RunFinished>(event.payload) ||
                 std::holds_alternative<protocol::TaskStarted>(event.payload) ||
                 std::holds_alternative<protocol::TaskFinished>(event.payload) ||
                 (std::holds_alternative<protocol::Notice>(event.payload) &&
                  (event.scope.task_id.empty() ||
                   std::get<protocol::Notice>(event.payload).level != protocol::NoticeLevel::kInfo));
    if (shown) inner_->Publish(event);
  }

 private:
  protocol::EventSink* inner_;
};

}  // namespace

int RunFanoutDo(const DoOptions& options, Runtime& rt, ledger::Ledger& ledger, LoadedGates gates,
                protocol::EventSink* sink, const CommandIo& io, DoReport* report) {
  std::vector<std::string> names = options.models;
  if (names.empty()) names.push_back(options.model);  // empty: the executor role
  std::vector<ModelHandle> handles;
  orchestrator::FanoutEnv env;
  for (const std::string& name : names) {
    auto handle = OpenModel(rt, config::Role::kExecutor, name);
    if (!handle) {
      fmt::print(io.err, "tandem: {}\n(run `tandem doctor` to see what is configured)\n",
                 handle.error().message());
      return kExitUsage;
    }
    handles.push_back(std::move(*handle));
  }
  for (ModelHandle& h : handles) {
    env.models.push_back({h.resolved.model_name, h.resolved.model, h.resolved.provider.name,
                          h.client.get()});
  }
  FanoutView view(sink);
  protocol::EventSink* events = options.json ? sink : &view;

  orchestrator::FanoutSpec spec;
  spec.run_id = agent::NewRunId();
  spec.task = options.task;
  spec.scope = options.scope;
  spec.variants = options.variants;
  spec.stop_after = options.stop_after;
  spec.parallel = options.parallel;

  // A child of the caller's hub: an interrupt that came before this point
  // still stops the fan-out.
  agent::InterruptHub interrupts(io.interrupts);
  std::optional<InterruptScope> scope;
  if (!io.interrupts) scope.emplace([&interrupts] { interrupts.Interrupt(); });

  // --approaches: the planner's call is the fan-out's own (in its run and
  // its budget), made by RunFanout before any variant starts.
  std::optional<ModelHandle> planner;
  if (options.approaches && options.variants > 1) {
    auto opened = OpenModel(rt, config::Role::kPlanner, "");
    if (!opened) {
      fmt::print(io.err, "tandem: --approaches needs the planner role: {}\n",
                 opened.error().message());
      return kExitUsage;
    }
    planner = std::move(*opened);
    env.planner = {planner->resolved.model_name, planner->resolved.model,
                   planner->resolved.provider.name, planner->client.get()};
    spec.draft_approaches = true;
  }

  env.repo_root = rt.repo_root;
  env.config = rt.loaded.config;
  env.events = events;
  env.ledger = &ledger;
  auto fan = OpenFanoutLedger(ledger, io.err);
  if (!fan) return fan.error();
  env.variants = fan->get();
  env.gates = std::move(gates.gates);
  env.gates_source = std::move(gates.source);
  env.interrupts = &interrupts;
  env.job_budget = rt.jobs.get();
  // The tournament's judge: the reviewer role, unless fanout.tournament
  // is false or --no-tournament says so for this run.
  if (options.no_tournament) env.config.fanout.tournament = false;
  std::optional<ModelHandle> reviewer;
  if (options.variants > 1 && env.config.fanout.tournament) {
    if (auto opened = OpenModel(rt, config::Role::kReviewer, "")) {
      reviewer = std::move(*opened);
      env.reviewer = {reviewer->resolved.model_name, reviewer->resolved.model,
                      reviewer->resolved.provider.name, reviewer->client.get()};
    } else {
      events->Publish({{spec.run_id, "", "fanout"}, WallClockMs(),
                       protocol::Notice{protocol::NoticeLevel::kInfo,
                                        "no reviewer model (" + opened.error().message() +
                                            "): the score alone ranks the variants"}});
    }
  }

  auto result = orchestrator::RunFanout(spec, env);
  if (!result) {
    fmt::print(io.err, "tandem: {}\n", result.error().ToString());
    return kExitInternal;
  }
  if (report) {
    report->run_id = spec.run_id;
    report->outcome = result->outcome;
    int passed = 0;
    for (const auto& v : result->variants) passed += v.state == ledger::VariantState::kPassed;
    report->summary = fmt::format("{} of {} variants passed", passed, result->variants.size());
  }
  if (!options.json) {
    auto run = ledger.GetRun(spec.run_id);
    if (run && *run) {
      fmt::print(io.out, "\n{}",
                 FormatVariantsTable(**run, result->variants, {}, TerminalWidth(),
                                     result->comparisons));
    }
  }
  return protocol::ExitCodeFor(result->outcome);
}

}  // namespace tandem::cli
