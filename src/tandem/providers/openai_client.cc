#include "tandem/providers/openai_client.h"

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tandem/providers/model_errors.h"
#include "tandem/providers/openai_fast_chunk.h"
#include "tandem/providers/tool_args.h"

namespace tandem::providers {
namespace {

using nlohmann::json;
using protocol::ModelError;
using protocol::ModelErrorKind;
using protocol::ModelResponse;
using protocol::StopReason;

json EncodeMessage(const protocol::Message& m) {
  switch (m.role) {
    case protocol::Role::kUser:
      return {{"role", "user"}, {"content", m.text}};
    case protocol::Role::kTool:
      return {{"role", "tool"}, {"tool_call_id", m.tool_call_id}, {"content", m.text}};
    case protocol::Role::kAssistant: {
      json out = {{"role", "assistant"}, {"content", m.text.empty() ? json(nullptr) : json(m.text)}};
      if (!m.tool_calls.empty()) {
        json calls = json::array();
        for (const protocol::ToolCall& c : m.tool_calls) {
          calls.push_back({{"id", c.id},
                           {"type", "function"},
                           {"function", {{"name", c.name}, {"arguments", ArgumentsText(c)}}}});
        }
        out["tool_calls"] = std::move(calls);
      }
      return out;
    }
  }
  return json::object();
}

StopReason MapFinishReason(const std::string& r) {
  if (r == "stop" || r == "tool_calls" || r == "function_call") return StopReason::kEndTurn;
  if (r == "length") return StopReason::kMaxTokens;
  if (r == "content_filter") return StopReason::kRefusal;
  return StopReason::kOther;
}

int64_t IntField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

protocol::Usage ParseUsage(const json& u) {
  protocol::Usage usage;
  usage.input_tokens = IntField(u, "prompt_tokens");
  usage.output_tokens = IntField(u, "completion_tokens");
  auto details = u.find("prompt_tokens_details");
  if (details != u.end() && details->is_object()) {
    usage.cached_input_tokens = IntField(*details, "cached_tokens");
    usage.cache_write_tokens = IntField(*details, "cache_write_tokens");
  }
  return usage;
}

class OpenAIStreamDecoder : public StreamDecoder {
 public:
  OpenAIStreamDecoder(std::string provider, bool fast_path)
      : provider_(std::move(provider)), fast_path_(fast_path) {}

  std::optional<ModelError> OnEvent(const net::SseEvent& event, const EmitFn& emit) override {
    if (saw_done_) return std::nullopt;  // nothing after [DONE] counts
    if (event.data.starts_with("[DONE]")) {
      saw_done_ = true;
      return std::nullopt;
    }
    if (event.data.empty()) return std::nullopt;
    if (fast_path_ && event.event != "error" && ScanPlainContentChunk(event.data, plain_)) {
      // Exactly what the full parse below does with such a chunk.
      if (plain_.has_model && response_.model.empty()) response_.model = plain_.model;
      if (!plain_.content.empty()) {
        response_.text += plain_.content;
        emit(protocol::TextDelta{plain_.content});
      }
      return std::nullopt;
    }
    json chunk = json::parse(event.data, nullptr, /*allow_exceptions=*/false);
    if (chunk.is_discarded()) {
      return ModelError{ModelErrorKind::kMalformed, 200, provider_ + ": unparseable stream chunk", 0};
    }
    if (!chunk.is_object()) return std::nullopt;
    auto err = chunk.find("error");
    if (event.event == "error" || (err != chunk.end() && !err->is_null())) {
      return ErrorFromStreamPayload(provider_, err != chunk.end() ? *err : chunk);
    }
    if (response_.model.empty()) {
      auto model = chunk.find("model");
      if (model != chunk.end() && model->is_string()) response_.model = model->get<std::string>();
    }
    auto usage = chunk.find("usage");
    if (usage != chunk.end() && usage->is_object()) TakeUsage(*usage);
    auto groq = chunk.find("x_groq");
    if (groq != chunk.end() && groq->is_object()) {
      auto gu = groq->find("usage");
      if (gu != groq->end() && gu->is_object()) TakeUsage(*gu);
    }
    auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array()) return std::nullopt;
    for (const json& choice : *choices) {
      if (!choice.is_object() || IntField(choice, "index") != 0) continue;  // n = 1
      auto delta = choice.find("delta");
      if (delta != choice.end() && delta->is_object()) {
        auto content = delta->find("content");
        if (content != delta->end() && content->is_string() && !content->get_ref<const std::string&>().empty()) {
          const std::string& text = content->get_ref<const std::string&>();
          response_.text += text;
          emit(protocol::TextDelta{text});
        }
        auto calls = delta->find("tool_calls");
        if (calls != delta->end() && calls->is_array() && !tools_finalized_) {
          for (const json& fragment : *calls) AddFragment(fragment);
        }
      }
      auto finish = choice.find("finish_reason");
      if (finish != choice.end() && finish->is_string()) {
        finish_reason_ = finish->get<std::string>();
        if (auto e = FinalizeToolCalls(emit)) return e;
      }
    }
    return std::nullopt;
  }

  Result<ModelResponse, ModelError> Finish(const EmitFn& emit) override {
    if (!saw_done_ && finish_reason_.empty()) {
      return ModelError{ModelErrorKind::kStreamBroken, 200,
                        provider_ + ": stream ended before the reply finished", 0};
    }
    if (auto e = FinalizeToolCalls(emit)) return *e;
    if (saw_usage_) emit(protocol::UsageReport{response_.usage});
    response_.saw_done = saw_done_;
    response_.stop_reason =
        response_.tool_calls.empty() ? MapFinishReason(finish_reason_) : StopReason::kToolUse;
    return std::move(response_);
  }

 private:
  struct Slot {
    std::string id;
    std::string name;
    std::string arguments;
  };

  void TakeUsage(const json& u) {
    response_.usage = ParseUsage(u);
    saw_usage_ = true;
  }

  void AddFragment(const json& fragment) {
    if (!fragment.is_object()) return;
    // Servers that omit the index send one whole call per fragment.
    auto idx_it = fragment.find("index");
    const int64_t index = idx_it != fragment.end() && idx_it->is_number_integer()
                              ? idx_it->get<int64_t>()
                              : static_cast<int64_t>(slots_.size());
    std::string id;
    auto id_it = fragment.find("id");
    if (id_it != fragment.end() && id_it->is_string()) id = id_it->get<std::string>();

    auto slot_it = slot_of_index_.find(index);
    Slot* slot = slot_it == slot_of_index_.end() ? nullptr : &slots_[slot_it->second];
    if (slot == nullptr || (!id.empty() && !slot->id.empty() && id != slot->id)) {
      slots_.push_back(Slot{});
      slot_of_index_[index] = slots_.size() - 1;
      slot = &slots_.back();
    }
    if (slot->id.empty() && !id.empty()) slot->id = std::move(id);
    auto fn = fragment.find("function");
    if (fn == fragment.end() || !fn->is_object()) return;
    auto name = fn->find("name");
    if (name != fn->end() && name->is_string() && slot->name.empty()) slot->name = name->get<std::string>();
    auto args = fn->find("arguments");
    if (args == fn->end() || args->is_null()) return;
    if (args->is_string()) {
      slot->arguments += args->get_ref<const std::string&>();
    } else {
      slot->arguments = SafeDump(*args);  // an object: the whole arguments at once
    }
  }

  // Validates every accumulated call, then delivers them all (or none).
  std::optional<ModelError> FinalizeToolCalls(const EmitFn& emit) {
    if (tools_finalized_) return std::nullopt;
    tools_finalized_ = true;
    std::vector<protocol::ToolCall> calls;
    for (size_t i = 0; i < slots_.size(); ++i) {
      Slot& s = slots_[i];
      if (s.id.empty()) s.id = "call_" + std::to_string(i);  // some local servers send none
      auto call = MakeToolCall(provider_, std::move(s.id), std::move(s.name), std::move(s.arguments));
      if (!call) return call.error();
      calls.push_back(std::move(*call));
    }
    for (protocol::ToolCall& c : calls) {
      emit(protocol::ToolCallReady{c});
      response_.tool_calls.push_back(std::move(c));
    }
    return std::nullopt;
  }

  std::string provider_;
  const bool fast_path_;
  PlainContentChunk plain_;  // the fast path's buffers, reused chunk to chunk
  ModelResponse response_;
  std::vector<Slot> slots_;
  std::unordered_map<int64_t, size_t> slot_of_index_;  // index -> its latest slot
  std::string finish_reason_;
  bool tools_finalized_ = false;
  bool saw_done_ = false;
  bool saw_usage_ = false;
};

}  // namespace

OpenAICodec::OpenAICodec(ProviderSettings settings) : settings_(std::move(settings)) {}

json OpenAICodec::EncodeBody(const protocol::ModelRequest& request) const {
  json messages = json::array();
  if (!request.system.empty()) messages.push_back({{"role", "system"}, {"content", request.system}});
  for (const protocol::Message& m : request.messages) messages.push_back(EncodeMessage(m));
  json body = {{"model", request.model},
               {"messages", std::move(messages)},
               {"stream", true},
               {"stream_options", {{"include_usage", true}}}};
  body[settings_.send_max_tokens ? "max_tokens" : "max_completion_tokens"] = request.max_tokens;
  if (!request.tools.empty()) {
    json tools = json::array();
    for (const protocol::ToolSpec& t : request.tools) {
      tools.push_back({{"type", "function"},
                       {"function",
                        {{"name", t.name}, {"description", t.description}, {"parameters", t.parameters}}}});
    }
    body["tools"] = std::move(tools);
  }
  if (request.temperature) body["temperature"] = *request.temperature;
  if (!request.stop.empty()) body["stop"] = request.stop;
  return body;
}

WireRequest OpenAICodec::Encode(const protocol::ModelRequest& request) const {
  WireRequest w;
  w.path = "/chat/completions";
  w.headers.push_back("Content-Type: application/json");
  w.headers.push_back("Accept: text/event-stream");
  if (!settings_.api_key.empty()) w.headers.push_back("Authorization: Bearer " + settings_.api_key);
  for (const auto& [name, value] : settings_.headers) w.headers.push_back(name + ": " + value);
  w.body = SafeDump(EncodeBody(request));
  return w;
}

std::unique_ptr<StreamDecoder> OpenAICodec::NewDecoder() const {
  return NewOpenAIStreamDecoder(settings_.name, /*fast_path=*/true);
}

std::unique_ptr<StreamDecoder> NewOpenAIStreamDecoder(std::string provider, bool fast_path) {
  return std::make_unique<OpenAIStreamDecoder>(std::move(provider), fast_path);
}

}  // namespace tandem::providers
