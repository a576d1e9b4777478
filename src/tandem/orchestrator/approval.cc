#include "tandem/orchestrator/approval.h"

#include <fmt/format.h>

#include "tandem/tools/command_policy.h"

namespace tandem::orchestrator {

std::string ApprovalText(const memory::PlanTask& task, const std::string& tier,
                         const std::string& model) {
  std::string out = fmt::format("task {}: {}\n", task.id, task.title);
  std::string what = task.what;
  size_t pos = 0;
  out += "do:\n";
  while (pos <= what.size()) {
    size_t nl = what.find('\n', pos);
    if (nl == std::string::npos) nl = what.size();
    out += "  " + what.substr(pos, nl - pos) + "\n";
    pos = nl + 1;
  }
  out += "scope: " +
         (task.scope.empty() ? std::string("the whole repository")
                             : fmt::format("{}", fmt::join(task.scope, ", "))) +
         "\n";
  if (task.gates) {
    out += "gates: " +
           (task.gates->empty() ? std::string("none")
                                : fmt::format("{}", fmt::join(*task.gates, ", "))) +
           "\n";
  }
  for (const std::string& check : task.checks) {
    tools::CommandVerdict verdict = tools::ClassifyCommand(check);
    out += "check: " + check;
    if (!verdict.allowed()) out += "   [irreversible: " + verdict.reason + "]";
    out += "\n";
  }
  out += fmt::format("runs on: the {} tier ({}), with commands the classifier refuses allowed\n",
                     tier, model);
  return out;
}

}  // namespace tandem::orchestrator
