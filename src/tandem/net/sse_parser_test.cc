#include "tandem/net/sse_parser.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tandem::net {
namespace {

struct Ev {
  std::string event;
  std::string data;
  bool operator==(const Ev& o) const { return event == o.event && data == o.data; }
};

std::ostream& operator<<(std::ostream& os, const Ev& e) {
  return os << "{event=" << e.event << ", data=" << e.data << "}";
}

// Feeds `chunks` one after another and collects the events.
std::vector<Ev> ParseChunks(const std::vector<std::string_view>& chunks, bool finish = true) {
  std::vector<Ev> out;
  SseParser parser([&](const SseEvent& e) { out.push_back({std::string(e.event), std::string(e.data)}); });
  for (std::string_view c : chunks) parser.Feed(c);
  if (finish) parser.Finish();
  return out;
}

std::vector<Ev> Parse(std::string_view all) { return ParseChunks({all}); }

// A stream as OpenAI sends it (abridged from the SDK's recorded fixtures),
// with a keep-alive comment and a multi-byte character in the text.
constexpr std::string_view kOpenAIStream =
    ": keep-alive\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\"Gr\xC3\xBC\xC3\x9F\x65 \xE2\x82\xAC \xF0\x9F\x98\x80\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_a\",\"type\":\"function\",\"function\":"
    "{\"name\":\"read_file\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"path\\\":\"}}]},"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"a.py\\\"}\"}}]},"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[],"
    "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}\n\n"
    "data: [DONE]\n\n";

// An Anthropic stream with CRLF line ends, a ping and an unknown event.
constexpr std::string_view kAnthropicStream =
    "event: message_start\r\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":"
    "\"assistant\",\"content\":[],\"model\":\"claude\",\"stop_reason\":null,\"usage\":"
    "{\"input_tokens\":25,\"output_tokens\":1}}}\r\n\r\n"
    "event: content_block_start\r\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\","
    "\"text\":\"\"}}\r\n\r\n"
    "event: ping\r\n"
    "data: {\"type\": \"ping\"}\r\n\r\n"
    "event: content_block_delta\r\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
    "\"text\":\"Hello \xE4\xB8\x96\xE7\x95\x8C\"}}\r\n\r\n"
    "event: content_block_stop\r\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\r\n\r\n"
    "event: content_block_start\r\n"
    "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\","
    "\"id\":\"toolu_1\",\"name\":\"read_file\",\"input\":{}}}\r\n\r\n"
    "event: content_block_delta\r\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\","
    "\"partial_json\":\"{\\\"path\\\": \\\"a.py\\\"}\"}}\r\n\r\n"
    "event: future_event\r\n"
    "data: {}\r\n\r\n"
    "event: content_block_stop\r\n"
    "data: {\"type\":\"content_block_stop\",\"index\":1}\r\n\r\n"
    "event: message_delta\r\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":"
    "{\"output_tokens\":15}}\r\n\r\n"
    "event: message_stop\r\n"
    "data: {\"type\":\"message_stop\"}\r\n\r\n";

void ExpectSameAtEverySplit(std::string_view stream, size_t expected_events) {
  const std::vector<Ev> whole = Parse(stream);
  ASSERT_EQ(whole.size(), expected_events);
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    ASSERT_EQ(ParseChunks({stream.substr(0, cut), stream.substr(cut)}), whole) << "cut at " << cut;
  }
  for (size_t a = 1; a < stream.size(); a += 37) {  // two cuts
    for (size_t b = a; b <= stream.size(); b += 11) {
      ASSERT_EQ(ParseChunks({stream.substr(0, a), stream.substr(a, b - a), stream.substr(b)}), whole)
          << "cuts at " << a << "," << b;
    }
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < stream.size(); ++i) bytes.push_back(stream.substr(i, 1));
  ASSERT_EQ(ParseChunks(bytes), whole);
}

TEST(SseParser, OpenAIStreamGivesSameEventsAtEveryChunkBoundary) {
  ExpectSameAtEverySplit(kOpenAIStream, 8);
  std::vector<Ev> events = Parse(kOpenAIStream);
  EXPECT_EQ(events.back(), (Ev{"", "[DONE]"}));
  EXPECT_NE(events[1].data.find("Gr\xC3\xBC\xC3\x9F\x65 \xE2\x82\xAC \xF0\x9F\x98\x80"), std::string::npos);
}

TEST(SseParser, AnthropicStreamGivesSameEventsAtEveryChunkBoundary) {
  ExpectSameAtEverySplit(kAnthropicStream, 11);
  std::vector<Ev> events = Parse(kAnthropicStream);
  EXPECT_EQ(events[0].event, "message_start");
  EXPECT_EQ(events[2], (Ev{"ping", "{\"type\": \"ping\"}"}));
  EXPECT_EQ(events[3].data,
            "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\","
            "\"text\":\"Hello \xE4\xB8\x96\xE7\x95\x8C\"}}");
  EXPECT_EQ(events.back().event, "message_stop");
}

TEST(SseParser, Utf8CharacterSplitAcrossFeedsArrivesWhole) {
  // "€" is E2 82 AC; split it in every possible way.
  const std::string s = "data: \xE2\x82\xAC\n\n";
  for (size_t a = 7; a <= 8; ++a) {
    std::vector<Ev> ev = ParseChunks({std::string_view(s).substr(0, a), std::string_view(s).substr(a)});
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].data, "\xE2\x82\xAC");
  }
}

TEST(SseParser, IgnoresCommentLines) {
  EXPECT_EQ(Parse(": ping\n:\ndata: x\n: mid-event comment\n\n"), (std::vector<Ev>{{"", "x"}}));
  EXPECT_TRUE(Parse(": only a comment\n\n").empty());
}

TEST(SseParser, JoinsMultiLineDataWithNewline) {
  EXPECT_EQ(Parse("data: a\ndata: b\ndata:\ndata: c\n\n"), (std::vector<Ev>{{"", "a\nb\n\nc"}}));
}

TEST(SseParser, SpaceAfterColonIsOptionalAndOnlyOneIsDropped) {
  EXPECT_EQ(Parse("data:x\n\ndata:  y\n\n"), (std::vector<Ev>{{"", "x"}, {"", " y"}}));
}

TEST(SseParser, AcceptsCrLfAndBareCrLineEnds) {
  EXPECT_EQ(Parse("event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\rdata: 3\n\n"),
            (std::vector<Ev>{{"a", "1"}, {"b", "2"}, {"", "3"}}));
}

TEST(SseParser, CrLfSplitAcrossFeedsIsOneLineEnd) {
  // If the LF after a CR at a feed's end were a new line, "data: 2" would be
  // dispatched early as its own event and the two lines would not join.
  EXPECT_EQ(ParseChunks({"data: 1\r", "\ndata: 2\r", "\n\r", "\n"}), (std::vector<Ev>{{"", "1\n2"}}));
}

TEST(SseParser, EventWithoutDataIsDelivered) {
  EXPECT_EQ(Parse("event: ping\n\n"), (std::vector<Ev>{{"ping", ""}}));
}

TEST(SseParser, DoneIsAnOrdinaryEventAndStreamMayEndWithoutIt) {
  EXPECT_EQ(Parse("data: {}\n\n"), (std::vector<Ev>{{"", "{}"}}));
  EXPECT_EQ(Parse("data: [DONE]\n\n"), (std::vector<Ev>{{"", "[DONE]"}}));
}

TEST(SseParser, FinishDispatchesCompleteLinesButDropsCutLine) {
  EXPECT_EQ(ParseChunks({"data: a\n"}), (std::vector<Ev>{{"", "a"}}));
  EXPECT_EQ(ParseChunks({"data: a\n\ndata: {\"cut"}), (std::vector<Ev>{{"", "a"}}));
  EXPECT_TRUE(ParseChunks({"data: a\n"}, /*finish=*/false).empty());
}

TEST(SseParser, EventNameResetsAfterDispatch) {
  EXPECT_EQ(Parse("event: x\ndata: 1\n\ndata: 2\n\n"), (std::vector<Ev>{{"x", "1"}, {"", "2"}}));
}

TEST(SseParser, FieldWithoutColonHasEmptyValue) {
  EXPECT_EQ(Parse("data\ndata\n\n"), (std::vector<Ev>{{"", "\n"}}));
}

TEST(SseParser, SkipsLeadingBomEvenWhenSplit) {
  EXPECT_EQ(ParseChunks({"\xEF\xBB", "\xBF" "data: a\n\n"}), (std::vector<Ev>{{"", "a"}}));
}

TEST(SseParser, JsonWithLineSeparatorIsKept) {
  // U+2028 must not be treated as a line end (the OpenAI SDK tests this).
  EXPECT_EQ(Parse("data: {\"t\":\"a\xE2\x80\xA8" "b\"}\n\n"), (std::vector<Ev>{{"", "{\"t\":\"a\xE2\x80\xA8" "b\"}"}}));
}

TEST(SseParser, CountsBytesFed) {
  SseParser parser([](const SseEvent&) {});
  parser.Feed("data: a");
  parser.Feed("\n\n");
  EXPECT_EQ(parser.bytes_fed(), 9u);
}

}  // namespace
}  // namespace tandem::net
