// The model server's script: which answer (turn) a request gets.
//
// A script is a JSON file with optional timing overrides, the model list for
// GET /v1/models and an ordered list of turns. A request is answered by the
// FIRST turn whose `when` conditions all hold for the request's conversation
// (see /tmp/server_contract.md for the file format).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/status.h"
#include "tests/model_server/faults.h"

namespace tandem::model_server {

struct TurnCondition {
  std::optional<int> assistant_turns;
  std::optional<std::string> last_message_contains;
  std::optional<std::string> any_message_contains;
  std::optional<std::string> system_contains;
  std::optional<std::string> model;
  // "temperature": a number matches a request sent at that temperature;
  // "default" one sent without (the provider's default).
  std::optional<std::string> temperature;
};

struct ScriptedToolCall {
  std::string id;  // empty: the server makes one up
  std::string name;
  std::string arguments;  // JSON text (the script's object, serialized)
};

struct Turn {
  TurnCondition when;
  std::string text;
  std::vector<ScriptedToolCall> tool_calls;
  bool interleave_tool_calls = false;
  std::vector<Fault> faults;
};

struct Script {
  std::optional<int> tokens_per_second;
  std::optional<int> ttft_ms;
  std::optional<int> prefill_tokens_per_second;
  std::vector<std::string> models;  // never empty after parsing
  std::vector<Turn> turns;
};

// Parses script JSON. Errors name the offending field, e.g.
// "turns[1].when.assistant_turns: expected a non-negative integer".
Result<Script> ParseScript(std::string_view json_text);
// Reads and parses a script file; errors name the file.
Result<Script> LoadScript(const std::string& path);

// What the `when` conditions look at, extracted from a request by its wire format.
struct Conversation {
  std::string model;
  std::string system;                      // all system/developer text, joined
  std::vector<std::string> message_texts;  // text of each message (tool results included)
  int assistant_turns = 0;
  std::optional<double> temperature;  // empty: none sent
};

bool Matches(const TurnCondition& when, const Conversation& conversation);
// Index of the first matching turn, or nullopt.
std::optional<size_t> SelectTurn(const Script& script, const Conversation& conversation);

}  // namespace tandem::model_server
