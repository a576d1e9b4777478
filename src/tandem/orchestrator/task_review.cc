#include "tandem/orchestrator/task_review.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "tandem/agent/model_call_row.h"
#include "tandem/base/clock.h"
#include "tandem/base/strings.h"
#include "tandem/orchestrator/task_commit.h"

namespace tandem::orchestrator {
namespace {

constexpr size_t kMaxSubject = 71;  // "under 72 characters"

std::string CutFirstLine(std::string text, size_t max) {
  text = std::string(TrimSpace(text.substr(0, text.find('\n'))));
  if (text.size() > max) {
    size_t cut = max;
    // Never split a UTF-8 sequence.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text.resize(cut);
  }
  return text;
}

void Record(const TaskReviewerEnv& env, const agent::ReviewRequest& request,
            const Result<protocol::ModelResponse, protocol::ModelError>& reply, double cost) {
  if (!env.ledger || request.run_id.empty()) return;
  agent::ModelCallWho who{request.run_id, request.step, "reviewer", env.model.provider,
                          env.model.model.id, env.model.model.fast_mode};
  Status recorded = env.ledger->RecordModelCall(reply ? agent::ModelCallRow(who, *reply, cost)
                                                      : agent::ModelCallRow(who, reply.error()));
  if (!recorded.ok()) {
    env.events->Publish({{request.run_id, request.task_id, "reviewer"}, WallClockMs(),
                         protocol::Notice{protocol::NoticeLevel::kWarn,
                                          "ledger: a model call not recorded: " +
                                              recorded.message()}});
  }
}

}  // namespace

const std::string& TaskReviewSystemPrompt() {
  static const std::string kPrompt =
      R"(You are the reviewer of tandem: the slow, careful tier that reads a task's final change before it counts as done. A fast executor made the change; tandem's gates (tests, linters) already pass on it. Judge whether the change does what the task asks, meets its acceptance, follows the repository's AGENTS.md, and is correct and safe to keep. Do not ask for changes the task did not call for.

Answer only by calling the review_verdict tool, once:
- approve: the change is right. Also write its git commit message: commit_subject (imperative, under 72 characters) and commit_body (why the change was made, wrapped at 72 columns).
- request_changes: list each problem in reasons, concretely enough for the executor to fix it, and the places (path, line) they refer to.
If earlier reviews asked for changes, check that those requests were met.)";
  return kPrompt;
}

const protocol::ToolSpec& ReviewVerdictTool() {
  static const protocol::ToolSpec kTool{
      "review_verdict",
      "Your verdict on the task's change: approve (with the commit message) or request_changes "
      "(with the reasons and the places they refer to).",
      nlohmann::json::parse(R"({
  "type": "object",
  "properties": {
    "verdict": {"type": "string", "enum": ["approve", "request_changes"]},
    "reasons": {"type": "array", "items": {"type": "string"},
                "description": "request_changes: each problem to fix"},
    "places": {"type": "array", "items": {"type": "object", "properties": {
      "path": {"type": "string"}, "line": {"type": "integer"}, "note": {"type": "string"}},
      "required": ["path"]}},
    "commit_subject": {"type": "string", "description": "approve: under 72 characters"},
    "commit_body": {"type": "string", "description": "approve: why the change was made"}
  },
  "required": ["verdict"]
})")};
  return kTool;
}

agent::ReviewResult ParseReviewVerdict(const nlohmann::json& arguments) {
  agent::ReviewResult result;
  auto error = [&](std::string why) {
    result.verdict = protocol::ReviewVerdict::kError;
    result.reasons = {std::move(why)};
    result.places.clear();
    return result;
  };
  if (!arguments.is_object()) return error("the review_verdict arguments are not an object");
  const auto verdict = arguments.find("verdict");
  if (verdict == arguments.end() || !verdict->is_string()) {
    return error("the review_verdict call has no verdict");
  }
  auto parsed = protocol::ParseReviewVerdict(verdict->get<std::string>());
  if (!parsed || *parsed == protocol::ReviewVerdict::kError) {
    return error("the review_verdict call's verdict is '" +
                 CutFirstLine(verdict->get<std::string>(), 40) +
                 "', not approve or request_changes");
  }
  result.verdict = *parsed;
  if (auto reasons = arguments.find("reasons"); reasons != arguments.end() && reasons->is_array()) {
    for (const auto& r : *reasons) {
      if (r.is_string() && !TrimSpace(r.get<std::string>()).empty()) {
        result.reasons.push_back(r.get<std::string>());
      }
    }
  }
  if (auto places = arguments.find("places"); places != arguments.end() && places->is_array()) {
    for (const auto& p : *places) {
      if (!p.is_object() || !p.contains("path") || !p["path"].is_string()) continue;
      agent::ReviewPlace place;
      place.path = p["path"].get<std::string>();
      if (p.contains("line") && p["line"].is_number_integer()) {
        place.line = std::max(0, p["line"].get<int>());
      }
      if (p.contains("note") && p["note"].is_string()) place.note = p["note"].get<std::string>();
      result.places.push_back(std::move(place));
    }
  }
  if (result.verdict == protocol::ReviewVerdict::kRequestChanges && result.reasons.empty()) {
    if (result.places.empty()) return error("the reviewer requested changes without a reason");
    for (const auto& p : result.places) {
      if (!p.note.empty()) result.reasons.push_back(p.note);
    }
    if (result.reasons.empty()) return error("the reviewer requested changes without a reason");
  }
  if (arguments.contains("commit_subject") && arguments["commit_subject"].is_string()) {
    result.commit_subject = CutFirstLine(arguments["commit_subject"].get<std::string>(), kMaxSubject);
  }
  if (arguments.contains("commit_body") && arguments["commit_body"].is_string()) {
    result.commit_body = std::string(TrimSpace(arguments["commit_body"].get<std::string>()));
  }
  return result;
}

std::string ReviewMessage(const agent::ReviewRequest& r) {
  std::string out = fmt::format("Task:\n{}\n\nThe executor's summary:\n{}\n\n", r.task,
                                r.summary.empty() ? "(none)" : r.summary);
  out += "Gates on the final tree:\n" + (r.gates.empty() ? "(none)\n" : r.gates) + "\n";
  if (!r.agents_md.empty()) out += "AGENTS.md (the parts for the changed paths):\n" + r.agents_md + "\n\n";
  if (!r.earlier_reasons.empty()) {
    out += "Earlier reviews of this task requested changes; check that each was made:\n";
    for (const std::string& reason : r.earlier_reasons) out += "- " + reason + "\n";
    out += "\n";
  }
  out += fmt::format("The change ({} lines in {} files):\n{}\n", r.lines_changed, r.files_changed,
                     r.diff);
  return out;
}

agent::ReviewResult ReviewTask(const TaskReviewerEnv& env, const agent::ReviewRequest& request) {
  agent::ReviewResult result;
  result.model = env.model.name;
  if (!env.model.client) {
    result.reasons = {"no reviewer model is configured (roles.reviewer)"};
    return result;
  }
  protocol::ModelRequest model_request;
  model_request.model = env.model.model.id;
  model_request.system = TaskReviewSystemPrompt();
  model_request.tools = {ReviewVerdictTool()};
  model_request.max_tokens = static_cast<int>(env.model.model.max_output_tokens);
  model_request.messages.push_back(protocol::Message::User(ReviewMessage(request)));
  protocol::EventScope scope{request.run_id, request.task_id, "reviewer"};
  auto start = std::chrono::steady_clock::now();
  // A reply without the tool call is asked once more.
  for (int ask = 0; ask < 2; ++ask) {
    std::unique_ptr<providers::PendingReply> pending =
        env.model.client->Start(model_request, nullptr);
    agent::InterruptHub::Handle interrupt = 0;
    if (env.interrupts) interrupt = env.interrupts->Subscribe([&pending] { pending->Cancel(); });
    auto reply = pending->Wait();
    if (env.interrupts) env.interrupts->Unsubscribe(interrupt);
    double cost = reply ? config::ReplyCostUsd(env.model.model, *reply) : 0;
    Record(env, request, reply, cost);
    result.wait_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!reply) {
      result.verdict = protocol::ReviewVerdict::kError;
      result.reasons = {fmt::format("the reviewer ({}) could not be asked: {}", env.model.name,
                                    reply.error().message)};
      return result;
    }
    result.usage += reply->usage;
    result.cost_usd += cost;
    env.events->Publish({scope, WallClockMs(),
                         protocol::ModelCallFinished{env.model.name, reply->usage, reply->timings,
                                                     cost, reply->retries}});
    for (const protocol::ToolCall& call : reply->tool_calls) {
      if (call.name != ReviewVerdictTool().name) continue;
      agent::ReviewResult parsed = ParseReviewVerdict(call.arguments);
      parsed.model = result.model;
      parsed.usage = result.usage;
      parsed.cost_usd = result.cost_usd;
      parsed.wait_ms = result.wait_ms;
      return parsed;
    }
    protocol::Message answer{protocol::Role::kAssistant, reply->text, reply->tool_calls, {}, false};
    model_request.messages.push_back(std::move(answer));
    for (const protocol::ToolCall& call : reply->tool_calls) {
      model_request.messages.push_back(protocol::Message::ToolResult(
          call.id, "unknown tool: answer with review_verdict", true));
    }
    model_request.messages.push_back(protocol::Message::User(
        "Answer only by calling the review_verdict tool with your verdict."));
  }
  result.verdict = protocol::ReviewVerdict::kError;
  result.reasons = {"the reviewer answered twice without the review_verdict tool call"};
  return result;
}

agent::ReviewSetup ReviewSetupForTask(const config::Config& config, const std::string& repo_root,
                                      const std::string& task_id,
                                      const std::optional<protocol::ReviewPolicy>& task_policy,
                                      bool irreversible_task, TaskReviewerEnv reviewer) {
  agent::ReviewSetup setup;
  setup.policy = task_policy.value_or(config.review.policy);
  setup.large_lines = config.review.large_lines;
  setup.irreversible_task = irreversible_task;
  bool commit = config.commit.enabled;
  if (!reviewer.model.client || (setup.policy.never() && !commit)) return setup;
  setup.reviewer = [reviewer](const agent::ReviewRequest& request) {
    return ReviewTask(reviewer, request);
  };
  if (commit) {
    CommitSettings settings{repo_root, config.commit.author, task_id};
    setup.commit = [settings](const agent::ReviewResult& review,
                              const std::vector<std::string>& paths) {
      return CommitTaskChange(settings, review, paths);
    };
  }
  return setup;
}

}  // namespace tandem::orchestrator
