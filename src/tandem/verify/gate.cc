#include "tandem/verify/gate.h"

#include <tuple>

namespace tandem::verify {

bool Gate::operator==(const Gate& other) const {
  auto fields = [](const Gate& g) {
    return std::tie(g.name, g.command, g.timeout, g.when, g.cwd, g.after, g.network, g.env);
  };
  return fields(*this) == fields(other);
}

std::string GrantText(const Gate& gate) {
  std::string out = gate.network ? "network" : "";
  for (const std::string& var : gate.env) out += (out.empty() ? "env " : ", env ") + var;
  return out;
}

std::string GrantsFingerprint(const std::vector<Gate>& gates) {
  std::string out;
  // Length-prefixed fields: no command can pass for another gate's fields.
  auto field = [&out](std::string_view value) {
    out += std::to_string(value.size());
    out += ':';
    out += value;
  };
  for (const Gate& gate : gates) {
    if (!gate.granted()) continue;
    field(gate.name);
    field(gate.cwd);
    field(GrantText(gate));
    field(gate.command);
  }
  return out;
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
