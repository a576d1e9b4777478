// End-to-end tests of tandem-model-server: the real binary, over loopback
// HTTP, observed with libcurl exactly as a client would see it.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/model_server/test_http.h"
#include "tests/support/model_server_process.h"

namespace tandem::model_server {
namespace {

using nlohmann::json;
using tandem::testing::ModelServerOptions;
using tandem::testing::ModelServerProcess;

const std::vector<std::string> kAnthropicHeaders = {"anthropic-version: 2023-06-01"};

// A fast server (no TTFT, effectively unpaced) unless the test needs timing.
std::unique_ptr<ModelServerProcess> StartServer(const std::string& script,
                                                std::vector<std::string> extra_args = {},
                                                std::string api_key = "") {
  ModelServerOptions options;
  options.script_json = script;
  options.ttft_ms = 0;
  options.tokens_per_second = 1'000'000;
  options.api_key = std::move(api_key);
  options.extra_args = std::move(extra_args);
  auto server = ModelServerProcess::Start(options);
  if (!server) {
    ADD_FAILURE() << server.error().ToString();
    return nullptr;
  }
  return std::move(*server);
}

json UserMessage(const std::string& text) { return {{"role", "user"}, {"content", text}}; }

std::string OpenAiRequest(json messages, bool stream = true, bool include_usage = true) {
  json body = {{"model", "fast-1"}, {"messages", std::move(messages)}, {"stream", stream}};
  if (stream && include_usage) body["stream_options"] = {{"include_usage", true}};
  return body.dump();
}

std::string AnthropicRequest(json messages, bool stream = true) {
  return json{{"model", "smart-1"},
              {"max_tokens", 1024},
              {"messages", std::move(messages)},
              {"stream", stream}}
      .dump();
}

HttpResult PostOpenAi(const ModelServerProcess& server, const std::string& body,
                      const std::vector<std::string>& headers = {}) {
  return HttpPost(server.base_url() + "/chat/completions", body, headers);
}

HttpResult PostAnthropic(const ModelServerProcess& server, const std::string& body,
                         const std::vector<std::string>& headers = kAnthropicHeaders) {
  return HttpPost(server.base_url() + "/messages", body, headers);
}

std::string ContentOf(const std::vector<json>& chunks) {
  std::string text;
  for (const json& chunk : chunks) {
    if (chunk["choices"].empty()) continue;
    const json& delta = chunk["choices"][0]["delta"];
    if (delta.contains("content") && delta["content"].is_string()) text += delta["content"];
  }
  return text;
}

// Concatenated tool-call arguments per index.
std::map<int, std::string> ToolArguments(const std::vector<json>& chunks) {
  std::map<int, std::string> args;
  for (const json& chunk : chunks) {
    if (chunk["choices"].empty()) continue;
    const json& delta = chunk["choices"][0]["delta"];
    if (!delta.contains("tool_calls")) continue;
    for (const json& call : delta["tool_calls"]) {
      args[call["index"].get<int>()] += call["function"].value("arguments", "");
    }
  }
  return args;
}

constexpr const char* kTextScript =
    R"({"turns": [{"text": "Hello there, world! Let me fix it."}]})";

constexpr const char* kToolScript = R"({"turns": [{
  "text": "Editing.",
  "tool_calls": [{"id": "call_a", "name": "edit_file", "arguments": {"path": "a.py", "line": 3}},
                 {"name": "run_tests", "arguments": {"cmd": "pytest -q tests/unit"}}]}]})";

// ---- OpenAI wire format ----

TEST(OpenAiStream, SendsRoleFirstThenContentFinishUsageAndDone) {
  auto server = StartServer(kTextScript);
  ASSERT_NE(server, nullptr);
  HttpResult result = PostOpenAi(*server, OpenAiRequest({UserMessage("hi")}));
  ASSERT_EQ(result.curl_code, CURLE_OK);
  ASSERT_EQ(result.status, 200);
  EXPECT_NE(result.headers["content-type"].find("text/event-stream"), std::string::npos);

  std::vector<SseEvent> events = ParseSse(result.body);
  ASSERT_GE(events.size(), 5u);
  EXPECT_EQ(events.back().data, "[DONE]");
  std::vector<json> chunks = SseJson(result.body);
  EXPECT_EQ(chunks.front()["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(chunks.front()["object"], "chat.completion.chunk");
  EXPECT_EQ(ContentOf(chunks), "Hello there, world! Let me fix it.");
  // More than one content chunk: the text really is streamed token by token.
  EXPECT_GT(chunks.size(), 6u);

  const json& finish = chunks[chunks.size() - 2];
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(finish["choices"][0]["delta"], json::object());
  EXPECT_TRUE(finish["usage"].is_null());
  const json& usage_chunk = chunks.back();
  EXPECT_EQ(usage_chunk["choices"], json::array());
  EXPECT_GT(usage_chunk["usage"]["prompt_tokens"].get<int>(), 0);
  EXPECT_EQ(usage_chunk["usage"]["completion_tokens"].get<int>(),
            static_cast<int>(chunks.size()) - 3);  // one token per content chunk
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    EXPECT_TRUE(chunks[i].contains("usage") && chunks[i]["usage"].is_null());
  }
}

TEST(OpenAiStream, WithoutIncludeUsageHasNoUsageChunk) {
  auto server = StartServer(kTextScript);
  ASSERT_NE(server, nullptr);
  HttpResult result =
      PostOpenAi(*server, OpenAiRequest({UserMessage("hi")}, true, /*include_usage=*/false));
  std::vector<json> chunks = SseJson(result.body);
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(chunks.back()["choices"][0]["finish_reason"], "stop");
  for (const json& chunk : chunks) EXPECT_FALSE(chunk.contains("usage"));
}

TEST(OpenAiStream, FirstToolFragmentCarriesIdAndNameLaterOnlyArguments) {
  auto server = StartServer(kToolScript);
  ASSERT_NE(server, nullptr);
  HttpResult result = PostOpenAi(*server, OpenAiRequest({UserMessage("fix")}));
  std::vector<json> chunks = SseJson(result.body);
  std::map<int, int> fragments_seen;
  std::vector<int> order;
  for (const json& chunk : chunks) {
    if (chunk["choices"].empty() || !chunk["choices"][0]["delta"].contains("tool_calls")) continue;
    for (const json& call : chunk["choices"][0]["delta"]["tool_calls"]) {
      int index = call["index"];
      order.push_back(index);
      if (fragments_seen[index]++ == 0) {
        EXPECT_TRUE(call.contains("id"));
        EXPECT_EQ(call["type"], "function");
        EXPECT_TRUE(call["function"].contains("name"));
        EXPECT_EQ(call["function"]["arguments"], "");
      } else {
        EXPECT_FALSE(call.contains("id"));
        EXPECT_FALSE(call["function"].contains("name"));
        EXPECT_TRUE(call["function"].contains("arguments"));
      }
    }
  }
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));  // not interleaved by default
  std::map<int, std::string> args = ToolArguments(chunks);
  EXPECT_EQ(json::parse(args[0]), json({{"path", "a.py"}, {"line", 3}}));
  EXPECT_EQ(json::parse(args[1]), json({{"cmd", "pytest -q tests/unit"}}));
  EXPECT_GT(fragments_seen[1], 2);  // arguments are cut into several fragments
  EXPECT_EQ(chunks[chunks.size() - 2]["choices"][0]["finish_reason"], "tool_calls");

  // The scripted id is used; a missing one is generated in OpenAI's call_ shape.
  std::vector<std::string> ids;
  for (const json& chunk : chunks) {
    if (chunk["choices"].empty() || !chunk["choices"][0]["delta"].contains("tool_calls")) continue;
    for (const json& call : chunk["choices"][0]["delta"]["tool_calls"]) {
      if (call.contains("id")) ids.push_back(call["id"]);
    }
  }
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], "call_a");
  EXPECT_EQ(ids[1].rfind("call_", 0), 0u);
}

TEST(OpenAiStream, InterleavesParallelToolCallFragmentsWhenScripted) {
  auto server = StartServer(R"({"turns": [{"interleave_tool_calls": true, "tool_calls": [
      {"name": "a", "arguments": {"x": "one two three"}},
      {"name": "b", "arguments": {"y": "four five six"}}]}]})");
  ASSERT_NE(server, nullptr);
  std::vector<json> chunks = SseJson(PostOpenAi(*server, OpenAiRequest({UserMessage("go")})).body);
  std::vector<int> order;
  for (const json& chunk : chunks) {
    if (chunk["choices"].empty() || !chunk["choices"][0]["delta"].contains("tool_calls")) continue;
    order.push_back(chunk["choices"][0]["delta"]["tool_calls"][0]["index"]);
  }
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));
  std::map<int, std::string> args = ToolArguments(chunks);
  EXPECT_EQ(json::parse(args[0])["x"], "one two three");
  EXPECT_EQ(json::parse(args[1])["y"], "four five six");
}

TEST(OpenAiNonStream, ReturnsChatCompletionWithToolCallsAndUsage) {
  auto server = StartServer(kToolScript);
  ASSERT_NE(server, nullptr);
  HttpResult result = PostOpenAi(*server, OpenAiRequest({UserMessage("fix")}, /*stream=*/false));
  ASSERT_EQ(result.status, 200);
  json body = json::parse(result.body);
  EXPECT_EQ(body["object"], "chat.completion");
  const json& message = body["choices"][0]["message"];
  EXPECT_EQ(message["content"], "Editing.");
  ASSERT_EQ(message["tool_calls"].size(), 2u);
  EXPECT_EQ(message["tool_calls"][0]["function"]["name"], "edit_file");
  EXPECT_EQ(json::parse(message["tool_calls"][0]["function"]["arguments"].get<std::string>()),
            json({{"path", "a.py"}, {"line", 3}}));
  EXPECT_EQ(body["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_GT(body["usage"]["completion_tokens"].get<int>(), 0);
}

// ---- Anthropic wire format ----

TEST(AnthropicStream, SendsTheMessagesEventSequence) {
  auto server = StartServer(kToolScript);
  ASSERT_NE(server, nullptr);
  HttpResult result = PostAnthropic(*server, AnthropicRequest({UserMessage("fix")}));
  ASSERT_EQ(result.curl_code, CURLE_OK);
  ASSERT_EQ(result.status, 200);
  std::vector<SseEvent> events = ParseSse(result.body);
  std::vector<std::string> names;
  for (const SseEvent& e : events) {
    json data = json::parse(e.data);
    EXPECT_EQ(data["type"], e.event);  // event name matches the payload type
    if (names.empty() || names.back() != e.event || e.event != "content_block_delta") {
      names.push_back(e.event);
    }
  }
  std::vector<std::string> expected = {"message_start",       "ping",
                                       "content_block_start", "content_block_delta",
                                       "content_block_stop",  // text
                                       "content_block_start", "content_block_delta",
                                       "content_block_stop",  // tool 0
                                       "content_block_start", "content_block_delta",
                                       "content_block_stop",  // tool 1
                                       "message_delta",       "message_stop"};
  EXPECT_EQ(names, expected);

  std::map<int, std::string> partial;
  std::string text;
  for (const SseEvent& e : events) {
    json data = json::parse(e.data);
    if (e.event == "content_block_start" && data["index"] == 1) {
      EXPECT_EQ(data["content_block"]["type"], "tool_use");
      EXPECT_EQ(data["content_block"]["id"], "call_a");
      EXPECT_EQ(data["content_block"]["name"], "edit_file");
    }
    if (e.event == "content_block_start" && data["index"] == 2) {
      EXPECT_EQ(data["content_block"]["id"].get<std::string>().rfind("toolu_", 0), 0u);
    }
    if (e.event != "content_block_delta") continue;
    if (data["delta"]["type"] == "text_delta") text += data["delta"]["text"];
    if (data["delta"]["type"] == "input_json_delta") {
      partial[data["index"].get<int>()] += data["delta"]["partial_json"];
    }
  }
  EXPECT_EQ(text, "Editing.");
  EXPECT_EQ(json::parse(partial[1]), json({{"path", "a.py"}, {"line", 3}}));
  EXPECT_EQ(json::parse(partial[2]), json({{"cmd", "pytest -q tests/unit"}}));

  json message_delta = json::parse(events[events.size() - 2].data);
  EXPECT_EQ(message_delta["delta"]["stop_reason"], "tool_use");
  EXPECT_GT(message_delta["usage"]["output_tokens"].get<int>(), 3);
  json start = json::parse(events[0].data);
  EXPECT_GT(start["message"]["usage"]["input_tokens"].get<int>(), 0);
}

TEST(AnthropicNonStream, ReturnsMessageWithToolUseInputObject) {
  auto server = StartServer(kToolScript);
  ASSERT_NE(server, nullptr);
  HttpResult result = PostAnthropic(*server, AnthropicRequest({UserMessage("fix")}, false));
  ASSERT_EQ(result.status, 200);
  json body = json::parse(result.body);
  EXPECT_EQ(body["type"], "message");
  EXPECT_EQ(body["stop_reason"], "tool_use");
  ASSERT_EQ(body["content"].size(), 3u);
  EXPECT_EQ(body["content"][0], json({{"type", "text"}, {"text", "Editing."}}));
  EXPECT_EQ(body["content"][1]["input"], json({{"path", "a.py"}, {"line", 3}}));
}

// ---- Turn selection ----

TEST(TurnSelection, UsesAssistantTurnsAndLastMessageContains) {
  auto server = StartServer(R"({"turns": [
      {"when": {"assistant_turns": 0}, "text": "first",
       "tool_calls": [{"id": "call_1", "name": "run", "arguments": {}}]},
      {"when": {"last_message_contains": "FAILED"}, "text": "fixing"},
      {"when": {"assistant_turns": 1}, "text": "done"}]})");
  ASSERT_NE(server, nullptr);
  json first = {UserMessage("go")};
  EXPECT_EQ(ContentOf(SseJson(PostOpenAi(*server, OpenAiRequest(first)).body)), "first");

  json assistant = {
      {"role", "assistant"},
      {"content", nullptr},
      {"tool_calls", json::array({{{"id", "call_1"},
                                   {"type", "function"},
                                   {"function", {{"name", "run"}, {"arguments", "{}"}}}}})}};
  json failed = {UserMessage("go"),
                 assistant,
                 {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "3 tests FAILED"}}};
  EXPECT_EQ(ContentOf(SseJson(PostOpenAi(*server, OpenAiRequest(failed)).body)), "fixing");
  json passed = {UserMessage("go"),
                 assistant,
                 {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "all passed"}}};
  EXPECT_EQ(ContentOf(SseJson(PostOpenAi(*server, OpenAiRequest(passed)).body)), "done");

  std::vector<json> requests = server->Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["turn"], 0);
  EXPECT_EQ(requests[1]["turn"], 1);
  EXPECT_EQ(requests[2]["turn"], 2);
}

TEST(TurnSelection, NoMatchingTurnIs400InTheEndpointsFormat) {
  auto server = StartServer(R"({"turns": [{"when": {"assistant_turns": 5}, "text": "x"}]})");
  ASSERT_NE(server, nullptr);
  HttpResult openai = PostOpenAi(*server, OpenAiRequest({UserMessage("hi")}));
  EXPECT_EQ(openai.status, 400);
  EXPECT_EQ(json::parse(openai.body)["error"]["message"],
            "model server: no scripted turn matches (assistant_turns=0)");
  HttpResult anthropic = PostAnthropic(*server, AnthropicRequest({UserMessage("hi")}));
  EXPECT_EQ(anthropic.status, 400);
  json body = json::parse(anthropic.body);
  EXPECT_EQ(body["type"], "error");
  EXPECT_EQ(body["error"]["type"], "invalid_request_error");
}

// ---- Faults ----

TEST(Faults, Http429CarriesRetryHeadersAndHitsOnlyTheFirstRequest) {
  auto server = StartServer(R"({"turns": [{"text": "ok", "faults": [
      {"kind": "http_429", "times": 1, "retry_after_s": 2, "retry_after_ms": 200}]}]})");
  ASSERT_NE(server, nullptr);
  HttpResult limited = PostOpenAi(*server, OpenAiRequest({UserMessage("hi")}));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.headers["retry-after"], "2");
  EXPECT_EQ(limited.headers["retry-after-ms"], "200");
  EXPECT_EQ(json::parse(limited.body)["error"]["code"], "rate_limit_exceeded");

  HttpResult ok = PostOpenAi(*server, OpenAiRequest({UserMessage("hi")}));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ContentOf(SseJson(ok.body)), "ok");
  std::vector<json> requests = server->Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["fault"], "http_429");
  EXPECT_EQ(requests[0]["status"], 429);
  EXPECT_TRUE(requests[1]["fault"].is_null());
}

TEST(Faults, Http529IsAnthropicOverloadedError) {
  auto server = StartServer(R"({"turns": [{"text": "ok", "faults": [{"kind": "http_529"}]}]})");
  ASSERT_NE(server, nullptr);
  HttpResult result = PostAnthropic(*server, AnthropicRequest({UserMessage("hi")}));
  EXPECT_EQ(result.status, 529);
  json body = json::parse(result.body);
  EXPECT_EQ(body["type"], "error");
  EXPECT_EQ(body["error"]["type"], "overloaded_error");
}

TEST(Faults, TruncateEndsCleanlyWithoutDoneOrMessageStop) {
  auto server = StartServer(R"({"turns": [{"text": "one two three four five six seven",
      "faults": [{"kind": "truncate", "after_tokens": 3, "times": 2}]}]})");
  ASSERT_NE(server, nullptr);
  HttpResult openai = PostOpenAi(*server, OpenAiRequest({UserMessage("hi")}));
  EXPECT_EQ(openai.curl_code, CURLE_OK);  // the chunked body ended properly
  EXPECT_EQ(openai.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(ContentOf(SseJson(openai.body)), "one two three");

  HttpResult anthropic = PostAnthropic(*server, AnthropicRequest({UserMessage("hi")}));
  EXPECT_EQ(anthropic.curl_code, CURLE_OK);
  EXPECT_EQ(anthropic.body.find("message_stop"), std::string::npos);
  EXPECT_EQ(anthropic.body.find("message_delta"), std::string::npos);
}

TEST(Faults, ResetLeavesAnIncompleteChunkedBody) {
  auto server = StartServer(R"({"turns": [{"text": "one two three four five six seven",
      "faults": [{"kind": "reset", "after_tokens": 2}]}]})");
  ASSERT_NE(server, nullptr);
  HttpResult cut = PostOpenAi(*server, OpenAiRequest({UserMessage("hi")}));
  EXPECT_NE(cut.curl_code, CURLE_OK) << cut.body;
  EXPECT_EQ(cut.status, 200);
  EXPECT_EQ(ContentOf(SseJson(cut.body)), "one two");
  // times defaults to 1: the retry succeeds.
  HttpResult retry = PostOpenAi(*server, OpenAiRequest({UserMessage("hi")}));
  EXPECT_EQ(retry.curl_code, CURLE_OK);
  EXPECT_EQ(ContentOf(SseJson(retry.body)), "one two three four five six seven");
}

TEST(Faults, BadToolJsonStreamsUnparseableArguments) {
  auto server = StartServer(R"({"turns": [{"tool_calls": [{"name": "edit", "arguments": {"a": 1}}],
      "faults": [{"kind": "bad_tool_json"}]}]})");
  ASSERT_NE(server, nullptr);
  std::vector<json> chunks = SseJson(PostOpenAi(*server, OpenAiRequest({UserMessage("hi")})).body);
  std::string args = ToolArguments(chunks)[0];
  EXPECT_FALSE(args.empty());
  EXPECT_TRUE(json::parse(args, nullptr, false).is_discarded()) << args;
  // Only the first request is hit.
  chunks = SseJson(PostOpenAi(*server, OpenAiRequest({UserMessage("hi")})).body);
  EXPECT_EQ(json::parse(ToolArguments(chunks)[0]), json({{"a", 1}}));
}

TEST(Faults, ErrorEventArrivesMidStreamInBothFormats) {
  auto server = StartServer(R"({"turns": [{"text": "one two three four",
      "faults": [{"kind": "error_event", "after_tokens": 2, "times": 2}]}]})");
  ASSERT_NE(server, nullptr);
  HttpResult openai = PostOpenAi(*server, OpenAiRequest({UserMessage("hi")}));
  EXPECT_EQ(openai.status, 200);
  std::vector<json> chunks = SseJson(openai.body);
  ASSERT_FALSE(chunks.empty());
  EXPECT_TRUE(chunks.back().contains("error"));
  EXPECT_EQ(openai.body.find("[DONE]"), std::string::npos);

  HttpResult anthropic = PostAnthropic(*server, AnthropicRequest({UserMessage("hi")}));
  std::vector<SseEvent> events = ParseSse(anthropic.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "error");
  EXPECT_EQ(json::parse(events.back().data)["error"]["type"], "overloaded_error");
}

TEST(Faults, StallDelaysButCompletesTheStream) {
  auto server = StartServer(R"({"turns": [{"text": "one two three",
      "faults": [{"kind": "stall", "after_tokens": 1, "stall_ms": 50}]}]})");
  ASSERT_NE(server, nullptr);
  HttpResult result = PostOpenAi(*server, OpenAiRequest({UserMessage("hi")}));
  EXPECT_EQ(result.curl_code, CURLE_OK);
  EXPECT_EQ(ContentOf(SseJson(result.body)), "one two three");
  EXPECT_EQ(server->Requests().at(0)["fault"], "stall");
}

TEST(Faults, CommandLineFaultAppliesAcrossTurns) {
  auto server = StartServer(kTextScript, {"--fault", "http_503:times=2"});
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(PostOpenAi(*server, OpenAiRequest({UserMessage("a")})).status, 503);
  EXPECT_EQ(PostAnthropic(*server, AnthropicRequest({UserMessage("b")})).status, 503);
  EXPECT_EQ(PostOpenAi(*server, OpenAiRequest({UserMessage("c")})).status, 200);
}

// ---- Strictness ----

int OpenAiStatus(const ModelServerProcess& server, const json& body, std::string* message) {
  HttpResult result = PostOpenAi(server, body.dump());
  if (result.status != 200) {
    json error = json::parse(result.body)["error"];
    EXPECT_EQ(error["type"], "invalid_request_error");
    EXPECT_TRUE(error.contains("param") && error.contains("code"));
    *message = error["message"];
  }
  return static_cast<int>(result.status);
}

TEST(Strictness, OpenAiRejectsMalformedRequestsLikeTheRealApi) {
  auto server = StartServer(kTextScript);
  ASSERT_NE(server, nullptr);
  std::string message;
  EXPECT_EQ(OpenAiStatus(*server, {{"messages", {UserMessage("hi")}}}, &message), 400);
  EXPECT_EQ(message, "you must provide a model parameter");
  EXPECT_EQ(OpenAiStatus(*server, {{"model", "m"}}, &message), 400);
  EXPECT_NE(message.find("'messages'"), std::string::npos);
  EXPECT_EQ(
      OpenAiStatus(*server, {{"model", "m"}, {"messages", {{{"role", "robot"}, {"content", "x"}}}}},
                   &message),
      400);
  EXPECT_NE(message.find("'robot'"), std::string::npos);
  EXPECT_EQ(OpenAiStatus(*server,
                         {{"model", "m"},
                          {"messages", {UserMessage("hi")}},
                          {"stream_options", {{"include_usage", true}}}},
                         &message),
            400);
  EXPECT_NE(message.find("stream_options"), std::string::npos);
  EXPECT_EQ(
      OpenAiStatus(
          *server,
          {{"model", "m"},
           {"messages",
            {UserMessage("hi"), {{"role", "tool"}, {"tool_call_id", "call_x"}, {"content", "r"}}}}},
          &message),
      400);
  EXPECT_NE(message.find("role 'tool'"), std::string::npos);

  json assistant = {
      {"role", "assistant"},
      {"tool_calls", json::array({{{"id", "call_1"},
                                   {"type", "function"},
                                   {"function", {{"name", "f"}, {"arguments", "{}"}}}}})}};
  EXPECT_EQ(OpenAiStatus(*server,
                         {{"model", "m"},
                          {"messages",
                           {UserMessage("hi"),
                            assistant,
                            {{"role", "tool"}, {"tool_call_id", "call_2"}, {"content", "r"}}}}},
                         &message),
            400);
  EXPECT_NE(message.find("call_2"), std::string::npos);
  EXPECT_EQ(OpenAiStatus(*server, {{"model", "m"}, {"messages", {UserMessage("hi"), assistant}}},
                         &message),
            400);
  EXPECT_NE(message.find("call_1"), std::string::npos);

  HttpResult not_json = PostOpenAi(*server, "{not json");
  EXPECT_EQ(not_json.status, 400);
}

TEST(Strictness, AnthropicRejectsMalformedRequestsLikeTheRealApi) {
  auto server = StartServer(kTextScript);
  ASSERT_NE(server, nullptr);
  auto status = [&](const json& body, const std::vector<std::string>& headers,
                    std::string* message) {
    HttpResult result = PostAnthropic(*server, body.dump(), headers);
    if (result.status != 200) {
      json parsed = json::parse(result.body);
      EXPECT_EQ(parsed["type"], "error");
      EXPECT_EQ(parsed["error"]["type"], "invalid_request_error");
      *message = parsed["error"]["message"];
    }
    return result.status;
  };
  json good = json::parse(AnthropicRequest({UserMessage("hi")}));
  std::string message;
  EXPECT_EQ(status(good, kAnthropicHeaders, &message), 200);
  EXPECT_EQ(status(good, {}, &message), 400);
  EXPECT_NE(message.find("anthropic-version"), std::string::npos);

  json no_max = good;
  no_max.erase("max_tokens");
  EXPECT_EQ(status(no_max, kAnthropicHeaders, &message), 400);
  EXPECT_EQ(message, "max_tokens: Field required");

  json assistant_first = good;
  assistant_first["messages"] = {{{"role", "assistant"}, {"content", "hi"}}};
  EXPECT_EQ(status(assistant_first, kAnthropicHeaders, &message), 400);
  EXPECT_NE(message.find("first message"), std::string::npos);

  json tool_use = {
      {"role", "assistant"},
      {"content",
       {{{"type", "tool_use"}, {"id", "toolu_1"}, {"name", "f"}, {"input", json::object()}}}}};
  json unanswered = good;
  unanswered["messages"] = {UserMessage("hi"), tool_use, UserMessage("what?")};
  EXPECT_EQ(status(unanswered, kAnthropicHeaders, &message), 400);
  EXPECT_NE(message.find("toolu_1"), std::string::npos);

  json answered = good;
  answered["messages"] = {
      UserMessage("hi"),
      tool_use,
      {{"role", "user"},
       {"content", {{{"type", "tool_result"}, {"tool_use_id", "toolu_1"}, {"content", "ok"}}}}}};
  EXPECT_EQ(status(answered, kAnthropicHeaders, &message), 200);

  json cached = good;
  json blocks = json::array();
  for (int i = 0; i < 5; ++i) {
    blocks.push_back(
        {{"type", "text"}, {"text", "part"}, {"cache_control", {{"type", "ephemeral"}}}});
  }
  cached["messages"] = {{{"role", "user"}, {"content", blocks}}};
  EXPECT_EQ(status(cached, kAnthropicHeaders, &message), 400);
  EXPECT_NE(message.find("maximum of 4"), std::string::npos);

  json fast = good;
  fast["speed"] = "fast";
  EXPECT_EQ(status(fast, kAnthropicHeaders, &message), 400);
  std::vector<std::string> beta = kAnthropicHeaders;
  beta.push_back("anthropic-beta: fast-mode-2026-02-01");
  EXPECT_EQ(status(fast, beta, &message), 200);
}

TEST(Strictness, ApiKeyIsRequiredWhenConfigured) {
  auto server = StartServer(kTextScript, {}, "sk-test-key-123");
  ASSERT_NE(server, nullptr);
  std::string body = OpenAiRequest({UserMessage("hi")});
  EXPECT_EQ(PostOpenAi(*server, body).status, 401);
  EXPECT_EQ(PostOpenAi(*server, body, {"Authorization: Bearer wrong"}).status, 401);
  EXPECT_EQ(PostOpenAi(*server, body, {"Authorization: Bearer sk-test-key-123"}).status, 200);

  std::string anthropic = AnthropicRequest({UserMessage("hi")});
  HttpResult denied = PostAnthropic(*server, anthropic);
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(json::parse(denied.body)["error"]["type"], "authentication_error");
  std::vector<std::string> headers = kAnthropicHeaders;
  headers.push_back("x-api-key: sk-test-key-123");
  EXPECT_EQ(PostAnthropic(*server, anthropic, headers).status, 200);
}

// ---- Recording, cache simulation, models, concurrency ----

TEST(Recording, WritesOneLinePerRequestWithHeadersBodyTurnFaultAndStatus) {
  auto server = StartServer(R"({"turns": [{"text": "ok"}]})");
  ASSERT_NE(server, nullptr);
  PostOpenAi(*server, OpenAiRequest({UserMessage("hello")}), {"X-Custom-Header: Yes"});
  PostOpenAi(*server, "{broken");
  std::vector<json> requests = server->Requests();
  ASSERT_EQ(requests.size(), 2u);
  const json& first = requests[0];
  EXPECT_EQ(first["seq"], 1);
  EXPECT_EQ(first["method"], "POST");
  EXPECT_EQ(first["path"], "/v1/chat/completions");
  EXPECT_EQ(first["headers"]["x-custom-header"], "Yes");
  EXPECT_EQ(first["body"]["messages"][0]["content"], "hello");
  EXPECT_EQ(first["turn"], 0);
  EXPECT_TRUE(first["fault"].is_null());
  EXPECT_EQ(first["status"], 200);
  EXPECT_EQ(requests[1]["seq"], 2);
  EXPECT_EQ(requests[1]["body"], "{broken");  // invalid JSON is kept as the raw string
  EXPECT_TRUE(requests[1]["turn"].is_null());
  EXPECT_EQ(requests[1]["status"], 400);
}

TEST(PromptCache, CachedTokensGrowWithARepeatedPrefix) {
  auto server = StartServer(R"({"turns": [{"text": "ok"}]})");
  ASSERT_NE(server, nullptr);
  const std::string long_text(4000, 'x');
  json messages = {{{"role", "system"}, {"content", long_text}}, UserMessage("first")};
  auto usage_of = [&](const json& msgs) {
    return SseJson(PostOpenAi(*server, OpenAiRequest(msgs)).body).back()["usage"];
  };
  json first = usage_of(messages);
  EXPECT_EQ(first["prompt_tokens_details"]["cached_tokens"], 0);
  messages.push_back({{"role", "assistant"}, {"content", "ok"}});
  messages.push_back(UserMessage("second"));
  json second = usage_of(messages);
  int cached = second["prompt_tokens_details"]["cached_tokens"];
  EXPECT_GT(cached, 1000);
  EXPECT_LT(cached, second["prompt_tokens"].get<int>());

  // Anthropic: cache_read_input_tokens, and input_tokens excludes them.
  json anthropic_messages = {UserMessage(long_text)};
  auto anthropic_usage = [&](const json& msgs) {
    return json::parse(PostAnthropic(*server, AnthropicRequest(msgs, false)).body)["usage"];
  };
  EXPECT_EQ(anthropic_usage(anthropic_messages)["cache_read_input_tokens"], 0);
  anthropic_messages.push_back({{"role", "assistant"}, {"content", "ok"}});
  anthropic_messages.push_back(UserMessage("more"));
  json usage = anthropic_usage(anthropic_messages);
  EXPECT_GT(usage["cache_read_input_tokens"].get<int>(), 900);
  EXPECT_LT(usage["input_tokens"].get<int>(), 100);
}

TEST(Models, ListsTheScriptsModels) {
  auto server = StartServer(R"({"models": ["fast-1", "smart-1"], "turns": []})");
  ASSERT_NE(server, nullptr);
  HttpResult result = HttpGet(server->base_url() + "/models");
  ASSERT_EQ(result.status, 200);
  json body = json::parse(result.body);
  EXPECT_EQ(body["object"], "list");
  ASSERT_EQ(body["data"].size(), 2u);
  EXPECT_EQ(body["data"][1]["id"], "smart-1");
}

TEST(Concurrency, SixtyFourParallelStreamsAllComplete) {
  auto server = StartServer(R"({"tokens_per_second": 2000,
      "turns": [{"text": "a reasonably long answer that takes a few dozen tokens to stream out"}]})");
  ASSERT_NE(server, nullptr);
  std::atomic<int> complete{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 64; ++i) {
    threads.emplace_back([&] {
      HttpResult result = PostOpenAi(*server, OpenAiRequest({UserMessage("hi")}));
      if (result.curl_code == CURLE_OK && result.body.find("[DONE]") != std::string::npos) {
        ++complete;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(complete.load(), 64);
}

TEST(ModelServerProcess, BadScriptFailsToStartWithAnError) {
  ModelServerOptions options;
  options.script_json = R"({"turns": [{"faults": [{"kind": "explode"}]}]})";
  auto server = ModelServerProcess::Start(options);
  ASSERT_FALSE(server);
  EXPECT_NE(server.error().message().find("exited with status 2"), std::string::npos)
      << server.error().ToString();
  // The server's own message names the problem, and reaches the caller.
  EXPECT_NE(server.error().message().find("turns[0].faults[0].kind"), std::string::npos)
      << server.error().ToString();
}

}  // namespace
}  // namespace tandem::model_server
