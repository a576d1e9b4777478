#include "tandem/base/clock.h"
#include "tandem/agent/task_runner.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "tandem/base/mutex.h"
#include "tandem/agent/prompt.h"
#include "tandem/agent/repo_view.h"
#include "tandem/agent/skill_context.h"
#include "tandem/agent/trajectory_recorder.h"
#include "tandem/agent/turn_loop.h"
#include "tandem/memory/agents_md.h"
#include "tandem/platform/sandbox.h"
#include "tandem/tools/toolbox.h"
#include "tandem/verify/gate_cache.h"
#include "tandem/workspace/workspace.h"

namespace tandem::agent {
namespace {

using SteadyClock = std::chrono::steady_clock;


// Forwards streamed text to the event stream (on the transport's thread).
class EventObserver : public providers::StreamObserver {
 public:
  EventObserver(protocol::EventSink* sink, protocol::EventScope scope)
      : sink_(sink), scope_(std::move(scope)) {}
  void OnEvent(const protocol::StreamEvent& event) override {
    if (const auto* delta = std::get_if<protocol::TextDelta>(&event)) {
      sink_->Publish({scope_, WallClockMs(), protocol::ModelDelta{delta->text}});
    }
  }
  void OnRetry(const protocol::ModelError& error, int attempt, int delay_ms) override {
    sink_->Publish({scope_, WallClockMs(),
                    protocol::ModelRestarted{protocol::ModelErrorKindName(error.kind), attempt,
                                             delay_ms}});
  }

 private:
  protocol::EventSink* sink_;
  protocol::EventScope scope_;
};

// A ModelClient whose requests in flight can all be cancelled at once.
class CancellableClient : public providers::ModelClient {
 public:
  explicit CancellableClient(providers::ModelClient* inner) : inner_(inner) {}

  std::unique_ptr<providers::PendingReply> Start(const protocol::ModelRequest& request,
                                                 providers::StreamObserver* observer) override {
    auto reply = std::make_unique<Tracked>(this, inner_->Start(request, observer));
    MutexLock lock(mu_);
    live_.insert(reply.get());
    if (cancelled_) reply->Cancel();
    return reply;
  }

  void CancelAll() {
    MutexLock lock(mu_);
    cancelled_ = true;
    for (Tracked* t : live_) t->Cancel();
  }

 private:
  class Tracked : public providers::PendingReply {
   public:
    Tracked(CancellableClient* owner, std::unique_ptr<providers::PendingReply> inner)
        : owner_(owner), inner_(std::move(inner)) {}
    ~Tracked() override {
      MutexLock lock(owner_->mu_);
      owner_->live_.erase(this);
    }
    Result<protocol::ModelResponse, protocol::ModelError> Wait() override { return inner_->Wait(); }
    void Cancel() override { inner_->Cancel(); }

   private:
    CancellableClient* owner_;
    std::unique_ptr<providers::PendingReply> inner_;
  };

  providers::ModelClient* inner_;
  Mutex mu_;
  std::set<Tracked*> live_ GUARDED_BY(mu_);
  bool cancelled_ GUARDED_BY(mu_) = false;
};

// Serves gate verdicts from earlier runs recorded in the ledger, and from
// this process's own runs.
class LedgerGateCache : public verify::GateCache {
 public:
  explicit LedgerGateCache(ledger::Ledger* ledger) : ledger_(ledger) {}
  std::optional<verify::GateResult> Lookup(const verify::GateCacheKey& key) override {
    if (auto hit = memory_.Lookup(key)) return hit;
    if (!ledger_ || !key.cwd.empty()) return std::nullopt;
    auto cached = ledger_->GateCacheLookup(key.tree_hash, key.gate, key.command);
    if (!cached || !cached->has_value()) return std::nullopt;
    const ledger::CachedGate& c = **cached;
    verify::GateResult r;
    r.gate = key.gate;
    r.verdict = c.verdict == ledger::GateVerdict::kPass ? verify::Verdict::kPass
                                                        : verify::Verdict::kFail;
    r.exit_code = c.exit_code.value_or(-1);
    r.excerpt = c.output_excerpt;
    r.detail = "cached";
    r.cached = true;
    return r;
  }
  void Store(const verify::GateCacheKey& key, const verify::GateResult& result) override {
    memory_.Store(key, result);
  }

 private:
  ledger::Ledger* ledger_;
  verify::InMemoryGateCache memory_;
};

std::string GateLines(const std::vector<verify::Gate>& gates) {
  std::string out;
  for (const auto& g : gates) {
    out += fmt::format("- {} ({}): {}\n", g.name, verify::GateWhenName(g.when),
                       g.command.substr(0, g.command.find('\n')));
  }
  return out;
}

}  // namespace

platform::ChildPolicy ChildPolicyFrom(const config::Config& cfg) {
  platform::ChildPolicy child;
  child.env = {cfg.environment.include, cfg.environment.exclude,
               {cfg.environment.set.begin(), cfg.environment.set.end()}};
  child.home_dirs = cfg.sandbox.home_dirs;
  child.network = cfg.sandbox.network;
  return child;
}

namespace {

// The task's tool options: its configuration, and the process's job budget
// for its commands and gates.
tools::ToolOptions ToolOptionsFrom(const TaskEnv& env) {
  const config::Config& cfg = env.config;
  tools::ToolOptions options;
  options.jobs = env.job_budget;
  options.command_policy = cfg.guardrails.command_policy == config::CommandPolicy::kAllowAll
                               ? tools::CommandPolicy::kAllowAll
                               : tools::CommandPolicy::kRefuseRisky;
  switch (cfg.sandbox.mode) {
    case config::SandboxMode::kNone: options.sandbox = tools::SandboxMode::kOff; break;
    case config::SandboxMode::kBwrap: options.sandbox = tools::SandboxMode::kRequire; break;
    case config::SandboxMode::kAuto:
      options.sandbox = cfg.sandbox.on_unavailable == config::OnUnavailable::kRunUnsandboxed
                            ? tools::SandboxMode::kPrefer
                            : tools::SandboxMode::kRequire;
      break;
  }
  options.child = ChildPolicyFrom(cfg);
  return options;
}

}  // namespace

std::shared_ptr<tools::McpTools> StartMcpServers(const TaskEnv& env, std::stop_token cancel) {
  std::vector<tools::McpServerSetup> setups;
  for (const auto& [name, server] : env.config.mcp_servers) {
    if (!server.enabled) continue;
    tools::McpServerSetup s;
    s.name = name;
    s.argv = {server.command};
    s.argv.insert(s.argv.end(), server.args.begin(), server.args.end());
    s.env = server.env;
    s.cwd = server.cwd;
    s.enabled_tools = server.enabled_tools;
    s.disabled_tools = server.disabled_tools;
    s.start_timeout = std::chrono::milliseconds(server.start_timeout_ms);
    s.call_timeout = std::chrono::milliseconds(server.call_timeout_ms);
    s.network = server.network;
    setups.push_back(std::move(s));
  }
  if (setups.empty()) return nullptr;
  return tools::McpTools::Start(env.repo_root, ToolOptionsFrom(env), std::move(setups), cancel);
}

namespace {

VerifiedStepOptions StepOptions(const TaskEnv& env, const protocol::EventScope& scope,
                                const std::vector<std::string>& scope_paths,
                                const workspace::CheckpointId& base) {
  VerifiedStepOptions options;
  options.scope = scope;
  options.limits = env.config.limits;
  options.guardrails = env.config.guardrails;
  options.guardrails.scope = scope_paths;
  options.gates = env.gates;
  options.model = env.model;
  options.model_name = env.model_name;
  options.provider = env.provider;
  options.role = env.role;
  options.tandem_files = env.tandem_files;
  options.base = base;
  options.repo_root = env.repo_root;
  return options;
}

// Appends this attempt to the task's trajectory file; a failure is a
// warning notice (the trajectory is a record, never a reason to fail).
void WriteTrajectory(const TaskSpec& spec, const TaskEnv& env,
                     const std::vector<std::string>& scope_paths, const SkillContext& skills,
                     const workspace::CheckpointId& base, int64_t started_ms,
                     std::vector<skills::TrajectoryEntry> entries, const TaskResult& result) {
  skills::Attempt a;
  a.run_id = spec.run_id;
  a.task_id = spec.task_id;
  a.kind = spec.kind;
  a.goal = spec.task;
  a.scope = scope_paths;
  a.model = env.model_name;
  for (const ledger::SkillUse& use : skills.uses) {
    if (use.injected) a.skills.push_back(use.skill);
  }
  for (const verify::Gate& g : env.gates) {
    a.gates.push_back({g.name, std::string(verify::GateWhenName(g.when)),
                       g.command.substr(0, g.command.find('\n'))});
  }
  a.base_checkpoint = base.hex;
  a.started_ms = started_ms;
  a.entries = std::move(entries);
  a.ended = true;
  a.outcome = result.outcome;
  a.summary = result.summary;
  a.steps = result.totals.steps;
  a.retries = result.totals.retries;
  a.tokens_in = result.totals.usage.input_tokens;
  a.tokens_out = result.totals.usage.output_tokens;
  a.cost_usd = result.totals.cost_usd;
  a.wall_ms = static_cast<int64_t>(result.wall_ms);
  a.final_checkpoint = result.final_checkpoint;
  auto path = skills::TrajectoryPath(env.repo_root, spec.run_id, spec.task_id);
  Status written = path ? skills::AppendAttempt(*path, a) : path.error();
  if (!written.ok() && env.events) {
    env.events->Publish({{spec.run_id, spec.task_id, env.role}, WallClockMs(),
                         protocol::Notice{protocol::NoticeLevel::kWarn,
                                          "trajectory not kept: " + written.message()}});
  }
}

}  // namespace

std::string NewRunId() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::random_device rd;
  return fmt::format("{:04}{:02}{:02}-{:02}{:02}{:02}-{:04x}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rd() & 0xffff);
}

Result<bool> IsOnRunChain(workspace::Workspace& ws, std::string_view run_id,
                          const workspace::CheckpointId& checkpoint) {
  for (const workspace::CheckpointId& c : TRY(ws.RunCheckpoints(run_id))) {
    if (c.hex == checkpoint.hex) return true;
  }
  return false;
}

Result<std::vector<std::string>> RecoverInterrupted(const std::string& repo_root,
                                                    ledger::Ledger& ledger) {
  std::vector<std::string> lines;
  auto steps = TRY(ledger.FindInterruptedSteps());
  auto orphans = TRY(ledger.FindOrphanedRuns());
  if (steps.empty() && orphans.empty()) return lines;
  // The ledger is shared by every worktree of the repository: a step is
  // restored in the working tree its run wrote (runs.repo), not in this one.
  std::map<std::string, std::unique_ptr<workspace::Workspace>> trees;
  for (const auto& step : steps) {
    if (step.checkpoint_before.empty()) continue;
    auto run = TRY(ledger.GetRun(step.run_id));
    std::string tree = run && !run->repo.empty() ? run->repo : repo_root;
    std::error_code ec;
    if (tree != repo_root && !std::filesystem::is_directory(tree, ec)) {
      lines.push_back(fmt::format("run {} step {}: its working tree {} is gone; nothing to restore",
                                  step.run_id, step.n, tree));
      continue;
    }
    auto& ws = trees[tree];
    if (!ws) {
      ws = TRY(workspace::Workspace::Open(tree));
      TRY(ws->StartRun("recover-" + NewRunId()));
    }
    auto id = TRY(workspace::CheckpointId::Parse(step.checkpoint_before));
    if (!TRY(IsOnRunChain(*ws, step.run_id, id))) {
      lines.push_back(fmt::format(
          "run {} step {} ran in an agent's worktree: nothing to restore in the checkout",
          step.run_id, step.n));
      continue;
    }
    TRY(ws->Restore(id, workspace::TouchedPaths::Unknown()));
    lines.push_back(fmt::format("restored run {} step {} to its checkpoint {}{}", step.run_id,
                                step.n, id.Short(), tree == repo_root ? "" : " in " + tree));
  }
  for (const auto& run : orphans) {
    RETURN_IF_ERROR(ledger.AdoptRun(run.id));
    ledger::RunEnd end;
    end.outcome = ledger::RunOutcome::kInterrupted;
    end.exit_code = protocol::kExitInterrupted;
    RETURN_IF_ERROR(ledger.EndRun(run.id, end));
    lines.push_back(fmt::format("closed interrupted run {} ({})", run.id, run.goal));
  }
  return lines;
}

Result<TaskResult> ExecuteTask(const TaskSpec& spec, const TaskEnv& env, workspace::Workspace& ws,
                               const std::function<void(int64_t)>& on_prompt_ready) {
  auto wall_start = SteadyClock::now();
  // The first run_command waits for a one-time bubblewrap probe (10-25 ms,
  // docs/PERFORMANCE.md); take it off the critical path while the prompt is
  // built and the model streams. The result is cached process-wide.
  std::jthread sandbox_probe;
  if (env.config.sandbox.mode != config::SandboxMode::kNone) {
    sandbox_probe = std::jthread([] { (void)platform::ProbeSandbox(); });
  }
  protocol::EventScope scope{spec.run_id, spec.task_id, env.role};
  std::shared_ptr<tools::McpTools> mcp = env.mcp ? env.mcp : StartMcpServers(env);
  for (const std::string& note : mcp && env.events ? mcp->notes() : std::vector<std::string>{}) {
    env.events->Publish({scope, WallClockMs(), protocol::Notice{protocol::NoticeLevel::kWarn, note}});
  }
  // Review policy `irreversible`: whether an irreversible command ran.
  std::atomic<bool> irreversible_ran{false};
  tools::IrreversibleCommandHook hook;
  if (env.irreversible_commands) {
    hook = [&irreversible_ran, inner = env.irreversible_commands](const std::string& command,
                                                                 const std::string& why) {
      tools::CommandDecision decision = inner(command, why);
      if (decision.run) irreversible_ran = true;
      return decision;
    };
  }
  auto toolbox = TRY(tools::ToolBox::Create(env.repo_root, ToolOptionsFrom(env), hook, mcp));
  workspace::CheckpointId base = *ws.last_checkpoint();

  // The prompt: stable prefix (system + tools), then the task's context.
  TaskContext context;
  context.task = spec.task;
  std::vector<std::string> scope_paths = env.config.guardrails.scope;
  scope_paths.insert(scope_paths.end(), spec.scope.begin(), spec.scope.end());
  auto agents = memory::LoadAgentsDoc(env.repo_root, scope_paths);
  if (agents) {
    context.agents_md = agents->text;
    for (const std::string& why : agents->refused) {
      env.events->Publish(
          {scope, WallClockMs(), protocol::Notice{protocol::NoticeLevel::kWarn, why}});
    }
  }
  context.repo_view = BuildRepoView(env.repo_root);
  context.gates = GateLines(env.gates);
  for (const auto& s : scope_paths) context.scope += (context.scope.empty() ? "" : ", ") + s;
  context.extra = spec.extra_context;
  SkillContext skills = TRY(PickSkills(spec, env, scope_paths));
  context.skills = skills.text;
  for (const std::string& note : env.events ? skills.notices : std::vector<std::string>{}) {
    env.events->Publish({scope, WallClockMs(), protocol::Notice{protocol::NoticeLevel::kInfo, note}});
  }

  protocol::ModelRequest request;
  request.model = env.model.id;
  request.system = ExecutorSystemPrompt();
  request.tools = toolbox.Specs();
  request.max_tokens = static_cast<int>(env.model.max_output_tokens);
  request.messages.push_back(protocol::Message::User(BuildTaskMessage(context)));

  TaskResult result;
  result.first_request_tokens = EstimateTokens(request);
  if (on_prompt_ready) on_prompt_ready(result.first_request_tokens);

  if (env.ledger && !skills.uses.empty()) {
    Status recorded = env.ledger->RecordSkillUses(spec.run_id, spec.task_id, skills.uses);
    if (!recorded.ok() && env.events) {
      env.events->Publish({scope, WallClockMs(), protocol::Notice{protocol::NoticeLevel::kWarn,
                                                                 "ledger: skills not recorded: " + recorded.message()}});
    }
  }

  LedgerGateCache gate_cache(env.ledger);
  // The trajectory (skills/trajectory.h) sees the policy's events and calls.
  TrajectoryRecorder recorder(env.events, &ws);
  VerifiedStepDeps deps{&ws,       &toolbox,         env.ledger,  &gate_cache,
                        &recorder, env.steer_notes, env.review,  &irreversible_ran};
  VerifiedStepOptions options = StepOptions(env, scope, scope_paths, base);
  options.task_text = spec.task;
  if (!env.review_base.empty()) {
    options.review_base = TRY(workspace::CheckpointId::Parse(env.review_base));
  }
  VerifiedStepPolicy policy(deps, options);
  recorder.Wrap(&policy);
  const int64_t started_ms = WallClockMs();

  CancellableClient client(env.client);
  InterruptHub::Handle handle = 0;
  if (env.interrupts) {
    handle = env.interrupts->Subscribe([&] {
      policy.Interrupt();
      client.CancelAll();
    });
  }
  EventObserver observer(env.events, scope);
  LoopResult loop = RunTurnLoop(client, std::move(request), recorder, &observer,
                                 env.config.limits.context_tokens);
  if (env.interrupts) env.interrupts->Unsubscribe(handle);

  result.totals = policy.totals();
  result.review = policy.last_review();
  result.commit = policy.commit();
  result.best_attempt_ref = policy.best_attempt_ref();
  result.summary = loop.summary;
  if (!policy.error().empty()) {
    // Before an interrupt: an interrupted step whose rollback failed is an error.
    result.outcome = TaskOutcome::kError;
    result.summary = policy.error();
    result.step_left_running = policy.step_left_running();
  } else if (policy.interrupted()) {
    result.outcome = TaskOutcome::kInterrupted;
  } else if (loop.model_error) {
    result.outcome = loop.model_error->kind == protocol::ModelErrorKind::kCancelled
                         ? TaskOutcome::kInterrupted
                         : TaskOutcome::kProviderError;
    if (result.outcome == TaskOutcome::kProviderError) {
      result.summary = fmt::format("{} error from {}: {}",
                                   protocol::ModelErrorKindName(loop.model_error->kind),
                                   env.provider, loop.model_error->message);
    }
  } else {
    switch (loop.state) {
      case StepState::kDone: result.outcome = TaskOutcome::kSucceeded; break;
      case StepState::kFailed: result.outcome = TaskOutcome::kFailed; break;
      case StepState::kStopped:
      case StepState::kContinue: result.outcome = TaskOutcome::kLimit; break;
    }
  }
  if (auto last = ws.last_checkpoint()) result.final_checkpoint = last->hex;
  result.wall_ms =
      std::chrono::duration<double, std::milli>(SteadyClock::now() - wall_start).count();
  WriteTrajectory(spec, env, scope_paths, skills, base, started_ms, recorder.TakeEntries(), result);
  if (env.ledger && !skills.uses.empty()) {
    ledger::SkillUseEnd end;
    end.outcome = result.outcome;
    end.steps = result.totals.steps;
    end.tokens = result.totals.usage.input_tokens + result.totals.usage.output_tokens;
    end.cost_usd = result.totals.cost_usd;
    end.wall_ms = static_cast<int64_t>(result.wall_ms);
    Status ended = env.ledger->EndSkillUses(spec.run_id, spec.task_id, end);
    if (!ended.ok() && env.events) {
      env.events->Publish({scope, WallClockMs(), protocol::Notice{protocol::NoticeLevel::kWarn,
                                                                 "ledger: skill counts not updated: " + ended.message()}});
    }
  }
  return result;
}

Result<TaskResult> RunTask(const TaskSpec& spec, const TaskEnv& env) {
  auto wall_start = SteadyClock::now();
  protocol::EventScope scope{spec.run_id, spec.task_id, "executor"};
  auto publish = [&](protocol::EventPayload payload) {
    env.events->Publish({scope, WallClockMs(), std::move(payload)});
  };

  auto ws = TRY(workspace::Workspace::Open(env.repo_root));
  workspace::CheckpointId base = TRY(ws->StartRun(spec.run_id));
  if (env.ledger) {
    ledger::RunStart start;
    start.id = spec.run_id;
    start.kind = spec.kind;
    start.goal = spec.task;
    start.repo = env.repo_root;
    start.base_checkpoint = base.hex;
    RETURN_IF_ERROR(env.ledger->BeginRun(start));
  }
  TaskResult result = TRY(ExecuteTask(spec, env, *ws, [&](int64_t first_request_tokens) {
    publish(protocol::RunStarted{spec.kind, spec.task, env.repo_root, env.model_name,
                                 env.gates_source, first_request_tokens});
  }));
  result.wall_ms =
      std::chrono::duration<double, std::milli>(SteadyClock::now() - wall_start).count();
  const RunTotals& t = result.totals;
  double harness = result.wall_ms - t.model_ms - t.tool_ms - t.gate_ms;
  if (env.ledger && !result.step_left_running) {
    ledger::RunEnd end;
    end.outcome = result.outcome == TaskOutcome::kSucceeded     ? ledger::RunOutcome::kSucceeded
                  : result.outcome == TaskOutcome::kInterrupted ? ledger::RunOutcome::kInterrupted
                                                                : ledger::RunOutcome::kFailed;
    end.final_checkpoint = result.final_checkpoint;
    end.exit_code = protocol::ExitCodeFor(result.outcome);
    ledger::RunTotals totals;
    totals.steps = t.steps;
    totals.retries = t.retries;
    totals.tokens_in = t.usage.input_tokens;
    totals.tokens_out = t.usage.output_tokens;
    totals.tokens_cached = t.usage.cached_input_tokens;
    totals.cost_usd = t.cost_usd + t.review_cost_usd;
    totals.wall_ms = static_cast<int64_t>(result.wall_ms);
    totals.model_ms = static_cast<int64_t>(t.model_ms);
    totals.tool_ms = static_cast<int64_t>(t.tool_ms);
    totals.gate_ms = static_cast<int64_t>(t.gate_ms);
    end.totals = totals;
    // The run stays 'running' in the ledger; the next tandem command closes it.
    Status ended = env.ledger->EndRun(spec.run_id, end);
    if (!ended.ok()) publish(protocol::Notice{protocol::NoticeLevel::kWarn, "ledger: the run's end not recorded: " + ended.message()});
  }
  publish(protocol::RunFinished{result.outcome, result.summary, t.steps,
                                t.retries, t.usage, t.cost_usd + t.review_cost_usd, result.wall_ms, t.model_ms,
                                t.tool_ms, t.gate_ms, harness, 0, result.best_attempt_ref});
  return result;
}

Result<VerifiedStepPolicy::GateCheck> CheckGates(const TaskSpec& spec, const TaskEnv& env,
                                                 workspace::Workspace& ws,
                                                 const workspace::CheckpointId& at,
                                                 ledger::StepId step) {
  protocol::EventScope scope{spec.run_id, spec.task_id, env.role};
  auto toolbox = TRY(tools::ToolBox::Create(env.repo_root, ToolOptionsFrom(env), nullptr));
  LedgerGateCache gate_cache(env.ledger);
  VerifiedStepDeps deps{&ws, &toolbox, env.ledger, &gate_cache, env.events, nullptr, {}, nullptr};
  VerifiedStepPolicy policy(deps, StepOptions(env, scope, env.config.guardrails.scope, at));
  InterruptHub::Handle handle = 0;
  if (env.interrupts) handle = env.interrupts->Subscribe([&] { policy.Interrupt(); });
  VerifiedStepPolicy::GateCheck check = policy.CheckFinalGates(at, step);
  if (env.interrupts) env.interrupts->Unsubscribe(handle);
  return check;
}

}  // namespace tandem::agent
