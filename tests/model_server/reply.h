// The answer the server streams for one request, independent of wire format.
//
// A Reply (text + tool calls) is cut into StreamSteps: one step per token
// event on the wire. Each step is sent on the token schedule and counts as
// one output token.
#pragma once

#include <string>
#include <vector>

namespace tandem::model_server {

struct ToolCallReply {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text as sent (malformed under bad_tool_json)
};

struct Reply {
  std::string text;
  std::vector<ToolCallReply> tool_calls;
};

struct StreamStep {
  enum Kind { kText, kToolStart, kToolArguments };
  Kind kind = kText;
  int tool_index = -1;   // for kToolStart / kToolArguments
  std::string fragment;  // text or arguments fragment; empty for kToolStart
};

// Text tokens first, then each tool call as [start, argument tokens...].
// With `interleave`, the tool calls' step lists are merged round-robin (the
// OpenAI pattern for parallel calls); otherwise they follow each other.
std::vector<StreamStep> BuildSteps(const Reply& reply, bool interleave);

// Makes tool-call arguments malformed JSON (the bad_tool_json fault): the
// closing character is dropped, so `{"a":1}` becomes `{"a":1`.
std::string CorruptJson(const std::string& json_text);

struct Usage {
  int input_tokens = 0;   // whole prompt, cached part included
  int cached_tokens = 0;  // part of input_tokens served from the simulated cache
  int output_tokens = 0;
};

}  // namespace tandem::model_server
