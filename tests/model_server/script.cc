#include "tests/model_server/script.h"

#include <cmath>

#include <fstream>
#include <set>
#include <sstream>

namespace tandem::model_server {
namespace {

using nlohmann::json;

Status CheckKeys(const json& object, const std::set<std::string>& allowed,
                 const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    if (!allowed.count(key)) {
      std::string expected;
      for (const auto& k : allowed) expected += (expected.empty() ? "" : ", ") + k;
      return InvalidArgument(where + ": unknown field '" + key + "' (expected " + expected + ")");
    }
  }
  return Status::Ok();
}

Result<std::optional<int>> OptionalInt(const json& object, const char* key,
                                       const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) return std::optional<int>();
  if (!it->is_number_integer() || it->get<long long>() < 0 ||
      it->get<long long>() > 1'000'000'000) {
    return InvalidArgument(where + "." + key + ": expected a non-negative integer");
  }
  return std::optional<int>(it->get<int>());
}

Result<std::optional<std::string>> OptionalString(const json& object, const char* key,
                                                  const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return InvalidArgument(where + "." + key + ": expected a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<TurnCondition> ParseCondition(const json& value, const std::string& where) {
  if (!value.is_object()) return InvalidArgument(where + ": expected an object");
  RETURN_IF_ERROR(CheckKeys(value,
                            {"assistant_turns", "last_message_contains", "any_message_contains",
                             "system_contains", "model", "temperature"},
                            where));
  TurnCondition when;
  when.assistant_turns = TRY(OptionalInt(value, "assistant_turns", where));
  when.last_message_contains = TRY(OptionalString(value, "last_message_contains", where));
  when.any_message_contains = TRY(OptionalString(value, "any_message_contains", where));
  when.system_contains = TRY(OptionalString(value, "system_contains", where));
  when.model = TRY(OptionalString(value, "model", where));
  if (auto t = value.find("temperature"); t != value.end() && !t->is_null()) {
    if (t->is_number()) {
      when.temperature = t->dump();
    } else if (t->is_string() && t->get<std::string>() == "default") {
      when.temperature = "default";
    } else {
      return InvalidArgument(where + ".temperature: expected a number or \"default\"");
    }
  }
  return when;
}

Result<ScriptedToolCall> ParseToolCall(const json& value, const std::string& where) {
  if (!value.is_object()) return InvalidArgument(where + ": expected an object");
  RETURN_IF_ERROR(CheckKeys(value, {"id", "name", "arguments"}, where));
  ScriptedToolCall call;
  call.id = TRY(OptionalString(value, "id", where)).value_or("");
  auto name = TRY(OptionalString(value, "name", where));
  if (!name || name->empty()) return InvalidArgument(where + ".name: missing tool name");
  call.name = *name;
  auto args = value.find("arguments");
  if (args == value.end() || args->is_null()) {
    call.arguments = "{}";
  } else if (args->is_object()) {
    call.arguments = args->dump();
  } else if (args->is_string()) {
    // A string is sent verbatim: lets a script reproduce odd server output.
    call.arguments = args->get<std::string>();
  } else {
    return InvalidArgument(where + ".arguments: expected an object (or a raw JSON string)");
  }
  return call;
}

Result<Turn> ParseTurn(const json& value, const std::string& where) {
  if (!value.is_object()) return InvalidArgument(where + ": expected an object");
  RETURN_IF_ERROR(
      CheckKeys(value, {"when", "text", "tool_calls", "interleave_tool_calls", "faults"}, where));
  Turn turn;
  if (auto it = value.find("when"); it != value.end()) {
    turn.when = TRY(ParseCondition(*it, where + ".when"));
  }
  turn.text = TRY(OptionalString(value, "text", where)).value_or("");
  if (auto it = value.find("tool_calls"); it != value.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidArgument(where + ".tool_calls: expected an array");
    for (size_t i = 0; i < it->size(); ++i) {
      turn.tool_calls.push_back(
          TRY(ParseToolCall((*it)[i], where + ".tool_calls[" + std::to_string(i) + "]")));
    }
  }
  if (auto it = value.find("interleave_tool_calls"); it != value.end()) {
    if (!it->is_boolean()) {
      return InvalidArgument(where + ".interleave_tool_calls: expected true or false");
    }
    turn.interleave_tool_calls = it->get<bool>();
  }
  if (auto it = value.find("faults"); it != value.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidArgument(where + ".faults: expected an array");
    for (size_t i = 0; i < it->size(); ++i) {
      turn.faults.push_back(
          TRY(FaultFromJson((*it)[i], where + ".faults[" + std::to_string(i) + "]")));
    }
  }
  return turn;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

Result<Script> ParseScript(std::string_view json_text) {
  json root;
  try {
    root = json::parse(json_text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    return InvalidArgument(std::string("script is not valid JSON: ") + e.what());
  }
  if (!root.is_object()) return InvalidArgument("script: expected a JSON object at the top level");
  RETURN_IF_ERROR(CheckKeys(root, {"tokens_per_second", "ttft_ms", "prefill_tokens_per_second", "models", "turns"}, "script"));
  Script script;
  script.tokens_per_second = TRY(OptionalInt(root, "tokens_per_second", "script"));
  script.ttft_ms = TRY(OptionalInt(root, "ttft_ms", "script"));
  script.prefill_tokens_per_second = TRY(OptionalInt(root, "prefill_tokens_per_second", "script"));
  if (auto it = root.find("models"); it != root.end()) {
    if (!it->is_array()) return InvalidArgument("script.models: expected an array of strings");
    for (const json& m : *it) {
      if (!m.is_string() || m.get<std::string>().empty()) {
        return InvalidArgument("script.models: expected an array of non-empty strings");
      }
      script.models.push_back(m.get<std::string>());
    }
  }
  if (script.models.empty()) script.models.push_back("scripted-model");
  auto turns = root.find("turns");
  if (turns == root.end() || !turns->is_array()) {
    return InvalidArgument("script.turns: missing or not an array");
  }
  for (size_t i = 0; i < turns->size(); ++i) {
    script.turns.push_back(TRY(ParseTurn((*turns)[i], "turns[" + std::to_string(i) + "]")));
  }
  return script;
}

Result<Script> LoadScript(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open script file " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto script = ParseScript(buffer.str());
  if (!script) return script.error().WithContext(path);
  return script;
}

bool Matches(const TurnCondition& when, const Conversation& conversation) {
  if (when.assistant_turns && *when.assistant_turns != conversation.assistant_turns) return false;
  if (when.model && *when.model != conversation.model) return false;
  if (when.temperature) {
    if (*when.temperature == "default") {
      if (conversation.temperature) return false;
    } else if (!conversation.temperature ||
               std::abs(*conversation.temperature - std::stod(*when.temperature)) > 1e-6) {
      return false;
    }
  }
  if (when.system_contains && !Contains(conversation.system, *when.system_contains)) return false;
  if (when.last_message_contains) {
    if (conversation.message_texts.empty() ||
        !Contains(conversation.message_texts.back(), *when.last_message_contains)) {
      return false;
    }
  }
  if (when.any_message_contains) {
    bool found = false;
    for (const std::string& text : conversation.message_texts) {
      if (Contains(text, *when.any_message_contains)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

std::optional<size_t> SelectTurn(const Script& script, const Conversation& conversation) {
  for (size_t i = 0; i < script.turns.size(); ++i) {
    if (Matches(script.turns[i].when, conversation)) return i;
  }
  return std::nullopt;
}

}  // namespace tandem::model_server
