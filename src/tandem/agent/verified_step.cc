#include "tandem/base/clock.h"
#include "tandem/agent/verified_step.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tandem/agent/model_call_row.h"
#include "tandem/agent/patch_filter.h"
#include "tandem/base/redact.h"
#include "tandem/memory/agents_md.h"
#include "tandem/platform/sandbox.h"
#include "tandem/verify/runner.h"

namespace tandem::agent {
namespace {

using Clock = std::chrono::steady_clock;

// A path is in scope when it matches a glob (`*` crosses '/') or lies under
// a scope entry that names a directory ("src/" or "src").
bool InScope(const std::string& path, const std::vector<std::string>& scope) {
  if (scope.empty()) return true;
  for (const std::string& glob : scope) {
    if (fnmatch(glob.c_str(), path.c_str(), 0) == 0) return true;
    std::string dir = glob;
    while (!dir.empty() && dir.back() == '/') dir.pop_back();
    if (!dir.empty() && path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
        path[dir.size()] == '/') {
      return true;
    }
  }
  return false;
}

std::string OneLine(std::string text, size_t max = 120) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  if (text.size() > max) text = text.substr(0, max - 3) + "...";
  return text;
}

// "edit_file src/a.cc" for the live view.
std::string SummarizeCall(const protocol::ToolCall& call) {
  const nlohmann::json& a = call.arguments;
  for (const char* key : {"path", "command", "regex", "glob", "summary"}) {
    if (a.contains(key) && a[key].is_string()) {
      return call.name + " " + OneLine(a[key].get<std::string>(), 80);
    }
  }
  return call.name;
}

}  // namespace

VerifiedStepPolicy::VerifiedStepPolicy(VerifiedStepDeps deps, VerifiedStepOptions options)
    : deps_(deps), options_(std::move(options)), started_(Clock::now()) {}

void VerifiedStepPolicy::Publish(protocol::EventPayload payload) {
  deps_.events->Publish(protocol::Event{options_.scope, WallClockMs(), std::move(payload)});
}

std::optional<std::string> VerifiedStepPolicy::BeginStep(int step) {
  const config::Limits& limits = options_.limits;
  if (interrupted()) return std::string("interrupted");
  if (step > limits.max_steps) return fmt::format("step limit reached ({})", limits.max_steps);
  int64_t tokens = totals_.usage.input_tokens + totals_.usage.output_tokens;
  if (tokens >= limits.max_tokens) return fmt::format("token limit reached ({})", limits.max_tokens);
  if (totals_.cost_usd + decision_cost_usd_ >= limits.max_cost_usd) {
    return fmt::format("cost limit reached (${:.2f})", limits.max_cost_usd);
  }
  if (MsSince(started_) - human_wait_ms_ >= limits.max_wall_s * 1000.0) {
    return fmt::format("wall-time limit reached ({} s)", limits.max_wall_s);
  }
  Publish(protocol::StepStarted{step, attempt_});
  return std::nullopt;
}

void VerifiedStepPolicy::OnReply(const protocol::ModelResponse& reply) {
  totals_.steps++;
  totals_.usage += reply.usage;
  double cost = config::ReplyCostUsd(options_.model, reply);
  totals_.cost_usd += cost;
  totals_.model_ms += reply.timings.total_ms;
  Publish(protocol::ModelCallFinished{
      reply.served_by ? reply.served_by->model_name : options_.model_name, reply.usage,
      reply.timings, cost, reply.retries});
  last_reply_ = reply;
}

void VerifiedStepPolicy::Recorded(const Status& status, std::string_view what) {
  if (!status.ok()) {
    Publish(protocol::Notice{protocol::NoticeLevel::kWarn, fmt::format("ledger: {} not recorded: {}", what,
                                                 status.message())});
  }
}

void VerifiedStepPolicy::Abort(std::string why) {
  if (!error_.empty()) return;  // the first cause is the one to report
  error_ = std::move(why);
  Publish(protocol::Notice{protocol::NoticeLevel::kError, error_});
  step_left_running_ = ledger_step_.has_value();
  ledger_step_.reset();  // left 'running': the next tandem command rolls it back
}

bool VerifiedStepPolicy::StartLedgerStep(const std::optional<workspace::CheckpointId>& before) {
  if (!deps_.ledger) return true;
  ledger::StepStart start{options_.scope.run_id, options_.scope.task_id, attempt_,
                          before ? before->hex : ""};
  auto id = deps_.ledger->BeginStep(start);
  if (!id) {
    // Without its row a crash in the step could not be rolled back.
    Abort("ledger: cannot record the step before it runs, so nothing ran: " +
          id.error().message());
    return false;
  }
  ledger_step_ = *id;
  return true;
}

void VerifiedStepPolicy::RecordModelCall() {
  if (!deps_.ledger || !last_reply_) return;
  ModelCallWho who{options_.scope.run_id, ledger_step_, options_.role, options_.provider,
                   options_.model.id, options_.model.fast_mode};
  Recorded(deps_.ledger->RecordModelCall(ModelCallRow(
               who, *last_reply_, config::ReplyCostUsd(options_.model, *last_reply_))),
           "a model call");
}

void VerifiedStepPolicy::EndLedgerStep(ledger::StepState state, int lines, int files,
                                       const std::string& note) {
  if (!deps_.ledger || !ledger_step_) return;
  ledger::StepEnd end;
  end.state = state;
  if (auto last = deps_.workspace->last_checkpoint()) end.checkpoint_after = last->hex;
  end.lines_changed = lines;
  end.files_changed = files;
  end.note = note;
  Status ended = deps_.ledger->EndStep(*ledger_step_, end);
  if (!ended.ok()) {
    // A step left 'running' would be rolled back by the next resume, with
    // every later step on top of it: stop here instead.
    Abort("ledger: cannot record the end of the step: " + ended.message());
    return;
  }
  last_ledger_step_ = ledger_step_;
  ledger_step_.reset();
}

void VerifiedStepPolicy::AnnounceGrants(const verify::Gate& gate) {
  if (!gate.granted() || !announced_grants_.insert(gate.name).second) return;
  std::vector<std::string> grants;
  if (gate.network) grants.push_back("the network");
  for (const std::string& var : gate.env) grants.push_back("$" + var);
  Publish(protocol::Notice{protocol::NoticeLevel::kWarn, fmt::format("gate '{}' runs with {} (granted in verify.md)",
                                               gate.name, fmt::join(grants, ", "))});
}

VerifiedStepPolicy::GateCheck VerifiedStepPolicy::CheckFinalGates(
    const workspace::CheckpointId& checkpoint, ledger::StepId step) {
  ledger_step_ = step;
  GateRound round = RunGateRound(verify::GateWhen::kFinal, checkpoint);
  ledger_step_.reset();
  return GateCheck{round.passed, round.reason + (round.passed ? "" : "\n" + round.feedback)};
}

VerifiedStepPolicy::GateRound VerifiedStepPolicy::RunGateRound(
    verify::GateWhen phase, const workspace::CheckpointId& checkpoint) {
  GateRound round;
  std::vector<verify::Gate> gates = verify::SelectGates(options_.gates, phase);
  if (gates.empty()) return round;
  auto tree = deps_.workspace->TreeHash(checkpoint);
  verify::GateRunOptions run;
  // Gates run code the model may have written: confined like its commands.
  const tools::ToolOptions& tool_options = deps_.toolbox->options();
  tools::CommandAvailability availability = tools::CheckCommandAvailability(tool_options.sandbox);
  if (!availability.available) run.refused = availability.note;
  if (availability.sandboxed) run.bwrap = platform::ProbeSandbox().bwrap;
  run.child = tool_options.child;
  for (const verify::Gate& gate : gates) AnnounceGrants(gate);
  run.workspace = deps_.workspace->root();
  run.tree_hash = tree ? *tree : "";
  run.cache = deps_.gate_cache;
  run.cancel = stop_.get_token();
  run.jobs = tool_options.jobs;  // one budget for this agent's commands and gates
  run.on_result = [&](const verify::GateResult& r) {
    Publish(protocol::GateFinished{r.gate, r.verdict, r.cached,
                                   r.duration_ms, r.passed() ? "" : r.excerpt});
    if (!r.cached) totals_.gate_ms += r.duration_ms;
    if (deps_.ledger) {
      ledger::GateRunRecord record;
      record.run_id = options_.scope.run_id;
      record.step_id = ledger_step_;
      record.gate = r.gate;
      for (const auto& g : gates) {
        if (g.name == r.gate) record.command = g.command;
      }
      record.tree_hash = run.tree_hash;
      record.verdict = r.cached ? ledger::GateVerdict::kCached
                       : r.verdict == verify::Verdict::kPass ? ledger::GateVerdict::kPass
                       : r.verdict == verify::Verdict::kFail ? ledger::GateVerdict::kFail
                                                             : ledger::GateVerdict::kError;
      record.duration_ms = static_cast<int64_t>(r.duration_ms);
      if (r.exit_code >= 0) record.exit_code = r.exit_code;
      record.output_excerpt = r.passed() ? "" : r.excerpt;
      Recorded(deps_.ledger->RecordGateRun(record), "a gate run");
    }
  };
  std::vector<verify::GateResult> results = verify::RunGates(gates, run);
  for (const verify::GateResult& r : results) {
    round.summary += fmt::format("- {}: {}{}\n", r.gate, protocol::Name(r.verdict),
                                 r.cached ? " (cached)" : "");
    if (r.passed()) continue;
    round.passed = false;
    round.failures++;
    if (round.reason.empty()) {
      round.reason = fmt::format("gate '{}' {} ({})", r.gate,
                                 r.verdict == verify::Verdict::kFail ? "failed" : "errored",
                                 r.detail);
    }
    round.feedback += fmt::format("Gate '{}' {}: {}\n{}\n", r.gate, protocol::Name(r.verdict),
                                  r.detail, r.excerpt);
  }
  return round;
}

std::string VerifiedStepPolicy::CheckGuardrails(
    const std::vector<workspace::FileChange>& step_changes) {
  const config::Guardrails& g = options_.guardrails;
  int64_t lines = 0;
  int64_t files = 0;
  for (const auto& c : step_changes) {
    if (!g.allow_delete && c.kind == workspace::ChangeKind::kDeleted) {
      return fmt::format("deleting files is not allowed ({} was deleted)", c.path);
    }
    // A protected ignored file (a test's database, a log) is restorable but
    // counts for neither scope nor caps: only its deletion is a rule.
    if (c.ignored) continue;
    ++files;
    if (!InScope(c.path, g.scope)) {
      return fmt::format("{} is outside the task's scope ({})", c.path, fmt::join(g.scope, ", "));
    }
    lines += c.lines_added + c.lines_removed;
  }
  if (lines > g.max_lines_per_step) {
    return fmt::format("diff cap: {} lines changed in one step, the cap is {}", lines,
                       g.max_lines_per_step);
  }
  if (files > g.max_files_per_step) {
    return fmt::format("diff cap: {} files changed in one step, the cap is {}", files,
                       g.max_files_per_step);
  }
  return "";
}

std::string VerifiedStepPolicy::RollBack(int step, const workspace::CheckpointId& before,
                                         const workspace::TouchedPaths& touched,
                                         const std::string& reason) {
  totals_.retries++;
  attempt_++;
  auto restored = deps_.workspace->Restore(before, touched);
  if (!restored) {
    Abort(fmt::format("rolling back step {} failed, the files are as the step left them: {}", step,
                      restored.error().ToString()));
    return "";
  }
  int left = static_cast<int>(std::max<int64_t>(0, options_.limits.step_retries - totals_.retries));
  Publish(protocol::StepRolledBack{step, reason, left});
  if (deps_.ledger && ledger_step_) {
    Recorded(deps_.ledger->RecordRollback({*ledger_step_, reason, before.hex}), "a rollback");
  }
  return fmt::format(
      "tandem rolled back this step: {}. The files are as they were before the step; "
      "fix the cause and try again.",
      reason);
}

StepOutcome VerifiedStepPolicy::Fail(StepOutcome outcome, const std::string& why) {
  outcome.state = StepState::kFailed;
  outcome.summary = why;
  if (best_attempt_) {
    if (deps_.workspace->KeepBestAttempt(*best_attempt_).ok()) {
      best_attempt_ref_ = workspace::Workspace::BestAttemptRef(options_.scope.run_id);
    }
  }
  return outcome;
}

StepOutcome VerifiedStepPolicy::DeliverSteer(StepOutcome outcome) {
  if (outcome.state != StepState::kContinue || !deps_.pending_notes) return outcome;
  std::string notes = deps_.pending_notes(last_ledger_step_);
  if (notes.empty()) return outcome;
  std::string text = "A person steering this run added a note:\n" + notes;
  outcome.feedback = outcome.feedback.empty() ? text : outcome.feedback + "\n\n" + text;
  return outcome;
}

StepOutcome VerifiedStepPolicy::StopIfAborted(StepOutcome outcome) {
  if (error_.empty()) return outcome;
  outcome.state = StepState::kStopped;
  outcome.summary = error_;
  return outcome;
}

StepOutcome VerifiedStepPolicy::RunStep(int step, const std::vector<protocol::ToolCall>& calls) {
  return DeliverSteer(StopIfAborted(RunStepUnsteered(step, calls)));
}

StepOutcome VerifiedStepPolicy::RunStepUnsteered(int step,
                                                 const std::vector<protocol::ToolCall>& calls) {
  StepOutcome outcome;

  // What the step may touch decides the checkpoint's cost: exact paths for
  // file tools, a rescan when a command runs.
  std::set<std::string> may_write;
  bool runs_command = false;
  for (const auto& call : calls) {
    tools::ToolEffects effects = deps_.toolbox->Predict(call);
    may_write.insert(effects.may_write.begin(), effects.may_write.end());
    runs_command |= effects.runs_command;
  }
  bool may_edit = runs_command || !may_write.empty();
  ran_command_ |= runs_command;
  workspace::TouchedPaths touched =
      runs_command ? workspace::TouchedPaths::Unknown()
                   : workspace::TouchedPaths::Only({may_write.begin(), may_write.end()});
  // Nothing changes between steps, so the last checkpoint is this step's
  // "before" state and costs nothing to take.
  workspace::CheckpointId before = *deps_.workspace->last_checkpoint();

  if (!StartLedgerStep(before)) {
    for (const auto& call : calls) {
      outcome.tool_results.push_back(protocol::Message::ToolResult(call.id, "not run: " + error_, true));
    }
    return outcome;
  }
  RecordModelCall();

  std::optional<std::string> finish_summary;
  for (const auto& call : calls) {
    if (interrupted()) {
      outcome.tool_results.push_back(
          protocol::Message::ToolResult(call.id, "not run: the user interrupted the run", true));
      continue;
    }
    Publish(protocol::ToolStarted{call.id, call.name, SummarizeCall(call)});
    tools::ToolOutcome result = deps_.toolbox->Execute(call, stop_.get_token());
    // Deciding an irreversible command: the slow tier's spend counts against
    // the cost limit; a person's thinking time does not count against the
    // wall-time limit (the run's totals record both elsewhere).
    decision_cost_usd_ += result.review_cost_usd;
    human_wait_ms_ += result.human_wait_ms;
    // A key in a file or a command's output reaches no event, ledger row or prompt.
    result.content = Redactor::Apply(result.content);
    totals_.tool_ms += result.duration_ms;
    std::string detail = (result.kind == tools::ToolOutcomeKind::kOk ||
                          result.kind == tools::ToolOutcomeKind::kFinish)
                             ? ""
                             : OneLine(result.content);
    if (result.exit_code) detail = fmt::format("exit {}", *result.exit_code);
    Publish(protocol::ToolFinished{call.id, call.name, tools::OutcomeOf(result.kind), detail,
                                   result.duration_ms});
    if (deps_.ledger && ledger_step_) {
      Recorded(deps_.ledger->RecordToolCall({*ledger_step_, call.name,
                                             OneLine(call.arguments_json, 500),
                                             tools::OutcomeOf(result.kind),
                                             static_cast<int64_t>(result.duration_ms),
                                             OneLine(result.content, 2000)}),
               "a tool call");
    }
    if (result.kind == tools::ToolOutcomeKind::kFinish) {
      finish_summary = call.arguments.value("summary", std::string());
    }
    bool is_error = result.kind == tools::ToolOutcomeKind::kError ||
                    result.kind == tools::ToolOutcomeKind::kRefused;
    outcome.tool_results.push_back(
        protocol::Message::ToolResult(call.id, std::move(result.content), is_error));
  }

  if (interrupted()) {
    // The step did not finish: its partial, unverified edits are undone.
    if (may_edit) {
      if (auto restored = deps_.workspace->Restore(before, touched); !restored) {
        Abort(fmt::format("rolling back the interrupted step {} failed, the files are as the step "
                          "left them (the next tandem command tries again): {}",
                          step, restored.error().ToString()));
        return outcome;
      }
    }
    EndLedgerStep(ledger::StepState::kInterrupted, 0, 0, "interrupted");
    outcome.state = StepState::kStopped;
    outcome.summary = "interrupted";
    return outcome;
  }

  int lines = 0, files = 0;
  bool rolled_back = false;
  if (may_edit) {
    // One checkpoint of the step's result (a rescan only when a command
    // ran), then a cheap tree-to-tree diff; a rollback then touches exactly
    // the paths that changed.
    auto checkpoint_started = Clock::now();
    std::string label = fmt::format("step {}", step);
    auto after = deps_.workspace->Checkpoint(touched, label);
    double checkpoint_ms = MsSince(checkpoint_started);
    if (!after) {
      Abort("checkpoint after step " + std::to_string(step) + " failed (the next tandem command "
            "rolls the step back): " + after.error().ToString());
      return outcome;
    }
    auto changes = deps_.workspace->Diff(before, *after);
    if (!changes) {
      Abort("cannot diff the workspace after step " + std::to_string(step) +
            " (the next tandem command rolls the step back): " + changes.error().ToString());
      return outcome;
    }
    Publish(protocol::CheckpointTaken{after->hex, label, static_cast<int>(changes->size()),
                                      checkpoint_ms});
    auto is_tandems = [&](const workspace::FileChange& c) {
      return !may_write.count(c.path) &&
             std::find(options_.tandem_files.begin(), options_.tandem_files.end(), c.path) !=
                 options_.tandem_files.end();
    };
    std::erase_if(*changes, is_tandems);
    std::vector<std::string> changed_paths;
    for (const auto& c : *changes) changed_paths.push_back(c.path);
    workspace::TouchedPaths changed = workspace::TouchedPaths::Only(changed_paths);
    if (!changes->empty()) {
      for (const auto& c : *changes) lines += c.lines_added + c.lines_removed;
      files = static_cast<int>(changes->size());
      std::string violation = CheckGuardrails(*changes);
      if (violation.empty()) {
        // Task-level caps: everything since the task started.
        auto task_changes = deps_.workspace->Diff(options_.base, *after);
        if (task_changes) {
          std::erase_if(*task_changes, is_tandems);
          std::erase_if(*task_changes, [](const auto& c) { return c.ignored; });
          int64_t task_lines = 0;
          for (const auto& c : *task_changes) task_lines += c.lines_added + c.lines_removed;
          if (task_lines > options_.guardrails.max_lines_per_task) {
            violation = fmt::format("diff cap: {} lines changed in the task, the cap is {}",
                                    task_lines, options_.guardrails.max_lines_per_task);
          } else if (static_cast<int64_t>(task_changes->size()) >
                     options_.guardrails.max_files_per_task) {
            violation = fmt::format("diff cap: {} files changed in the task, the cap is {}",
                                    task_changes->size(), options_.guardrails.max_files_per_task);
          }
        }
        if (violation.empty()) {
          GateRound round = RunGateRound(verify::GateWhen::kEachStep, *after);
          if (!round.passed) {
            if (round.failures < best_attempt_failures_) {
              best_attempt_ = *after;
              best_attempt_failures_ = round.failures;
            }
            outcome.feedback = RollBack(step, before, changed, round.reason) + "\n" + round.feedback;
            rolled_back = true;
            if (!error_.empty()) return outcome;
          }
        }
      }
      if (!violation.empty() && !rolled_back) {
        outcome.feedback = RollBack(step, before, changed, violation);
        rolled_back = true;
        if (!error_.empty()) return outcome;
      }
    }
  }

  if (!rolled_back && (lines > 0 || files > 0)) {
    totals_.lines_changed += lines;
    totals_.files_changed += files;
  }
  Publish(protocol::StepFinished{step, !rolled_back && files > 0, rolled_back ? 0 : lines,
                                 rolled_back ? 0 : files});
  EndLedgerStep(rolled_back ? ledger::StepState::kRolledBack : ledger::StepState::kDone,
                rolled_back ? 0 : lines, rolled_back ? 0 : files, outcome.feedback.substr(0, 200));
  if (!error_.empty()) return outcome;

  if (rolled_back) {
    if (RetryBudgetSpent()) {
      return Fail(std::move(outcome),
                  fmt::format("retry budget spent ({} retries)", options_.limits.step_retries));
    }
    if (finish_summary) {
      outcome.feedback += "\nYour finish call was ignored because the step was rolled back.";
    }
    return outcome;
  }
  // A call whose arguments did not parse (truncated JSON) was answered with
  // a tool error; resending it costs one retry of the budget.
  auto malformed = std::find_if(calls.begin(), calls.end(),
                                [](const protocol::ToolCall& c) { return !c.malformed.empty(); });
  if (malformed != calls.end()) {
    totals_.retries++;
    std::string why = fmt::format("a {} call was malformed: {}", malformed->name, malformed->malformed);
    if (RetryBudgetSpent()) {
      return Fail(std::move(outcome), fmt::format("retry budget spent ({} retries); {}",
                                                  options_.limits.step_retries, why));
    }
    Publish(protocol::Notice{protocol::NoticeLevel::kWarn, why + "; the model is asked to send it again"});
    if (finish_summary) {
      outcome.feedback += "Your finish call was ignored: send the malformed call again first.";
    }
    return outcome;
  }
  if (finish_summary) return JudgeFinish(step, *finish_summary, std::move(outcome));
  return outcome;
}

StepOutcome VerifiedStepPolicy::OnTextOnly(int step, const std::string& text) {
  if (!StartLedgerStep(deps_.workspace->last_checkpoint())) return StopIfAborted(StepOutcome{});
  RecordModelCall();
  EndLedgerStep(ledger::StepState::kDone, 0, 0, "text reply");
  if (!error_.empty()) return StopIfAborted(StepOutcome{});
  // A reply without tool calls is the model saying it is done.
  return DeliverSteer(StopIfAborted(JudgeFinish(step, text, StepOutcome{})));
}

StepOutcome VerifiedStepPolicy::JudgeFinish(int step, const std::string& summary,
                                            StepOutcome outcome) {
  if (ran_command_) {
    // What the commands (and the gates) changed since the last step's
    // checkpoint: the final verdict and the gate cache rest on it. Paid per
    // change like a step (writes through hard links included, see
    // workspace.h), not a full scan.
    auto scan_started = Clock::now();
    workspace::CheckpointId previous = *deps_.workspace->last_checkpoint();
    auto scanned = deps_.workspace->Checkpoint(workspace::TouchedPaths::Unknown(), "final scan");
    double scan_ms = MsSince(scan_started);
    Result<std::vector<workspace::FileChange>> changes =
        scanned ? deps_.workspace->Diff(previous, *scanned)
                : Result<std::vector<workspace::FileChange>>(Unexpected(scanned.error()));
    if (!changes) {
      // The gates and their cache would judge a tree that may not be the real one.
      Abort("the final scan of the tree failed: " + changes.error().ToString());
      return outcome;
    }
    Publish(protocol::CheckpointTaken{scanned->hex, "final scan",
                                      static_cast<int>(changes->size()), scan_ms});
  }
  if (options_.gates.empty()) {
    Publish(protocol::Notice{protocol::NoticeLevel::kWarn, "no gates configured: the result is unverified"});
    return ReviewOrDone(summary, std::move(outcome), "(no gates configured)\n");
  }
  GateRound round = RunGateRound(verify::GateWhen::kFinal, *deps_.workspace->last_checkpoint());
  if (round.passed) return ReviewOrDone(summary, std::move(outcome), round.summary);
  // The model claimed success but a gate says no: not done.
  totals_.retries++;
  if (round.failures < best_attempt_failures_) {
    best_attempt_ = *deps_.workspace->last_checkpoint();
    best_attempt_failures_ = round.failures;
  }
  Publish(protocol::Notice{protocol::NoticeLevel::kWarn, "finish rejected: " + round.reason});
  if (RetryBudgetSpent()) {
    return Fail(std::move(outcome), "the model reported success but " + round.reason);
  }
  std::string feedback = "You said the task is done, but tandem's checks do not pass:\n" +
                         round.feedback + "Keep working until they pass.";
  if (!outcome.tool_results.empty()) {
    outcome.feedback = outcome.feedback.empty() ? feedback : outcome.feedback + "\n" + feedback;
  } else {
    outcome.feedback = feedback;
  }
  return outcome;
}

namespace {

constexpr size_t kMaxReviewDiffBytes = 64 * 1024;

}  // namespace

StepOutcome VerifiedStepPolicy::Commit(StepOutcome outcome, const ReviewResult& review,
                                       const std::vector<std::string>& paths) {
  CommitOutcome commit = deps_.review.commit(review, paths);
  if (commit.committed) {
    commit_ = commit.commit;
    Publish(protocol::Notice{protocol::NoticeLevel::kInfo,
                             fmt::format("committed {}: {}", commit.commit.substr(0, 12),
                                         review.commit_subject)});
    return outcome;
  }
  // Like a failed gate. The hook may have changed files (a formatter): the
  // next finish rescans the tree.
  ran_command_ = true;
  totals_.retries++;
  std::string output = Redactor::Apply(commit.output);
  Publish(protocol::Notice{protocol::NoticeLevel::kWarn,
                           "commit refused: " + OneLine(output)});
  if (RetryBudgetSpent()) {
    return Fail(std::move(outcome), "the commit was refused: " + OneLine(output, 300));
  }
  outcome.state = StepState::kContinue;
  outcome.summary.clear();
  std::string feedback =
      "The reviewer approved your change, but committing it failed (the repository's "
      "pre-commit hook, or git, refused it):\n" +
      output +
      "\nFix what it reports, keep the gates passing, then call finish again.";
  outcome.feedback = outcome.feedback.empty() ? feedback : outcome.feedback + "\n" + feedback;
  return outcome;
}

StepOutcome VerifiedStepPolicy::ReviewOrDone(const std::string& summary, StepOutcome outcome,
                                             const std::string& gates) {
  outcome.state = StepState::kDone;
  outcome.summary = summary;
  const ReviewSetup& setup = deps_.review;
  if (!setup.reviewer) return outcome;
  workspace::CheckpointId last = *deps_.workspace->last_checkpoint();
  const workspace::CheckpointId& base = options_.review_base.value_or(options_.base);
  auto changes = deps_.workspace->Diff(base, last);
  if (!changes) {
    Abort("cannot diff the task's change for its review: " + changes.error().ToString());
    return StopIfAborted(std::move(outcome));
  }
  std::erase_if(*changes, [&](const workspace::FileChange& c) {
    return c.ignored || std::find(options_.tandem_files.begin(), options_.tandem_files.end(),
                                  c.path) != options_.tandem_files.end();
  });
  int lines = 0;
  std::vector<std::string> paths;
  for (const auto& c : *changes) {
    lines += c.lines_added + c.lines_removed;
    paths.push_back(c.path);
  }
  bool irreversible = deps_.irreversible_command_ran && deps_.irreversible_command_ran->load();
  // Nothing changed: there is no change to review.
  if (changes->empty() || !ReviewDue(setup, lines, irreversible)) return outcome;

  ReviewRequest request;
  request.run_id = options_.scope.run_id;
  request.task_id = options_.scope.task_id;
  request.task = options_.task_text;
  request.summary = summary;
  request.gates = gates;
  request.earlier_reasons = review_reasons_;
  request.review = totals_.reviews + 1;
  request.lines_changed = lines;
  request.files_changed = static_cast<int>(changes->size());
  request.step = last_ledger_step_;
  auto patch = deps_.workspace->Patch(base, last);
  if (!patch) {
    Abort("cannot diff the task's change for its review: " + patch.error().ToString());
    return StopIfAborted(std::move(outcome));
  }
  request.diff = Redactor::Apply(FilterPatch(*patch, options_.tandem_files, kMaxReviewDiffBytes));
  if (!options_.repo_root.empty()) {
    if (auto agents = memory::LoadAgentsDoc(options_.repo_root, paths)) {
      request.agents_md = agents->text;
    }
  }

  ReviewResult review = setup.reviewer(request);
  totals_.reviews++;
  totals_.review_cost_usd += review.cost_usd;
  totals_.review_ms += review.wait_ms;
  totals_.model_ms += review.wait_ms;
  decision_cost_usd_ += review.cost_usd;  // the cost limit sees the reviewer's spend
  std::string reasons;
  for (const std::string& r : review.reasons) reasons += (reasons.empty() ? "" : "\n") + r;
  for (const ReviewPlace& p : review.places) {
    reasons += fmt::format("{}{}{}{}", reasons.empty() ? "" : "\n", p.path,
                           p.line > 0 ? fmt::format(":{}", p.line) : "",
                           p.note.empty() ? "" : ": " + p.note);
  }
  reasons = Redactor::Apply(reasons);
  Publish(protocol::ReviewFinished{request.review, review.verdict, reasons, review.model,
                                   review.usage, review.cost_usd, review.wait_ms});
  if (deps_.ledger) {
    ledger::ReviewRecord record;
    record.run_id = request.run_id;
    record.task_id = request.task_id;
    record.step_id = request.step;
    record.n = request.review;
    record.verdict = review.verdict;
    record.reasons = reasons;
    record.model = review.model;
    record.tokens_in = review.usage.input_tokens;
    record.tokens_out = review.usage.output_tokens;
    record.cost_usd = review.cost_usd;
    record.wait_ms = static_cast<int64_t>(review.wait_ms);
    record.lines_changed = lines;
    Recorded(deps_.ledger->RecordReview(record), "a review");
  }
  last_review_ = review;
  switch (review.verdict) {
    case protocol::ReviewVerdict::kApprove:
      if (!setup.commit) return outcome;
      return Commit(std::move(outcome), review, paths);
    case protocol::ReviewVerdict::kError:
      // No verdict: the change is not reviewed, so the task is not done.
      return Fail(std::move(outcome), "the reviewer gave no verdict: " + reasons);
    case protocol::ReviewVerdict::kRequestChanges:
      break;
  }
  // Like a failed gate: the executor gets the reasons within its retry budget.
  totals_.retries++;
  if (best_attempt_failures_ > 0) {
    best_attempt_ = last;
    best_attempt_failures_ = 0;
  }
  for (const std::string& r : review.reasons) review_reasons_.push_back(r);
  std::string first = review.reasons.empty() ? reasons : review.reasons.front();
  Publish(protocol::Notice{protocol::NoticeLevel::kWarn,
                           "finish rejected: the reviewer requested changes: " + OneLine(first)});
  if (RetryBudgetSpent()) {
    return Fail(std::move(outcome), "the reviewer requested changes: " + OneLine(first, 300));
  }
  outcome.state = StepState::kContinue;
  outcome.summary.clear();
  std::string feedback = ReviewFeedback(review);
  outcome.feedback = outcome.feedback.empty() ? feedback : outcome.feedback + "\n" + feedback;
  return outcome;
}

}  // namespace tandem::agent
