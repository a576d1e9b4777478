#include "tandem/providers/anthropic_client.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <utility>

#include "tandem/providers/anthropic_fast_event.h"
#include "tandem/providers/model_errors.h"
#include "tandem/providers/tool_args.h"

namespace tandem::providers {
namespace {

using nlohmann::json;
using protocol::ModelError;
using protocol::ModelErrorKind;
using protocol::ModelResponse;
using protocol::StopReason;

const json kEphemeral = {{"type", "ephemeral"}};

json TextBlock(const std::string& text) { return {{"type", "text"}, {"text", text}}; }

// Appends `m`'s blocks to the wire message list, merging into the previous
// message when the role is the same (tool results and a following user turn).
void AppendMessage(json& messages, const protocol::Message& m) {
  const char* role = m.role == protocol::Role::kAssistant ? "assistant" : "user";
  json blocks = json::array();
  switch (m.role) {
    case protocol::Role::kUser:
      if (!m.text.empty()) blocks.push_back(TextBlock(m.text));
      break;
    case protocol::Role::kTool: {
      json result = {{"type", "tool_result"}, {"tool_use_id", m.tool_call_id}, {"content", m.text}};
      if (m.is_error) result["is_error"] = true;
      blocks.push_back(std::move(result));
      break;
    }
    case protocol::Role::kAssistant:
      if (!m.text.empty()) blocks.push_back(TextBlock(m.text));
      for (const protocol::ToolCall& c : m.tool_calls) {
        json input = c.arguments.is_object() ? c.arguments : json::object();
        blocks.push_back({{"type", "tool_use"}, {"id", c.id}, {"name", c.name}, {"input", std::move(input)}});
      }
      break;
  }
  if (!messages.empty() && messages.back()["role"] == role) {
    for (json& b : blocks) messages.back()["content"].push_back(std::move(b));
    return;
  }
  // The API rejects empty content; keep the turn so roles still alternate.
  if (blocks.empty()) blocks.push_back(TextBlock("(empty)"));
  messages.push_back({{"role", role}, {"content", std::move(blocks)}});
}

StopReason MapStopReason(const std::string& r) {
  if (r == "end_turn" || r == "stop_sequence" || r == "tool_use") return StopReason::kEndTurn;
  if (r == "max_tokens" || r == "model_context_window_exceeded") return StopReason::kMaxTokens;
  if (r == "refusal") return StopReason::kRefusal;
  return StopReason::kOther;
}

const json* Field(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string StringField(const json& obj, const char* key) {
  const json* f = Field(obj, key);
  return f != nullptr && f->is_string() ? f->get<std::string>() : "";
}

class AnthropicStreamDecoder : public StreamDecoder {
 public:
  AnthropicStreamDecoder(std::string provider, bool fast_path)
      : provider_(std::move(provider)), fast_path_(fast_path) {}

  std::optional<ModelError> OnEvent(const net::SseEvent& event, const EmitFn& emit) override {
    if (event.event == "ping" || event.data.empty()) return std::nullopt;
    if (fast_path_ && (event.event == "content_block_delta" || event.event.empty()) &&
        ScanBlockDelta(event.data, /*check_type=*/event.event.empty(), delta_)) {
      // Exactly what the full parse below does with such an event.
      if (delta_.is_text) {
        AppendText(delta_.text, emit);
      } else if (auto it = blocks_.find(delta_.index); it != blocks_.end()) {
        it->second.json += delta_.partial_json;
      }
      return std::nullopt;
    }
    json j = json::parse(event.data, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) {
      return ModelError{ModelErrorKind::kMalformed, 200, provider_ + ": unparseable stream event", 0};
    }
    const std::string type = event.event.empty() ? StringField(j, "type") : std::string(event.event);
    if (type == "error") {
      const json* err = Field(j, "error");
      return ErrorFromStreamPayload(provider_, err != nullptr ? *err : j);
    }
    if (type == "message_start") {
      const json* message = Field(j, "message");
      if (message == nullptr) return std::nullopt;
      response_.model = StringField(*message, "model");
      if (const json* u = Field(*message, "usage")) TakeUsage(*u);
    } else if (type == "content_block_start") {
      const json* block = Field(j, "content_block");
      if (block == nullptr) return std::nullopt;
      Block& b = blocks_[Index(j)];
      b = Block{};
      b.type = StringField(*block, "type");
      if (b.type == "text") {
        AppendText(StringField(*block, "text"), emit);
      } else if (b.type == "tool_use") {
        b.id = StringField(*block, "id");
        b.name = StringField(*block, "name");
        const json* input = Field(*block, "input");
        if (input != nullptr && input->is_object() && !input->empty()) b.json = SafeDump(*input);
      }
    } else if (type == "content_block_delta") {
      const json* delta = Field(j, "delta");
      if (delta == nullptr) return std::nullopt;
      const std::string delta_type = StringField(*delta, "type");
      if (delta_type == "text_delta") {
        AppendText(StringField(*delta, "text"), emit);
      } else if (delta_type == "input_json_delta") {
        auto it = blocks_.find(Index(j));
        if (it != blocks_.end()) it->second.json += StringField(*delta, "partial_json");
      }
    } else if (type == "content_block_stop") {
      auto it = blocks_.find(Index(j));
      if (it != blocks_.end()) {
        Block b = std::move(it->second);
        blocks_.erase(it);
        if (b.type == "tool_use") {
          if (auto e = DeliverTool(std::move(b), emit)) return e;
        }
      }
    } else if (type == "message_delta") {
      if (const json* delta = Field(j, "delta")) {
        std::string reason = StringField(*delta, "stop_reason");
        if (!reason.empty()) stop_reason_ = reason;
      }
      if (const json* u = Field(j, "usage")) TakeUsage(*u);
    } else if (type == "message_stop") {
      saw_stop_ = true;
    }
    // ping and unknown events: ignored.
    return std::nullopt;
  }

  Result<ModelResponse, ModelError> Finish(const EmitFn& emit) override {
    if (!saw_stop_ && stop_reason_.empty()) {
      return ModelError{ModelErrorKind::kStreamBroken, 200,
                        provider_ + ": stream ended before the reply finished", 0};
    }
    // A tool block left open (stream cut at max_tokens mid-input) is only
    // delivered if what arrived is already a complete JSON object.
    for (auto& [index, b] : blocks_) {
      if (b.type != "tool_use") continue;
      if (auto e = DeliverTool(std::move(b), emit)) return *e;
    }
    blocks_.clear();
    protocol::Usage u;
    u.input_tokens = input_ + cache_read_ + cache_write_;
    u.cached_input_tokens = cache_read_;
    u.cache_write_tokens = cache_write_;
    u.output_tokens = output_;
    response_.usage = u;
    if (saw_usage_) emit(protocol::UsageReport{u});
    response_.saw_done = saw_stop_;
    response_.stop_reason = response_.tool_calls.empty() ? MapStopReason(stop_reason_) : StopReason::kToolUse;
    return std::move(response_);
  }

 private:
  struct Block {
    std::string type;
    std::string id;
    std::string name;
    std::string json;  // input_json_delta fragments
  };

  static int64_t Index(const json& j) {
    const json* i = Field(j, "index");
    return i != nullptr && i->is_number_integer() ? i->get<int64_t>() : 0;
  }

  void AppendText(const std::string& text, const EmitFn& emit) {
    if (text.empty()) return;
    response_.text += text;
    emit(protocol::TextDelta{text});
  }

  std::optional<ModelError> DeliverTool(Block b, const EmitFn& emit) {
    auto call = MakeToolCall(provider_, std::move(b.id), std::move(b.name), std::move(b.json));
    if (!call) return call.error();
    emit(protocol::ToolCallReady{*call});
    response_.tool_calls.push_back(std::move(*call));
    return std::nullopt;
  }

  // Usage numbers are cumulative: a field present replaces the old value.
  void TakeUsage(const json& u) {
    auto take = [&](const char* key, int64_t& into) {
      const json* f = Field(u, key);
      if (f != nullptr && f->is_number_integer()) {
        into = f->get<int64_t>();
        saw_usage_ = true;
      }
    };
    take("input_tokens", input_);
    take("output_tokens", output_);
    take("cache_read_input_tokens", cache_read_);
    take("cache_creation_input_tokens", cache_write_);
  }

  std::string provider_;
  const bool fast_path_;
  BlockDelta delta_;  // the fast path's buffers, reused event to event
  ModelResponse response_;
  std::map<int64_t, Block> blocks_;  // open content blocks by index
  std::string stop_reason_;
  bool saw_stop_ = false;
  bool saw_usage_ = false;
  int64_t input_ = 0, output_ = 0, cache_read_ = 0, cache_write_ = 0;
};

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

AnthropicCodec::AnthropicCodec(ProviderSettings settings, ModelOptions options)
    : settings_(std::move(settings)), options_(options) {}

json AnthropicCodec::EncodeBody(const protocol::ModelRequest& request) const {
  json messages = json::array();
  for (const protocol::Message& m : request.messages) AppendMessage(messages, m);
  if (!messages.empty()) {
    json& last_content = messages.back()["content"];
    last_content.back()["cache_control"] = kEphemeral;
  }
  json body = {{"model", request.model},
               {"max_tokens", request.max_tokens},
               {"messages", std::move(messages)},
               {"stream", true}};
  if (!request.system.empty()) {
    body["system"] = json::array({{{"type", "text"}, {"text", request.system}, {"cache_control", kEphemeral}}});
  }
  if (!request.tools.empty()) {
    json tools = json::array();
    for (const protocol::ToolSpec& t : request.tools) {
      json schema = t.parameters.is_object() ? t.parameters : json::object();
      if (!schema.contains("type")) schema["type"] = "object";
      tools.push_back({{"name", t.name}, {"description", t.description}, {"input_schema", std::move(schema)}});
    }
    tools.back()["cache_control"] = kEphemeral;
    body["tools"] = std::move(tools);
  }
  if (request.temperature) body["temperature"] = *request.temperature;
  if (!request.stop.empty()) body["stop_sequences"] = request.stop;
  if (options_.fast_mode) body["speed"] = "fast";
  return body;
}

WireRequest AnthropicCodec::Encode(const protocol::ModelRequest& request) const {
  WireRequest w;
  w.path = "/messages";
  w.headers.push_back("content-type: application/json");
  w.headers.push_back("accept: text/event-stream");
  w.headers.push_back(std::string("anthropic-version: ") + kAnthropicVersion);
  if (!settings_.api_key.empty()) w.headers.push_back("x-api-key: " + settings_.api_key);
  std::string betas = options_.fast_mode ? kFastModeBeta : "";
  for (const auto& [name, value] : settings_.headers) {
    if (IEquals(name, "anthropic-beta")) {
      betas = betas.empty() ? value : value + "," + betas;
    } else {
      w.headers.push_back(name + ": " + value);
    }
  }
  if (!betas.empty()) w.headers.push_back("anthropic-beta: " + betas);
  w.body = SafeDump(EncodeBody(request));
  return w;
}

std::unique_ptr<StreamDecoder> AnthropicCodec::NewDecoder() const {
  return NewAnthropicStreamDecoder(settings_.name, /*fast_path=*/true);
}

std::unique_ptr<StreamDecoder> NewAnthropicStreamDecoder(std::string provider, bool fast_path) {
  return std::make_unique<AnthropicStreamDecoder>(std::move(provider), fast_path);
}

}  // namespace tandem::providers
