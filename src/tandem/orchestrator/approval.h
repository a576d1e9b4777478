// Approvals: before an irreversible task runs, or an executor's command that
// the classifier marks irreversible (after the slow tier's review), a person
// (or, in CI, the policy) decides. The orchestrator never reads the terminal itself: the
// front end supplies an Approver (cli: a y/N prompt on /dev/tty).
//
// Thread-safety: Decide() is a plain function; an Approver is called from the
// orchestrator's thread only.
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

class Approver {
 public:
  virtual ~Approver() = default;
  // Shows `request` and waits for a yes or no. kUnavailable when nobody can
  // be asked (no terminal): the task then waits for approval.
  virtual Result<ApprovalAnswer> Ask(const ApprovalRequest& request) = 0;
};

struct ApprovalDecision {
  enum class Kind { kApproved, kDenied, kWaiting };
  Kind kind = Kind::kWaiting;
  bool by_person = false;
  int64_t waited_ms = 0;
  std::string reason;
};

// Applies `policy`: approve/deny decide at once (by policy); ask calls
// `approver` (may be null: waiting) and measures how long the person took
// with `now_ms`.
ApprovalDecision Decide(config::ApprovalPolicy policy, Approver* approver,
                        const ApprovalRequest& request, const std::function<int64_t()>& now_ms);

// What a person is shown for `task`: the task text, its scope and checks,
// each check command with the classifier's verdict, and the tier and model
// that will run it.
std::string ApprovalText(const memory::PlanTask& task, const std::string& tier,
                         const std::string& model);

}  // namespace tandem::orchestrator
