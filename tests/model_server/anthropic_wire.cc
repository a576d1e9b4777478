#include "tests/model_server/anthropic_wire.h"

#include <set>

namespace tandem::model_server {
namespace {

using nlohmann::json;

constexpr int kMaxCacheBreakpoints = 4;
constexpr std::string_view kFastModeBeta = "fast-mode-2026-02-01";

WireError BadRequest(const std::string& message) {
  return AnthropicError(400, "invalid_request_error", message);
}

std::string HeaderOr(const Headers& headers, const std::string& name) {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

int CountCacheControl(const json& blocks) {
  int count = 0;
  if (!blocks.is_array()) return 0;
  for (const json& block : blocks) {
    if (block.is_object() && block.contains("cache_control") && !block["cache_control"].is_null()) {
      ++count;
    }
  }
  return count;
}

int CountBreakpoints(const json& body) {
  int count = 0;
  if (body.contains("cache_control") && !body["cache_control"].is_null()) ++count;
  if (body.contains("tools")) count += CountCacheControl(body["tools"]);
  if (body.contains("system")) count += CountCacheControl(body["system"]);
  for (const json& message : body["messages"]) {
    if (message.contains("content")) count += CountCacheControl(message["content"]);
  }
  return count;
}

std::optional<WireError> ValidateTools(const json& body) {
  auto tools = body.find("tools");
  if (tools == body.end() || tools->is_null()) return std::nullopt;
  if (!tools->is_array()) return BadRequest("tools: Input should be a valid list");
  for (size_t i = 0; i < tools->size(); ++i) {
    const json& tool = (*tools)[i];
    std::string at = "tools." + std::to_string(i);
    if (!tool.is_object()) return BadRequest(at + ": Input should be a valid dictionary");
    if (tool.contains("type") && tool["type"] != "custom") continue;  // server tools
    if (!tool.contains("name") || !tool["name"].is_string()) {
      return BadRequest(at + ".custom.name: Field required");
    }
    if (!tool.contains("input_schema") || !tool["input_schema"].is_object()) {
      return BadRequest(at + ".custom.input_schema: Field required");
    }
  }
  return std::nullopt;
}

// Checks roles, block shapes, and that tool_use / tool_result pair up between
// consecutive messages.
std::optional<WireError> ValidateMessages(const json& messages) {
  std::set<std::string> pending;  // tool_use ids of the previous assistant message
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& message = messages[i];
    std::string at = "messages." + std::to_string(i);
    if (!message.is_object()) return BadRequest(at + ": Input should be a valid dictionary");
    auto role = message.find("role");
    if (role == message.end()) return BadRequest(at + ".role: Field required");
    if (*role != "user" && *role != "assistant") {
      return BadRequest(at + ".role: Input should be 'user' or 'assistant'");
    }
    if (i == 0 && *role != "user") {
      return BadRequest("messages: first message must use the \"user\" role");
    }
    auto content = message.find("content");
    if (content == message.end()) return BadRequest(at + ".content: Field required");
    if (!content->is_string() && !content->is_array()) {
      return BadRequest(at + ".content: Input should be a valid list");
    }
    std::set<std::string> answered;
    std::set<std::string> uses;
    if (content->is_array()) {
      for (size_t j = 0; j < content->size(); ++j) {
        const json& block = (*content)[j];
        std::string block_at = at + ".content." + std::to_string(j);
        if (!block.is_object() || !block.contains("type") || !block["type"].is_string()) {
          return BadRequest(block_at + ".type: Field required");
        }
        const std::string type = block["type"].get<std::string>();
        if (type == "text" && (!block.contains("text") || !block["text"].is_string())) {
          return BadRequest(block_at + ".text.text: Field required");
        }
        if (type == "tool_use") {
          if (*role != "assistant") {
            return BadRequest(block_at + ": tool_use blocks can only appear in assistant messages");
          }
          if (!block.contains("id") || !block["id"].is_string()) {
            return BadRequest(block_at + ".tool_use.id: Field required");
          }
          if (!block.contains("input") || !block["input"].is_object()) {
            return BadRequest(block_at + ".tool_use.input: Input should be a valid dictionary");
          }
          uses.insert(block["id"].get<std::string>());
        }
        if (type == "tool_result") {
          if (*role != "user") {
            return BadRequest(block_at + ": tool_result blocks can only appear in user messages");
          }
          if (!block.contains("tool_use_id") || !block["tool_use_id"].is_string()) {
            return BadRequest(block_at + ".tool_result.tool_use_id: Field required");
          }
          std::string id = block["tool_use_id"].get<std::string>();
          if (!pending.count(id)) {
            return BadRequest(block_at +
                              ": unexpected `tool_use_id` found in `tool_result` blocks: " + id +
                              ". Each `tool_result` block must have a corresponding `tool_use` "
                              "block in the previous message.");
          }
          answered.insert(id);
        }
      }
    }
    std::string missing;
    for (const std::string& id : pending) {
      if (!answered.count(id)) missing += (missing.empty() ? "" : ", ") + id;
    }
    if (!missing.empty()) {
      return BadRequest(at +
                        ": `tool_use` ids were found without `tool_result` blocks "
                        "immediately after: " +
                        missing +
                        ". Each `tool_use` block must have a corresponding `tool_result` block "
                        "in the next message.");
    }
    pending = std::move(uses);
  }
  if (!pending.empty()) {
    std::string ids;
    for (const std::string& id : pending) ids += (ids.empty() ? "" : ", ") + id;
    return BadRequest("messages." + std::to_string(messages.size() - 1) +
                      ": `tool_use` ids were found without `tool_result` blocks immediately "
                      "after: " +
                      ids +
                      ". Each `tool_use` block must have a corresponding `tool_result` block in "
                      "the next message.");
  }
  return std::nullopt;
}

// Text of a message for `when` matching: text blocks and tool_result contents.
std::string MessageText(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (!content.is_array()) return out;
  for (const json& block : content) {
    if (!block.is_object()) continue;
    std::string piece;
    std::string type = block.value("type", "");
    if (type == "text") {
      piece = block.value("text", "");
    } else if (type == "tool_result" && block.contains("content")) {
      piece = ContentText(block["content"]);
    }
    if (piece.empty()) continue;
    if (!out.empty()) out += "\n";
    out += piece;
  }
  return out;
}

class AnthropicEncoder : public StreamEncoder {
 public:
  explicit AnthropicEncoder(ResponseMeta meta) : meta_(std::move(meta)) {}

  std::string Start(const Usage& usage) override {
    json usage_json = AnthropicUsage(usage);
    usage_json["output_tokens"] = 1;
    json message = {{"id", meta_.id},           {"type", "message"},
                    {"role", "assistant"},      {"model", meta_.model},
                    {"content", json::array()}, {"stop_reason", nullptr},
                    {"stop_sequence", nullptr}, {"usage", std::move(usage_json)}};
    return SseEvent({{"type", "message_start"}, {"message", std::move(message)}}, "message_start") +
           KeepAlive();
  }

  std::string Step(const StreamStep& step, const Reply& reply) override {
    std::string out;
    switch (step.kind) {
      case StreamStep::kText:
        if (open_kind_ != kTextBlock) {
          out += CloseBlock();
          out += OpenBlock(kTextBlock, {{"type", "text"}, {"text", ""}});
        }
        out += Delta({{"type", "text_delta"}, {"text", step.fragment}});
        break;
      case StreamStep::kToolStart: {
        const ToolCallReply& call = reply.tool_calls[step.tool_index];
        out += CloseBlock();
        out += OpenBlock(kToolBlock, {{"type", "tool_use"},
                                      {"id", call.id},
                                      {"name", call.name},
                                      {"input", json::object()}});
        break;
      }
      case StreamStep::kToolArguments:
        out += Delta({{"type", "input_json_delta"}, {"partial_json", step.fragment}});
        break;
    }
    return out;
  }

  std::string Finish(const Reply& reply, const Usage& usage) override {
    std::string out = CloseBlock();
    out += SseEvent({{"type", "message_delta"},
                     {"delta",
                      {{"stop_reason", reply.tool_calls.empty() ? "end_turn" : "tool_use"},
                       {"stop_sequence", nullptr}}},
                     {"usage", AnthropicUsage(usage)}},
                    "message_delta");
    out += SseEvent({{"type", "message_stop"}}, "message_stop");
    return out;
  }

  std::string ErrorEvent() override {
    return SseEvent(
        {{"type", "error"}, {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}},
        "error");
  }

  std::string KeepAlive() override { return SseEvent({{"type", "ping"}}, "ping"); }

 private:
  enum BlockKind { kNone, kTextBlock, kToolBlock };

  std::string OpenBlock(BlockKind kind, json content_block) {
    open_kind_ = kind;
    return SseEvent({{"type", "content_block_start"},
                     {"index", index_},
                     {"content_block", std::move(content_block)}},
                    "content_block_start");
  }

  std::string CloseBlock() {
    if (open_kind_ == kNone) return "";
    std::string out =
        SseEvent({{"type", "content_block_stop"}, {"index", index_}}, "content_block_stop");
    open_kind_ = kNone;
    ++index_;
    return out;
  }

  std::string Delta(json delta) {
    return SseEvent(
        {{"type", "content_block_delta"}, {"index", index_}, {"delta", std::move(delta)}},
        "content_block_delta");
  }

  ResponseMeta meta_;
  BlockKind open_kind_ = kNone;
  int index_ = 0;
};

}  // namespace

WireError AnthropicError(int status, std::string_view type, std::string_view message) {
  return {status,
          {{"type", "error"},
           {"error", {{"type", std::string(type)}, {"message", std::string(message)}}},
           {"request_id", "req_scripted"}}};
}

json AnthropicUsage(const Usage& usage) {
  return {{"input_tokens", usage.input_tokens - usage.cached_tokens},
          {"cache_creation_input_tokens", 0},
          {"cache_read_input_tokens", usage.cached_tokens},
          {"output_tokens", usage.output_tokens},
          {"service_tier", "standard"}};
}

std::optional<WireError> AnthropicWire::CheckAuth(const Headers& headers,
                                                  const std::string& api_key) const {
  if (api_key.empty()) return std::nullopt;
  if (HeaderOr(headers, "x-api-key") != api_key) {
    return AnthropicError(401, "authentication_error", "invalid x-api-key");
  }
  return std::nullopt;
}

std::optional<WireError> AnthropicWire::Validate(const Headers& headers, const json& body) const {
  if (HeaderOr(headers, "anthropic-version").empty()) {
    return BadRequest("anthropic-version: header is required");
  }
  if (!body.contains("model")) return BadRequest("model: Field required");
  if (!body["model"].is_string()) return BadRequest("model: Input should be a valid string");
  if (!body.contains("max_tokens")) return BadRequest("max_tokens: Field required");
  if (!body["max_tokens"].is_number_integer()) {
    return BadRequest("max_tokens: Input should be a valid integer");
  }
  if (body["max_tokens"].get<long long>() < 1) {
    return BadRequest("max_tokens: Input should be greater than or equal to 1");
  }
  if (!body.contains("messages")) return BadRequest("messages: Field required");
  const json& messages = body["messages"];
  if (!messages.is_array()) return BadRequest("messages: Input should be a valid list");
  if (messages.empty()) return BadRequest("messages: at least one message is required");
  if (body.contains("stream") && !body["stream"].is_boolean() && !body["stream"].is_null()) {
    return BadRequest("stream: Input should be a valid boolean");
  }
  if (body.contains("system")) {
    const json& system = body["system"];
    if (!system.is_string() && !system.is_array()) {
      return BadRequest("system: Input should be a valid list");
    }
  }
  if (body.contains("speed")) {
    std::string beta = HeaderOr(headers, "anthropic-beta");
    if (beta.find(kFastModeBeta) == std::string::npos) {
      return BadRequest("speed: Extra inputs are not permitted");
    }
  }
  if (auto error = ValidateTools(body)) return error;
  if (auto error = ValidateMessages(messages)) return error;
  int breakpoints = CountBreakpoints(body);
  if (breakpoints > kMaxCacheBreakpoints) {
    return BadRequest("A maximum of 4 blocks with cache_control may be provided. Found " +
                      std::to_string(breakpoints) + ".");
  }
  return std::nullopt;
}

Conversation AnthropicWire::Summarize(const json& body) const {
  Conversation conversation;
  conversation.model = body.value("model", "");
  if (auto t = body.find("temperature"); t != body.end() && t->is_number()) {
    conversation.temperature = t->get<double>();
  }
  if (body.contains("system")) conversation.system = ContentText(body["system"]);
  for (const json& message : body["messages"]) {
    if (message.value("role", "") == "assistant") ++conversation.assistant_turns;
    conversation.message_texts.push_back(MessageText(message["content"]));
  }
  return conversation;
}

namespace {

// The real API keys its cache on content, not on where the breakpoints sit:
// a breakpoint that moves to the newest message each turn must not end the
// cached prefix early. So cache_control markers are dropped before keying.
json WithoutCacheControl(json value) {
  if (value.is_object()) {
    value.erase("cache_control");
    for (auto& [key, child] : value.items()) child = WithoutCacheControl(std::move(child));
  } else if (value.is_array()) {
    for (auto& child : value) child = WithoutCacheControl(std::move(child));
  }
  return value;
}

}  // namespace

std::string AnthropicWire::CanonicalPrompt(const json& body) const {
  // Cache order: tools, system, then messages one by one.
  std::string out = WithoutCacheControl(body.value("tools", json())).dump();
  out += "\n";
  out += WithoutCacheControl(body.value("system", json())).dump();
  out += "\n";
  for (const json& message : body["messages"]) {
    out += WithoutCacheControl(message).dump();
    out += "\n";
  }
  return out;
}

bool AnthropicWire::WantsStream(const json& body) const {
  auto stream = body.find("stream");
  return stream != body.end() && stream->is_boolean() && stream->get<bool>();
}

WireError AnthropicWire::Error(int status, std::string_view message) const {
  switch (status) {
    case 400:
      return BadRequest(std::string(message));
    case 401:
      return AnthropicError(401, "authentication_error", message);
    case 403:
      return AnthropicError(403, "permission_error", message);
    case 404:
      return AnthropicError(404, "not_found_error", message);
    case 429:
      return AnthropicError(429, "rate_limit_error", message);
    case 529:
      return AnthropicError(529, "overloaded_error", message);
    default:
      return AnthropicError(status, "api_error", message);
  }
}

ResponseMeta AnthropicWire::Meta(const json& body, std::string id) const {
  ResponseMeta meta;
  meta.id = std::move(id);
  meta.model = body.value("model", "");
  return meta;
}

std::unique_ptr<StreamEncoder> AnthropicWire::NewEncoder(const ResponseMeta& meta) const {
  return std::make_unique<AnthropicEncoder>(meta);
}

json AnthropicWire::Response(const ResponseMeta& meta, const Reply& reply,
                             const Usage& usage) const {
  json content = json::array();
  if (!reply.text.empty()) content.push_back({{"type", "text"}, {"text", reply.text}});
  for (const ToolCallReply& call : reply.tool_calls) {
    // Malformed arguments (bad_tool_json) cannot be an object: send the raw text.
    json input = json::parse(call.arguments, nullptr, /*allow_exceptions=*/false);
    if (input.is_discarded()) input = call.arguments;
    content.push_back(
        {{"type", "tool_use"}, {"id", call.id}, {"name", call.name}, {"input", std::move(input)}});
  }
  return {{"id", meta.id},
          {"type", "message"},
          {"role", "assistant"},
          {"model", meta.model},
          {"content", std::move(content)},
          {"stop_reason", reply.tool_calls.empty() ? "end_turn" : "tool_use"},
          {"stop_sequence", nullptr},
          {"usage", AnthropicUsage(usage)}};
}

}  // namespace tandem::model_server
