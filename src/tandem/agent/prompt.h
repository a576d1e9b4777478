// The executor's prompt. The system prompt and the tool definitions form a
// stable prefix that is byte-identical across steps and runs, so provider
// prefix caches hit; everything run-specific (AGENTS.md, the task, a compact
// view of the repository) goes in the first user message.
#pragma once

#include <string>
#include <vector>

#include "tandem/protocol/model.h"

namespace tandem::agent {

// The executor's system prompt (constant).
const std::string& ExecutorSystemPrompt();

struct TaskContext {
  std::string task;
  std::string agents_md;    // concatenated AGENTS.md files (may be empty)
  std::string skills;       // the <skills> block (agent/skill_context.h; may be empty)
  std::string repo_view;    // compact listing of the repository
  std::string gates;        // one line per gate the step will be verified with
  std::string scope;        // allowed paths, if the task is scoped
  std::string extra;        // progress notes, steering (issue #4)
};

// The first user message of a run.
std::string BuildTaskMessage(const TaskContext& context);

// A rough token count (bytes / 4), good enough to report and budget prompts.
int64_t EstimateTokens(const protocol::ModelRequest& request);
int64_t EstimateTokens(const std::string& text);

}  // namespace tandem::agent
