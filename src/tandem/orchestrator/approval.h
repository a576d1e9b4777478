// Approvals: before an irreversible task runs, or an executor's command that
// the classifier marks irreversible (after the slow tier's review), a person
// (or, in CI, the policy) decides. The orchestrator never reads the terminal
// itself: requests are opened on the run's LiveOps (ops.h, where Decide is)
// and a front end answers them by id.
//
// Thread-safety: plain data and pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "tandem/base/status.h"
#include "tandem/config/config.h"
#include "tandem/memory/plan_md.h"

namespace tandem::orchestrator {

struct ApprovalRequest {
  std::string run_id;
  std::string task_id;
  std::string title;
  std::string what;     // exactly what will run (ApprovalText, or the command)
  std::string why;      // why it needs approval
  std::string command;  // set when one command of a running task is asked about
};

struct ApprovalAnswer {
  bool approved = false;
  std::string reason;  // the person's words, may be empty
};


struct ApprovalDecision {
  enum class Kind { kApproved, kDenied, kWaiting };
  Kind kind = Kind::kWaiting;
  int64_t approval_id = 0;  // the request's id on LiveOps (0: decided without asking)
  bool by_person = false;
  int64_t waited_ms = 0;
  std::string reason;
};


// What a person is shown for `task`: the task text, its scope and checks,
// each check command with the classifier's verdict, and the tier and model
// that will run it.
std::string ApprovalText(const memory::PlanTask& task, const std::string& tier,
                         const std::string& model);

}  // namespace tandem::orchestrator
