#include "tandem/base/strings.h"
#include "tandem/orchestrator/fanout.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "tandem/agent/repo_view.h"
#include "tandem/agent/task_runner.h"
#include "tandem/base/clock.h"
#include "tandem/base/kill_point.h"
#include "tandem/config/trust.h"
#include "tandem/ledger/git_dirs.h"
#include "tandem/memory/plan_md.h"
#include "tandem/memory/progress_md.h"
#include "tandem/orchestrator/tournament.h"
#include "tandem/tools/glob.h"
#include "tandem/workspace/run_refs.h"
#include "tandem/workspace/tree_merge.h"
#include "tandem/workspace/workspace.h"
#include "tandem/workspace/worktree.h"

namespace tandem::orchestrator {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
using protocol::NoticeLevel;
using ledger::VariantState;


std::string VariantId(int64_t n) { return fmt::format("v{}", n); }

std::string TemperatureText(const std::optional<double>& t) {
  return t ? fmt::format("{:.1f}", *t) : "default";
}

// Tallies the fan-out's spend from the agents' model-call events as they
// happen, and passes every event on: as they are, or for a plan task's
// fan-out as the task's (FanoutParent).
class SpendSink : public protocol::EventSink {
 public:
  SpendSink(protocol::EventSink* inner, const std::optional<FanoutParent>& parent,
            std::function<void(double)> on_spend)
      : inner_(inner), parent_(parent), on_spend_(std::move(on_spend)) {}
  void Publish(const protocol::Event& event) override {
    if (const auto* call = std::get_if<protocol::ModelCallFinished>(&event.payload)) {
      on_spend_(call->cost_usd);
    }
    if (!parent_) return inner_->Publish(event);
    // The plan run has one start and one end: its own.
    if (std::holds_alternative<protocol::RunStarted>(event.payload) ||
        std::holds_alternative<protocol::RunFinished>(event.payload)) {
      return;
    }
    protocol::Event as_task = event;
    as_task.scope.run_id = parent_->run_id;
    as_task.scope.task_id =
        parent_->task_id + (event.scope.task_id.empty() ? "" : "." + event.scope.task_id);
    inner_->Publish(as_task);
  }

 private:
  protocol::EventSink* inner_;
  const std::optional<FanoutParent>& parent_;
  std::function<void(double)> on_spend_;
};

// Sends every request at the variant's temperature (empty: the provider's
// default), the diversity strategy's second axis.
class TemperatureClient : public providers::ModelClient {
 public:
  TemperatureClient(providers::ModelClient* inner, std::optional<double> temperature)
      : inner_(inner), temperature_(temperature) {}
  std::unique_ptr<providers::PendingReply> Start(const protocol::ModelRequest& request,
                                                 providers::StreamObserver* observer) override {
    if (!temperature_) return inner_->Start(request, observer);
    protocol::ModelRequest at = request;
    at.temperature = temperature_;
    return inner_->Start(at, observer);
  }

 private:
  providers::ModelClient* inner_;
  std::optional<double> temperature_;
};

// The scheduler of one fan-out: the calling thread starts variants in
// pooled worktrees, collects their results and stops them when a limit is
// reached; each variant runs on a jthread of its own.
class Fanout {
 public:
  Fanout(const FanoutSpec& spec, const FanoutEnv& env)
      : spec_(spec),
        env_(env),
        root_(env.repo_root),
        sink_(env.events, spec.parent, [this](double usd) { AddSpend(usd); }) {}

  ~Fanout() {
    // Every exit waits for the agents' threads.
    agents_stop_.Interrupt();
    running_.clear();
  }

  Result<FanoutResult> Run() {
    start_ = SteadyClock::now();
    deadline_ = start_ + std::chrono::seconds(std::max<int64_t>(1, env_.config.limits.max_wall_s));
    ws_ = TRY(workspace::Workspace::Open(root_));  // reads objects (the tournament's diffs)
    if (spec_.parent) {
      // A plan task's: the plan run cleaned up when it started, and its
      // scheduler owns the checkout and the other tasks' worktrees.
      base_ = spec_.parent->base;
    } else {
      for (const std::string& line : RemoveLeftoverSlots(root_)) Notice(NoticeLevel::kInfo, line);
      base_ = TRY(ws_->StartRun(spec_.run_id));
    }
    git_dir_ = TRY(ledger::GitCommonDir(root_));
    ledger::RunStart start;
    start.id = spec_.run_id;
    start.kind = "fanout";
    start.goal = spec_.task;
    start.repo = root_;
    start.base_checkpoint = base_.hex;
    RETURN_IF_ERROR(env_.ledger->BeginRun(start));
    std::string pool;
    for (const ModelSlot& m : env_.models) pool += (pool.empty() ? "" : ", ") + m.name;
    Publish({}, protocol::RunStarted{"fanout", spec_.task, root_, pool, env_.gates_source, 0});
    Notice(NoticeLevel::kInfo,
           spec_.parent
               ? fmt::format("fan-out {} of {} variants over {} ({} at once); the top-ranked "
                             "passing one becomes the task's change",
                             spec_.run_id, spec_.variants, pool, Parallel())
               : fmt::format("fan-out of {} variants over {} ({} at once); the checkout is not "
                             "changed",
                             spec_.variants, pool, Parallel()));

    agent::InterruptHub::Handle user = 0;
    if (env_.interrupts) {
      user = env_.interrupts->Subscribe([this] {
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stop_ == FanoutStop::kNone) stop_ = FanoutStop::kInterrupt;
        }
        agents_stop_.Interrupt();
        cv_.notify_all();
      });
    }
    std::vector<std::string> approaches = spec_.approaches;
    if (spec_.draft_approaches && approaches.empty()) approaches = DraftTheApproaches();
    plans_ = PlanVariants(spec_.variants, env_.models.size(), approaches);
    Status looped = Loop();
    if (env_.interrupts) env_.interrupts->Unsubscribe(user);
    agents_stop_.Interrupt();
    running_.clear();  // joins
    RemovePool();
    RETURN_IF_ERROR(looped);
    return Finish();
  }

 private:
  struct Variant {
    int64_t n = 0;
    VariantPlan plan;
    std::string slot;
    bool reuse = false;
    // The slot's Workspace from its last variant: its reset costs what
    // changed (workspace/worktree.h).
    std::unique_ptr<workspace::Workspace> ws;
    std::jthread thread;
  };
  struct Done {
    int64_t n = 0;
    std::string slot;
    std::unique_ptr<workspace::Workspace> ws;  // back to the slot
    Result<agent::TaskResult> result = Internal("the variant did not run");
    std::string tree_hash;
    int64_t added = 0, removed = 0, files = 0;
  };

  int Parallel() const {
    int p = spec_.parallel > 0 ? spec_.parallel : kDefaultFanoutParallel;
    return std::clamp(p, 1, std::max(1, spec_.variants));
  }

  void Publish(const std::string& task_id, protocol::EventPayload payload) {
    sink_.Publish({{spec_.run_id, task_id, "fanout"}, WallClockMs(), std::move(payload)});
  }
  void Notice(NoticeLevel level, std::string text) {
    Publish({}, protocol::Notice{level, std::move(text)});
  }

  // --approaches: the planner's call (two with a correction), a model call
  // of this run whose spend counts in the fan-out's budget like every
  // variant's, before any variant starts. On failure the fan-out stops
  // (kApproaches) and returns no approach.
  std::vector<std::string> DraftTheApproaches() {
    PlannerSpend spend;
    PlannerEnv planner;
    planner.model = env_.planner;
    planner.events = &sink_;
    planner.ledger = env_.ledger;
    planner.run_id = spec_.run_id;
    planner.spend = &spend;
    auto drafted = DraftApproaches(planner, spec_.task, spec_.variants, agent::BuildRepoView(root_));
    approaches_cost_ = spend.cost_usd;
    if (!drafted) {
      approaches_error_ = drafted.error().message();
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_ == FanoutStop::kNone) stop_ = FanoutStop::kApproaches;
      return {};
    }
    Notice(NoticeLevel::kInfo,
           fmt::format("the planner ({}) wrote {} approach{} for {} variants (${:.4f})",
                       env_.planner.name, drafted->size(), drafted->size() == 1 ? "" : "es",
                       spec_.variants, approaches_cost_));
    return std::move(*drafted);
  }

  void AddSpend(double usd) {
    std::lock_guard<std::mutex> lock(mu_);
    spent_ += usd;
    if (spent_ >= env_.config.limits.max_cost_usd && stop_ == FanoutStop::kNone) {
      stop_ = FanoutStop::kCostBudget;
      cv_.notify_all();
    }
  }

  Status Loop() {
    const SteadyClock::time_point deadline = deadline_;
    int64_t next = 1;
    bool stopped = false;
    while (true) {
      FanoutStop stop;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stop = stop_;
      }
      if (stop != FanoutStop::kNone && !stopped) {
        stopped = true;
        agents_stop_.Interrupt();
        if (next == 1 && stop == FanoutStop::kCostBudget && approaches_cost_ > 0) {
          // Spent before anything started: by the planner's approaches.
          Notice(NoticeLevel::kError,
                 fmt::format("the planner's approaches cost ${:.4f}, the whole of the fan-out's "
                             "cost budget (limits.max_cost_usd = {}): no variant started",
                             approaches_cost_, env_.config.limits.max_cost_usd));
        } else {
          Notice(stop == FanoutStop::kApproaches ? NoticeLevel::kError : NoticeLevel::kWarn,
                 StopText(stop));
        }
      }
      while (!stopped && next <= spec_.variants && static_cast<int>(running_.size()) < Parallel()) {
        RETURN_IF_ERROR(Start(next++));
      }
      if (running_.empty()) break;
      std::deque<Done> done;
      {
        std::unique_lock<std::mutex> lock(mu_);
        auto woken = [&] { return !done_.empty() || (stop_ != FanoutStop::kNone && !stopped); };
        if (stopped) {
          cv_.wait(lock, woken);  // the agents are stopping: wait for them
        } else {
          cv_.wait_until(lock, deadline, woken);
        }
        if (SteadyClock::now() >= deadline && stop_ == FanoutStop::kNone) {
          stop_ = FanoutStop::kWallBudget;
        }
        done.swap(done_);
      }
      for (Done& d : done) RETURN_IF_ERROR(Settle(std::move(d)));
    }
    // Variants never started: cancelled.
    for (; next <= spec_.variants; ++next) {
      ledger::VariantRow row = NewRow(next);
      row.state = VariantState::kCancelled;
      row.detail = "not started: " + StopText(stop_);
      RETURN_IF_ERROR(env_.variants->UpsertVariant(row));
      rows_[next] = row;
    }
    return Status::Ok();
  }

  std::string StopText(FanoutStop stop) const {
    switch (stop) {
      case FanoutStop::kStopAfter:
        return fmt::format("--stop-after {}: that many distinct variants passed; the rest are "
                           "cancelled",
                           spec_.stop_after);
      case FanoutStop::kCostBudget:
        return fmt::format("the fan-out's cost budget (limits.max_cost_usd = {}) is spent; the "
                           "rest are cancelled",
                           env_.config.limits.max_cost_usd);
      case FanoutStop::kWallBudget:
        return fmt::format("the fan-out's wall-time budget (limits.max_wall_s = {}) is used up; "
                           "the rest are cancelled",
                           env_.config.limits.max_wall_s);
      case FanoutStop::kInterrupt: return "interrupted";
      case FanoutStop::kApproaches:
        return "--approaches: " + approaches_error_ + "; no variant started";
      case FanoutStop::kNone: break;
    }
    return "";
  }

  ledger::VariantRow NewRow(int64_t n) const {
    const VariantPlan& p = plans_[static_cast<size_t>(n - 1)];
    ledger::VariantRow row;
    row.run_id = spec_.run_id;
    row.n = n;
    row.model = env_.models[p.model].name;
    row.temperature = p.temperature;
    row.approach = p.approach;
    return row;
  }

  Status Start(int64_t n) {
    auto v = std::make_unique<Variant>();
    v->n = n;
    v->plan = plans_[static_cast<size_t>(n - 1)];
    if (free_slots_.empty()) {
      v->slot = FanoutSlotId(spec_.run_id, ++slots_made_);
    } else {
      v->slot = free_slots_.back();
      v->reuse = true;
      free_slots_.pop_back();
      v->ws = std::move(slot_ws_[v->slot]);
      slot_ws_.erase(v->slot);
    }
    made_slots_.insert(v->slot);
    ledger::VariantRow row = NewRow(n);
    RETURN_IF_ERROR(env_.variants->UpsertVariant(row));
    rows_[n] = row;
    const ModelSlot& m = env_.models[v->plan.model];
    Publish(VariantId(n), protocol::TaskStarted{
                              fmt::format("variant {} of {}{}", n, spec_.variants,
                                          v->plan.approach.empty()
                                              ? ""
                                              : " · " + FirstLine(v->plan.approach)),
                              "executor",
                              fmt::format("{} · temperature {}", m.name,
                                          TemperatureText(v->plan.temperature)),
                              1});
    Variant* raw = v.get();
    running_[n] = std::move(v);
    raw->thread = std::jthread([this, raw] {
      Done d = RunVariant(*raw);
      std::lock_guard<std::mutex> lock(mu_);
      done_.push_back(std::move(d));
      cv_.notify_all();
    });
    return Status::Ok();
  }

  // On the variant's thread: its worktree at the base, its own Workspace,
  // the task, then what its final tree is.
  Done RunVariant(Variant& v) {
    Done d;
    d.n = v.n;
    d.slot = v.slot;
    d.result = [&]() -> Result<agent::TaskResult> {
      if (v.reuse) {
        d.ws = TRY(workspace::Worktree::Reset(root_, v.slot, base_, std::move(v.ws)));
      } else {
        d.ws = TRY(workspace::Workspace::Open(
            TRY(workspace::Worktree::Create(root_, v.slot, base_)).root()));
      }
      workspace::Workspace* ws = d.ws.get();
      TRY(ws->StartRun(spec_.run_id + "." + VariantId(v.n)));
      const ModelSlot& m = env_.models[v.plan.model];
      agent::TaskSpec spec;
      spec.run_id = spec_.run_id;
      spec.task_id = VariantId(v.n);
      spec.kind = "fanout";
      spec.task = spec_.task;
      spec.scope = spec_.scope;
      spec.extra_context = spec_.extra_context;
      if (!v.plan.approach.empty()) {
        spec.extra_context += (spec.extra_context.empty() ? "" : "\n") +
                              std::string("Approach to take (one of several being tried in "
                                          "parallel): ") +
                              v.plan.approach;
      }
      agent::TaskEnv env = env_.task_env ? *env_.task_env : agent::TaskEnv{};
      env.steer_notes = {};  // a plan task's notes reach its variants at their start
      env.review_base.clear();
      if (env_.irreversible_commands) env.irreversible_commands = env_.irreversible_commands(*ws);
      env.repo_root = ws->root();
      env.config = env_.config;
      env.model_name = m.name;
      env.model = m.model;
      env.provider = m.provider;
      TemperatureClient client(m.client, v.plan.temperature);
      env.client = &client;
      env.events = &sink_;
      env.ledger = env_.ledger;
      env.gates = env_.gates;
      env.gates_source = env_.gates_source;
      env.interrupts = &agents_stop_;
      env.job_budget = env_.job_budget;
      // The worktree was just checked out at base_: every variant's skills
      // are base_'s, read once (what a variant then edits stays its own).
      env.skills_checkpoint = base_.hex;
      agent::TaskResult result = TRY(agent::ExecuteTask(spec, env, *ws, nullptr));
      if (!result.final_checkpoint.empty()) {
        auto final = TRY(workspace::CheckpointId::Parse(result.final_checkpoint));
        d.tree_hash = TRY(ws->TreeHash(final));
        for (const workspace::FileChange& c : TRY(ws->Diff(base_, final))) {
          if (c.ignored) continue;
          d.added += c.lines_added;
          d.removed += c.lines_removed;
          ++d.files;
        }
      }
      return result;
    }();
    return d;
  }

  Status Settle(Done d) {
    auto it = running_.find(d.n);
    if (it != running_.end()) {
      it->second->thread.join();
      running_.erase(it);
    }
    free_slots_.push_back(d.slot);
    slot_ws_[d.slot] = std::move(d.ws);
    ledger::VariantRow& row = rows_[d.n];
    FanoutStop stop;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop = stop_;
    }
    protocol::TaskEnd end = protocol::TaskEnd::kFailed;
    std::string summary;
    if (!d.result) {
      row.state = VariantState::kError;
      row.detail = d.result.error().ToString();
      summary = row.detail;
    } else {
      const agent::TaskResult& r = *d.result;
      row.final_checkpoint = r.final_checkpoint;
      row.tree_hash = d.tree_hash;
      row.lines_added = d.added;
      row.lines_removed = d.removed;
      row.files = d.files;
      row.tokens_in = r.totals.usage.input_tokens;
      row.tokens_out = r.totals.usage.output_tokens;
      row.cost_usd = r.totals.cost_usd;
      row.wall_ms = static_cast<int64_t>(r.wall_ms);
      row.gate_ms = static_cast<int64_t>(r.totals.gate_ms);
      row.detail = r.summary;
      totals_.steps += r.totals.steps;
      totals_.retries += r.totals.retries;
      totals_.model_ms += r.totals.model_ms;
      totals_.tool_ms += r.totals.tool_ms;
      totals_.usage.cached_input_tokens += r.totals.usage.cached_input_tokens;
      switch (r.outcome) {
        case protocol::Outcome::kSucceeded:
          if (d.files == 0) {
            row.state = VariantState::kFailed;
            row.detail = "made no change";
          } else {
            row.state = VariantState::kPassed;
          }
          break;
        case protocol::Outcome::kInterrupted:
          row.state = stop == FanoutStop::kInterrupt || stop == FanoutStop::kNone
                          ? VariantState::kInterrupted
                          : VariantState::kCancelled;
          row.detail = StopText(stop);
          break;
        case protocol::Outcome::kError: row.state = VariantState::kError; break;
        case protocol::Outcome::kLimit:
          // The fan-out's budget is also each agent's: one that stopped on
          // it was cancelled by the fan-out's limit, not failed.
          if (stop == FanoutStop::kCostBudget || stop == FanoutStop::kWallBudget) {
            row.state = VariantState::kCancelled;
            row.detail = StopText(stop);
          } else {
            row.state = VariantState::kFailed;
          }
          break;
        default: row.state = VariantState::kFailed; break;
      }
      if (r.step_left_running) row.state = VariantState::kError;
    }
    if (row.state == VariantState::kPassed) {
      end = protocol::TaskEnd::kDone;
      summary = fmt::format("passed: +{}/-{} in {} file{} · {:.1f} s · ${:.4f}", row.lines_added,
                            row.lines_removed, row.files, row.files == 1 ? "" : "s",
                            row.wall_ms / 1000.0, row.cost_usd);
      if (!first_pass_ms_) first_pass_ms_ = MsSince(start_);
      passing_trees_.insert(row.tree_hash);
      if (spec_.stop_after > 0 && static_cast<int>(passing_trees_.size()) >= spec_.stop_after) {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_ == FanoutStop::kNone) stop_ = FanoutStop::kStopAfter;
      }
    } else if (row.state == VariantState::kCancelled || row.state == VariantState::kInterrupted) {
      end = protocol::TaskEnd::kInterrupted;
      summary = row.detail;
    } else {
      // The event's state already says failed; an error says what went wrong.
      summary = row.state == VariantState::kError ? "error: " + FirstLine(row.detail)
                                                  : FirstLine(row.detail);
    }
    RETURN_IF_ERROR(env_.variants->UpsertVariant(row));
    Publish(VariantId(d.n), protocol::TaskFinished{end, summary, 0});
    return Status::Ok();
  }

  void RemovePool() {
    slot_ws_.clear();  // their watches and index copies go before the trees
    for (const std::string& slot : made_slots_) {
      Status removed = workspace::Worktree::Remove(root_, slot);
      if (!removed.ok() && removed.code() != StatusCode::kNotFound) {
        Notice(NoticeLevel::kWarn, "removing worktree " + slot + ": " + removed.message());
      }
    }
    made_slots_.clear();
    free_slots_.clear();
  }

  // Why the tournament should not call the reviewer (now), or "".
  std::string TournamentStop() {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ == FanoutStop::kInterrupt) return StopText(stop_);
    if (spent_ >= env_.config.limits.max_cost_usd) return StopText(FanoutStop::kCostBudget);
    if (SteadyClock::now() >= deadline_) return StopText(FanoutStop::kWallBudget);
    return "";
  }

  // The reviewer's tournament over the passing candidates of `ranked`
  // (RankVariants order, which seeds it), when it is due.
  TournamentResult Judge(const std::vector<ledger::VariantRow>& ranked) {
    std::vector<TournamentEntry> seeds;
    for (const ledger::VariantRow& v : ranked) {
      if (v.state != VariantState::kPassed || v.duplicate_of || !v.rank) continue;
      TournamentEntry e;
      e.n = v.n;
      e.summary = v.detail;
      e.lines_added = v.lines_added;
      e.lines_removed = v.lines_removed;
      e.files = v.files;
      if (auto final = workspace::CheckpointId::Parse(v.final_checkpoint)) {
        auto patch = ws_->Patch(base_, *final);
        e.diff = patch ? std::move(*patch)
                       : "(the diff could not be read: " + patch.error().message() + ")";
      }
      seeds.push_back(std::move(e));
    }
    if (seeds.size() < 2 || !env_.reviewer.client || !env_.config.fanout.tournament) return {};
    if (std::string why = TournamentStop(); !why.empty()) {
      Notice(NoticeLevel::kWarn, "no tournament (" + why + "); the score alone ranks");
      return {};
    }
    TournamentEnv tenv;
    tenv.run_id = spec_.run_id;
    tenv.task = spec_.task;
    tenv.reviewer = env_.reviewer;
    tenv.events = &sink_;  // its spend counts in the fan-out's budget
    tenv.ledger = env_.ledger;
    tenv.comparisons = env_.variants;
    tenv.interrupts = env_.interrupts;
    tenv.parallel = Parallel();
    tenv.stop = [this] { return TournamentStop(); };
    return RunTournament(seeds, tenv);
  }

  Result<FanoutResult> Finish() {
    std::vector<ledger::VariantRow> rows;
    for (auto& [n, row] : rows_) rows.push_back(row);
    rows = RankVariants(std::move(rows));
    TournamentResult tournament = Judge(rows);
    if (!tournament.comparisons.empty()) rows = RankVariants(std::move(rows), tournament.comparisons);
    for (const ledger::VariantRow& row : rows) RETURN_IF_ERROR(env_.variants->UpsertVariant(row));
    FanoutResult result;
    result.variants = rows;
    result.comparisons = std::move(tournament.comparisons);
    result.tournament_calls = tournament.calls;
    result.tournament_ms = tournament.wall_ms;
    result.wall_ms = MsSince(start_);
    result.first_pass_ms = first_pass_ms_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      result.stop = stop_;
      result.cost_usd = spent_;
    }
    result.approaches_cost_usd = approaches_cost_;
    int passed = 0;
    for (const auto& r : rows) passed += r.state == VariantState::kPassed ? 1 : 0;
    result.outcome = passed > 0                                ? protocol::Outcome::kSucceeded
                     : result.stop == FanoutStop::kInterrupt   ? protocol::Outcome::kInterrupted
                     : result.stop == FanoutStop::kApproaches  ? protocol::Outcome::kProviderError
                     : result.stop == FanoutStop::kCostBudget ||
                             result.stop == FanoutStop::kWallBudget
                         ? protocol::Outcome::kLimit
                         : protocol::Outcome::kFailed;
    result.totals = totals_;
    for (const auto& r : rows) {
      result.totals.usage.input_tokens += r.tokens_in;
      result.totals.usage.output_tokens += r.tokens_out;
      result.totals.gate_ms += static_cast<double>(r.gate_ms);
    }
    result.totals.cost_usd = result.cost_usd;
    ledger::RunEnd end;
    end.outcome = result.outcome == protocol::Outcome::kSucceeded ? ledger::RunOutcome::kSucceeded
                  : result.outcome == protocol::Outcome::kInterrupted
                      ? ledger::RunOutcome::kInterrupted
                      : ledger::RunOutcome::kFailed;
    end.exit_code = protocol::ExitCodeFor(result.outcome);
    end.final_checkpoint = base_.hex;
    RETURN_IF_ERROR(env_.ledger->EndRun(spec_.run_id, end));
    std::set<std::string> trees;
    for (const auto& r : rows) {
      if (r.state == VariantState::kPassed) trees.insert(r.tree_hash);
    }
    protocol::RunFinished finished;
    finished.outcome = result.outcome;
    finished.summary = fmt::format(
        "{} of {} variants passed ({} distinct tree{}); `tandem variants` ranks them, "
        "`tandem pick VARIANT` applies one",
        passed, rows.size(), trees.size(), trees.size() == 1 ? "" : "s");
    finished.cost_usd = result.cost_usd;
    finished.wall_ms = result.wall_ms;
    // Summed over the variants, which ran side by side: these add up to
    // more than wall_ms, so tandem's own share is not derived (0).
    finished.steps = result.totals.steps;
    finished.retries = result.totals.retries;
    finished.model_ms = result.totals.model_ms;
    finished.tool_ms = result.totals.tool_ms;
    finished.usage = result.totals.usage;
    finished.gate_ms = result.totals.gate_ms;
    Publish({}, finished);
    return result;
  }

  const FanoutSpec& spec_;
  const FanoutEnv& env_;
  const std::string root_;
  SpendSink sink_;
  SteadyClock::time_point start_;
  SteadyClock::time_point deadline_;  // limits.max_wall_s after start_
  std::unique_ptr<workspace::Workspace> ws_;  // the checkout's repository (objects only)
  workspace::CheckpointId base_;
  fs::path git_dir_;
  std::vector<VariantPlan> plans_;
  agent::InterruptHub agents_stop_;
  std::map<int64_t, std::unique_ptr<Variant>> running_;
  std::map<int64_t, ledger::VariantRow> rows_;
  std::vector<std::string> free_slots_;
  std::set<std::string> made_slots_;
  std::map<std::string, std::unique_ptr<workspace::Workspace>> slot_ws_;  // idle slots'
  int slots_made_ = 0;
  std::set<std::string> passing_trees_;
  std::optional<double> first_pass_ms_;
  agent::RunTotals totals_;  // of the variants settled so far
  double approaches_cost_ = 0;    // the planner's approaches (--approaches)
  std::string approaches_error_;  // why they could not be had (FanoutStop::kApproaches)

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Done> done_;                 // GUARDED_BY(mu_)
  FanoutStop stop_ = FanoutStop::kNone;   // GUARDED_BY(mu_)
  double spent_ = 0;                      // GUARDED_BY(mu_)
};

// 0-1: where x sits between the best (lo) and worst (hi) value.
double Penalty(double x, double lo, double hi) { return hi > lo ? (x - lo) / (hi - lo) : 0.0; }

bool PathSelected(const std::string& path, const std::vector<std::string>& only) {
  for (std::string pattern : only) {
    while (pattern.size() > 1 && pattern.back() == '/') pattern.pop_back();
    if (path == pattern) return true;
    if (path.size() > pattern.size() && path.compare(0, pattern.size(), pattern) == 0 &&
        path[pattern.size()] == '/') {
      return true;
    }
    if (tools::GlobMatch(pattern, path)) return true;
  }
  return false;
}

}  // namespace

std::vector<VariantPlan> PlanVariants(int n, size_t models,
                                      const std::vector<std::string>& approaches) {
  static constexpr double kLadder[] = {0.4, 0.8, 1.0, 0.2, 0.6, 0.9};
  std::vector<VariantPlan> plans;
  size_t m = std::max<size_t>(1, models);
  for (int i = 0; i < n; ++i) {
    VariantPlan p;
    size_t idx = static_cast<size_t>(i);
    p.model = idx % m;
    size_t round = idx / m;
    if (round > 0) p.temperature = kLadder[(round - 1) % std::size(kLadder)];
    if (!approaches.empty()) p.approach = approaches[idx % approaches.size()];
    plans.push_back(std::move(p));
  }
  return plans;
}

std::vector<ledger::VariantRow> RankVariants(std::vector<ledger::VariantRow> variants,
                                             const std::vector<ledger::ComparisonRow>& comparisons) {
  using ledger::VariantRow;
  std::sort(variants.begin(), variants.end(),
            [](const VariantRow& a, const VariantRow& b) { return a.n < b.n; });
  // One candidate per tree: the lowest n that passed, else the lowest n.
  std::map<std::string, int64_t> leader;
  std::map<std::string, int> votes;
  for (const VariantRow& v : variants) {
    if (v.tree_hash.empty() || v.state == VariantState::kRunning) continue;
    ++votes[v.tree_hash];
    auto it = leader.find(v.tree_hash);
    if (it == leader.end()) {
      leader[v.tree_hash] = v.n;
    } else if (v.state == VariantState::kPassed) {
      const VariantRow& current = *std::find_if(variants.begin(), variants.end(),
                                                [&](const VariantRow& x) { return x.n == it->second; });
      if (current.state != VariantState::kPassed) it->second = v.n;
    }
  }
  std::vector<VariantRow*> passing, others, running, duplicates;
  for (VariantRow& v : variants) {
    v.rank.reset();
    v.score.reset();
    v.duplicate_of.reset();
    v.reasons.clear();
    if (v.state == VariantState::kRunning) {
      running.push_back(&v);
      continue;
    }
    if (!v.tree_hash.empty() && leader[v.tree_hash] != v.n) {
      v.duplicate_of = leader[v.tree_hash];
      duplicates.push_back(&v);
      continue;
    }
    (v.state == VariantState::kPassed ? passing : others).push_back(&v);
  }
  auto lines = [](const VariantRow* v) { return static_cast<double>(v->lines_added + v->lines_removed); };
  double lo_l = 1e300, hi_l = -1, lo_f = 1e300, hi_f = -1, lo_g = 1e300, hi_g = -1,
         lo_c = 1e300, hi_c = -1;
  for (const VariantRow* v : passing) {
    lo_l = std::min(lo_l, lines(v)), hi_l = std::max(hi_l, lines(v));
    lo_f = std::min(lo_f, double(v->files)), hi_f = std::max(hi_f, double(v->files));
    lo_g = std::min(lo_g, double(v->gate_ms)), hi_g = std::max(hi_g, double(v->gate_ms));
    lo_c = std::min(lo_c, v->cost_usd), hi_c = std::max(hi_c, v->cost_usd);
  }
  for (VariantRow* v : passing) {
    double penalty = 0.4 * Penalty(lines(v), lo_l, hi_l) + 0.2 * Penalty(double(v->files), lo_f, hi_f) +
                     0.2 * Penalty(double(v->gate_ms), lo_g, hi_g) +
                     0.2 * Penalty(v->cost_usd, lo_c, hi_c);
    v->score = std::round((1.0 - penalty) * 1000.0) / 10.0;
    std::vector<std::string> best, notes;
    auto mark = [&](bool is_best, const std::string& what, const std::string& value) {
      if (is_best) {
        best.push_back(what);
      } else {
        notes.push_back(value);
      }
    };
    mark(lines(v) <= lo_l, "smallest diff", fmt::format("{} lines (fewest {})", lines(v), lo_l));
    mark(double(v->files) <= lo_f, "fewest files",
         fmt::format("{} files (fewest {})", v->files, lo_f));
    mark(double(v->gate_ms) <= lo_g, "fastest gates",
         fmt::format("gates {:.1f} s (fastest {:.1f} s)", v->gate_ms / 1000.0, lo_g / 1000.0));
    mark(v->cost_usd <= lo_c, "cheapest",
         fmt::format("${:.4f} (cheapest ${:.4f})", v->cost_usd, lo_c));
    std::string reasons = "gates passed";
    if (!best.empty()) reasons += "; " + fmt::format("{}", fmt::join(best, ", "));
    if (!notes.empty()) reasons += "; " + fmt::format("{}", fmt::join(notes, ", "));
    int agree = votes[v->tree_hash];
    if (agree > 1) reasons += fmt::format("; {} variants reached this tree", agree);
    v->reasons = reasons;
  }
  std::stable_sort(passing.begin(), passing.end(), [&](const VariantRow* a, const VariantRow* b) {
    if (*a->score != *b->score) return *a->score > *b->score;
    int va = votes[a->tree_hash], vb = votes[b->tree_hash];
    if (va != vb) return va > vb;
    return a->n < b->n;
  });
  if (!comparisons.empty() && passing.size() > 1) {
    // The tournament orders them; the score seeded it and orders those out
    // in the same round.
    std::vector<int64_t> seeds;
    std::map<int64_t, VariantRow*> by_n;
    for (VariantRow* v : passing) {
      seeds.push_back(v->n);
      by_n[v->n] = v;
    }
    passing.clear();
    for (int64_t n : TournamentOrder(seeds, comparisons)) {
      VariantRow* v = by_n[n];
      std::string note = TournamentNote(n, comparisons);
      if (!note.empty()) v->reasons = note + "; " + v->reasons;
      passing.push_back(v);
    }
  }
  auto state_order = [](VariantState s) {
    switch (s) {
      case VariantState::kFailed: return 0;
      case VariantState::kCancelled: return 1;
      case VariantState::kInterrupted: return 2;
      default: return 3;
    }
  };
  std::stable_sort(others.begin(), others.end(), [&](const VariantRow* a, const VariantRow* b) {
    return state_order(a->state) < state_order(b->state);
  });
  for (VariantRow* v : others) {
    std::string why = v->detail.substr(0, v->detail.find('\n'));
    v->reasons = fmt::format("{}{}{}; ranks below every passing variant", ledger::ToString(v->state),
                             why.empty() ? "" : ": ", why);
  }
  std::vector<VariantRow> out;
  int64_t rank = 0;
  auto emit = [&](VariantRow* v, bool ranked) {
    if (ranked) v->rank = ++rank;
    out.push_back(*v);
    for (VariantRow* d : duplicates) {
      if (d->duplicate_of == v->n) {
        d->reasons = fmt::format("same tree as v{}: one candidate", v->n);
        out.push_back(*d);
      }
    }
  };
  for (VariantRow* v : passing) emit(v, true);
  for (VariantRow* v : others) emit(v, true);
  for (VariantRow* v : running) emit(v, false);
  return out;
}

std::string FanoutSlotId(std::string_view fanout_id, int k) {
  std::string id = fmt::format("{}-slot-{}", fanout_id, k);
  if (workspace::Worktree::IsValidId(id)) return id;
  std::string head;
  for (char c : fanout_id.substr(0, 24)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || (c == '.' && !head.empty() && head.back() != '.');
    head += ok ? c : '_';
  }
  return fmt::format("{}-{}-slot-{}", head, config::Sha256Hex(fanout_id).substr(0, 12), k);
}

std::vector<std::string> RemoveLeftoverSlots(const std::string& repo_root) {
  std::vector<std::string> lines;
  auto ids = workspace::Worktree::List(repo_root);
  if (!ids) return {"listing worktrees: " + ids.error().message()};
  for (const std::string& id : *ids) {
    if (id.find("-slot-") == std::string::npos) continue;
    Status removed = workspace::Worktree::Remove(repo_root, id);
    lines.push_back(removed.ok() ? "removed worktree " + id + " left by a stopped run"
                                 : "removing worktree " + id + ": " + removed.message());
  }
  return lines;
}

std::vector<std::string> ParseApproaches(std::string_view answer) {
  std::vector<std::string> items;
  size_t pos = 0;
  bool open = false;
  while (pos <= answer.size()) {
    size_t end = answer.find('\n', pos);
    if (end == std::string_view::npos) end = answer.size();
    std::string_view line = answer.substr(pos, end - pos);
    pos = end + 1;
    size_t i = line.find_first_not_of(" \t");
    if (i == std::string_view::npos) {
      open = false;
      continue;
    }
    line.remove_prefix(i);
    size_t digits = 0;
    while (digits < line.size() && line[digits] >= '0' && line[digits] <= '9') ++digits;
    if (digits > 0 && digits < line.size() && (line[digits] == '.' || line[digits] == ')')) {
      std::string_view text = line.substr(digits + 1);
      size_t t = text.find_first_not_of(" \t");
      items.emplace_back(t == std::string_view::npos ? "" : text.substr(t));
      open = true;
    } else if (open && !items.empty()) {
      items.back() += " ";
      items.back() += line;
    }
  }
  std::erase_if(items, [](const std::string& s) { return s.empty(); });
  return items;
}

Result<std::vector<std::string>> DraftApproaches(const PlannerEnv& planner, const std::string& goal,
                                                 int n, const std::string& repo_view) {
  static const std::string kSystem =
      "You are the planner of tandem, a coding orchestrator. Several fast executor models will "
      "each attempt the same task independently, in separate copies of the repository; a person "
      "then picks the best result. Propose genuinely different approaches (different designs, "
      "places to change, or techniques), not rewordings of one. Answer with a numbered list "
      "only: one approach per item, one or two sentences each, no code.";
  protocol::ModelRequest request = PlannerRequest(
      planner, kSystem,
      fmt::format("# Task\n{}\n\n# Repository\n{}\n\nGive {} different approaches.", goal,
                  repo_view, n));
  for (int attempt = 0;; ++attempt) {
    std::string answer = TRY(CallPlanner(planner, request, ""));
    std::vector<std::string> items = ParseApproaches(answer);
    if (!items.empty()) {
      if (static_cast<int>(items.size()) > n) items.resize(static_cast<size_t>(n));
      return items;
    }
    if (attempt >= 1) return InvalidArgument("the planner's answer has no numbered approaches");
    request.messages.push_back(protocol::Message{protocol::Role::kAssistant, answer, {}, {}, false});
    request.messages.push_back(protocol::Message::User(fmt::format(
        "tandem could not read that: answer with a numbered list of {} approaches (\"1. ...\"), "
        "nothing else.",
        n)));
  }
}

Result<FanoutResult> RunFanout(const FanoutSpec& spec, const FanoutEnv& env) {
  if (spec.variants < 1 || spec.variants > kMaxVariants) {
    return InvalidArgument(fmt::format("--variants {}: expected 1 to {}", spec.variants, kMaxVariants));
  }
  if (env.models.empty()) return InvalidArgument("a fan-out needs at least one model");
  if (!env.ledger || !env.variants || !env.events) {
    return InvalidArgument("a fan-out needs a ledger and events");
  }
  if (spec.draft_approaches && spec.approaches.empty() && !env.planner.client) {
    return InvalidArgument("--approaches needs the planner role's model");
  }
  Fanout fanout(spec, env);
  return fanout.Run();
}

Result<RankedFanout> LoadRankedFanout(ledger::FanoutLedger& ledger, std::string_view run_id) {
  RankedFanout ranked;
  ranked.comparisons = TRY(ledger.ListComparisons(run_id));
  ranked.variants = RankVariants(TRY(ledger.ListVariants(run_id)), ranked.comparisons);
  return ranked;
}

Result<PickResult> PickVariant(const PickSpec& spec, const PickEnv& env) {
  auto run = TRY(env.ledger->GetRun(spec.run_id));
  if (!run || run->kind != "fanout") return NotFound("no fan-out run " + spec.run_id);
  std::vector<ledger::VariantRow> rows = TRY(LoadRankedFanout(*env.variants, spec.run_id)).variants;
  auto it = std::find_if(rows.begin(), rows.end(),
                         [&](const ledger::VariantRow& v) { return v.n == spec.variant; });
  if (it == rows.end()) {
    return NotFound(fmt::format("fan-out {} has no variant {}", spec.run_id, spec.variant));
  }
  const ledger::VariantRow& v = *it;
  if (v.final_checkpoint.empty() || v.state == VariantState::kRunning) {
    return FailedPrecondition(fmt::format("variant {} has no final tree ({})", spec.variant,
                                          ledger::ToString(v.state)));
  }
  PickResult result;
  result.rank = v.rank;
  if (v.duplicate_of) {
    for (const auto& r : rows) {
      if (r.n == *v.duplicate_of) result.rank = r.rank;
    }
  }
  auto base = TRY(workspace::CheckpointId::Parse(run->base_checkpoint));
  auto theirs = TRY(workspace::CheckpointId::Parse(v.final_checkpoint));

  auto ws = TRY(workspace::Workspace::Open(env.repo_root));
  result.pick_run_id = "pick-" + agent::NewRunId();
  workspace::CheckpointId ours = TRY(ws->StartRun(result.pick_run_id));
  workspace::TreeMerge merge = TRY(workspace::MergeCheckpoints(
      env.repo_root, base, ours, theirs,
      {std::string(memory::kPlanFileName), std::string(memory::kProgressFileName)}));
  if (!merge.merged) {
    return FailedPrecondition(fmt::format(
        "variant {} conflicts with changes made in the checkout since the fan-out: {}",
        spec.variant, fmt::join(merge.conflicts, ", ")));
  }
  for (const std::string& path : merge.changed) {
    if (spec.only.empty() || PathSelected(path, spec.only)) result.paths.push_back(path);
  }
  for (const std::string& pattern : spec.only) {
    bool used = std::any_of(merge.changed.begin(), merge.changed.end(), [&](const std::string& p) {
      return PathSelected(p, {pattern});
    });
    if (!used) {
      return FailedPrecondition(fmt::format("--only {}: variant {} did not change it (it changed: {})",
                                            pattern, spec.variant, fmt::join(merge.changed, ", ")));
    }
  }
  if (result.paths.empty()) {
    return FailedPrecondition(
        fmt::format("variant {} changes nothing the checkout does not already have", spec.variant));
  }

  ledger::RunStart start;
  start.id = result.pick_run_id;
  start.kind = "pick";
  start.goal = fmt::format("pick v{} of {}{}", spec.variant, spec.run_id,
                           spec.only.empty() ? "" : " (only " + fmt::format("{}", fmt::join(spec.only, " ")) + ")");
  start.repo = env.repo_root;
  start.base_checkpoint = ours.hex;
  RETURN_IF_ERROR(env.ledger->BeginRun(start));
  ledger::StepId step =
      TRY(env.ledger->BeginStep({result.pick_run_id, "", 1, ours.hex}));
  KillPoint("pick_step_begun");
  workspace::CheckpointId applied =
      TRY(ws->Restore(*merge.merged, workspace::TouchedPaths::Only(result.paths)));
  KillPoint("pick_applied");

  agent::TaskSpec task;
  task.run_id = result.pick_run_id;
  task.kind = "pick";
  task.task = start.goal;
  agent::TaskEnv tenv;
  tenv.repo_root = env.repo_root;
  tenv.config = env.config;
  tenv.events = env.events;
  tenv.ledger = env.ledger;
  tenv.gates = env.gates;
  tenv.interrupts = env.interrupts;
  tenv.job_budget = env.job_budget;
  tenv.role = "pick";
  auto check = TRY(agent::CheckGates(task, tenv, *ws, applied, step));

  int64_t lines = 0;
  for (const auto& c : TRY(ws->Diff(ours, applied))) lines += c.lines_added + c.lines_removed;
  ledger::StepEnd step_end;
  step_end.lines_changed = lines;
  step_end.files_changed = static_cast<int64_t>(result.paths.size());
  ledger::RunEnd run_end;
  if (check.passed) {
    step_end.checkpoint_after = applied.hex;
    step_end.note = "picked";
    result.applied = true;
    run_end.final_checkpoint = applied.hex;
  } else {
    workspace::CheckpointId back =
        TRY(ws->Restore(ours, workspace::TouchedPaths::Only(result.paths)));
    step_end.state = ledger::StepState::kRolledBack;
    step_end.checkpoint_after = back.hex;
    step_end.note = "the picked tree failed the gates";
    RETURN_IF_ERROR(env.ledger->RecordRollback({step, "gates failed on the picked tree", ours.hex}));
    result.reason = check.feedback.empty() ? "the gates failed" : check.feedback;
    run_end.outcome = ledger::RunOutcome::kFailed;
    run_end.exit_code = protocol::kExitTaskFailed;
    run_end.final_checkpoint = back.hex;
  }
  RETURN_IF_ERROR(env.ledger->EndStep(step, step_end));
  RETURN_IF_ERROR(env.ledger->EndRun(result.pick_run_id, run_end));

  ledger::PickRecord pick;
  pick.run_id = spec.run_id;
  pick.variant = spec.variant;
  pick.rank = result.rank;
  pick.paths = fmt::format("{}", fmt::join(spec.only, "\n"));
  pick.pick_run_id = result.pick_run_id;
  pick.applied = result.applied;
  pick.reason = result.reason;
  pick.waited_ms = run->ended_at ? std::max<int64_t>(0, WallClockMs() - *run->ended_at) : 0;
  TRY(env.variants->RecordPick(pick));
  return result;
}

Result<GcResult> CollectGarbage(const std::string& repo_root, ledger::Ledger& ledger,
                                ledger::FanoutLedger& variants, int64_t keep_ms, int64_t now_ms) {
  GcResult result;
  for (std::string& line : TRY(agent::RecoverInterrupted(repo_root, ledger))) {
    result.lines.push_back(std::move(line));
  }
  int64_t closed = TRY(variants.CloseInterruptedVariants());
  if (closed > 0) {
    result.lines.push_back(fmt::format("marked {} variant(s) of stopped fan-outs interrupted", closed));
  }
  for (std::string& line : RemoveLeftoverSlots(repo_root)) result.lines.push_back(std::move(line));
  for (const ledger::RunRow& run : TRY(variants.RunsEndedBefore("fanout", now_ms - keep_ms))) {
    const std::string& id = run.id;
    int deleted = 0;
    for (const ledger::VariantRow& v : TRY(variants.ListVariants(id))) {
      deleted += TRY(workspace::ForgetRun(repo_root, id + "." + VariantId(v.n)));
    }
    if (deleted > 0) {
      ++result.runs_forgotten;
      result.refs_deleted += deleted;
      result.lines.push_back(
          fmt::format("deleted {} private ref(s) of the variants of fan-out {}", deleted, id));
    }
  }
  return result;
}

}  // namespace tandem::orchestrator
