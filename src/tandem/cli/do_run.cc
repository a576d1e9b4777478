#include "tandem/base/clock.h"
#include "tandem/cli/do_run.h"

#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "tandem/agent/interrupt.h"
#include "tandem/agent/skill_context.h"
#include "tandem/agent/task_runner.h"
#include "tandem/base/scope_glob.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/gates.h"
#include "tandem/cli/render.h"
#include "tandem/cli/runtime.h"
#include "tandem/cli/skill_capture.h"
#include "tandem/cli/signals.h"
#include "tandem/cli/writer_lock.h"
#include "tandem/ledger/ledger.h"
#include "tandem/orchestrator/fanout.h"
#include "tandem/orchestrator/task_review.h"

namespace tandem::cli {
namespace {

// An irreversible command (or an MCP tool that needs approval) of a `tandem
// do` given the caller's input queue: approval.policy decides, `ask` opens
// it on `ops` for the caller to answer by id; the decision is an approvals
// row and approval_requested / approval_decided events, as in `tandem run`.
// Runs on the agent's thread.
tools::CommandDecision DecideDoCommand(const std::string& run_id, config::ApprovalPolicy policy,
                                       orchestrator::LiveOps& ops, ledger::Ledger& ledger,
                                       protocol::EventSink& events, const std::string& command,
                                       const std::string& why) {
  protocol::EventScope scope{run_id, "", "executor"};
  orchestrator::ApprovalRequest request;
  request.run_id = run_id;
  request.title = "a command of tandem do";
  request.what = command;
  request.why = why;
  request.command = command;
  orchestrator::ApprovalDecision d = orchestrator::Decide(
      policy, &ops, request,
      [&](int64_t id) {
        events.Publish({scope, WallClockMs(), protocol::ApprovalRequested{id, command, why, command}});
      },
      WallClockMs);
  const bool run = d.kind == orchestrator::ApprovalDecision::Kind::kApproved;
  tools::CommandDecision decision;
  decision.run = run;
  decision.reason = d.kind == orchestrator::ApprovalDecision::Kind::kWaiting
                        ? "nobody approved it: " + d.reason
                        : (run ? "approved: " : "denied: ") + d.reason;
  if (d.by_person) decision.human_wait_ms = static_cast<double>(d.waited_ms);

  ledger::ApprovalRecord record;
  record.run_id = run_id;
  auto step = ledger.RunningStepOf(run_id, "");
  if (step) record.step_id = *step;
  record.what = command;
  record.decision = run ? ledger::ApprovalDecision::kApproved : ledger::ApprovalDecision::kDenied;
  record.decided_by = d.by_person ? ledger::DecidedBy::kPerson : ledger::DecidedBy::kPolicy;
  record.waited_ms = d.waited_ms;
  record.reason = d.reason.empty() ? decision.reason : d.reason;
  if (Status recorded = ledger.RecordApproval(record); !recorded.ok()) {
    events.Publish({scope, WallClockMs(),
                    protocol::Notice{protocol::NoticeLevel::kWarn, "ledger: " + recorded.message()}});
  }
  events.Publish({scope, WallClockMs(),
                  protocol::ApprovalDecided{d.approval_id, record.decision, record.decided_by,
                                            d.waited_ms, record.reason, command}});
  return decision;
}

}  // namespace

int RunDo(const DoOptions& options, const CommandIo& io, DoReport* report) {
  // Refused before anything is read or any model is called.
  if (options.variants == 0 && (options.stop_after > 0 || options.parallel > 0 ||
                                options.approaches || options.no_tournament ||
                                options.models.size() > 1)) {
    fmt::print(io.err,
               "tandem: --stop-after, --parallel, --approaches, --no-tournament and several "
               "--model go with --variants N\n");
    return kExitUsage;
  }
  if (options.variants < 0 || options.variants > orchestrator::kMaxVariants) {
    fmt::print(io.err, "tandem: --variants {}: expected 1 to {}\n", options.variants,
               orchestrator::kMaxVariants);
    return kExitUsage;
  }
  if (options.stop_after < 0 || options.parallel < 0) {
    fmt::print(io.err, "tandem: --stop-after and --parallel take a positive number\n");
    return kExitUsage;
  }
  if (TrimSpace(options.task).empty()) {
    fmt::print(io.err,
               "tandem: the task is empty; say what to do, e.g. tandem do \"make the failing "
               "date test pass\"\n");
    return kExitUsage;
  }
  for (const std::string& glob : options.scope) {
    if (auto problem = ScopeGlobProblem(glob)) {
      fmt::print(io.err,
                 "tandem: --scope '{}': {}; expected a path glob relative to the repository root "
                 "such as 'src/**'\n",
                 glob, *problem);
      return kExitUsage;
    }
  }
  auto runtime = LoadRuntime(options.repo_root,
                             {.overrides = options.overrides, .config_file = options.config_file});
  if (!runtime) {
    fmt::print(io.err, "tandem: {}\n", runtime.error().message());
    return kExitUsage;
  }
  Runtime& rt = **runtime;
  if (rt.repo_root.empty()) {
    fmt::print(io.err, "tandem: not inside a git repository (run `git init` first)\n");
    return kExitUsage;
  }
  if (Status found = agent::CheckSkillsExist(rt.repo_root, rt.loaded.config, options.skills);
      !found.ok()) {
    fmt::print(io.err, "tandem: --skill: {}\n", found.message());
    return kExitUsage;
  }
  auto lock = LockForWriting(rt.repo_root, "do", io.err);
  if (!lock) return lock.error();
  bool fanout = options.variants > 0;
  auto handle = fanout ? Result<ModelHandle>(ModelHandle{})
                       : OpenModel(rt, config::Role::kExecutor, options.model);
  if (!handle) {
    fmt::print(io.err, "tandem: {}\n(run `tandem doctor` to see what is configured)\n",
               handle.error().message());
    return kExitUsage;
  }

  // Gates: verify.md, or what the build system suggests. A malformed file or
  // a grant the user has not trusted is refused before anything is written.
  auto gates = LoadGates(rt.repo_root, rt.env);
  if (!gates) {
    fmt::print(io.err, "tandem: {}\n", gates.error().message());
    return kExitUsage;
  }

  auto ledger = OpenLedger(rt.repo_root, io.err);
  if (!ledger) return ledger.error();

  TerminalRenderer terminal(io.out, io.out == stdout && UseColor());
  JsonlRenderer jsonl(io.out);
  protocol::EventSink* sink = io.events                ? io.events
                              : options.json ? static_cast<protocol::EventSink*>(&jsonl)
                                             : &terminal;

  auto recovered = agent::RecoverInterrupted(rt.repo_root, **ledger);
  if (!recovered) {
    fmt::print(io.err, "tandem: recovering an interrupted run failed: {}\n",
               recovered.error().message());
    return kExitInternal;
  }
  for (const std::string& line : *recovered) {
    sink->Publish({{}, WallClockMs(), protocol::Notice{protocol::NoticeLevel::kWarn, line}});
  }
  // A killed step restored: read the gates again, never from a verify.md a
  // model left half edited.
  if (!recovered->empty()) gates = LoadGates(rt.repo_root, rt.env);
  if (!gates) {
    fmt::print(io.err, "tandem: {}\n", gates.error().message());
    return kExitUsage;
  }

  if (fanout) return RunFanoutDo(options, rt, **ledger, std::move(*gates), sink, io, report);

  agent::InterruptHub own_interrupts;
  agent::InterruptHub& interrupts = io.interrupts ? *io.interrupts : own_interrupts;
  std::optional<InterruptScope> scope;
  if (!io.interrupts) scope.emplace([&interrupts] { interrupts.Interrupt(); });

  // Review before done: the reviewer role, unless review.policy is never.
  std::optional<ModelHandle> reviewer;
  if (!rt.loaded.config.review.policy.never()) {
    auto opened = OpenModel(rt, config::Role::kReviewer, "");
    if (opened) {
      reviewer = std::move(*opened);
    } else {
      sink->Publish({{}, WallClockMs(),
                     protocol::Notice{protocol::NoticeLevel::kWarn,
                                      "no reviewer model (" + opened.error().message() +
                                          "): changes are not reviewed"}});
    }
  }

  agent::TaskSpec spec;
  spec.run_id = options.run_id.empty() ? agent::NewRunId() : options.run_id;
  spec.kind = options.kind;
  spec.task = options.task;
  spec.scope = options.scope;
  spec.skills = options.skills;
  spec.skills_eval = options.skills_eval;
  spec.skill_compared = options.skill_compared;
  agent::TaskEnv env;
  env.repo_root = rt.repo_root;
  env.config = rt.loaded.config;
  env.model_name = handle->resolved.model_name;
  env.model = handle->resolved.model;
  env.provider = handle->resolved.provider.name;
  env.client = handle->client.get();
  env.events = sink;
  env.ledger = ledger->get();
  env.gates = std::move(gates->gates);
  env.gates_source = std::move(gates->source);
  env.interrupts = &interrupts;
  env.job_budget = rt.jobs.get();
  if (options.skills_eval) env.config.skills.enabled = false;  // only the skill under evaluation
  if (io.ops) {
    env.irreversible_commands = [run_id = spec.run_id, policy = rt.loaded.config.approval.policy,
                                 ops = io.ops, ledger = ledger->get(),
                                 sink](const std::string& command, const std::string& why) {
      return DecideDoCommand(run_id, policy, *ops, *ledger, *sink, command, why);
    };
  }
  if (reviewer) {
    config::Config review_config = rt.loaded.config;
    review_config.commit.enabled = false;  // `tandem do` never commits
    env.review = orchestrator::ReviewSetupForTask(
        review_config, rt.repo_root, "", std::nullopt, false,
        {{reviewer->resolved.model_name, reviewer->resolved.model,
          reviewer->resolved.provider.name, reviewer->client.get()},
         sink,
         ledger->get(),
         &interrupts});
  }

  if (report) report->run_id = spec.run_id;
  auto result = agent::RunTask(spec, env);
  if (!result) {
    fmt::print(io.err, "tandem: {}\n", result.error().ToString());
    return kExitInternal;
  }
  if (report) {
    report->outcome = result->outcome;
    report->summary = result->summary;
    report->final_checkpoint = result->final_checkpoint;
  }
  if (!options.json) {
    if (result->outcome == agent::TaskOutcome::kInterrupted) {
      // A `tandem do` cannot be continued: say what is in the tree now and
      // the two ways on from it.
      fmt::print(io.out, "stopped. The steps that finished are kept in the tree; the step in progress "
                 "was rolled back.\n"
                 "An interrupted `tandem do` is not continued: `tandem do \"<task>\"` starts a "
                 "new run from the tree as it is now, and `tandem undo` restores the tree as it "
                 "was before run {}.\n",
                 spec.run_id);
    } else if (result->outcome == agent::TaskOutcome::kSucceeded) {
      fmt::print(io.out, "run {} · `tandem undo` restores the tree as it was before it\n", spec.run_id);
    }
  }
  if (result->outcome == agent::TaskOutcome::kSucceeded && options.kind == "do") {
    CaptureAfterTasks(rt, **ledger, {spec.run_id}, io, options.json);
  }
  return protocol::ExitCodeFor(result->outcome);
}

}  // namespace tandem::cli
