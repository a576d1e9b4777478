#include "tandem/agent/prompt.h"

#include "tandem/base/strings.h"

namespace tandem::agent {

const std::string& ExecutorSystemPrompt() {
  static const std::string kPrompt =
      "You are the executor in tandem: a fast coding agent working inside a git repository.\n"
      "Do exactly the task given, nothing more. Paths are relative to the repository root.\n"
      "Inspect before you edit. Make small exact edits with edit_file (old_text must match "
      "exactly once); use write_file only for new files.\n"
      "After every step that changes files, tandem runs the project's checks. A step that "
      "fails them is rolled back and you are shown the failure: fix the cause and try again.\n"
      "You cannot delete files, leave the repository or use the network.\n"
      "When the task is complete, call finish with a short summary. Keep replies brief.";
  return kPrompt;
}

std::string BuildTaskMessage(const TaskContext& c) {
  std::string m;
  if (!c.agents_md.empty()) {
    m += "<agents_md>\n" + c.agents_md;
    if (m.back() != '\n') m += '\n';
    m += "</agents_md>\n\n";
  }
  if (!c.skills.empty()) m += c.skills + "\n";
  if (!c.repo_view.empty()) m += "<repository>\n" + c.repo_view + "</repository>\n\n";
  if (!c.gates.empty()) m += "<checks>\n" + c.gates + "</checks>\n\n";
  if (!c.scope.empty()) m += "You may only change: " + c.scope + "\n\n";
  if (!c.extra.empty()) m += c.extra + "\n\n";
  m += "Task: " + c.task;
  return m;
}

int64_t EstimateTokens(const std::string& text) { return EstimateTextTokens(text); }

int64_t EstimateTokens(const protocol::ModelRequest& request) {
  int64_t n = EstimateTokens(request.system);
  for (const auto& tool : request.tools) {
    n += EstimateTokens(tool.name) + EstimateTokens(tool.description) +
         EstimateTokens(tool.parameters.dump());
  }
  for (const auto& msg : request.messages) {
    n += 4 + EstimateTokens(msg.text);
    for (const auto& call : msg.tool_calls) n += EstimateTokens(call.arguments_json) + 8;
  }
  return n;
}

}  // namespace tandem::agent
