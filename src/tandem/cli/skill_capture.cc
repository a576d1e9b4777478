#include "tandem/cli/skill_capture.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include <fmt/format.h>

#include "tandem/base/clock.h"
#include "tandem/base/strings.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/runtime.h"
#include "tandem/ledger/fanout_ledger.h"
#include "tandem/orchestrator/skill_capture.h"
#include "tandem/skills/capture.h"
#include "tandem/skills/catalog.h"

namespace tandem::cli {
namespace {

// The planner's streamed text is not shown: the result is the file.
class QuietSink : public protocol::EventSink {
 public:
  void Publish(const protocol::Event&) override {}
};

struct Source {
  std::string run;
  std::string task;
};

Source Split(const std::string& source) {
  size_t slash = source.find('/');
  if (slash == std::string::npos) return {source, ""};
  return {source.substr(0, slash), source.substr(slash + 1)};
}

// Why tandem did not verify `src`, or "" when it did (the ledger's word,
// which no commit can write).
Result<std::string> WhyUnverified(ledger::Ledger& ledger, const Source& src) {
  auto run = TRY(ledger.GetRun(src.run));
  if (!run) return fmt::format("no run {} in this repository's ledger", src.run);
  if (src.task.empty()) {
    if (run->kind == "run" || run->kind == "resume" || run->kind == "fanout") {
      return fmt::format("run {} is a {} run: name one of its tasks, {}/TASK", src.run, run->kind,
                         src.run);
    }
    if (run->outcome != ledger::RunOutcome::kSucceeded) {
      return fmt::format("run {} ended {}, not verified", src.run, protocol::Name(run->outcome));
    }
    return std::string();
  }
  if (run->kind == "fanout") {
    auto fan = TRY(ledger::FanoutLedger::Open(ledger, WallClockMs));
    for (const ledger::VariantRow& v : TRY(fan->ListVariants(src.run))) {
      if (fmt::format("v{}", v.n) != src.task) continue;
      if (v.state == ledger::VariantState::kPassed) return std::string();
      return fmt::format("variant {} of {} is {}, not passed", src.task, src.run,
                         ledger::ToString(v.state));
    }
    return fmt::format("fan-out {} has no variant {}", src.run, src.task);
  }
  for (const ledger::TaskRow& t : TRY(ledger.ListTasks(src.run))) {
    if (t.task_id != src.task) continue;
    if (t.state == protocol::TaskState::kDone) return std::string();
    return fmt::format("task {} of run {} is {}, not done", src.task, src.run,
                       protocol::Name(t.state));
  }
  return fmt::format("run {} has no task {}", src.run, src.task);
}

bool Interactive(const Runtime& rt, const CommandIo& io) {
  std::string_view ci = config::EnvValue(rt.env, "CI");
  if (!ci.empty() && ci != "0" && ci != "false") return false;
  return io.out == stdout && ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
}

}  // namespace

int CaptureSkill(Runtime& rt, ledger::Ledger& ledger, const CaptureOptions& options,
                 std::FILE* out, std::FILE* err) {
  Source src = Split(options.source);
  if (src.run.empty()) {
    fmt::print(err, "tandem: capture: expected RUN or RUN/TASK (`tandem stats` and `tandem status` name runs)\n");
    return kExitUsage;
  }
  if (!options.name.empty()) {
    if (auto problem = skills::NameProblem(options.name)) {
      fmt::print(err, "tandem: capture: --name '{}': {}\n", options.name, *problem);
      return kExitUsage;
    }
  }
  auto path = skills::TrajectoryPath(rt.repo_root, src.run, src.task);
  if (!path) {
    fmt::print(err, "tandem: capture {}: {}\n", options.source, path.error().message());
    return kExitUsage;
  }
  auto why = WhyUnverified(ledger, src);
  if (!why) {
    fmt::print(err, "tandem: capture {}: {}\n", options.source, why.error().message());
    return kExitInternal;
  }
  if (!why->empty()) {
    fmt::print(err, "tandem: capture {}: {}; only verified runs become skills\n", options.source, *why);
    return kExitUsage;
  }
  auto attempts = skills::ReadTrajectory(*path);
  if (!attempts) {
    bool missing = attempts.error().code() == StatusCode::kNotFound;
    fmt::print(err, "tandem: capture {}: {}\n", options.source,
               missing ? "no trajectory was kept for it (it ran before tandem kept trajectories)"
                       : attempts.error().message());
    return missing ? kExitUsage : kExitInternal;
  }
  auto verified = skills::VerifiedAttempt(*attempts);
  if (!verified) {
    fmt::print(err, "tandem: capture {}: {}\n", options.source, verified.error().message());
    return kExitUsage;
  }
  auto planner = OpenModel(rt, config::Role::kPlanner, options.model);
  if (!planner) {
    fmt::print(err, "tandem: capture: {}\n(run `tandem doctor` to see what is configured)\n",
               planner.error().message());
    return kExitUsage;
  }
  QuietSink quiet;
  orchestrator::PlannerSpend spend;
  orchestrator::PlannerEnv env;
  env.model = {planner->resolved.model_name, planner->resolved.model, planner->resolved.provider.name,
               planner->client.get()};
  env.events = &quiet;
  env.spend = &spend;
  auto distilled = orchestrator::DistillSkill(env, *attempts, *verified, options.source, options.name);
  if (!distilled) {
    fmt::print(err, "tandem: capture {}: {}\n", options.source, distilled.error().message());
    return distilled.error().code() == StatusCode::kUnavailable ? kExitProvider : kExitTaskFailed;
  }
  std::vector<std::string> dirs = {".agents/skills"};
  if (options.export_claude) dirs.push_back(".claude/skills");
  std::vector<std::string> written;
  for (const std::string& dir : dirs) {
    auto file = skills::WriteSkillFolder(rt.repo_root, dir, distilled->skill, distilled->evals_json);
    if (!file) {
      fmt::print(err, "tandem: capture {}: {}{}\n", options.source, file.error().message(),
                 file.error().code() == StatusCode::kAlreadyExists
                     ? fmt::format(" (pass --name, or `tandem skills rm {}` first)", distilled->skill.name)
                     : "");
      bool usage = file.error().code() == StatusCode::kAlreadyExists ||
                   file.error().code() == StatusCode::kPermissionDenied ||
                   file.error().code() == StatusCode::kFailedPrecondition;
      return usage ? kExitUsage : kExitInternal;
    }
    written.push_back(*file);
  }
  fmt::print(out, "captured {} from {} ({} step(s), gates {}): {} and evals/evals.json · planner {} · ${:.4f}\n",
             distilled->skill.name, options.source, (*attempts)[*verified].steps,
             distilled->skill.Meta("tandem-gates"), fmt::join(written, ", "), env.model.name,
             spend.cost_usd);
  return kExitSuccess;
}

void CaptureAfterTasks(Runtime& rt, ledger::Ledger& ledger, const std::vector<std::string>& sources,
                       const CommandIo& io, bool json, bool may_ask) {
  config::CaptureMode mode = rt.loaded.config.skills.capture;
  if (mode == config::CaptureMode::kOff || sources.empty()) return;
  bool ask = mode == config::CaptureMode::kAsk;
  if (ask && (json || io.events != nullptr || !Interactive(rt, io))) return;
  if (ask && !may_ask) {
    fmt::print(io.out, "verified, and can become skills: {}\n",
               fmt::join(sources.begin(), sources.end(), ", "));
    fmt::print(io.out, "  `tandem skills capture {}` (skills.capture = \"auto\" does it after each run)\n",
               sources.size() == 1 ? sources[0] : "RUN/TASK");
    return;
  }
  for (const std::string& source : sources) {
    if (ask) {
      fmt::print(io.out, "save {} as a skill (the planner distills it into .agents/skills/)? [y/N] ", source);
      std::fflush(io.out);
      std::string answer;
      if (!std::getline(std::cin, answer)) return;
      answer = std::string(TrimSpace(answer));
      if (answer != "y" && answer != "Y" && answer != "yes") continue;
    }
    CaptureOptions options;
    options.source = source;
    int code = CaptureSkill(rt, ledger, options, json ? io.err : io.out, io.err);
    if (code != kExitSuccess) {
      fmt::print(io.err, "tandem: warning: {} was not captured as a skill (skills.capture = {})\n",
                 source, config::ToString(mode));
    }
  }
}

}  // namespace tandem::cli
