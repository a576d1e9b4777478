#include "tandem/protocol/vocabulary.h"

#include <array>
#include <string>

namespace tandem::protocol {
namespace {

// Indexed by the enum's value: keep in declaration order.
constexpr std::array<std::string_view, 6> kTaskState = {"pending", "running", "done",
                                                        "failed",  "skipped", "waiting"};
constexpr std::array<std::string_view, 2> kRisk = {"reversible", "irreversible"};
constexpr std::array<std::string_view, 5> kRunOutcome = {"running", "succeeded", "failed",
                                                         "interrupted", "cancelled"};
constexpr std::array<std::string_view, 6> kOutcome = {"succeeded",   "failed",         "limit",
                                                      "interrupted", "provider_error", "error"};
constexpr std::array<std::string_view, 5> kTaskEnd = {"done", "failed", "skipped", "waiting",
                                                      "interrupted"};
constexpr std::array<std::string_view, 4> kStepState = {"running", "done", "rolled_back",
                                                        "interrupted"};
constexpr std::array<std::string_view, 3> kToolOutcome = {"ok", "error", "refused"};
constexpr std::array<std::string_view, 3> kVerdict = {"pass", "fail", "error"};
constexpr std::array<std::string_view, 2> kDecision = {"approved", "denied"};
constexpr std::array<std::string_view, 3> kDecidedBy = {"person", "policy", "slow_tier"};
constexpr std::array<std::string_view, 3> kAction = {"replan", "split", "escalate"};
constexpr std::array<std::string_view, 3> kLevel = {"info", "warn", "error"};
constexpr std::array<std::string_view, 5> kOpKind = {"approve", "deny", "steer", "interrupt",
                                                     "cancel"};

template <typename E, size_t N>
std::string_view NameIn(const std::array<std::string_view, N>& names, E v) {
  size_t i = static_cast<size_t>(v);
  return i < N ? names[i] : "unknown";
}

template <typename E, size_t N>
Result<E> ParseIn(const std::array<std::string_view, N>& names, std::string_view s,
                  std::string_view what) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return InvalidArgument("unknown " + std::string(what) + " '" + std::string(s) + "'");
}

}  // namespace

std::string_view Name(TaskState v) { return NameIn(kTaskState, v); }
std::string_view Name(Risk v) { return NameIn(kRisk, v); }
std::string_view Name(RunOutcome v) { return NameIn(kRunOutcome, v); }
std::string_view Name(Outcome v) { return NameIn(kOutcome, v); }
std::string_view Name(TaskEnd v) { return NameIn(kTaskEnd, v); }
std::string_view Name(StepState v) { return NameIn(kStepState, v); }
std::string_view Name(ToolOutcome v) { return NameIn(kToolOutcome, v); }
std::string_view Name(Verdict v) { return NameIn(kVerdict, v); }
std::string_view Name(ApprovalDecision v) { return NameIn(kDecision, v); }
std::string_view Name(DecidedBy v) { return NameIn(kDecidedBy, v); }
std::string_view Name(EscalationAction v) { return NameIn(kAction, v); }
std::string_view Name(NoticeLevel v) { return NameIn(kLevel, v); }
std::string_view Name(OpKind v) { return NameIn(kOpKind, v); }

Result<TaskState> ParseTaskState(std::string_view s) {
  if (s == "waiting_approval") return TaskState::kWaiting;  // the ledger's column spelling
  return ParseIn<TaskState>(kTaskState, s, "task state");
}
Result<Risk> ParseRisk(std::string_view s) { return ParseIn<Risk>(kRisk, s, "risk"); }
Result<RunOutcome> ParseRunOutcome(std::string_view s) {
  return ParseIn<RunOutcome>(kRunOutcome, s, "run outcome");
}
Result<StepState> ParseStepState(std::string_view s) {
  return ParseIn<StepState>(kStepState, s, "step state");
}
Result<Verdict> ParseVerdict(std::string_view s) {
  return ParseIn<Verdict>(kVerdict, s, "gate verdict");
}
Result<ApprovalDecision> ParseApprovalDecision(std::string_view s) {
  return ParseIn<ApprovalDecision>(kDecision, s, "approval decision");
}
Result<DecidedBy> ParseDecidedBy(std::string_view s) {
  return ParseIn<DecidedBy>(kDecidedBy, s, "decided by");
}
Result<EscalationAction> ParseEscalationAction(std::string_view s) {
  return ParseIn<EscalationAction>(kAction, s, "escalation action");
}

Result<OpKind> ParseOpKind(std::string_view s) { return ParseIn<OpKind>(kOpKind, s, "op"); }

ExitCode ExitCodeFor(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSucceeded: return kExitSuccess;
    case Outcome::kFailed:
    case Outcome::kLimit: return kExitTaskFailed;
    case Outcome::kProviderError: return kExitProvider;
    case Outcome::kError: return kExitInternal;
    case Outcome::kInterrupted: return kExitInterrupted;
  }
  return kExitInternal;
}

}  // namespace tandem::protocol
