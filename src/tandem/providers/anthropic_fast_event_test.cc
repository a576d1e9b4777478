#include "tandem/providers/anthropic_fast_event.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace tandem::providers {
namespace {

// One SSE event: name and data.
using Ev = std::pair<std::string, std::string>;

// Everything a decoder tells its caller, as text: emitted events, an error
// from OnEvent or Finish, and the assembled reply.
std::string Transcript(const std::vector<Ev>& events, bool fast_path) {
  auto decoder = NewAnthropicStreamDecoder("test", fast_path);
  std::string out;
  EmitFn emit = [&](const protocol::StreamEvent& e) {
    if (auto* t = std::get_if<protocol::TextDelta>(&e)) out += "text[" + t->text + "] ";
    if (auto* c = std::get_if<protocol::ToolCallReady>(&e)) {
      out += "call[" + c->call.id + "|" + c->call.name + "|" + c->call.arguments_json + "] ";
    }
    if (auto* u = std::get_if<protocol::UsageReport>(&e)) {
      out += "usage[" + std::to_string(u->usage.input_tokens) + "," + std::to_string(u->usage.output_tokens) +
             "," + std::to_string(u->usage.cached_input_tokens) + "] ";
    }
  };
  auto error = [&](const protocol::ModelError& e) {
    return out + "error[" + std::to_string(static_cast<int>(e.kind)) + "," + std::to_string(e.http_status) + "," +
           e.message + "]";
  };
  for (const auto& [name, data] : events) {
    if (auto e = decoder->OnEvent(net::SseEvent{name, data, ""}, emit)) return error(*e);
  }
  auto r = decoder->Finish(emit);
  if (!r) return error(r.error());
  return out + "reply[" + r->model + "|" + r->text + "|" + std::to_string(r->tool_calls.size()) + "|" +
         std::to_string(static_cast<int>(r->stop_reason)) + "|" + std::to_string(r->saw_done) + "]";
}

const Ev kStart = {"message_start",
                   R"({"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":9}}})"};
Ev ToolStart(int i) {
  return {"content_block_start", R"({"type":"content_block_start","index":)" + std::to_string(i) +
                                     R"(,"content_block":{"type":"tool_use","id":"t)" + std::to_string(i) +
                                     R"(","name":"f","input":{}}})"};
}
Ev Stop(int i) {
  return {"content_block_stop", R"({"type":"content_block_stop","index":)" + std::to_string(i) + "}"};
}
const Ev kMessageDelta = {"message_delta",
                          R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":5}})"};
const Ev kMessageStop = {"message_stop", R"({"type":"message_stop"})"};

// `data` as a content_block_delta (named, and unnamed so that its "type"
// decides) in streams around it: alone, before the message's end, and
// between open tool_use blocks that it may add arguments to. Both paths must
// tell the same story.
void ExpectSameOnBothPaths(const std::string& data) {
  SCOPED_TRACE(data);
  for (const char* name : {"content_block_delta", ""}) {
    const Ev ev = {name, data};
    for (const std::vector<Ev>& stream : {
             std::vector<Ev>{ev},
             std::vector<Ev>{ev, kMessageDelta, kMessageStop},
             std::vector<Ev>{kStart, ToolStart(0), ToolStart(1), ToolStart(2), ev, Stop(0), Stop(1), Stop(2),
                             kMessageDelta, kMessageStop},
             std::vector<Ev>{kStart, ToolStart(1), ev, ev, kMessageDelta},  // left open: delivered at Finish
         }) {
      ASSERT_EQ(Transcript(stream, true), Transcript(stream, false)) << "event name: '" << name << "'";
    }
  }
}

bool Scans(std::string_view data, BlockDelta* out = nullptr, bool check_type = false) {
  BlockDelta d;
  bool ok = ScanBlockDelta(data, check_type, d);
  if (ok && out != nullptr) *out = d;
  return ok;
}

TEST(AnthropicFastEvent, TakesTextAndToolInputDeltas) {
  BlockDelta d;
  ASSERT_TRUE(Scans(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the"}})", &d,
                    /*check_type=*/true));
  EXPECT_TRUE(d.is_text);
  EXPECT_EQ(d.index, 0);
  EXPECT_EQ(d.text, " the");
  ASSERT_TRUE(Scans(
      R"( {"delta":{"partial_json":"{\"path\": \"a\u00e9\"","type":"input_json_delta"},"index":12,"type":"x"} )", &d));
  EXPECT_FALSE(d.is_text);
  EXPECT_EQ(d.index, 12);
  EXPECT_EQ(d.partial_json, "{\"path\": \"a\xC3\xA9\"");
  ASSERT_TRUE(Scans(R"({"delta":{"type":"input_json_delta"}})", &d));
  EXPECT_EQ(d.index, 0);  // absent index: block 0, as the full parse reads it
  EXPECT_EQ(d.partial_json, "");
}

TEST(AnthropicFastEvent, RefusesEverythingElse) {
  for (const char* data : {
           R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}})",
           R"({"index":0,"delta":{"text":"a"}})",
           R"({"index":0,"delta":{"type":"text_delta","text":null}})",
           R"({"index":0,"delta":{"type":"text_delta","text":"a","text":"b"}})",
           R"({"index":0,"delta":{"type":"text_d\u0065lta","text":"a"}})",
           R"({"index":0,"delta":{"type":"text_delta","type":"text_delta","text":"a"}})",
           R"({"index":0,"delta":{"type":"text_delta","text":"a"},"delta":{}})",
           R"({"index":0,"index":1,"delta":{"type":"text_delta","text":"a"}})",
           R"({"index":-1,"delta":{"type":"input_json_delta","partial_json":"a"}})",
           R"({"index":1.0,"delta":{"type":"input_json_delta","partial_json":"a"}})",
           R"({"index":1e0,"delta":{"type":"input_json_delta","partial_json":"a"}})",
           R"({"index":"1","delta":{"type":"input_json_delta","partial_json":"a"}})",
           R"({"index":1234567890123456789,"delta":{"type":"input_json_delta","partial_json":"a"}})",
           R"({"index":0,"delta":"text"})",
           R"({"index":0})",
           R"({"index":0,"delta":{"type":"text_delta","text":"a"}} x)",
           R"({"index":0,"delta":{"type":"text_delta","text":"a"},"n":1e999})",
           R"({"index":0,"delta":{"type":"text_delta","text":"\ud800"}})",
           "{\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\xC0\xAF\"}}",
           "\xEF\xBB\xBF{\"delta\":{\"type\":\"text_delta\",\"text\":\"a\"}}",
           R"([])",
       }) {
    EXPECT_FALSE(Scans(data)) << data;
  }
  // Without an event name the data's "type" decides, so it must be there.
  for (const char* data : {
           R"({"index":0,"delta":{"type":"text_delta","text":"a"}})",
           R"({"type":"content_block_start","index":0,"delta":{"type":"text_delta","text":"a"}})",
           R"({"type":"content_block_delt\u0061","delta":{"type":"text_delta","text":"a"}})",
           R"({"type":"content_block_delta","type":"content_block_delta","delta":{"type":"text_delta","text":"a"}})",
       }) {
    EXPECT_FALSE(Scans(data, nullptr, /*check_type=*/true)) << data;
  }
}

// Event shapes from PROTOCOLS.md §3.4 and beyond, with every spelling of the
// text worth checking.
std::vector<std::string> Shapes() {
  const std::vector<std::string> values = {R"("plain")",
                                           R"("")",
                                           "null",
                                           R"("\n\t\"q\"\\\/")",
                                           R"("\u00e9\u4e2d\ud83d\ude00")",
                                           R"("\u0000")",
                                           R"("\ud83d")",
                                           R"("\udc00")",
                                           "\"\xE4\xB8\xAD\xF0\x9F\x98\x80\"",
                                           "\"\xED\xA0\x80\"",
                                           "42",
                                           "[\"x\"]",
                                           R"("\x")",
                                           "\"raw\ttab\"",
                                           R"("{\"a\": 1}")",
                                           R"("{\"a\"")"};
  const std::vector<std::string> deltas = {
      R"({"type":"text_delta","text":%s})",
      R"({"text":%s,"type":"text_delta"})",
      R"({"type":"input_json_delta","partial_json":%s})",
      R"({"partial_json":%s,"type":"input_json_delta"})",
      R"({"type":"text_delta","text":%s,"partial_json":"{}"})",
      R"({"type":"input_json_delta","text":"t","partial_json":%s})",
      R"({"type":"thinking_delta","thinking":%s})",
      R"({"type":"text_delta","text":%s,"text":"again"})",
      R"({"type":"text_delta","type":"input_json_delta","partial_json":%s})",
      R"({"type":"text_d\u0065lta","text":%s})",
      R"({"text":%s})",
      R"({"type":"text_delta","text":%s,"citations":[{"a":1.5e-3}],"n":1e999})",
      R"({"type":"input_json_delta","partial_json":%s,"x":{"y":[true,false,null,-0]}})",
  };
  const std::vector<std::string> tops = {
      R"("type":"content_block_delta",)",
      R"("type":"content_block_start",)",
      R"("type":"content_block_delt\u0061",)",
      R"("type":7,)",
      R"("type":"content_block_delta","type":"ping",)",
      R"("type":"error","error":{"type":"overloaded_error","message":"Overloaded"},)",
      R"("extra":{"a":[1,-2.5E+3,"\u00e9"]},"big":123456789012345678901234567890,)",
      "",
  };
  const std::vector<std::string> indexes = {
      R"("index":0,)",   R"("index":1,)", R"("index":-1,)", R"("index":1.0,)", R"("index":"1",)",
      R"("index":1,"index":2,)", R"("index":18446744073709551617,)", "",
  };
  std::vector<std::string> out;
  for (const std::string& value : values) {
    for (const std::string& delta_form : deltas) {
      std::string delta = delta_form;
      delta.replace(delta.find("%s"), 2, value);
      for (const std::string& top : tops) {
        for (const std::string& index : indexes) {
          // Each varied against the other's usual form, not every pair.
          if (top != tops[0] && index != indexes[0]) continue;
          out.push_back("{" + top + index + R"("delta":)" + delta + "}");
          // Reordered: delta first.
          std::string reordered = R"({"delta":)" + delta;
          if (!top.empty() || !index.empty()) {
            reordered += ",";
            reordered += top;
            reordered += index;
            reordered.back() = '}';  // the trailing comma
          } else {
            reordered += "}";
          }
          out.push_back(std::move(reordered));
        }
      }
    }
  }
  for (const char* odd : {R"({"index":0,"delta":"text"})", R"({"index":0,"delta":null})", R"({"index":0,"delta":[]})",
                          R"({"index":0})", "[]", "7", R"("x")", "{}"}) {
    out.push_back(odd);
  }
  return out;
}

TEST(AnthropicFastEvent, EmitsWhatTheFullParseEmitsForEveryShape) {
  size_t fast = 0;
  for (const std::string& data : Shapes()) {
    ExpectSameOnBothPaths(data);
    if (testing::Test::HasFatalFailure()) return;
    fast += Scans(data) ? 1 : 0;
  }
  EXPECT_GT(fast, 500u);  // the fast path was really exercised
}

// Every prefix of a few events, and every byte replaced by (or preceded by)
// a character that matters to JSON: malformed input must fail the same way
// on both paths.
TEST(AnthropicFastEvent, MalformedEventsFailAsTheFullParseFails) {
  const std::vector<std::string> seeds = {
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"h\u00e9 \ud83d\ude00\n"}})",
      R"( {"index":1,"delta":{"type":"input_json_delta","partial_json":"{\"p\": [1.5e-3, -0, true]}"},"type":"content_block_delta"} )",
  };
  const std::string replacements = "\"\\{}[],:0-.eEu \x01\x80\xC3";
  for (const std::string& seed : seeds) {
    ASSERT_TRUE(Scans(seed, nullptr, /*check_type=*/true)) << seed;
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

TEST(AnthropicFastEvent, DeepNestingFallsBackToTheFullParse) {
  std::string deep = R"({"delta":{"type":"text_delta","text":"a"},"x":)" + std::string(200, '[') +
                     std::string(200, ']') + "}";
  EXPECT_FALSE(Scans(deep));
  ExpectSameOnBothPaths(deep);
}

}  // namespace
}  // namespace tandem::providers
