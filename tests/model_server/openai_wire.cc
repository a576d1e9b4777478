#include "tests/model_server/openai_wire.h"

#include <set>

namespace tandem::model_server {
namespace {

using nlohmann::json;

// "an object", "a string", ... as in OpenAI's "Invalid type" messages.
std::string TypeWithArticle(const json& value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  if (value.is_string()) return "a string";
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a decimal";
  if (value.is_boolean()) return "a boolean";
  return "null";
}

WireError BadRequest(const std::string& message, const json& param = nullptr,
                     const json& code = nullptr) {
  return OpenAiError(400, message, "invalid_request_error", param, code);
}

WireError Missing(const std::string& param) {
  return BadRequest("Missing required parameter: '" + param + "'.", param,
                    "missing_required_parameter");
}

WireError InvalidType(const std::string& param, const std::string& expected, const json& got) {
  return BadRequest("Invalid type for '" + param + "': expected " + expected + ", but got " +
                        TypeWithArticle(got) + " instead.",
                    param, "invalid_type");
}

std::optional<WireError> ValidateTools(const json& body) {
  auto tools = body.find("tools");
  if (tools == body.end() || tools->is_null()) return std::nullopt;
  if (!tools->is_array()) return InvalidType("tools", "an array", *tools);
  for (size_t i = 0; i < tools->size(); ++i) {
    const json& tool = (*tools)[i];
    std::string at = "tools[" + std::to_string(i) + "]";
    if (!tool.is_object()) return InvalidType(at, "an object", tool);
    auto type = tool.find("type");
    if (type == tool.end()) return Missing(at + ".type");
    if (*type != "function" && *type != "custom") {
      return BadRequest("Invalid value: '" +
                            (type->is_string() ? type->get<std::string>() : type->dump()) +
                            "'. Supported values are: 'function' and 'custom'.",
                        at + ".type", "invalid_value");
    }
    if (*type != "function") continue;
    auto function = tool.find("function");
    if (function == tool.end()) return Missing(at + ".function");
    if (!function->is_object()) return InvalidType(at + ".function", "an object", *function);
    auto name = function->find("name");
    if (name == function->end()) return Missing(at + ".function.name");
    if (!name->is_string()) return InvalidType(at + ".function.name", "a string", *name);
  }
  return std::nullopt;
}

std::optional<WireError> ValidateAssistantToolCalls(const json& message, const std::string& at,
                                                    std::set<std::string>& pending) {
  auto calls = message.find("tool_calls");
  if (calls == message.end() || calls->is_null()) return std::nullopt;
  if (!calls->is_array()) return InvalidType(at + ".tool_calls", "an array", *calls);
  for (size_t j = 0; j < calls->size(); ++j) {
    const json& call = (*calls)[j];
    std::string call_at = at + ".tool_calls[" + std::to_string(j) + "]";
    if (!call.is_object()) return InvalidType(call_at, "an object", call);
    auto id = call.find("id");
    if (id == call.end()) return Missing(call_at + ".id");
    if (!id->is_string()) return InvalidType(call_at + ".id", "a string", *id);
    auto function = call.find("function");
    if (function == call.end()) return Missing(call_at + ".function");
    if (!function->is_object()) return InvalidType(call_at + ".function", "an object", *function);
    auto name = function->find("name");
    if (name == function->end()) return Missing(call_at + ".function.name");
    if (!name->is_string()) return InvalidType(call_at + ".function.name", "a string", *name);
    auto args = function->find("arguments");
    if (args == function->end()) return Missing(call_at + ".function.arguments");
    if (!args->is_string()) {
      return InvalidType(call_at + ".function.arguments", "a string", *args);
    }
    pending.insert(id->get<std::string>());
  }
  return std::nullopt;
}

std::optional<WireError> UnansweredToolCalls(const std::set<std::string>& pending,
                                             const std::string& param) {
  if (pending.empty()) return std::nullopt;
  std::string ids;
  for (const auto& id : pending) ids += (ids.empty() ? "" : ", ") + id;
  return BadRequest(
      "An assistant message with 'tool_calls' must be followed by tool messages responding to "
      "each 'tool_call_id'. The following tool_call_ids did not have response messages: " +
          ids,
      param);
}

std::optional<WireError> ValidateMessages(const json& messages) {
  static const std::set<std::string> kRoles = {"system",    "developer", "user",
                                               "assistant", "tool",      "function"};
  std::set<std::string> pending;  // tool_call ids of the last assistant turn
  bool after_tool_calls = false;  // previous message was an assistant tool turn or a tool result
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& message = messages[i];
    std::string at = "messages[" + std::to_string(i) + "]";
    if (!message.is_object()) return InvalidType(at, "an object", message);
    auto role_it = message.find("role");
    if (role_it == message.end()) return Missing(at + ".role");
    if (!role_it->is_string() || !kRoles.count(role_it->get<std::string>())) {
      std::string shown = role_it->is_string() ? role_it->get<std::string>() : role_it->dump();
      return BadRequest("Invalid value: '" + shown +
                            "'. Supported values are: 'system', 'assistant', 'user', 'function', "
                            "'tool', and 'developer'.",
                        at + ".role", "invalid_value");
    }
    const std::string role = role_it->get<std::string>();
    auto content = message.find("content");
    bool has_content = content != message.end() && !content->is_null();
    if (has_content && !content->is_string() && !content->is_array()) {
      return InvalidType(at + ".content", "one of a string or array of objects", *content);
    }
    if (role == "tool") {
      if (!after_tool_calls) {
        return BadRequest(
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
            "message with 'tool_calls'.",
            "messages.[" + std::to_string(i) + "].role");
      }
      auto id = message.find("tool_call_id");
      if (id == message.end()) return Missing(at + ".tool_call_id");
      if (!id->is_string()) return InvalidType(at + ".tool_call_id", "a string", *id);
      if (!pending.erase(id->get<std::string>())) {
        return BadRequest("Invalid parameter: 'tool_call_id' of '" + id->get<std::string>() +
                              "' not found in 'tool_calls' of previous message.",
                          "messages.[" + std::to_string(i) + "].tool_call_id");
      }
      if (!has_content) return Missing(at + ".content");
      continue;
    }
    if (auto error = UnansweredToolCalls(pending, "messages.[" + std::to_string(i) + "].role")) {
      return error;
    }
    after_tool_calls = false;
    if (role == "assistant") {
      if (auto error = ValidateAssistantToolCalls(message, at, pending)) return error;
      after_tool_calls = !pending.empty();
      if (!has_content && pending.empty() && !message.contains("function_call")) {
        return Missing(at + ".content");
      }
    } else if (role != "function" && !has_content) {
      return Missing(at + ".content");
    }
  }
  return UnansweredToolCalls(pending, "messages");
}

json ChunkBase(const ResponseMeta& meta) {
  json chunk = {{"id", meta.id},
                {"object", "chat.completion.chunk"},
                {"created", meta.created},
                {"model", meta.model},
                {"system_fingerprint", "fp_scripted"}};
  if (meta.include_usage) chunk["usage"] = nullptr;
  return chunk;
}

class OpenAiEncoder : public StreamEncoder {
 public:
  explicit OpenAiEncoder(ResponseMeta meta) : meta_(std::move(meta)) {}

  std::string Start(const Usage&) override {
    return Chunk({{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr);
  }

  std::string Step(const StreamStep& step, const Reply& reply) override {
    switch (step.kind) {
      case StreamStep::kText:
        return Chunk({{"content", step.fragment}}, nullptr);
      case StreamStep::kToolStart: {
        const ToolCallReply& call = reply.tool_calls[step.tool_index];
        json fragment = {{"index", step.tool_index},
                         {"id", call.id},
                         {"type", "function"},
                         {"function", {{"name", call.name}, {"arguments", ""}}}};
        return Chunk({{"tool_calls", json::array({fragment})}}, nullptr);
      }
      case StreamStep::kToolArguments: {
        json fragment = {{"index", step.tool_index}, {"function", {{"arguments", step.fragment}}}};
        return Chunk({{"tool_calls", json::array({fragment})}}, nullptr);
      }
    }
    return "";
  }

  std::string Finish(const Reply& reply, const Usage& usage) override {
    std::string out = Chunk(json::object(), reply.tool_calls.empty() ? "stop" : "tool_calls");
    if (meta_.include_usage) {
      json chunk = ChunkBase(meta_);
      chunk["choices"] = json::array();
      chunk["usage"] = OpenAiUsage(usage);
      out += SseEvent(chunk);
    }
    out += "data: [DONE]\n\n";
    return out;
  }

  std::string ErrorEvent() override {
    return SseEvent({{"error",
                      {{"message",
                        "The server had an error while processing your request. Sorry about "
                        "that!"},
                       {"type", "server_error"},
                       {"param", nullptr},
                       {"code", nullptr}}}});
  }

  std::string KeepAlive() override { return ""; }

 private:
  std::string Chunk(json delta, json finish_reason) {
    json chunk = ChunkBase(meta_);
    chunk["choices"] = json::array({{{"index", 0},
                                     {"delta", std::move(delta)},
                                     {"logprobs", nullptr},
                                     {"finish_reason", std::move(finish_reason)}}});
    return SseEvent(chunk);
  }

  ResponseMeta meta_;
};

std::string HeaderOr(const Headers& headers, const std::string& name) {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

}  // namespace

WireError OpenAiError(int status, std::string_view message, std::string_view type,
                      const json& param, const json& code) {
  return {status,
          {{"error",
            {{"message", std::string(message)},
             {"type", std::string(type)},
             {"param", param},
             {"code", code}}}}};
}

json OpenAiUsage(const Usage& usage) {
  return {{"prompt_tokens", usage.input_tokens},
          {"completion_tokens", usage.output_tokens},
          {"total_tokens", usage.input_tokens + usage.output_tokens},
          {"prompt_tokens_details", {{"cached_tokens", usage.cached_tokens}, {"audio_tokens", 0}}},
          {"completion_tokens_details",
           {{"reasoning_tokens", 0},
            {"audio_tokens", 0},
            {"accepted_prediction_tokens", 0},
            {"rejected_prediction_tokens", 0}}}};
}

std::optional<WireError> OpenAiWire::CheckAuth(const Headers& headers,
                                               const std::string& api_key) const {
  if (api_key.empty()) return std::nullopt;
  std::string auth = HeaderOr(headers, "authorization");
  if (auth.empty()) {
    return OpenAiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an "
        "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        "invalid_request_error");
  }
  if (auth != "Bearer " + api_key) {
    return OpenAiError(401, "Incorrect API key provided.", "invalid_request_error", nullptr,
                       "invalid_api_key");
  }
  return std::nullopt;
}

std::optional<WireError> OpenAiWire::Validate(const Headers&, const json& body) const {
  auto model = body.find("model");
  if (model == body.end() || model->is_null()) {
    return BadRequest("you must provide a model parameter");
  }
  if (!model->is_string()) return InvalidType("model", "a string", *model);
  auto messages = body.find("messages");
  if (messages == body.end()) return Missing("messages");
  if (!messages->is_array()) return InvalidType("messages", "an array", *messages);
  if (messages->empty()) {
    return BadRequest(
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an "
        "empty array instead.",
        "messages", "empty_array");
  }
  auto stream = body.find("stream");
  bool streaming = false;
  if (stream != body.end() && !stream->is_null()) {
    if (!stream->is_boolean()) return InvalidType("stream", "a boolean", *stream);
    streaming = stream->get<bool>();
  }
  auto options = body.find("stream_options");
  if (options != body.end() && !options->is_null()) {
    if (!streaming) {
      return BadRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                        "stream_options");
    }
    if (!options->is_object()) return InvalidType("stream_options", "an object", *options);
  }
  if (auto error = ValidateTools(body)) return error;
  return ValidateMessages(*messages);
}

Conversation OpenAiWire::Summarize(const json& body) const {
  Conversation conversation;
  conversation.model = body.value("model", "");
  if (auto t = body.find("temperature"); t != body.end() && t->is_number()) {
    conversation.temperature = t->get<double>();
  }
  for (const json& message : body["messages"]) {
    const std::string role = message.value("role", "");
    std::string text = ContentText(message.value("content", json()));
    if (role == "system" || role == "developer") {
      if (!conversation.system.empty()) conversation.system += "\n";
      conversation.system += text;
      continue;
    }
    if (role == "assistant") ++conversation.assistant_turns;
    conversation.message_texts.push_back(std::move(text));
  }
  return conversation;
}

std::string OpenAiWire::CanonicalPrompt(const json& body) const {
  // Cache order: tools, then messages one by one (system messages included).
  std::string out = body.value("tools", json()).dump();
  out += "\n";
  for (const json& message : body["messages"]) {
    out += message.dump();
    out += "\n";
  }
  return out;
}

bool OpenAiWire::WantsStream(const json& body) const {
  auto stream = body.find("stream");
  return stream != body.end() && stream->is_boolean() && stream->get<bool>();
}

WireError OpenAiWire::Error(int status, std::string_view message) const {
  switch (status) {
    case 400:
      return BadRequest(std::string(message));
    case 401:
      return OpenAiError(401, message, "invalid_request_error", nullptr, "invalid_api_key");
    case 429:
      return OpenAiError(429, message, "requests", nullptr, "rate_limit_exceeded");
    case 529:
      return OpenAiError(529, message, "overloaded_error");
    default:
      return OpenAiError(status, message, "server_error");
  }
}

ResponseMeta OpenAiWire::Meta(const json& body, std::string id) const {
  ResponseMeta meta;
  meta.id = std::move(id);
  meta.model = body.value("model", "");
  auto options = body.find("stream_options");
  meta.include_usage = options != body.end() && options->is_object() &&
                       options->value("include_usage", false) == true;
  return meta;
}

std::unique_ptr<StreamEncoder> OpenAiWire::NewEncoder(const ResponseMeta& meta) const {
  return std::make_unique<OpenAiEncoder>(meta);
}

json OpenAiWire::Response(const ResponseMeta& meta, const Reply& reply, const Usage& usage) const {
  json message = {{"role", "assistant"},
                  {"content", reply.text.empty() && !reply.tool_calls.empty() ? json(nullptr)
                                                                              : json(reply.text)},
                  {"refusal", nullptr}};
  if (!reply.tool_calls.empty()) {
    json calls = json::array();
    for (const ToolCallReply& call : reply.tool_calls) {
      calls.push_back({{"id", call.id},
                       {"type", "function"},
                       {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
    }
    message["tool_calls"] = std::move(calls);
  }
  return {{"id", meta.id},
          {"object", "chat.completion"},
          {"created", meta.created},
          {"model", meta.model},
          {"system_fingerprint", "fp_scripted"},
          {"choices",
           json::array({{{"index", 0},
                         {"message", std::move(message)},
                         {"logprobs", nullptr},
                         {"finish_reason", reply.tool_calls.empty() ? "stop" : "tool_calls"}}})},
          {"usage", OpenAiUsage(usage)}};
}

}  // namespace tandem::model_server
