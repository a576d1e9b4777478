#include "tandem/providers/openai_fast_chunk.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tandem::providers {
namespace {

using nlohmann::json;

// Everything a decoder tells its caller, as text: emitted events, an error
// from OnEvent or Finish, and the assembled reply.
std::string Transcript(const std::vector<std::string>& events, bool fast_path,
                       std::string_view event_name = "") {
  auto decoder = NewOpenAIStreamDecoder("test", fast_path);
  std::string out;
  EmitFn emit = [&](const protocol::StreamEvent& e) {
    if (auto* t = std::get_if<protocol::TextDelta>(&e)) out += "text[" + t->text + "] ";
    if (auto* c = std::get_if<protocol::ToolCallReady>(&e)) {
      out += "call[" + c->call.id + "|" + c->call.name + "|" + c->call.arguments_json + "] ";
    }
    if (auto* u = std::get_if<protocol::UsageReport>(&e)) {
      out += "usage[" + std::to_string(u->usage.input_tokens) + "," +
             std::to_string(u->usage.output_tokens) + "," +
             std::to_string(u->usage.cached_input_tokens) + "] ";
    }
  };
  auto error = [&](const protocol::ModelError& e) {
    return out + "error[" + std::to_string(static_cast<int>(e.kind)) + "," +
           std::to_string(e.http_status) + "," + e.message + "]";
  };
  for (const std::string& data : events) {
    if (auto e = decoder->OnEvent(net::SseEvent{event_name, data, ""}, emit)) return error(*e);
  }
  auto r = decoder->Finish(emit);
  if (!r) return error(r.error());
  return out + "reply[" + r->model + "|" + r->text + "|" + std::to_string(r->tool_calls.size()) +
         "|" + std::to_string(static_cast<int>(r->stop_reason)) + "|" +
         std::to_string(r->saw_done) + "]";
}

const std::string kFinish = R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})";

// `chunk` alone, and inside a stream (after a first chunk that sets the
// model, before the finish), must come out the same on both paths.
void ExpectSameOnBothPaths(const std::string& chunk) {
  SCOPED_TRACE(chunk);
  const std::string first =
      R"({"model":"first","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})";
  for (const std::vector<std::string>& stream :
       {std::vector<std::string>{chunk, kFinish},
        std::vector<std::string>{first, chunk, chunk, kFinish, "[DONE]"},
        std::vector<std::string>{chunk}}) {
    ASSERT_EQ(Transcript(stream, true), Transcript(stream, false));
  }
  ASSERT_EQ(Transcript({chunk, kFinish}, true, "error"),
            Transcript({chunk, kFinish}, false, "error"));
}

bool Scans(std::string_view data, std::string* content = nullptr) {
  PlainContentChunk out;
  bool ok = ScanPlainContentChunk(data, out);
  if (ok && content != nullptr) *content = out.content;
  return ok;
}

TEST(OpenAIFastChunk, TakesTheTypicalContentChunk) {
  std::string content;
  EXPECT_TRUE(Scans(
      R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1732000000,"model":"gpt-4.1",)"
      R"("system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,)"
      R"("finish_reason":null}],"usage":null})",
      &content));
  EXPECT_EQ(content, " the");
  PlainContentChunk out;
  ASSERT_TRUE(ScanPlainContentChunk(
      R"( {"choices":[{"delta":{"role":"assistant","content":"x"}}],"model":"m"} )", out));
  EXPECT_EQ(out.content, "x");
  EXPECT_TRUE(out.has_model);
  EXPECT_EQ(out.model, "m");
}

TEST(OpenAIFastChunk, UnescapesLikeJson) {
  std::string content;
  ASSERT_TRUE(Scans(R"({"choices":[{"delta":{"content":"a\"b\\c\/d\b\f\n\r\t"}}]})", &content));
  EXPECT_EQ(content, "a\"b\\c/d\b\f\n\r\t");
  ASSERT_TRUE(
      Scans(R"({"choices":[{"delta":{"content":"\u00e9\u20AC\ud83d\ude00\u0000."}}]})", &content));
  EXPECT_EQ(content, std::string("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\0.", 11));
  ASSERT_TRUE(Scans("{\"choices\":[{\"delta\":{\"content\":\"\xE6\x97\xA5\xF0\x9F\x98\x80\"}}]}",
                    &content));
  EXPECT_EQ(content, "\xE6\x97\xA5\xF0\x9F\x98\x80");
}

TEST(OpenAIFastChunk, RefusesEverythingButPlainContent) {
  for (const char* data : {
           R"({"choices":[{"delta":{"tool_calls":[]}}]})",
           R"({"choices":[{"delta":{"content":"a"},"finish_reason":"stop"}]})",
           R"({"choices":[{"delta":{"content":"a"}}],"usage":{"prompt_tokens":1}})",
           R"({"choices":[{"delta":{"content":"a"}}],"error":null})",
           R"({"choices":[{"delta":{"content":"a"}}],"x_groq":{}})",
           R"({"choices":[{"index":1,"delta":{"content":"a"}}]})",
           R"({"choices":[{"delta":{"content":"a"}},{"delta":{"content":"b"}}]})",
           R"({"choices":[]})",
           R"({"choices":[{"delta":{"content":"a","content":"b"}}]})",
           R"({"choices":[{"delta":{"c\u006fntent":"a"}}]})",
           R"({"choices":[{"delta":{"content":"\ud800"}}]})",
           R"({"choices":[{"delta":{"content":"a"}}]} x)",
           R"({"choices":[{"delta":{"content":"a"}}],})",
           "{\"choices\":[{\"delta\":{\"content\":\"\xC0\xAF\"}}]}",
           R"({"model":"m"})",
       }) {
    EXPECT_FALSE(Scans(data)) << data;
  }
}

// Chunk shapes from PROTOCOLS.md §1 and its deviations, with every content
// spelling worth checking.
std::vector<std::string> Shapes() {
  const std::vector<std::string> contents = {R"("plain")",
                                             R"("")",
                                             "null",
                                             R"("\n\t\"q\"\\")",
                                             R"("\u00e9\u4e2d\ud83d\ude00")",
                                             R"("\u0000")",
                                             R"("\ud83d")",
                                             R"("\udc00")",
                                             "\"\xE4\xB8\xAD\xF0\x9F\x98\x80\"",
                                             "\"\xED\xA0\x80\"",
                                             "42",
                                             "[\"x\"]",
                                             R"("\x")",
                                             "\"raw\ttab\""};
  const std::vector<std::string> choice_tails = {
      "",
      R"(,"finish_reason":null)",
      R"(,"logprobs":null,"finish_reason":null)",
      R"(,"finish_reason":"stop")",
      R"(,"finish_reason":"length")",
      R"(,"finish_reason":null,"finish_reason":"stop")",
      R"(,"index":0)",
      R"(,"index":1)",
      R"(,"index":0.0)",
      R"(,"index":"0")",
      R"(,"index":-0)",
  };
  const std::vector<std::string> tops = {
      R"("id":"c","object":"chat.completion.chunk","created":1,"model":"m-2",)",
      R"("model":7,)",
      R"("model":"a","model":"b",)",
      R"("usage":null,)",
      R"("usage":{"prompt_tokens":3,"completion_tokens":2},)",
      R"("error":null,)",
      R"("error":{"message":"boom","type":"server_error"},)",
      R"("x_groq":{"id":"q","usage":{"prompt_tokens":5}},)",
      R"("obfuscation":"k\u00e9y","service_tier":"default","nested":{"a":[1,-2.5e3,true,false,null,{}]},)",
      "",
  };
  const std::vector<std::string> deltas = {
      R"({"content":%s})",
      R"({"role":"assistant","content":%s})",
      R"({"content":%s,"refusal":null,"role":"assistant"})",
      R"({"content":%s,"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":"{}"}}]})",
      R"({"reasoning_content":"hm","content":%s})",
  };
  std::vector<std::string> out;
  for (const std::string& content : contents) {
    for (const std::string& delta_form : deltas) {
      std::string delta = delta_form;
      delta.replace(delta.find("%s"), 2, content);
      for (const std::string& top : tops) {
        for (const std::string& tail : choice_tails) {
          out.push_back("{" + top + R"("choices":[{"index":0,"delta":)" + delta + tail + "}]}");
          // Reordered: choices first, delta last.
          std::string t = tail.empty() ? "" : tail.substr(1) + ",";
          std::string rest = top.empty() ? "" : "," + top.substr(0, top.size() - 1);
          out.push_back(R"({"choices":[{)" + t + R"("delta":)" + delta + "}]" + rest + "}");
        }
      }
    }
  }
  return out;
}

TEST(OpenAIFastChunk, EmitsWhatTheFullParseEmitsForEveryShape) {
  size_t fast = 0;
  for (const std::string& chunk : Shapes()) {
    ExpectSameOnBothPaths(chunk);
    if (testing::Test::HasFatalFailure()) return;
    fast += Scans(chunk) ? 1 : 0;
  }
  EXPECT_GT(fast, 100u);  // the fast path was really exercised
}

// Every prefix of a few chunks, and every byte replaced by a character that
// matters to JSON: malformed input must fail the same way on both paths.
TEST(OpenAIFastChunk, MalformedChunksFailAsTheFullParseFails) {
  const std::vector<std::string> seeds = {
      R"({"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"h\u00e9 \ud83d\ude00\n"},"finish_reason":null}],"usage":null})",
      R"( {"choices":[{"delta":{"role":"assistant","content":"x"},"logprobs":{"a":[1.5e-3,-0,true]}}],"o":[]} )",
  };
  const std::string replacements = "\"\\{}[],:0-.eEu \x01\x80\xC3";
  for (const std::string& seed : seeds) {
    ASSERT_TRUE(Scans(seed)) << seed;
    for (size_t i = 0; i < seed.size(); ++i) {
      ExpectSameOnBothPaths(seed.substr(0, i));
      for (char r : replacements) {
        std::string mutated = seed;
        mutated[i] = r;
        ExpectSameOnBothPaths(mutated);
        mutated.insert(i, 1, r);
        ExpectSameOnBothPaths(mutated);
      }
      if (testing::Test::HasFatalFailure()) return;
    }
  }
}

TEST(OpenAIFastChunk, DeepNestingFallsBackToTheFullParse) {
  std::string deep = R"({"choices":[{"delta":{"content":"a"}}],"x":)" + std::string(200, '[') +
                     std::string(200, ']') + "}";
  EXPECT_FALSE(Scans(deep));
  ExpectSameOnBothPaths(deep);
}

}  // namespace
}  // namespace tandem::providers
