// tandem pick VARIANT [--only PATH...]: applies a fan-out variant's change
// to the checkout as one checkpointed, verified change (`tandem undo`
// reverts it); refused, with the gates' output, when the result fails them.
#include <fmt/format.h>

#include <optional>

#include "tandem/agent/interrupt.h"
#include "tandem/agent/task_runner.h"
#include "tandem/cli/command_bodies.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/gates.h"
#include "tandem/cli/render.h"
#include "tandem/cli/runtime.h"
#include "tandem/cli/skill_capture.h"
#include "tandem/cli/signals.h"
#include "tandem/cli/variants_view.h"
#include "tandem/cli/writer_lock.h"
#include "tandem/orchestrator/fanout.h"

namespace tandem::cli {

int RunPick(const std::string& root, const PickOptions& o, const CommandIo& io,
            orchestrator::PickResult* report) {
  if (root.empty()) {
    fmt::print(io.err, "tandem: not inside a git repository\n");
    return kExitUsage;
  }
  auto runtime = LoadRuntime(root, {.overrides = o.overrides});
  if (!runtime) {
    fmt::print(io.err, "tandem: {}\n", runtime.error().message());
    return kExitUsage;
  }
  Runtime& rt = **runtime;
  auto lock = LockForWriting(root, "pick", io.err);
  if (!lock) return lock.error();
  auto ledger = OpenLedger(root, io.err);
  if (!ledger) return ledger.error();
  auto fan = OpenFanoutLedger(**ledger, io.err);
  if (!fan) return fan.error();
  auto recovered = agent::RecoverInterrupted(root, **ledger);
  if (!recovered) {
    fmt::print(io.err, "tandem: recovering an interrupted run failed: {}\n",
               recovered.error().message());
    return kExitInternal;
  }
  for (const std::string& line : *recovered) fmt::print(io.out, "{}\n", line);
  for (const std::string& line : orchestrator::RemoveLeftoverSlots(root)) {
    fmt::print(io.out, "{}\n", line);
  }
  auto ref = ResolveVariant(**ledger, o.variant, /*run_only=*/false);
  if (!ref) {
    fmt::print(io.err, "tandem: {}\n", ref.error().message());
    return kExitUsage;
  }
  auto gates = LoadGates(root, rt.env);
  if (!gates) {
    fmt::print(io.err, "tandem: {}\n", gates.error().message());
    return kExitUsage;
  }
  TerminalRenderer terminal(io.out, io.out == stdout && UseColor());
  JsonlRenderer jsonl(io.out);
  agent::InterruptHub interrupts(io.interrupts);  // a child: an earlier interrupt still stops it
  std::optional<InterruptScope> scope;
  if (!io.interrupts) scope.emplace([&interrupts] { interrupts.Interrupt(); });

  orchestrator::PickEnv env;
  env.repo_root = root;
  env.config = rt.loaded.config;
  env.events = io.events ? io.events
               : o.json  ? static_cast<protocol::EventSink*>(&jsonl)
                         : &terminal;
  env.ledger = ledger->get();
  env.variants = fan->get();
  env.gates = std::move(gates->gates);
  env.interrupts = &interrupts;
  env.job_budget = rt.jobs.get();
  auto picked = orchestrator::PickVariant({ref->run_id, ref->n, o.only}, env);
  if (!picked) {
    fmt::print(io.err, "tandem: cannot pick v{} of {}: {}\n", ref->n, ref->run_id,
               picked.error().message());
    StatusCode code = picked.error().code();
    return code == StatusCode::kNotFound || code == StatusCode::kFailedPrecondition
               ? kExitUsage
               : kExitInternal;
  }
  if (report) *report = *picked;
  if (!picked->applied) {
    fmt::print(io.err,
               "tandem: refused: v{} of {} ({} file(s)) fails the gates in the checkout; the "
               "checkout is as it was.\n{}\n",
               ref->n, ref->run_id, picked->paths.size(), picked->reason);
    return kExitTaskFailed;
  }
  if (!o.json) {
    fmt::print(io.out, "picked v{} of {}{}: {} file(s) changed, gates passed · run {} · `tandem undo` "
               "reverts it\n",
               ref->n, ref->run_id,
               picked->rank ? fmt::format(" (rank {})", *picked->rank) : "",
               picked->paths.size(), picked->pick_run_id);
    for (const std::string& p : picked->paths) fmt::print(io.out, "  {}\n", p);
  }
  // The picked variant may become a skill (skills.capture).
  CaptureAfterTasks(rt, **ledger, {fmt::format("{}/v{}", ref->run_id, ref->n)}, CommandIo{}, o.json);
  return kExitSuccess;
}

CommandRun SetupPick(CLI::App& app) {
  auto o = std::make_shared<PickOptions>();
  app.add_option("variant", o->variant, "N, vN, RUN/N or RUN.vN (see `tandem variants`)")
      ->required();
  app.add_option("--only", o->only, "Apply only these paths (files, directories or globs)");
  app.add_flag("--json", o->json, "Print events as JSONL (docs/EVENTS.md)");
  app.add_option("--set", o->overrides, "Override a config key (repeatable)");
  return [o](const Invocation& in) { return RunPick(in.repo_root, *o, {}); };
}

}  // namespace tandem::cli
