#include "tandem/base/clock.h"
#include "tandem/cli/plan_run.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "tandem/agent/interrupt.h"
#include "tandem/agent/task_runner.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/gates.h"
#include "tandem/cli/live_input.h"
#include "tandem/cli/render.h"
#include "tandem/cli/runtime.h"
#include "tandem/cli/skill_capture.h"
#include "tandem/cli/signals.h"
#include "tandem/cli/writer_lock.h"
#include "tandem/ledger/ledger.h"
#include "tandem/memory/plan_md.h"
#include "tandem/orchestrator/plan_runner.h"
#include "tandem/orchestrator/steer.h"
#include "tandem/orchestrator/task_commit.h"

namespace tandem::cli {
namespace {


// The terminal a person types into: stdin when it is one, else the
// controlling terminal (`tandem run < file` in a terminal); fd() is -1 when
// there is none or tandem is not in its foreground (LiveInput::ShouldRead).
class TerminalInput {
 public:
  TerminalInput() {
    if (LiveInput::ShouldRead(STDIN_FILENO)) {
      fd_ = STDIN_FILENO;
      return;
    }
    int tty = ::open("/dev/tty", O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (tty >= 0 && LiveInput::ShouldRead(tty)) {
      fd_ = owned_ = tty;
    } else if (tty >= 0) {
      ::close(tty);
    }
  }
  ~TerminalInput() {
    if (owned_ >= 0) ::close(owned_);
  }
  TerminalInput(const TerminalInput&) = delete;
  TerminalInput& operator=(const TerminalInput&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  int owned_ = -1;
};

// Where LiveInput's prompts go: the terminal itself, else stderr.
class PromptOut {
 public:
  PromptOut() : tty_(std::fopen("/dev/tty", "we")) {}
  ~PromptOut() {
    if (tty_) std::fclose(tty_);
  }
  std::FILE* get() const { return tty_ ? tty_ : stderr; }

 private:
  std::FILE* tty_;
};

// `tandem run` without plan.md: how to make one.
std::string NoPlanMessage(const std::string& repo_root) {
  return fmt::format(
      "tandem: there is no plan.md in {} to run. Make one:\n"
      "  tandem plan \"<goal>\"   the planner model writes it\n"
      "or write it yourself, a block per task:\n"
      "  - [ ] T1: <title>\n"
      "    - do: <what to do>\n"
      "    - scope: <path globs the task may change>   (optional; default: any)\n"
      "    - accept: gates all; check `<command>`       (optional; default: gates all)\n"
      "    - after: <ids of tasks to do first>          (optional)\n"
      "(`tandem init` writes a plan.md that explains every field.)\n",
      repo_root);
}

}  // namespace

int RunPlanCommand(const std::string& repo_root, const PlanRunOptions& options,
                   const CommandIo& io) {
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
  auto lock = LockForWriting(rt.repo_root, options.resume ? "resume" : "run", io.err);
  if (!lock) return lock.error();
  if (!options.resume && !std::filesystem::exists(std::filesystem::path(rt.repo_root) /
                                                  memory::kPlanFileName)) {
    fmt::print(io.err, "{}", NoPlanMessage(rt.repo_root));
    return kExitUsage;
  }
  orchestrator::RunnerEnv env;
  env.repo_root = rt.repo_root;
  env.job_budget = rt.jobs.get();
  env.config = rt.loaded.config;
  if (!options.approval.empty()) {
    auto policy = config::ParseApprovalPolicy(options.approval);
    if (!policy) {
      fmt::print(io.err, "tandem: --approval must be ask, approve or deny, not '{}'\n",
                 options.approval);
      return kExitUsage;
    }
    env.config.approval.policy = *policy;
  }
  if (!options.slow_role.empty()) {
    auto role = orchestrator::ParseSlowRole(options.slow_role);
    if (!role) {
      fmt::print(io.err, "tandem: --slow-role must be reviewer or planner, not '{}'\n",
                 options.slow_role);
      return kExitUsage;
    }
    env.policy.slow_role = *role;
  }
  env.policy.approval = env.config.approval.policy;
  if (options.commit) env.config.commit.enabled = true;
  if (env.config.commit.enabled) {
    // Commits go on the checkout's branch, one task at a time: auto (0) is 1.
    if (env.config.limits.parallel_tasks > 1) {
      fmt::print(stderr,
                 "tandem: --commit needs limits.parallel_tasks = 1 (parallel tasks are merged, "
                 "not committed one by one)\n");
      return kExitUsage;
    }
    env.config.limits.parallel_tasks = 1;
    if (Status can = orchestrator::CheckCanCommit(rt.repo_root, env.config.commit.author);
        !can.ok()) {
      fmt::print(stderr, "tandem: {}\n", can.message());
      return kExitUsage;
    }
  }

  auto executor = OpenModel(rt, config::Role::kExecutor, "");
  auto slow = OpenModel(rt, env.policy.slow_role, "");
  if (!executor || !slow) {
    fmt::print(io.err, "tandem: {}\n(run `tandem doctor` to see what is configured)\n",
               (!executor ? executor.error() : slow.error()).message());
    return kExitUsage;
  }
  auto planner = OpenModel(rt, config::Role::kPlanner, "");
  auto slot = [](ModelHandle& h) {
    return orchestrator::ModelSlot{h.resolved.model_name, h.resolved.model,
                                   h.resolved.provider.name, h.client.get()};
  };
  env.executor = slot(*executor);
  env.slow = slot(*slow);
  if (planner) env.planner = slot(*planner);
  // Review before done: the reviewer role (a warning below when it cannot be opened).
  auto reviewer = OpenModel(rt, config::Role::kReviewer, "");
  if (reviewer) env.reviewer = slot(*reviewer);

  // Bad input (a malformed verify.md, a grant the user has not trusted) is
  // refused before anything is written; `resume` reads its run's verify.md.
  Result<LoadedGates> gates = LoadedGates{};
  if (!options.resume) gates = LoadGates(rt.repo_root, rt.env);
  if (!gates) {
    fmt::print(io.err, "tandem: {}\n", gates.error().message());
    return kExitUsage;
  }

  auto ledger = OpenLedger(rt.repo_root, io.err);
  if (!ledger) return ledger.error();
  env.ledger = ledger->get();

  TerminalRenderer terminal(io.out, io.out == stdout && UseColor());
  JsonlRenderer jsonl(io.out);
  env.events = io.events                ? io.events
               : options.json ? static_cast<protocol::EventSink*>(&jsonl)
                              : &terminal;
  if (!planner) {
    env.events->Publish({{},
                         WallClockMs(),
                         protocol::Notice{protocol::NoticeLevel::kWarn, "no planner model (" + planner.error().message() +
                                                      "): failed tasks are not re-planned"}});
  }
  if (!reviewer && env.config.commit.enabled) {
    fmt::print(stderr,
               "tandem: --commit needs a reviewer model to review and word each commit: {}\n",
               reviewer.error().message());
    return kExitUsage;
  }
  if (!reviewer && !env.config.review.policy.never()) {
    env.events->Publish({{},
                         WallClockMs(),
                         protocol::Notice{protocol::NoticeLevel::kWarn,
                                          "no reviewer model (" + reviewer.error().message() +
                                              "): changes are not reviewed"}});
  }
  // The gates never come from a verify.md a model edited in a step that did
  // not finish: `run` reads them again once a killed step is restored, and a
  // resumed run keeps the verify.md it started with (its base checkpoint).
  // Grants the user has not trusted are refused here, before any model call.
  if (options.resume) {
    auto run = options.run_id.empty() ? env.ledger->LastRun("run")
                                      : env.ledger->GetRun(options.run_id);
    if (!run) {
      fmt::print(io.err, "tandem: ledger: {}\n", run.error().message());
      return kExitInternal;
    }
    gates = LoadGates(rt.repo_root, rt.env, {.checkpoint = *run ? (*run)->base_checkpoint : ""});
  } else {
    auto recovered = agent::RecoverInterrupted(rt.repo_root, *env.ledger);
    if (!recovered) {
      fmt::print(io.err, "tandem: recovering an interrupted run failed: {}\n",
                 recovered.error().message());
      return kExitInternal;
    }
    for (const std::string& line : *recovered) {
      env.events->Publish({{}, WallClockMs(), protocol::Notice{protocol::NoticeLevel::kWarn, line}});
    }
    if (!recovered->empty()) gates = LoadGates(rt.repo_root, rt.env);
  }
  if (!gates) {
    fmt::print(io.err, "tandem: {}\n", gates.error().message());
    return kExitUsage;
  }
  env.gates = std::move(gates->gates);
  env.gates_source = std::move(gates->source);

  // Every input of the live run is an op on one queue: typed lines (steer
  // notes, answers to approval prompts by id, /cancel, /stop) and Ctrl-C; or
  // the caller's queue (`tandem mcp serve`), which then owns every input.
  // A child of the caller's hub (`tandem mcp serve`): a cancel that came
  // while this body was still loading, before its kInterrupt handler was on
  // the caller's queue, still stops the run.
  agent::InterruptHub interrupts(io.interrupts);
  env.interrupts = &interrupts;
  orchestrator::LiveOps own_ops;
  orchestrator::LiveOps& ops = io.ops ? *io.ops : own_ops;
  // The handlers capture this frame: taken off the caller's queue on return.
  struct HandlersOff {
    orchestrator::LiveOps& ops;
    ~HandlersOff() {
      ops.SetHandler(protocol::OpKind::kInterrupt, {});
      ops.SetHandler(protocol::OpKind::kSteer, {});
    }
  } handlers_off{ops};
  ops.SetHandler(protocol::OpKind::kInterrupt, [&interrupts](const orchestrator::Op&) {
    interrupts.Interrupt();
    return Status::Ok();
  });
  ops.SetHandler(protocol::OpKind::kSteer, [&rt, &env](const orchestrator::Op& op) -> Status {
    auto added = orchestrator::AddSteer(rt.repo_root, *env.ledger, op.text, op.source, op.task_id);
    if (!added) return added.error().WithContext("steer note not added");
    std::string text =
        added->run_live
            ? fmt::format("steer note added: \"{}\" (it reaches the next step{})", op.text,
                          op.task_id.empty() ? "" : " of task " + op.task_id)
            : fmt::format("steer note added to progress.md: \"{}\"", op.text);
    env.events->Publish({{added->run_id, op.task_id, op.source},
                         WallClockMs(),
                         protocol::Notice{protocol::NoticeLevel::kInfo, text}});
    return Status::Ok();
  });
  env.ops = &ops;
  PromptOut prompt_out;
  std::optional<TerminalInput> input;
  std::unique_ptr<LiveInput> live;
  std::optional<InterruptScope> scope;
  if (!io.ops) {
    input.emplace();
    if (input->fd() >= 0) live = std::make_unique<LiveInput>(input->fd(), prompt_out.get(), ops);
    scope.emplace([&ops] { ops.Submit({.kind = protocol::OpKind::kInterrupt, .source = "signal"}); });
  }

  auto result =
      options.resume ? orchestrator::ResumePlan(env, options.run_id) : orchestrator::RunPlan(env);
  if (!result) {
    fmt::print(io.err, "tandem: {}\n", result.error().message());
    switch (result.error().code()) {
      case StatusCode::kInvalidArgument:
      case StatusCode::kNotFound:
      case StatusCode::kFailedPrecondition:
        return kExitUsage;
      default:
        return kExitInternal;
    }
  }
  if (!options.json) {
    if (result->interrupted) {
      fmt::print(
          io.out,
          "stopped. Finished tasks are kept; the unfinished step was rolled back.\n"
          "`tandem resume` continues run {}; the unfinished task starts again from its "
          "beginning.\n",
          result->run_id);
    } else if (result->waiting > 0) {
      fmt::print(
          io.out,
          "{} task(s) wait for approval: run `tandem run` in a terminal, or set "
          "approval.policy.\n",
          result->waiting);
    }
    fmt::print(io.out, "run {} · `tandem status` shows the plan · `tandem undo {}` restores the tree\n",
               result->run_id, result->run_id);
  }
  // The tasks this run saw done may become skills (skills.capture): auto
  // captures them; ask names the commands (the terminal is the live view's).
  if (rt.loaded.config.skills.capture != config::CaptureMode::kOff && !result->interrupted) {
    std::vector<std::string> done;
    if (auto tasks = (*ledger)->ListTasks(result->run_id)) {
      for (const ledger::TaskRow& t : *tasks) {
        if (t.state == protocol::TaskState::kDone) done.push_back(result->run_id + "/" + t.task_id);
      }
    }
    CaptureAfterTasks(rt, **ledger, done, io, options.json, /*may_ask=*/false);
  }
  return result->exit_code;
}

}  // namespace tandem::cli
