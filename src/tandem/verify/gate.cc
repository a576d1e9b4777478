#include "tandem/verify/gate.h"

namespace tandem::verify {

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kPass: return "pass";
    case Verdict::kFail: return "fail";
    case Verdict::kError: return "error";
  }
  return "error";
}

std::string_view GateWhenName(GateWhen when) {
  return when == GateWhen::kFinal ? "final" : "each step";
}

std::vector<Gate> SelectGates(const std::vector<Gate>& gates, GateWhen phase) {
  std::vector<Gate> out;
  for (const Gate& gate : gates) {
    if (phase == GateWhen::kFinal || gate.when == GateWhen::kEachStep) out.push_back(gate);
  }
  return out;
}

std::string SummarizeGates(const std::vector<Gate>& gates) {
  if (gates.empty()) return "no gates defined: edits will not be verified";
  std::string out = std::to_string(gates.size()) + (gates.size() == 1 ? " gate: " : " gates: ");
  for (size_t i = 0; i < gates.size(); ++i) {
    if (i > 0) out += ", ";
    out += gates[i].name;
    out += " (";
    out += GateWhenName(gates[i].when);
    out += ")";
  }
  return out;
}

}  // namespace tandem::verify
