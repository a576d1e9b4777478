#include "tests/model_server/reply.h"

#include "tests/model_server/tokenizer.h"

namespace tandem::model_server {

std::vector<StreamStep> BuildSteps(const Reply& reply, bool interleave) {
  std::vector<StreamStep> steps;
  for (std::string& token : SplitTokens(reply.text)) {
    steps.push_back({StreamStep::kText, -1, std::move(token)});
  }
  std::vector<std::vector<StreamStep>> per_call;
  for (size_t i = 0; i < reply.tool_calls.size(); ++i) {
    std::vector<StreamStep> call_steps;
    int index = static_cast<int>(i);
    call_steps.push_back({StreamStep::kToolStart, index, ""});
    for (std::string& token : SplitTokens(reply.tool_calls[i].arguments)) {
      call_steps.push_back({StreamStep::kToolArguments, index, std::move(token)});
    }
    per_call.push_back(std::move(call_steps));
  }
  if (!interleave) {
    for (auto& call_steps : per_call) {
      for (auto& step : call_steps) steps.push_back(std::move(step));
    }
    return steps;
  }
  for (size_t round = 0;; ++round) {
    bool any = false;
    for (auto& call_steps : per_call) {
      if (round < call_steps.size()) {
        steps.push_back(std::move(call_steps[round]));
        any = true;
      }
    }
    if (!any) break;
  }
  return steps;
}

std::string CorruptJson(const std::string& json_text) {
  if (json_text.size() <= 1) return "{\"";
  return json_text.substr(0, json_text.size() - 1);
}

}  // namespace tandem::model_server
