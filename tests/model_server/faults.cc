#include "tests/model_server/faults.h"

#include <array>
#include <charconv>
#include <utility>

namespace tandem::model_server {
namespace {

constexpr std::array<std::pair<FaultKind, std::string_view>, 11> kKindNames = {{
    {FaultKind::kHttp429, "http_429"},
    {FaultKind::kHttp500, "http_500"},
    {FaultKind::kHttp503, "http_503"},
    {FaultKind::kHttp529, "http_529"},
    {FaultKind::kHttp400, "http_400"},
    {FaultKind::kHttp401, "http_401"},
    {FaultKind::kReset, "reset"},
    {FaultKind::kTruncate, "truncate"},
    {FaultKind::kStall, "stall"},
    {FaultKind::kBadToolJson, "bad_tool_json"},
    {FaultKind::kErrorEvent, "error_event"},
}};

std::string KnownKinds() {
  std::string out;
  for (const auto& [kind, name] : kKindNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

Result<int> ParseNonNegative(std::string_view text, std::string_view what) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) {
    return InvalidArgument(std::string(what) + ": expected a non-negative integer, got '" +
                           std::string(text) + "'");
  }
  return value;
}

// Applies one key=value setting (shared by the JSON and the command-line form).
Status SetField(Fault& fault, std::string_view key, int value, std::string_view where) {
  if (key == "times") {
    fault.times = value;
  } else if (key == "after_tokens") {
    fault.after_tokens = value;
  } else if (key == "stall_ms") {
    fault.stall_ms = value;
  } else if (key == "retry_after_s") {
    fault.retry_after_s = value;
  } else if (key == "retry_after_ms") {
    fault.retry_after_ms = value;
  } else if (key == "retry_after_date_s") {
    fault.retry_after_date_s = value;
  } else {
    return InvalidArgument(std::string(where) + ": unknown fault field '" + std::string(key) +
                           "' (expected times, after_tokens, stall_ms, retry_after_s, "
                           "retry_after_ms, retry_after_date_s)");
  }
  return Status::Ok();
}

}  // namespace

std::string_view FaultKindName(FaultKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<FaultKind> ParseFaultKind(std::string_view name) {
  for (const auto& [kind, n] : kKindNames) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

bool IsHttpFault(FaultKind kind) {
  switch (kind) {
    case FaultKind::kHttp429:
    case FaultKind::kHttp500:
    case FaultKind::kHttp503:
    case FaultKind::kHttp529:
    case FaultKind::kHttp400:
    case FaultKind::kHttp401:
      return true;
    default:
      return false;
  }
}

int HttpFaultStatus(FaultKind kind) {
  switch (kind) {
    case FaultKind::kHttp429:
      return 429;
    case FaultKind::kHttp503:
      return 503;
    case FaultKind::kHttp529:
      return 529;
    case FaultKind::kHttp400:
      return 400;
    case FaultKind::kHttp401:
      return 401;
    default:
      return 500;
  }
}

Result<Fault> FaultFromJson(const nlohmann::json& value, std::string_view where) {
  const std::string at(where);
  if (!value.is_object()) return InvalidArgument(at + ": a fault must be an object");
  auto kind_it = value.find("kind");
  if (kind_it == value.end() || !kind_it->is_string()) {
    return InvalidArgument(at + ".kind: missing or not a string (expected one of " + KnownKinds() +
                           ")");
  }
  auto kind = ParseFaultKind(kind_it->get<std::string>());
  if (!kind) {
    return InvalidArgument(at + ".kind: unknown fault kind '" + kind_it->get<std::string>() +
                           "' (expected one of " + KnownKinds() + ")");
  }
  Fault fault;
  fault.kind = *kind;
  for (const auto& [key, field] : value.items()) {
    if (key == "kind") continue;
    if (!field.is_number_integer() || field.get<long long>() < 0 ||
        field.get<long long>() > 1'000'000'000) {
      return InvalidArgument(at + "." + key + ": expected a non-negative integer");
    }
    RETURN_IF_ERROR(SetField(fault, key, field.get<int>(), at));
  }
  return fault;
}

Result<Fault> ParseFaultSpec(std::string_view spec) {
  const std::string where = "--fault " + std::string(spec);
  size_t colon = spec.find(':');
  std::string_view kind_name = spec.substr(0, colon);
  auto kind = ParseFaultKind(kind_name);
  if (!kind) {
    return InvalidArgument(where + ": unknown fault kind '" + std::string(kind_name) +
                           "' (expected one of " + KnownKinds() + ")");
  }
  Fault fault;
  fault.kind = *kind;
  fault.times = 0;  // a command-line fault hits every request unless limited
  if (colon == std::string_view::npos) return fault;
  std::string_view rest = spec.substr(colon + 1);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument(where + ": expected key=value, got '" + std::string(item) + "'");
    }
    std::string_view key = item.substr(0, eq);
    int value = TRY(ParseNonNegative(item.substr(eq + 1), where + ": " + std::string(key)));
    RETURN_IF_ERROR(SetField(fault, key, value, where));
  }
  return fault;
}

bool FaultSlot::Take() {
  if (fault_.times <= 0) return true;
  int used = used_.load();
  while (used < fault_.times) {
    if (used_.compare_exchange_weak(used, used + 1)) return true;
  }
  return false;
}

void ActiveFaults::Add(const Fault& fault) {
  if (IsHttpFault(fault.kind)) {
    if (!http) http = fault;
  } else {
    stream.push_back(fault);
  }
}

std::optional<FaultKind> ActiveFaults::RecordedKind() const {
  if (http) return http->kind;
  if (!stream.empty()) return stream.front().kind;
  return std::nullopt;
}

bool ActiveFaults::Has(FaultKind kind) const {
  if (http && http->kind == kind) return true;
  for (const Fault& f : stream) {
    if (f.kind == kind) return true;
  }
  return false;
}

}  // namespace tandem::model_server
