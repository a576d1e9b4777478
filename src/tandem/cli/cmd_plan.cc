// tandem plan "goal": the planner role reads AGENTS.md, verify.md's gates,
// the repository's layout and the goal, and writes plan.md: a checklist of
// small, bounded tasks that `tandem run` executes.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "tandem/base/clock.h"
#include "tandem/agent/repo_view.h"
#include "tandem/agent/task_runner.h"
#include "tandem/cli/command_bodies.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/gates.h"
#include "tandem/cli/render.h"
#include "tandem/cli/runtime.h"
#include "tandem/cli/writer_lock.h"
#include "tandem/ledger/ledger.h"
#include "tandem/memory/agents_md.h"
#include "tandem/platform/atomic_file.h"
#include "tandem/memory/plan_md.h"
#include "tandem/orchestrator/planner.h"

namespace tandem::cli {

int RunPlanGoal(const std::string& repo_root, const PlanOptions& options, const CommandIo& io) {
  auto runtime = LoadRuntime(repo_root, {options.overrides, false});
  if (!runtime) {
    fmt::print(io.err, "tandem: {}\n", runtime.error().message());
    return kExitUsage;
  }
  Runtime& rt = **runtime;
  if (rt.repo_root.empty()) {
    fmt::print(io.err, "tandem: not inside a git repository (run `git init` first)\n");
    return kExitUsage;
  }
  auto lock = LockForWriting(rt.repo_root, "plan", io.err);
  if (!lock) return lock.error();
  std::filesystem::path plan_path = std::filesystem::path(rt.repo_root) / memory::kPlanFileName;
  if (auto existing = memory::LoadPlan(plan_path); existing && !options.force) {
    for (const memory::PlanTask& t : existing->tasks) {
      if (t.state != memory::TaskState::kDone && t.state != memory::TaskState::kSkipped) {
        fmt::print(io.err,
                   "tandem: plan.md has unfinished tasks ({} is {}); `tandem run` executes it, "
                   "--force replaces it\n",
                   t.id, protocol::Name(t.state));
        return kExitUsage;
      }
    }
  }
  auto handle = OpenModel(rt, config::Role::kPlanner, options.model);
  if (!handle) {
    fmt::print(io.err, "tandem: {}\n(run `tandem doctor` to see what is configured)\n",
               handle.error().message());
    return kExitUsage;
  }
  orchestrator::PlanContext context;
  context.goal = options.goal;
  // The planner only reads the gates; `tandem run` refuses untrusted grants.
  auto gates = LoadGates(rt.repo_root, rt.env, {.refuse_untrusted = false});
  if (!gates) {
    fmt::print(io.err, "tandem: {}\n", gates.error().message());
    return kExitUsage;
  }
  context.gates = std::move(gates->gates);
  if (auto agents = memory::LoadAgentsDoc(rt.repo_root, {})) {
    context.agents_md = agents->text;
    for (const std::string& why : agents->refused) fmt::print(io.err, "tandem: warning: {}\n", why);
  }
  context.repo_view = agent::BuildRepoView(rt.repo_root);

  auto ledger = OpenLedger(rt.repo_root, io.err);
  if (!ledger) return ledger.error();
  TerminalRenderer terminal(io.err, io.err == stderr && UseColor());
  JsonlRenderer jsonl(io.out);
  protocol::EventSink* sink = io.events                ? io.events
                              : options.json ? static_cast<protocol::EventSink*>(&jsonl)
                                             : &terminal;

  orchestrator::PlannerEnv env;
  env.model = {handle->resolved.model_name, handle->resolved.model, handle->resolved.provider.name,
               handle->client.get()};
  env.events = sink;
  env.ledger = ledger->get();
  env.run_id = agent::NewRunId();
  ledger::RunStart start;
  start.id = env.run_id;
  start.kind = "plan";
  start.goal = options.goal;
  start.repo = rt.repo_root;
  if (Status begun = (*ledger)->BeginRun(start); !begun.ok()) env.ledger = nullptr;

  auto draft = orchestrator::DraftPlan(env, context);
  Status written = draft ? platform::WriteFileAtomically(plan_path, draft->text) : draft.error();
  if (env.ledger) {
    ledger::RunEnd end;
    end.outcome = written.ok() ? ledger::RunOutcome::kSucceeded : ledger::RunOutcome::kFailed;
    end.exit_code = written.ok() ? 0 : 1;
    if (Status ended = env.ledger->EndRun(env.run_id, end); !ended.ok()) {
      fmt::print(io.err, "tandem: warning: ledger: the planner run's end not recorded: {}\n",
                 ended.message());
    }
  }
  if (!written.ok()) {
    fmt::print(io.err, "tandem: {}\n", written.message());
    return written.code() == StatusCode::kUnavailable ? kExitProvider : kExitTaskFailed;
  }
  if (!options.json) {
    fmt::print(io.out, "{}\n", draft->text);
    int irreversible = 0;
    for (const auto& t : draft->plan.tasks) irreversible += t.risk == memory::Risk::kIrreversible;
    fmt::print(io.err,
               "wrote plan.md: {} tasks ({} irreversible, which wait for approval){}.\n"
               "Edit it if you like, then `tandem run`.\n",
               draft->plan.tasks.size(), irreversible,
               draft->fixes ? fmt::format(", after {} correction(s)", draft->fixes) : "");
  }
  return kExitSuccess;
}

CommandRun SetupPlan(CLI::App& app) {
  auto options = std::make_shared<PlanOptions>();
  app.add_option("goal", options->goal, "What to achieve, in words")->required();
  app.add_option("--model,-m", options->model, "A model name (default: the planner role)");
  app.add_flag("--force", options->force, "Replace a plan.md that has unfinished tasks");
  app.add_flag("--json", options->json, "Print events as JSONL (docs/EVENTS.md)");
  app.add_option("--set", options->overrides,
                 "Override a config key: --set limits.max_steps=10 (repeatable)");
  return [options](const Invocation& in) { return RunPlanGoal(in.repo_root, *options, {}); };
}

}  // namespace tandem::cli
