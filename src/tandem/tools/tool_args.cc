#include "tandem/tools/tool_args.h"

#include <cmath>
#include <cstdlib>

namespace tandem::tools {
namespace {

std::optional<long long> AsInteger(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<long long>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 1e15) return static_cast<long long>(d);
    return std::nullopt;
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 15) return std::nullopt;
    size_t i = s[0] == '-' ? 1 : 0;
    if (i == s.size()) return std::nullopt;
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
    }
    return std::strtoll(s.c_str(), nullptr, 10);
  }
  return std::nullopt;
}

std::string ParamList(const nlohmann::json& props) {
  std::string out;
  for (auto it = props.begin(); it != props.end(); ++it) {
    if (!out.empty()) out += ", ";
    out += it.key();
  }
  return out;
}

}  // namespace

Status ValidateArgs(const protocol::ToolSpec& spec, const nlohmann::json& args) {
  const std::string& tool = spec.name;
  if (!args.is_object()) return InvalidArgument(tool + ": arguments must be a JSON object");
  const nlohmann::json& props = spec.parameters.contains("properties")
                                    ? spec.parameters["properties"]
                                    : nlohmann::json::object();
  if (spec.parameters.contains("required")) {
    for (const auto& name : spec.parameters["required"]) {
      const std::string n = name.get<std::string>();
      if (!args.contains(n) || args[n].is_null()) {
        return InvalidArgument(tool + ": missing required argument '" + n + "'");
      }
    }
  }
  for (auto it = args.begin(); it != args.end(); ++it) {
    if (!props.contains(it.key())) {
      return InvalidArgument(tool + ": unknown argument '" + it.key() + "' (arguments: " +
                             ParamList(props) + ")");
    }
    if (it.value().is_null()) continue;  // an optional argument left out
    const std::string type = props[it.key()].value("type", "string");
    if (type == "string" && !it.value().is_string()) {
      return InvalidArgument(tool + ": argument '" + it.key() + "' must be a string");
    }
    if (type == "integer" && !AsInteger(it.value())) {
      return InvalidArgument(tool + ": argument '" + it.key() + "' must be an integer");
    }
    if (type == "number" && !it.value().is_number()) {
      return InvalidArgument(tool + ": argument '" + it.key() + "' must be a number");
    }
    if (type == "boolean" && !it.value().is_boolean()) {
      return InvalidArgument(tool + ": argument '" + it.key() + "' must be true or false");
    }
    if (type == "array") {
      if (!it.value().is_array()) {
        return InvalidArgument(tool + ": argument '" + it.key() + "' must be an array");
      }
      const nlohmann::json& items = props[it.key()].value("items", nlohmann::json::object());
      if (items.value("type", "") == "string") {
        for (const auto& item : it.value()) {
          if (!item.is_string()) {
            return InvalidArgument(tool + ": argument '" + it.key() + "' must be an array of strings");
          }
        }
      }
    }
  }
  return Status::Ok();
}

std::string StringArg(const nlohmann::json& args, const char* name, std::string fallback) {
  auto it = args.find(name);
  if (it == args.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

std::optional<long long> IntArg(const nlohmann::json& args, const char* name) {
  auto it = args.find(name);
  if (it == args.end() || it->is_null()) return std::nullopt;
  return AsInteger(*it);
}

}  // namespace tandem::tools
