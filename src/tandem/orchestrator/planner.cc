#include "tandem/base/clock.h"
#include "tandem/base/strings.h"
#include "tandem/orchestrator/planner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <set>
#include <sstream>

#include "tandem/agent/model_call_row.h"
#include "tandem/orchestrator/plan_edit.h"

namespace tandem::orchestrator {
namespace {


// Streams the planner's text to the event stream.
class PlannerObserver : public providers::StreamObserver {
 public:
  PlannerObserver(protocol::EventSink* sink, protocol::EventScope scope)
      : sink_(sink), scope_(std::move(scope)) {}
  void OnEvent(const protocol::StreamEvent& event) override {
    if (const auto* delta = std::get_if<protocol::TextDelta>(&event)) {
      sink_->Publish({scope_, WallClockMs(), protocol::ModelDelta{delta->text}});
    }
  }
  void OnRetry(const protocol::ModelError& error, int attempt, int delay_ms) override {
    sink_->Publish(
        {scope_, WallClockMs(),
         protocol::ModelRestarted{protocol::ModelErrorKindName(error.kind), attempt, delay_ms}});
  }

 private:
  protocol::EventSink* sink_;
  protocol::EventScope scope_;
};

agent::ModelCallWho Who(const PlannerEnv& env) {
  return {env.run_id, std::nullopt, "planner", env.model.provider, env.model.model.id,
          env.model.model.fast_mode};
}

// Records a planner call in the ledger; a failure is a warning notice.
void Recorded(const PlannerEnv& env, const protocol::EventScope& scope,
              const ledger::ModelCallRecord& row) {
  if (!env.ledger || env.run_id.empty()) return;
  Status recorded = env.ledger->RecordModelCall(row);
  if (!recorded.ok()) {
    env.events->Publish({scope, WallClockMs(), protocol::Notice{protocol::NoticeLevel::kWarn, "ledger: a model call not recorded: " +
                                                                   recorded.message()}});
  }
}

// One planner call, published and recorded.
Result<std::string> Call(const PlannerEnv& env, const protocol::ModelRequest& request,
                         const std::string& task_id) {
  protocol::EventScope scope{env.run_id, task_id, "planner"};
  PlannerObserver observer(env.events, scope);
  auto reply = env.model.client->Complete(request, &observer);
  if (!reply) {
    Recorded(env, scope, agent::ModelCallRow(Who(env), reply.error()));
    return Unavailable(fmt::format("planner model {}: {}", env.model.name, reply.error().message));
  }
  double cost = config::ReplyCostUsd(env.model.model, *reply);
  if (env.spend != nullptr) {
    env.spend->usage += reply->usage;
    env.spend->cost_usd += cost;
    env.spend->model_ms += reply->timings.total_ms;
  }
  env.events->Publish({scope, WallClockMs(),
                       protocol::ModelCallFinished{
                           reply->served_by ? reply->served_by->model_name : env.model.name,
                           reply->usage, reply->timings, cost, reply->retries}});
  Recorded(env, scope, agent::ModelCallRow(Who(env), *reply, cost));
  return reply->text;
}

protocol::ModelRequest NewRequest(const PlannerEnv& env, const std::string& system,
                                  std::string first_message) {
  protocol::ModelRequest request;
  request.model = env.model.model.id;
  request.system = system;
  request.max_tokens = static_cast<int>(env.model.model.max_output_tokens);
  request.messages.push_back(protocol::Message::User(std::move(first_message)));
  return request;
}

std::string GateLines(const std::vector<verify::Gate>& gates) {
  if (gates.empty()) return "(no gates: verify.md is missing or empty)\n";
  std::string out;
  for (const auto& g : gates) {
    out += fmt::format("- {} ({}): {}\n", g.name, verify::GateWhenName(g.when),
                       g.command.substr(0, g.command.find('\n')));
  }
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Keeps, in every `after` line of `blocks`, only the ids in `allowed`, so a
// split's parts can be parsed on their own.
std::string FilterAfter(std::string_view blocks, const std::set<std::string>& allowed) {
  std::istringstream in{std::string(blocks)};
  std::string line, out;
  while (std::getline(in, line)) {
    std::string t(TrimSpace(line));
    if (t.rfind("- after:", 0) == 0 || t.rfind("* after:", 0) == 0) {
      std::string rest = t.substr(8);
      std::vector<std::string> keep;
      std::stringstream ids(rest);
      std::string id;
      while (std::getline(ids, id, ',')) {
        id = std::string(TrimSpace(id));
        if (allowed.count(id)) keep.push_back(id);
      }
      line = line.substr(0, line.find_first_not_of(" \t")) + "- after: " +
             (keep.empty() ? std::string("—") : fmt::format("{}", fmt::join(keep, ", ")));
    }
    out += line + "\n";
  }
  return out;
}

// Ids of the tasks in `blocks` ("- [ ] T3a: ..." lines).
std::set<std::string> BlockIds(std::string_view blocks) {
  std::set<std::string> ids;
  std::istringstream in{std::string(blocks)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > 6 && (line[0] == '-' || line[0] == '*' || line[0] == '+') &&
        line.compare(1, 2, " [") == 0 && line[4] == ']') {
      size_t colon = line.find(':', 6);
      if (colon != std::string::npos) ids.insert(std::string(TrimSpace(line.substr(6, colon - 6))));
    }
  }
  return ids;
}

}  // namespace

Result<std::string> CallPlanner(const PlannerEnv& env, const protocol::ModelRequest& request,
                                const std::string& task_id) {
  return Call(env, request, task_id);
}

protocol::ModelRequest PlannerRequest(const PlannerEnv& env, const std::string& system,
                                      std::string first_message) {
  return NewRequest(env, system, std::move(first_message));
}

const std::string& PlanSystemPrompt() {
  static const std::string kPrompt =
      R"(You are the planner of tandem, a harness in which a slow, careful model (you) plans and fast models execute. Write plan.md for the goal you are given: a checklist of small, bounded tasks.

Keep every task small enough for a fast model to finish in a few steps (a handful of edits to a few files). tandem verifies each task with the repository's gates (listed below, from verify.md) and the extra `check` commands you give it.

Answer with the plan.md text only, in exactly this format:

# Plan: <the goal, one line>

- [ ] T1: <title, one line>
  - do: <what to do; indented continuation lines are allowed>
  - scope: <comma-separated path globs the task may change>
  - accept: gates all; check `<shell command that must exit 0>`
  - risk: reversible
  - after: —

Rules:
- Ids T1, T2, ... are unique. `after` lists the ids of the tasks this one depends on (— for none).
- `accept`: `gates all`, `gates none`, or gate names from verify.md; add `check` commands separated by `;`.
- Mark a task `risk: irreversible` when it reaches beyond the repository or cannot be undone: pushing, publishing, deploying, deleting data, sending messages, changing shared systems. Such tasks wait for a person's approval and run on the slow tier; keep that work in its own task, away from ordinary edits.
)";
  return kPrompt;
}

const std::string& ReplanSystemPrompt() {
  static const std::string kPrompt =
      R"(You are the planner of tandem. A task of your plan failed: the fast executor spent its retry budget without passing verification. Decide how to continue. Answer with exactly one of these, the keyword on the first line:

REWRITE: <why>
then the task rewritten as one plan.md task block with the same id, clearer and more precise. Leave out `after`: it keeps its place and dependencies.

SPLIT: <why>
then two or more smaller plan.md task blocks with new ids (e.g. T3a, T3b). In `after` name only the new tasks; tandem makes them depend on what the failed task depended on, and makes the failed task's dependents wait for them.

ESCALATE: <why>
to hand the same task, unchanged, to the slow tier once.

A task block looks like:
- [ ] T3a: <title>
  - do: <what to do>
  - scope: <globs>
  - accept: gates all
  - risk: reversible
  - after: —
)";
  return kPrompt;
}

std::string ExtractPlanText(std::string_view answer) {
  size_t pos = 0;
  while ((pos = answer.find("```", pos)) != std::string_view::npos) {
    size_t body = answer.find('\n', pos);
    if (body == std::string_view::npos) break;
    size_t close = answer.find("\n```", body);
    if (close == std::string_view::npos) break;
    std::string_view inside = answer.substr(body + 1, close - body);
    if (inside.find("- [") != std::string_view::npos) return std::string(inside);
    pos = close + 4;
  }
  return std::string(answer);
}

Result<Replan> ParseReplan(std::string_view answer, std::string_view failed_id) {
  std::string text(answer);
  // The verdict: the first non-blank line.
  size_t pos = 0;
  std::string first;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    first = std::string(TrimSpace(std::string_view(text).substr(pos, nl - pos)));
    pos = nl + 1;
    if (!first.empty()) break;
  }
  std::string keyword = Upper(first.substr(0, first.find_first_of(": \t")));
  std::string reason =
      first.find(':') == std::string::npos ? "" : std::string(TrimSpace(first.substr(first.find(':') + 1)));
  std::string blocks = pos < text.size() ? ExtractPlanText(text.substr(pos)) : "";
  Replan replan;
  replan.reason = reason;
  if (keyword == "ESCALATE") {
    replan.action = EscalationAction::kSlowTier;
    return replan;
  }
  if (keyword != "REWRITE" && keyword != "SPLIT") {
    return InvalidArgument(fmt::format("line 1: expected REWRITE, SPLIT or ESCALATE, found '{}'",
                                       first.substr(0, 60)));
  }
  replan.action = keyword == "REWRITE" ? EscalationAction::kRewrite : EscalationAction::kSplit;
  std::set<std::string> ids = BlockIds(blocks);
  auto parsed = memory::ParsePlan(FilterAfter(
      blocks, replan.action == EscalationAction::kSplit ? ids : std::set<std::string>{}));
  if (!parsed) return InvalidArgument("in the task blocks: " + parsed.error().message());
  replan.tasks = std::move(parsed->tasks);
  if (replan.action == EscalationAction::kRewrite) {
    if (replan.tasks.size() != 1) {
      return InvalidArgument(
          fmt::format("REWRITE needs exactly one task block, found {}", replan.tasks.size()));
    }
    replan.tasks[0].id = std::string(failed_id);
  } else if (replan.tasks.size() < 2) {
    return InvalidArgument(
        fmt::format("SPLIT needs two or more task blocks, found {}", replan.tasks.size()));
  }
  return replan;
}

Result<PlanDraft> DraftPlan(const PlannerEnv& env, const PlanContext& context) {
  std::string message = "# Goal\n" + context.goal + "\n\n";
  if (!context.agents_md.empty()) message += "# AGENTS.md\n" + context.agents_md + "\n\n";
  message += "# Gates (verify.md)\n" + GateLines(context.gates) + "\n";
  message += "# Repository\n" + context.repo_view + "\n";
  protocol::ModelRequest request = NewRequest(env, PlanSystemPrompt(), std::move(message));
  PlanDraft draft;
  for (int attempt = 0;; ++attempt) {
    std::string answer = TRY(Call(env, request, ""));
    std::string text = ExtractPlanText(answer);
    auto plan = memory::ParsePlan(text);
    std::string problem;
    if (!plan) {
      problem = plan.error().message();
    } else if (Status gates = CheckPlanGates(*plan, context.gates); !gates.ok()) {
      problem = gates.message();
    }
    if (problem.empty()) {
      if (plan->goal.empty()) plan->goal = context.goal;
      draft.plan = std::move(*plan);
      draft.text = memory::RenderPlan(draft.plan);
      return draft;
    }
    if (attempt >= env.max_fixes) {
      return InvalidArgument("the planner's plan does not parse: " + problem);
    }
    draft.fixes++;
    request.messages.push_back(
        protocol::Message{protocol::Role::kAssistant, answer, {}, {}, false});
    request.messages.push_back(
        protocol::Message::User("tandem could not read that plan: " + problem +
                                "\nAnswer again with the whole plan.md, in the format described."));
  }
}

Status CheckPlanGates(const memory::Plan& plan, const std::vector<verify::Gate>& gates) {
  for (const memory::PlanTask& task : plan.tasks) {
    if (!task.gates) continue;
    for (const std::string& name : *task.gates) {
      if (std::any_of(gates.begin(), gates.end(),
                      [&](const verify::Gate& g) { return g.name == name; })) {
        continue;
      }
      std::vector<std::string> defined;
      for (const verify::Gate& g : gates) defined.push_back(g.name);
      return InvalidArgument(fmt::format(
          "line {}: task {} names gate '{}' in its acceptance, which verify.md does not define "
          "({})",
          task.accept_line, task.id, name,
          defined.empty() ? "it defines none" : "it defines: " + fmt::format("{}", fmt::join(defined, ", "))));
    }
  }
  return Status::Ok();
}

Result<Replan> AskReplan(const PlannerEnv& env, const ReplanContext& context) {
  std::string message =
      fmt::format("# Failed task {}\n{}\n\n# Why it failed\n{}\n\n", context.task.id,
                  RenderTaskBlocks({context.task}), context.failure);
  if (!context.best_attempt.empty()) {
    message += "# Its best attempt (diff)\n```diff\n" + context.best_attempt + "\n```\n\n";
  }
  message += fmt::format("Escalations of this task so far: {}\n\n# plan.md now\n{}\n",
                         context.escalations_so_far, context.plan_text);
  protocol::ModelRequest request = NewRequest(env, ReplanSystemPrompt(), std::move(message));
  for (int attempt = 0;; ++attempt) {
    std::string answer = TRY(Call(env, request, context.task.id));
    auto replan = ParseReplan(answer, context.task.id);
    if (replan) return replan;
    if (attempt >= env.max_fixes) {
      return InvalidArgument("the planner's answer does not parse: " + replan.error().message());
    }
    request.messages.push_back(
        protocol::Message{protocol::Role::kAssistant, answer, {}, {}, false});
    request.messages.push_back(protocol::Message::User(
        "tandem could not read that answer: " + replan.error().message() +
        "\nAnswer again: REWRITE, SPLIT or ESCALATE on the first line, then the task blocks."));
  }
}

}  // namespace tandem::orchestrator
