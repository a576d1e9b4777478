#include "tandem/mcp/jsonrpc.h"

#include <gtest/gtest.h>

namespace tandem::mcp {
namespace {

std::vector<std::string> Lines(LineReader& r) {
  std::vector<std::string> out;
  for (;;) {
    auto next = r.Next();
    EXPECT_TRUE(next.has_value()) << next.error().message();
    if (!next || !next->has_value()) return out;
    out.push_back(**next);
  }
}

TEST(LineReader, SplitsLinesAcrossFeedsAndDropsCarriageReturns) {
  LineReader r;
  r.Feed("{\"a\":1}\r\n{\"b\"");
  EXPECT_EQ(Lines(r), std::vector<std::string>{"{\"a\":1}"});
  r.Feed(":2}\n\n");
  EXPECT_EQ(Lines(r), (std::vector<std::string>{"{\"b\":2}", ""}));
  EXPECT_EQ(r.pending(), 0u);
}

TEST(LineReader, ALineLongerThanTheBoundIsAnErrorEvenBeforeItsNewline) {
  LineReader r(16);
  r.Feed(std::string(17, 'x'));
  auto next = r.Next();
  ASSERT_FALSE(next.has_value());
  EXPECT_NE(next.error().message().find("longer than 16 bytes"), std::string::npos);
  r.Feed("ok\n");  // broken for good: the stream's framing is lost
  EXPECT_FALSE(r.Next().has_value());
}

TEST(LineReader, ALineExactlyAtTheBoundPasses) {
  LineReader r(4);
  r.Feed("abcd\n");
  auto next = r.Next();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(**next, "abcd");
}

TEST(ParseMessage, TellsRequestsNotificationsResultsAndErrorsApart) {
  auto req = ParseMessage(R"({"jsonrpc":"2.0","id":"a","method":"ping"})");
  ASSERT_TRUE(req.has_value());
  EXPECT_EQ(req->kind, MessageKind::kRequest);
  EXPECT_EQ(req->id, "a");
  auto note = ParseMessage(R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"p":1}})");
  ASSERT_TRUE(note.has_value());
  EXPECT_EQ(note->kind, MessageKind::kNotification);
  EXPECT_EQ(note->params["p"], 1);
  auto res = ParseMessage(R"({"jsonrpc":"2.0","id":7,"result":{"ok":true}})");
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->kind, MessageKind::kResult);
  EXPECT_EQ(res->id, 7);
  auto err = ParseMessage(R"({"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"no"}})");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->kind, MessageKind::kError);
  EXPECT_EQ(err->error_code, kMethodNotFound);
  EXPECT_EQ(err->error_message, "no");
}

TEST(ParseMessage, RefusesWhatIsNotJsonRpcWithTheReason) {
  for (std::string_view bad :
       {"not json", "[1,2]", R"({"id":1,"result":{}})", R"({"jsonrpc":"1.0","id":1,"result":{}})",
        R"({"jsonrpc":"2.0","id":1.5,"result":{}})", R"({"jsonrpc":"2.0","id":1,"result":1,"error":{}})",
        R"({"jsonrpc":"2.0","id":1,"error":{"message":"no code"}})", R"({"jsonrpc":"2.0","method":3})",
        R"({"jsonrpc":"2.0"})"}) {
    auto m = ParseMessage(bad);
    EXPECT_FALSE(m.has_value()) << bad;
    if (!m) {
      EXPECT_EQ(m.error().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(ParseMessage, InvalidUtf8IsAnErrorThatSaysSo) {
  auto m = ParseMessage("{\"jsonrpc\":\"2.0\",\"method\":\"x\xff\"}");
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("UTF-8"), std::string::npos) << m.error().message();
}

TEST(ParseMessage, DeepNestingIsRefusedBeforeParsing) {
  std::string deep = R"({"jsonrpc":"2.0","method":"x","params":)" + std::string(100000, '[');
  auto m = ParseMessage(deep);
  ASSERT_FALSE(m.has_value());
  EXPECT_NE(m.error().message().find("nested deeper"), std::string::npos);
}

TEST(ParseMessage, LinesItWritesParseBack) {
  auto m = ParseMessage(RequestLine(3, "tools/call", {{"name", "echo"}}));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->method, "tools/call");
  EXPECT_EQ(m->params["name"], "echo");
  auto e = ParseMessage(ErrorLine(nullptr, kParseError, "bad"));
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->id.is_null());
}

}  // namespace
}  // namespace tandem::mcp
