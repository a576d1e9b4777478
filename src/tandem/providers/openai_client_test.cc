#include "tandem/providers/openai_client.h"

#include <gtest/gtest.h>

#include "tandem/net/sse_parser.h"
#include "tandem/providers/tool_args.h"

namespace tandem::providers {
namespace {

using nlohmann::json;
using protocol::Message;
using protocol::ModelErrorKind;

struct Decoded {
  std::vector<protocol::StreamEvent> events;
  std::optional<protocol::ModelError> error;  // from OnEvent or Finish
  std::optional<protocol::ModelResponse> response;
};

Decoded Decode(const std::string& sse) {
  ProviderSettings settings;
  settings.name = "test";
  OpenAICodec codec(settings);
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

std::string Chunk(const json& delta, const json& finish = nullptr) {
  json c = {{"id", "c1"},
            {"object", "chat.completion.chunk"},
            {"model", "m-1"},
            {"choices", json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}};
  return "data: " + c.dump() + "\n\n";
}

std::string ToolFrag(int index, const json& id, const json& name, const json& args) {
  json tc = {{"index", index}};
  if (!id.is_null()) tc["id"] = id;
  json fn = json::object();
  if (!name.is_null()) fn["name"] = name;
  if (!args.is_null()) fn["arguments"] = args;
  tc["function"] = fn;
  return Chunk({{"tool_calls", json::array({tc})}});
}

const std::string kDone = "data: [DONE]\n\n";

std::vector<protocol::ToolCall> ReadyCalls(const Decoded& d) {
  std::vector<protocol::ToolCall> out;
  for (const auto& e : d.events) {
    if (auto* r = std::get_if<protocol::ToolCallReady>(&e)) out.push_back(r->call);
  }
  return out;
}

// --- encoding ---

protocol::ModelRequest SampleRequest() {
  protocol::ModelRequest rq;
  rq.model = "gpt-x";
  rq.system = "You are terse.";
  rq.max_tokens = 512;
  rq.tools.push_back({"read_file", "Reads a file", {{"type", "object"}, {"properties", {{"path", {{"type", "string"}}}}}}});
  rq.messages.push_back(Message::User("fix it"));
  Message a;
  a.role = protocol::Role::kAssistant;
  a.tool_calls.push_back({"call_1", "read_file", R"({"path":"a.py"})", {{"path", "a.py"}}, ""});
  rq.messages.push_back(a);
  rq.messages.push_back(Message::ToolResult("call_1", "print(1)", false));
  return rq;
}

TEST(OpenAIEncode, RequestShape) {
  json body = OpenAICodec(ProviderSettings{}).EncodeBody(SampleRequest());
  EXPECT_EQ(body["model"], "gpt-x");
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"], json({{"include_usage", true}}));
  EXPECT_EQ(body["max_completion_tokens"], 512);
  EXPECT_FALSE(body.contains("max_tokens"));
  ASSERT_EQ(body["messages"].size(), 4u);
  EXPECT_EQ(body["messages"][0], json({{"role", "system"}, {"content", "You are terse."}}));
  EXPECT_EQ(body["messages"][1], json({{"role", "user"}, {"content", "fix it"}}));
  const json& asst = body["messages"][2];
  EXPECT_EQ(asst["role"], "assistant");
  EXPECT_TRUE(asst["content"].is_null());
  EXPECT_EQ(asst["tool_calls"][0],
            json({{"id", "call_1"}, {"type", "function"},
                  {"function", {{"name", "read_file"}, {"arguments", R"({"path":"a.py"})"}}}}));
  EXPECT_EQ(body["messages"][3], json({{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "print(1)"}}));
  EXPECT_EQ(body["tools"][0]["type"], "function");
  EXPECT_EQ(body["tools"][0]["function"]["name"], "read_file");
  EXPECT_EQ(body["tools"][0]["function"]["parameters"]["properties"]["path"]["type"], "string");
}

TEST(OpenAIEncode, SendMaxTokensUsesTheLegacyField) {
  ProviderSettings s;
  s.send_max_tokens = true;
  json body = OpenAICodec(s).EncodeBody(SampleRequest());
  EXPECT_EQ(body["max_tokens"], 512);
  EXPECT_FALSE(body.contains("max_completion_tokens"));
}

TEST(OpenAIEncode, HeadersCarryBearerKeyAndExtras) {
  ProviderSettings s;
  s.api_key = "sk-test-1234567890abcdef";
  s.headers = {{"OpenAI-Project", "p1"}};
  WireRequest w = OpenAICodec(s).Encode(SampleRequest());
  EXPECT_EQ(w.path, "/chat/completions");
  EXPECT_NE(std::find(w.headers.begin(), w.headers.end(), "Authorization: Bearer sk-test-1234567890abcdef"),
            w.headers.end());
  EXPECT_NE(std::find(w.headers.begin(), w.headers.end(), "OpenAI-Project: p1"), w.headers.end());
  EXPECT_EQ(json::parse(w.body)["model"], "gpt-x");
}

TEST(OpenAIEncode, InvalidUtf8InToolOutputDoesNotThrow) {
  protocol::ModelRequest rq = SampleRequest();
  rq.messages.back().text = "bin\xff\xfe";
  WireRequest w = OpenAICodec(ProviderSettings{}).Encode(rq);
  EXPECT_TRUE(json::accept(w.body));
}

// --- decoding ---

TEST(OpenAIDecode, StreamsTextAndUsage) {
  std::string sse = Chunk({{"role", "assistant"}, {"content", ""}}) + Chunk({{"content", "Hel"}}) +
                    Chunk({{"content", "lo"}}) + Chunk(json::object(), "stop") +
                    "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2,"
                    "\"total_tokens\":14,\"prompt_tokens_details\":{\"cached_tokens\":8}}}\n\n" +
                    kDone;
  Decoded d = Decode(sse);
  ASSERT_TRUE(d.response) << d.error->message;
  EXPECT_EQ(d.response->text, "Hello");
  EXPECT_EQ(d.response->model, "m-1");
  EXPECT_EQ(d.response->stop_reason, protocol::StopReason::kEndTurn);
  EXPECT_TRUE(d.response->saw_done);
  EXPECT_EQ(d.response->usage.input_tokens, 12);
  EXPECT_EQ(d.response->usage.output_tokens, 2);
  EXPECT_EQ(d.response->usage.cached_input_tokens, 8);
  ASSERT_EQ(d.events.size(), 3u);
  EXPECT_EQ(std::get<protocol::TextDelta>(d.events[0]).text, "Hel");
  EXPECT_EQ(std::get<protocol::UsageReport>(d.events[2]).usage.input_tokens, 12);
}

TEST(OpenAIDecode, AssemblesInterleavedParallelToolCalls) {
  std::string sse = ToolFrag(0, "call_a", "read_file", "") + ToolFrag(1, "call_b", "list_dir", "") +
                    ToolFrag(0, nullptr, nullptr, "{\"path\":") + ToolFrag(1, nullptr, nullptr, "{\"dir\":\".\"}") +
                    ToolFrag(0, nullptr, nullptr, "\"a.py\"}") + Chunk(json::object(), "tool_calls") + kDone;
  Decoded d = Decode(sse);
  ASSERT_TRUE(d.response) << d.error->message;
  ASSERT_EQ(d.response->tool_calls.size(), 2u);
  EXPECT_EQ(d.response->tool_calls[0].id, "call_a");
  EXPECT_EQ(d.response->tool_calls[0].arguments, json({{"path", "a.py"}}));
  EXPECT_EQ(d.response->tool_calls[0].arguments_json, "{\"path\":\"a.py\"}");
  EXPECT_EQ(d.response->tool_calls[1].name, "list_dir");
  EXPECT_EQ(d.response->stop_reason, protocol::StopReason::kToolUse);
  EXPECT_EQ(ReadyCalls(d).size(), 2u);
}

TEST(OpenAIDecode, NewIdAtUsedIndexOpensNewSlot) {
  // Ollama/lmdeploy: parallel calls all at index 0, told apart by id.
  std::string sse = ToolFrag(0, "call_1", "a", "{\"x\":1}") + ToolFrag(0, "call_2", "b", "{\"y\":2}") +
                    ToolFrag(0, "", nullptr, "") +  // vLLM: empty id on a continuation is ignored
                    Chunk(json::object(), "stop") + kDone;
  Decoded d = Decode(sse);
  ASSERT_TRUE(d.response) << d.error->message;
  ASSERT_EQ(d.response->tool_calls.size(), 2u);
  EXPECT_EQ(d.response->tool_calls[0].name, "a");
  EXPECT_EQ(d.response->tool_calls[1].name, "b");
  EXPECT_EQ(d.response->tool_calls[1].arguments["y"], 2);
  // finish_reason "stop" although tools were called: the calls decide.
  EXPECT_EQ(d.response->stop_reason, protocol::StopReason::kToolUse);
}

TEST(OpenAIDecode, AcceptsArgumentsAsObject) {
  Decoded d = Decode(ToolFrag(0, "c", "edit", json({{"path", "b.py"}})) + Chunk(json::object(), "tool_calls") + kDone);
  ASSERT_TRUE(d.response);
  EXPECT_EQ(d.response->tool_calls[0].arguments["path"], "b.py");
}

TEST(OpenAIDecode, EmptyArgumentsMeanEmptyObject) {
  Decoded d = Decode(ToolFrag(0, "c", "list", "") + Chunk(json::object(), "tool_calls") + kDone);
  ASSERT_TRUE(d.response);
  EXPECT_EQ(d.response->tool_calls[0].arguments, json::object());
}

TEST(OpenAIDecode, TruncatedToolJsonIsDeliveredAsAMalformedCallForTheModelToCorrect) {
  Decoded d = Decode(ToolFrag(0, "c1", "ok", "{}") + ToolFrag(1, "c2", "bad", "{\"path\": \"a.py\"") +
                     Chunk(json::object(), "tool_calls") + kDone);
  ASSERT_TRUE(d.response) << d.error->message;
  ASSERT_EQ(d.response->tool_calls.size(), 2u);
  EXPECT_TRUE(d.response->tool_calls[0].malformed.empty());
  const protocol::ToolCall& bad = d.response->tool_calls[1];
  EXPECT_EQ(bad.name, "bad");
  EXPECT_EQ(bad.malformed, "its arguments are not valid JSON (15 bytes received)");
  EXPECT_EQ(bad.arguments, json::object());
  EXPECT_EQ(ArgumentsText(bad), "{}");  // replayed as JSON a provider reads back
  EXPECT_EQ(ReadyCalls(d).size(), 2u);
}

TEST(OpenAIDecode, ToolCallWithoutANameIsMalformed) {
  Decoded d = Decode(ToolFrag(0, "c1", "", "{}") + Chunk(json::object(), "tool_calls") + kDone);
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->kind, ModelErrorKind::kMalformed);
  EXPECT_TRUE(ReadyCalls(d).empty());
}

TEST(OpenAIDecode, EofAfterFinishReasonIsAcceptedButFlagged) {
  Decoded d = Decode(Chunk({{"content", "hi"}}) + Chunk(json::object(), "stop"));
  ASSERT_TRUE(d.response);
  EXPECT_FALSE(d.response->saw_done);
  EXPECT_EQ(d.response->text, "hi");
}

TEST(OpenAIDecode, EofMidReplyIsStreamBroken) {
  Decoded d = Decode(Chunk({{"content", "hi"}}));
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->kind, ModelErrorKind::kStreamBroken);
}

TEST(OpenAIDecode, MidStreamErrorPayloadFailsTheAttempt) {
  Decoded d = Decode(Chunk({{"content", "hi"}}) +
                     "data: {\"error\":{\"message\":\"upstream died\",\"type\":\"server_error\"}}\n\n");
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->kind, ModelErrorKind::kStreamBroken);
  EXPECT_NE(d.error->message.find("upstream died"), std::string::npos);
}

TEST(OpenAIDecode, UsageFromGroqExtensionAndEmptyChoiceChunks) {
  std::string sse = "data: {\"choices\":[]}\n\n" + Chunk({{"content", "x"}, {"tool_calls", json::array()}}) +
                    "data: {\"choices\":[{\"index\":0,\"finish_reason\":\"stop\"}],"
                    "\"x_groq\":{\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":1}}}\n\n" +
                    kDone;
  Decoded d = Decode(sse);
  ASSERT_TRUE(d.response) << d.error->message;
  EXPECT_EQ(d.response->usage.input_tokens, 7);
  EXPECT_TRUE(d.response->tool_calls.empty());
}

TEST(OpenAIDecode, LengthFinishMapsToMaxTokens) {
  Decoded d = Decode(Chunk({{"content", "x"}}) + Chunk(json::object(), "length") + kDone);
  ASSERT_TRUE(d.response);
  EXPECT_EQ(d.response->stop_reason, protocol::StopReason::kMaxTokens);
}

TEST(OpenAIDecode, GarbageChunkIsMalformed) {
  Decoded d = Decode("data: {not json\n\n");
  ASSERT_TRUE(d.error);
  EXPECT_EQ(d.error->kind, ModelErrorKind::kMalformed);
}

}  // namespace
}  // namespace tandem::providers
