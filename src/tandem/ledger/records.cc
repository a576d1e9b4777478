#include "tandem/ledger/records.h"

#include <array>
#include <string>
#include <utility>

namespace tandem::ledger {
namespace {

template <typename E, size_t N>
std::string_view Name(const std::array<std::string_view, N>& names, E v) {
  size_t i = static_cast<size_t>(v);
  return i < N ? names[i] : "unknown";
}

template <typename E, size_t N>
Result<E> Parse(const std::array<std::string_view, N>& names, std::string_view s,
                std::string_view type) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return InvalidArgument("unknown " + std::string(type) + " '" + std::string(s) + "'");
}

// Indexed by the enum's value: keep in declaration order.
constexpr std::array<std::string_view, 5> kRunOutcome = {"running", "succeeded", "failed",
                                                         "interrupted", "cancelled"};
constexpr std::array<std::string_view, 2> kTaskRisk = {"reversible", "irreversible"};
constexpr std::array<std::string_view, 6> kTaskState = {"pending", "running", "done",
                                                        "failed",  "skipped", "waiting_approval"};
constexpr std::array<std::string_view, 4> kStepState = {"running", "done", "rolled_back",
                                                        "interrupted"};
constexpr std::array<std::string_view, 3> kToolOutcome = {"ok", "error", "refused"};
constexpr std::array<std::string_view, 4> kGateVerdict = {"pass", "fail", "error", "cached"};
constexpr std::array<std::string_view, 2> kDecision = {"approved", "denied"};
constexpr std::array<std::string_view, 2> kDecidedBy = {"person", "policy"};
constexpr std::array<std::string_view, 3> kAction = {"replan", "split", "escalate"};

}  // namespace

std::string_view ToString(RunOutcome v) { return Name(kRunOutcome, v); }
std::string_view ToString(TaskRisk v) { return Name(kTaskRisk, v); }
std::string_view ToString(TaskState v) { return Name(kTaskState, v); }
std::string_view ToString(StepState v) { return Name(kStepState, v); }
std::string_view ToString(ToolOutcome v) { return Name(kToolOutcome, v); }
std::string_view ToString(GateVerdict v) { return Name(kGateVerdict, v); }
std::string_view ToString(ApprovalDecision v) { return Name(kDecision, v); }
std::string_view ToString(DecidedBy v) { return Name(kDecidedBy, v); }
std::string_view ToString(EscalationAction v) { return Name(kAction, v); }

Result<RunOutcome> ParseRunOutcome(std::string_view s) {
  return Parse<RunOutcome>(kRunOutcome, s, "run outcome");
}
Result<TaskRisk> ParseTaskRisk(std::string_view s) {
  return Parse<TaskRisk>(kTaskRisk, s, "task risk");
}
Result<TaskState> ParseTaskState(std::string_view s) {
  return Parse<TaskState>(kTaskState, s, "task state");
}
Result<StepState> ParseStepState(std::string_view s) {
  return Parse<StepState>(kStepState, s, "step state");
}
Result<GateVerdict> ParseGateVerdict(std::string_view s) {
  return Parse<GateVerdict>(kGateVerdict, s, "gate verdict");
}

}  // namespace tandem::ledger
