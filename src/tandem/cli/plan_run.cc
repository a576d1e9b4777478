#include "tandem/base/clock.h"
#include "tandem/cli/plan_run.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "tandem/agent/interrupt.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/render.h"
#include "tandem/cli/runtime.h"
#include "tandem/cli/signals.h"
#include "tandem/ledger/ledger.h"
#include "tandem/orchestrator/plan_runner.h"
#include "tandem/verify/detect.h"
#include "tandem/verify/verify_md.h"

namespace tandem::cli {
namespace {


// Asks on the controlling terminal, whatever stdin/stdout are (--json
// output may be piped while a person watches).
class TerminalApprover : public orchestrator::Approver {
 public:
  Result<orchestrator::ApprovalAnswer> Ask(const orchestrator::ApprovalRequest& request) override {
    int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (fd < 0) return Unavailable("no terminal to ask on");
    std::FILE* tty = ::fdopen(fd, "r+");
    if (!tty) {
      ::close(fd);
      return Unavailable("no terminal to ask on");
    }
    fmt::print(tty, "\n── approval needed ─────────────────────────────\n{}\n\nwhy: {}\n\n",
               request.what, request.why);
    fmt::print(tty, "Run task {}? [y/N] (anything after the answer is recorded as the reason) ",
               request.task_id);
    std::fflush(tty);
    char buf[1024];
    std::string line = std::fgets(buf, sizeof buf, tty) ? buf : "";
    std::fclose(tty);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    orchestrator::ApprovalAnswer answer;
    size_t word_end = line.find_first_of(" \t:");
    std::string word = line.substr(0, word_end);
    answer.approved = word == "y" || word == "Y" || word == "yes" || word == "YES";
    if (word_end != std::string::npos) {
      size_t rest = line.find_first_not_of(" \t:", word_end);
      if (rest != std::string::npos) answer.reason = line.substr(rest);
    }
    return answer;
  }
};

}  // namespace

Result<std::vector<verify::Gate>> LoadGates(const std::string& repo_root, std::string* source) {
  auto loaded = verify::LoadVerifyMd(std::filesystem::path(repo_root) / verify::kVerifyFileName);
  if (loaded) {
    *source = "verify.md";
    return std::move(*loaded);
  }
  if (loaded.error().code() != StatusCode::kNotFound) return loaded.error();
  verify::Detection detection = verify::DetectGates(repo_root);
  *source = detection.description + " (no verify.md; `tandem init` writes one)";
  return std::move(detection.gates);
}

int RunPlanCommand(const PlanRunOptions& options) {
  auto runtime = LoadRuntime({options.overrides, false});
  if (!runtime) {
    fmt::print(stderr, "tandem: {}\n", runtime.error().message());
    return kExitUsage;
  }
  Runtime& rt = **runtime;
  if (rt.repo_root.empty()) {
    fmt::print(stderr, "tandem: not inside a git repository (run `git init` first)\n");
    return kExitUsage;
  }
  orchestrator::RunnerEnv env;
  env.repo_root = rt.repo_root;
  env.config = rt.loaded.config;
  if (!options.approval.empty()) {
    auto policy = config::ParseApprovalPolicy(options.approval);
    if (!policy) {
      fmt::print(stderr, "tandem: --approval must be ask, approve or deny, not '{}'\n",
                 options.approval);
      return kExitUsage;
    }
    env.config.approval.policy = *policy;
  }
  if (!options.slow_role.empty()) {
    auto role = orchestrator::ParseSlowRole(options.slow_role);
    if (!role) {
      fmt::print(stderr, "tandem: --slow-role must be reviewer or planner, not '{}'\n",
                 options.slow_role);
      return kExitUsage;
    }
    env.policy.slow_role = *role;
  }
  env.policy.approval = env.config.approval.policy;

  auto executor = OpenModel(rt, config::Role::kExecutor, "");
  auto slow = OpenModel(rt, env.policy.slow_role, "");
  if (!executor || !slow) {
    fmt::print(stderr, "tandem: {}\n(run `tandem doctor` to see what is configured)\n",
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

  auto gates = LoadGates(rt.repo_root, &env.gates_source);
  if (!gates) {
    fmt::print(stderr, "tandem: {}\n", gates.error().message());
    return kExitUsage;
  }
  env.gates = std::move(*gates);

  auto ledger = ledger::Ledger::Open({ledger::Ledger::PathForRepo(rt.repo_root), WallClockMs});
  if (!ledger) {
    fmt::print(stderr, "tandem: ledger: {}\n", ledger.error().message());
    return kExitInternal;
  }
  env.ledger = ledger->get();

  TerminalRenderer terminal(stdout, UseColor());
  JsonlRenderer jsonl(stdout);
  env.events = options.json ? static_cast<protocol::EventSink*>(&jsonl) : &terminal;
  if (!planner) {
    env.events->Publish({{},
                         WallClockMs(),
                         protocol::Notice{"warn", "no planner model (" + planner.error().message() +
                                                      "): failed tasks are not re-planned"}});
  }
  TerminalApprover approver;
  env.approver = &approver;

  agent::InterruptHub interrupts;
  InterruptScope scope([&interrupts] { interrupts.Interrupt(); });
  env.interrupts = &interrupts;

  auto result =
      options.resume ? orchestrator::ResumePlan(env, options.run_id) : orchestrator::RunPlan(env);
  if (!result) {
    fmt::print(stderr, "tandem: {}\n", result.error().message());
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
          "stopped. Finished tasks are kept; the unfinished step was rolled back.\n"
          "`tandem resume` continues run {}.\n",
          result->run_id);
    } else if (result->waiting > 0) {
      fmt::print(
          "{} task(s) wait for approval: run `tandem run` in a terminal, or set "
          "approval.policy.\n",
          result->waiting);
    }
    fmt::print("run {} · `tandem status` shows the plan · `tandem undo {}` restores the tree\n",
               result->run_id, result->run_id);
  }
  return result->exit_code;
}

}  // namespace tandem::cli
