#include "tandem/providers/anthropic_client.h"

#include <gtest/gtest.h>

#include "tandem/net/sse_parser.h"

namespace tandem::providers {
namespace {

using nlohmann::json;
using protocol::Message;
using protocol::ModelErrorKind;

struct Decoded {
  std::vector<protocol::StreamEvent> events;
  std::optional<protocol::ModelError> error;
  std::optional<protocol::ModelResponse> response;
};

Decoded Decode(const std::string& sse) {
  ProviderSettings settings;
  settings.name = "test";
  AnthropicCodec codec(settings, ModelOptions{});
  auto decoder = codec.NewDecoder();
  Decoded d;
  EmitFn emit = [&](const protocol::StreamEvent& e) { d.events.push_back(e); };
  net::SseParser parser([&](const net::SseEvent& e) {
    if (!d.error) d.error = decoder->OnEvent(e, emit);
  });
  parser.Feed(sse);
  parser.Finish();
  if (d.error) return d;
  auto r = decoder->Finish(emit);
  if (r) {
    d.response = *r;
  } else {
    d.error = r.error();
  }
  return d;
}

std::string Ev(const std::string& name, const json& data) { return "event: " + name + "\ndata: " + data.dump() + "\n\n"; }

std::string Start(int in = 20, int cache_read = 0, int cache_write = 0) {
  return Ev("message_start", {{"type", "message_start"},
                              {"message",
                               {{"id", "msg_1"}, {"model", "claude-x"}, {"content", json::array()},
                                {"usage",
                                 {{"input_tokens", in}, {"cache_read_input_tokens", cache_read},
                                  {"cache_creation_input_tokens", cache_write}, {"output_tokens", 1}}}}}});
}
std::string BlockStart(int i, const json& block) {
  return Ev("content_block_start", {{"type", "content_block_start"}, {"index", i}, {"content_block", block}});
}
std::string Delta(int i, const json& delta) {
  return Ev("content_block_delta", {{"type", "content_block_delta"}, {"index", i}, {"delta", delta}});
}
std::string BlockStop(int i) { return Ev("content_block_stop", {{"type", "content_block_stop"}, {"index", i}}); }
std::string MessageDelta(const std::string& reason, int out) {
  return Ev("message_delta", {{"type", "message_delta"}, {"delta", {{"stop_reason", reason}}}, {"usage", {{"output_tokens", out}}}});
}
const std::string kStop = "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
const std::string kPing = "event: ping\ndata: {\"type\": \"ping\"}\n\n";

// --- encoding ---

protocol::ModelRequest SampleRequest() {
  protocol::ModelRequest rq;
  rq.model = "claude-x";
  rq.system = "You are careful.";
  rq.max_tokens = 1024;
  rq.tools.push_back({"read_file", "Reads", {{"type", "object"}}});
  rq.tools.push_back({"list_dir", "Lists", {{"type", "object"}}});
  rq.messages.push_back(Message::User("fix it"));
  Message a;
  a.role = protocol::Role::kAssistant;
  a.text = "Looking.";
  a.tool_calls.push_back({"toolu_1", "read_file", R"({"path":"a.py"})", {{"path", "a.py"}}, ""});
  a.tool_calls.push_back({"toolu_2", "list_dir", "{}", json::object(), ""});
  rq.messages.push_back(a);
  rq.messages.push_back(Message::ToolResult("toolu_1", "print(1)", false));
  rq.messages.push_back(Message::ToolResult("toolu_2", "no such dir", true));
  return rq;
}

TEST(AnthropicEncode, ToolResultsMergeIntoOneUserMessage) {
  json body = AnthropicCodec(ProviderSettings{}, ModelOptions{}).EncodeBody(SampleRequest());
  EXPECT_EQ(body["max_tokens"], 1024);
  EXPECT_EQ(body["stream"], true);
  const json& msgs = body["messages"];
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0]["role"], "user");
  EXPECT_EQ(msgs[1]["role"], "assistant");
  EXPECT_EQ(msgs[1]["content"][0], json({{"type", "text"}, {"text", "Looking."}}));
  EXPECT_EQ(msgs[1]["content"][1],
            json({{"type", "tool_use"}, {"id", "toolu_1"}, {"name", "read_file"}, {"input", {{"path", "a.py"}}}}));
  ASSERT_EQ(msgs[2]["role"], "user");
  ASSERT_EQ(msgs[2]["content"].size(), 2u);
  EXPECT_EQ(msgs[2]["content"][0]["type"], "tool_result");
  EXPECT_EQ(msgs[2]["content"][0]["tool_use_id"], "toolu_1");
  EXPECT_FALSE(msgs[2]["content"][0].contains("is_error"));
  EXPECT_EQ(msgs[2]["content"][1]["tool_use_id"], "toolu_2");
  EXPECT_EQ(msgs[2]["content"][1]["is_error"], true);
}

TEST(AnthropicEncode, UserTextAfterToolResultsJoinsTheSameMessageAfterThem) {
  protocol::ModelRequest rq = SampleRequest();
  rq.messages.push_back(Message::User("also check b.py"));
  json msgs = AnthropicCodec(ProviderSettings{}, ModelOptions{}).EncodeBody(rq)["messages"];
  ASSERT_EQ(msgs.size(), 3u);
  ASSERT_EQ(msgs[2]["content"].size(), 3u);
  EXPECT_EQ(msgs[2]["content"][2]["type"], "text");
}

TEST(AnthropicEncode, CacheBreakpointsOnLastToolSystemAndConversationTail) {
  json body = AnthropicCodec(ProviderSettings{}, ModelOptions{}).EncodeBody(SampleRequest());
  const json ephemeral = {{"type", "ephemeral"}};
  EXPECT_FALSE(body["tools"][0].contains("cache_control"));
  EXPECT_EQ(body["tools"][1]["cache_control"], ephemeral);
  ASSERT_TRUE(body["system"].is_array());
  EXPECT_EQ(body["system"][0]["text"], "You are careful.");
  EXPECT_EQ(body["system"][0]["cache_control"], ephemeral);
  EXPECT_EQ(body["messages"].back()["content"].back()["cache_control"], ephemeral);
  // At most 4 breakpoints in all.
  int count = 0;
  std::function<void(const json&)> walk = [&](const json& j) {
    if (j.is_object()) {
      if (j.contains("cache_control")) ++count;
      for (const auto& [k, v] : j.items()) walk(v);
    } else if (j.is_array()) {
      for (const json& v : j) walk(v);
    }
  };
  walk(body);
  EXPECT_EQ(count, 3);
}

TEST(AnthropicEncode, FastModeSendsSpeedAndBetaHeader) {
  ProviderSettings s;
  s.api_key = "sk-ant-test-0123456789abcdef";
  s.headers = {{"anthropic-beta", "other-beta"}};
  WireRequest fast = AnthropicCodec(s, ModelOptions{.fast_mode = true}).Encode(SampleRequest());
  EXPECT_EQ(json::parse(fast.body)["speed"], "fast");
  auto has = [&](const WireRequest& w, const std::string& h) {
    return std::find(w.headers.begin(), w.headers.end(), h) != w.headers.end();
  };
  EXPECT_TRUE(has(fast, "anthropic-beta: other-beta,fast-mode-2026-02-01"));
  EXPECT_TRUE(has(fast, "x-api-key: sk-ant-test-0123456789abcdef"));
  EXPECT_TRUE(has(fast, "anthropic-version: 2023-06-01"));
  EXPECT_EQ(fast.path, "/messages");

  WireRequest normal = AnthropicCodec(s, ModelOptions{}).Encode(SampleRequest());
  EXPECT_FALSE(json::parse(normal.body).contains("speed"));
  EXPECT_TRUE(has(normal, "anthropic-beta: other-beta"));
}

// --- decoding ---

TEST(AnthropicDecode, TextToolUseAndUsage) {
  std::string sse = Start(10, 100, 5) + BlockStart(0, {{"type", "text"}, {"text", ""}}) + kPing +
                    Delta(0, {{"type", "text_delta"}, {"text", "Let me "}}) +
                    Delta(0, {{"type", "text_delta"}, {"text", "look."}}) + BlockStop(0) +
                    BlockStart(1, {{"type", "tool_use"}, {"id", "toolu_9"}, {"name", "read_file"}, {"input", json::object()}}) +
                    Delta(1, {{"type", "input_json_delta"}, {"partial_json", ""}}) +
                    Delta(1, {{"type", "input_json_delta"}, {"partial_json", "{\"path\": \"a"}}) +
                    Ev("some_future_event", {{"type", "some_future_event"}}) +
                    Delta(1, {{"type", "input_json_delta"}, {"partial_json", ".py\"}"}}) + BlockStop(1) +
                    MessageDelta("tool_use", 42) + kStop;
  Decoded d = Decode(sse);
  ASSERT_TRUE(d.response) << d.error->message;
  EXPECT_EQ(d.response->text, "Let me look.");
  EXPECT_EQ(d.response->model, "claude-x");
  ASSERT_EQ(d.response->tool_calls.size(), 1u);
  EXPECT_EQ(d.response->tool_calls[0].id, "toolu_9");
  EXPECT_EQ(d.response->tool_calls[0].arguments, json({{"path", "a.py"}}));
  EXPECT_EQ(d.response->stop_reason, protocol::StopReason::kToolUse);
  EXPECT_TRUE(d.response->saw_done);
  EXPECT_EQ(d.response->usage.input_tokens, 115);  // 10 + 100 read + 5 written
  EXPECT_EQ(d.response->usage.cached_input_tokens, 100);
  EXPECT_EQ(d.response->usage.cache_write_tokens, 5);
  EXPECT_EQ(d.response->usage.output_tokens, 42);
  // Events: 2 text deltas, the tool call at its block stop, then usage.
  ASSERT_EQ(d.events.size(), 4u);
  EXPECT_TRUE(std::holds_alternative<protocol::ToolCallReady>(d.events[2]));
  EXPECT_TRUE(std::holds_alternative<protocol::UsageReport>(d.events[3]));
}

TEST(AnthropicDecode, ErrorEventFailsTheAttemptAsOverloaded) {
  std::string sse = Start() + BlockStart(0, {{"type", "text"}, {"text", ""}}) +
                    Delta(0, {{"type", "text_delta"}, {"text", "hi"}}) +
                    Ev("error", {{"type", "error"}, {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}});
  Decoded d = Decode(sse);
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->kind, ModelErrorKind::kOverloaded);
}

TEST(AnthropicDecode, MalformedToolInputIsDeliveredAsAMalformedCall) {
  std::string sse = Start() + BlockStart(0, {{"type", "tool_use"}, {"id", "t"}, {"name", "edit"}, {"input", json::object()}}) +
                    Delta(0, {{"type", "input_json_delta"}, {"partial_json", "{\"path\": }"}}) + BlockStop(0) +
                    MessageDelta("tool_use", 3) + kStop;
  Decoded d = Decode(sse);
  ASSERT_TRUE(d.response) << d.error->message;
  ASSERT_EQ(d.response->tool_calls.size(), 1u);
  EXPECT_EQ(d.response->tool_calls[0].malformed, "its arguments are not valid JSON (10 bytes received)");
  EXPECT_EQ(d.response->tool_calls[0].arguments, json::object());
}

TEST(AnthropicDecode, MissingMessageStopAfterStopReasonIsFlagged) {
  std::string sse = Start() + BlockStart(0, {{"type", "text"}, {"text", "ok"}}) + BlockStop(0) + MessageDelta("end_turn", 1);
  Decoded d = Decode(sse);
  ASSERT_TRUE(d.response);
  EXPECT_FALSE(d.response->saw_done);
  EXPECT_EQ(d.response->text, "ok");
}

TEST(AnthropicDecode, StreamCutMidReplyIsStreamBroken) {
  Decoded d = Decode(Start() + BlockStart(0, {{"type", "text"}, {"text", ""}}) + Delta(0, {{"type", "text_delta"}, {"text", "par"}}));
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->kind, ModelErrorKind::kStreamBroken);
}

TEST(AnthropicDecode, MaxTokensMapsAndUsageIsCumulative) {
  std::string sse = Start(10) + BlockStart(0, {{"type", "text"}, {"text", ""}}) +
                    Delta(0, {{"type", "text_delta"}, {"text", "a"}}) + BlockStop(0) + MessageDelta("max_tokens", 5) +
                    MessageDelta("max_tokens", 9) + kStop;
  Decoded d = Decode(sse);
  ASSERT_TRUE(d.response);
  EXPECT_EQ(d.response->stop_reason, protocol::StopReason::kMaxTokens);
  EXPECT_EQ(d.response->usage.output_tokens, 9);
}

}  // namespace
}  // namespace tandem::providers
