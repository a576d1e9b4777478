#include "tandem/ledger/records.h"

namespace tandem::ledger {

// A gate row's verdict is protocol::Verdict's, plus 'cached'.
static_assert(static_cast<int>(GateVerdict::kPass) == static_cast<int>(protocol::Verdict::kPass) &&
              static_cast<int>(GateVerdict::kFail) == static_cast<int>(protocol::Verdict::kFail) &&
              static_cast<int>(GateVerdict::kError) == static_cast<int>(protocol::Verdict::kError));

std::string_view ToString(RunOutcome v) { return protocol::Name(v); }
std::string_view ToString(Risk v) { return protocol::Name(v); }
std::string_view ToString(TaskState v) {
  return v == TaskState::kWaiting ? "waiting_approval" : protocol::Name(v);
}
std::string_view ToString(StepState v) { return protocol::Name(v); }
std::string_view ToString(ToolOutcome v) { return protocol::Name(v); }
std::string_view ToString(GateVerdict v) {
  return v == GateVerdict::kCached ? "cached" : protocol::Name(static_cast<protocol::Verdict>(v));
}
std::string_view ToString(ApprovalDecision v) { return protocol::Name(v); }
std::string_view ToString(DecidedBy v) { return protocol::Name(v); }
std::string_view ToString(EscalationAction v) { return protocol::Name(v); }

Result<GateVerdict> ParseGateVerdict(std::string_view s) {
  if (s == "cached") return GateVerdict::kCached;
  return static_cast<GateVerdict>(TRY(protocol::ParseVerdict(s)));
}

}  // namespace tandem::ledger
