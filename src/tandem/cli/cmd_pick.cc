// tandem pick VARIANT [--only PATH...]: applies a fan-out variant's change
// to the checkout as one checkpointed, verified change (`tandem undo`
// reverts it); refused, with the gates' output, when the result fails them.
#include <fmt/format.h>

#include "tandem/agent/interrupt.h"
#include "tandem/agent/task_runner.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/gates.h"
#include "tandem/cli/render.h"
#include "tandem/cli/runtime.h"
#include "tandem/cli/signals.h"
#include "tandem/cli/variants_view.h"
#include "tandem/cli/writer_lock.h"
#include "tandem/orchestrator/fanout.h"

namespace tandem::cli {
namespace {

struct PickOptions {
  std::string variant;
  std::vector<std::string> only;
  std::vector<std::string> overrides;
  bool json = false;
};

int RunPick(const std::string& root, const PickOptions& o) {
  if (root.empty()) {
    fmt::print(stderr, "tandem: not inside a git repository\n");
    return kExitUsage;
  }
  auto runtime = LoadRuntime(root, {.overrides = o.overrides});
  if (!runtime) {
    fmt::print(stderr, "tandem: {}\n", runtime.error().message());
    return kExitUsage;
  }
  Runtime& rt = **runtime;
  auto lock = LockForWriting(root, "pick");
  if (!lock) return lock.error();
  auto ledger = OpenLedger(root);
  if (!ledger) return ledger.error();
  auto fan = OpenFanoutLedger(**ledger);
  if (!fan) return fan.error();
  auto recovered = agent::RecoverInterrupted(root, **ledger);
  if (!recovered) {
    fmt::print(stderr, "tandem: recovering an interrupted run failed: {}\n",
               recovered.error().message());
    return kExitInternal;
  }
  for (const std::string& line : *recovered) fmt::print("{}\n", line);
  for (const std::string& line : orchestrator::RemoveLeftoverSlots(root)) fmt::print("{}\n", line);
  auto ref = ResolveVariant(**ledger, o.variant, /*run_only=*/false);
  if (!ref) {
    fmt::print(stderr, "tandem: {}\n", ref.error().message());
    return kExitUsage;
  }
  auto gates = LoadGates(root, rt.env);
  if (!gates) {
    fmt::print(stderr, "tandem: {}\n", gates.error().message());
    return kExitUsage;
  }
  TerminalRenderer terminal(stdout, UseColor());
  JsonlRenderer jsonl(stdout);
  agent::InterruptHub interrupts;
  InterruptScope scope([&interrupts] { interrupts.Interrupt(); });

  orchestrator::PickEnv env;
  env.repo_root = root;
  env.config = rt.loaded.config;
  env.events = o.json ? static_cast<protocol::EventSink*>(&jsonl) : &terminal;
  env.ledger = ledger->get();
  env.variants = fan->get();
  env.gates = std::move(gates->gates);
  env.interrupts = &interrupts;
  env.job_budget = rt.jobs.get();
  auto picked = orchestrator::PickVariant({ref->run_id, ref->n, o.only}, env);
  if (!picked) {
    fmt::print(stderr, "tandem: cannot pick v{} of {}: {}\n", ref->n, ref->run_id,
               picked.error().message());
    StatusCode code = picked.error().code();
    return code == StatusCode::kNotFound || code == StatusCode::kFailedPrecondition
               ? kExitUsage
               : kExitInternal;
  }
  if (!picked->applied) {
    fmt::print(stderr,
               "tandem: refused: v{} of {} ({} file(s)) fails the gates in the checkout; the "
               "checkout is as it was.\n{}\n",
               ref->n, ref->run_id, picked->paths.size(), picked->reason);
    return kExitTaskFailed;
  }
  if (!o.json) {
    fmt::print("picked v{} of {}{}: {} file(s) changed, gates passed · run {} · `tandem undo` "
               "reverts it\n",
               ref->n, ref->run_id,
               picked->rank ? fmt::format(" (rank {})", *picked->rank) : "",
               picked->paths.size(), picked->pick_run_id);
    for (const std::string& p : picked->paths) fmt::print("  {}\n", p);
  }
  return kExitSuccess;
}

}  // namespace

CommandRun SetupPick(CLI::App& app) {
  auto o = std::make_shared<PickOptions>();
  app.add_option("variant", o->variant, "N, vN, RUN/N or RUN.vN (see `tandem variants`)")
      ->required();
  app.add_option("--only", o->only, "Apply only these paths (files, directories or globs)");
  app.add_flag("--json", o->json, "Print events as JSONL (docs/EVENTS.md)");
  app.add_option("--set", o->overrides, "Override a config key (repeatable)");
  return [o](const Invocation& in) { return RunPick(in.repo_root, *o); };
}

}  // namespace tandem::cli
