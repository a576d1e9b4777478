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

constexpr std::array<std::string_view, 4> kGateVerdict = {"pass", "fail", "error", "cached"};

}  // namespace

std::string_view ToString(RunOutcome v) { return protocol::Name(v); }
std::string_view ToString(Risk v) { return protocol::Name(v); }
std::string_view ToString(TaskState v) {
  return v == TaskState::kWaiting ? "waiting_approval" : protocol::Name(v);
}
std::string_view ToString(StepState v) { return protocol::Name(v); }
std::string_view ToString(ToolOutcome v) { return protocol::Name(v); }
std::string_view ToString(GateVerdict v) { return Name(kGateVerdict, v); }
std::string_view ToString(ApprovalDecision v) { return protocol::Name(v); }
std::string_view ToString(DecidedBy v) { return protocol::Name(v); }
std::string_view ToString(EscalationAction v) { return protocol::Name(v); }

Result<GateVerdict> ParseGateVerdict(std::string_view s) {
  return Parse<GateVerdict>(kGateVerdict, s, "gate verdict");
}

}  // namespace tandem::ledger
