#include "tandem/orchestrator/command_review.h"

#include <fmt/format.h>

#include <cctype>
#include <chrono>

#include "tandem/agent/model_call_row.h"
#include "tandem/base/clock.h"
#include "tandem/base/strings.h"

namespace tandem::orchestrator {
namespace {

// `line` starts with `word` (any case) followed by the end or a non-letter.
bool StartsWithWord(std::string_view line, std::string_view word) {
  if (line.size() < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(line[i])) != word[i]) return false;
  }
  return line.size() == word.size() || !std::isalpha(static_cast<unsigned char>(line[word.size()]));
}

void Record(const ReviewerEnv& env, const std::string& run_id,
            const Result<protocol::ModelResponse, protocol::ModelError>& reply, double cost) {
  if (!env.ledger || run_id.empty()) return;
  agent::ModelCallWho who{run_id, env.step, env.role, env.model.provider, env.model.model.id,
                          env.model.model.fast_mode};
  Status recorded = env.ledger->RecordModelCall(reply ? agent::ModelCallRow(who, *reply, cost)
                                                      : agent::ModelCallRow(who, reply.error()));
  if (!recorded.ok()) {
    env.events->Publish({{run_id, "", env.role}, WallClockMs(),
                         protocol::Notice{protocol::NoticeLevel::kWarn, "ledger: a model call not recorded: " +
                                                      recorded.message()}});
  }
}

}  // namespace

const std::string& CommandReviewSystemPrompt() {
  static const std::string kPrompt =
      R"(You are the slow, careful tier of tandem. A fast executor working on a task wants to run a shell command that tandem's classifier marks irreversible: it reaches beyond the workspace or cannot be undone. Decide whether the command is needed for the task and reasonable to run. If you say RUN, a person (or the approval policy) still decides before it runs.

Answer with exactly one line, the keyword first:
RUN: <why it is needed>
REFUSE: <why not, and what the executor should do instead>)";
  return kPrompt;
}

CommandReview ParseCommandReview(std::string_view answer) {
  CommandReview review;
  std::string first;
  size_t pos = 0;
  while (pos <= answer.size() && first.empty()) {
    size_t nl = answer.find('\n', pos);
    if (nl == std::string_view::npos) nl = answer.size();
    first = std::string(TrimSpace(answer.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  // Tolerate markdown emphasis around the keyword ("**RUN**: ...").
  while (!first.empty() && (first.front() == '*' || first.front() == '`')) first.erase(0, 1);
  std::string_view keyword;
  if (StartsWithWord(first, "RUN")) {
    keyword = "RUN";
    review.run = true;
  } else if (StartsWithWord(first, "REFUSE")) {
    keyword = "REFUSE";
  } else {
    std::string shown = first.substr(0, 200);
    review.reason = shown.empty() ? "the slow tier's review was empty, so the command is refused"
                                  : "the slow tier's review was not RUN or REFUSE (\"" + shown +
                                        "\"), so the command is refused";
    return review;
  }
  std::string rest = first.substr(keyword.size());
  size_t b = rest.find_first_not_of("*`:- \t");
  review.reason = b == std::string::npos ? "" : std::string(TrimSpace(rest.substr(b)));
  if (review.reason.empty())
    review.reason = review.run ? "the slow tier says run" : "the slow tier refused";
  return review;
}

CommandReview ReviewCommand(const ReviewerEnv& env, const CommandReviewRequest& request) {
  protocol::ModelRequest model_request;
  model_request.model = env.model.model.id;
  model_request.system = CommandReviewSystemPrompt();
  model_request.max_tokens = static_cast<int>(env.model.model.max_output_tokens);
  model_request.messages.push_back(protocol::Message::User(fmt::format(
      "Task:\n{}\n\nCommand:\n{}\n\nThe classifier marks it irreversible: {}\n\nRUN or REFUSE?",
      request.task, request.command, request.why)));
  if (!env.model.client) {
    CommandReview review;
    review.reason = "no slow-tier model to review the command";
    return review;
  }
  auto start = std::chrono::steady_clock::now();
  std::unique_ptr<providers::PendingReply> pending = env.model.client->Start(model_request, nullptr);
  agent::InterruptHub::Handle interrupt = 0;
  if (env.interrupts) interrupt = env.interrupts->Subscribe([&pending] { pending->Cancel(); });
  auto reply = pending->Wait();
  if (env.interrupts) env.interrupts->Unsubscribe(interrupt);
  double elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  double cost = reply ? config::ReplyCostUsd(env.model.model, *reply) : 0;
  Record(env, request.run_id, reply, cost);
  if (!reply) {
    CommandReview review;
    review.reason = fmt::format("the slow tier ({}) could not review the command: {}",
                                env.model.name, reply.error().message);
    review.model_ms = elapsed_ms;
    return review;
  }
  protocol::EventScope scope{request.run_id, request.task_id, env.role};
  env.events->Publish({scope, WallClockMs(),
                       protocol::ModelCallFinished{env.model.name, reply->usage, reply->timings,
                                                   cost, reply->retries}});
  CommandReview review = ParseCommandReview(reply->text);
  review.model_ms = elapsed_ms;
  review.usage = reply->usage;
  review.cost_usd = cost;
  return review;
}

}  // namespace tandem::orchestrator
