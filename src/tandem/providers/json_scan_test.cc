#include "tandem/providers/json_scan.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tandem/providers/openai_fast_chunk.h"

namespace tandem::providers {
namespace {

bool ScansAsValue(std::string_view text) {
  JsonScanner s(text);
  return s.Value(0) && s.AtEnd();
}

bool NlohmannAccepts(std::string_view text) {
  return !nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false).is_discarded();
}

// The scanner's contract: nothing nlohmann rejects gets through.
TEST(JsonScan, AcceptsOnlyWhatNlohmannAccepts) {
  const std::vector<std::string> texts = {
      "0", "-0", "1.5", "-2.5e-3", "1E+2", "1e999", "-1e400", "1e-400", "1e308", "2e308",
      std::string(400, '9'), std::string(300, '9'), "01", "1.", ".5", "-", "+1", "1e", "0x1",
      "true", "tru", "nul", "null", R"("a\u00e9\ud83d\ude00")", R"("\ud83d")", R"("\udc00x")",
      "\"\xF4\x90\x80\x80\"", "\"\xF4\x8F\xBF\xBF\"", "\"\xE0\x80\xAF\"", R"([1,2,])", R"({"a":1,})",
      R"({"a" 1})", R"({"a":[{"b":null}],"c":{}})", "[", "{", R"("\q")", "\"a\nb\"",
  };
  for (const std::string& text : texts) {
    if (ScansAsValue(text)) {
      EXPECT_TRUE(NlohmannAccepts(text)) << text;
    }
  }
  EXPECT_TRUE(ScansAsValue("1e308"));
  EXPECT_TRUE(ScansAsValue(std::string(300, '9')));
  EXPECT_FALSE(ScansAsValue("1e999"));
  EXPECT_FALSE(ScansAsValue(std::string(400, '9')));
}

TEST(JsonScan, UnescapesAsNlohmannDoes) {
  for (const char* text : {R"("plain")", R"("a\"b\\c\/d\b\f\n\r\t")", R"("\u00e9\u20AC\ud83d\ude00\u0000.")",
                           "\"\xE6\x97\xA5\xF0\x9F\x98\x80\""}) {
    JsonScanner s(text);
    std::string out;
    ASSERT_TRUE(s.String(&out)) << text;
    EXPECT_EQ(out, nlohmann::json::parse(text).get<std::string>());
  }
}

TEST(JsonScan, RawStringRefusesEscapes) {
  std::string_view out;
  JsonScanner plain(R"("key")");
  ASSERT_TRUE(plain.RawString(out));
  EXPECT_EQ(out, "key");
  JsonScanner escaped(R"("k\u0065y")");
  EXPECT_FALSE(escaped.RawString(out));
}

TEST(JsonScan, SmallUintTakesOnlyPlainIntegers) {
  int64_t v = -1;
  JsonScanner ok(" 123456789012345678,");
  ASSERT_TRUE(ok.SmallUint(v));
  EXPECT_EQ(v, 123456789012345678);
  for (const char* text : {"1234567890123456789", "-1", "01", "1.0", "1e2", "x", ""}) {
    JsonScanner s(text);
    EXPECT_FALSE(s.SmallUint(v)) << text;
  }
}

// A regression the shared scanner fixed: an overflowing number in a field
// the OpenAI fast path skips made it emit text where the full parse fails.
TEST(JsonScan, OpenAIFastPathRefusesAChunkWithAnOverflowingNumber) {
  PlainContentChunk out;
  EXPECT_FALSE(ScanPlainContentChunk(R"({"x":1e999,"choices":[{"delta":{"content":"a"}}]})", out));
  EXPECT_TRUE(ScanPlainContentChunk(R"({"x":1e99,"choices":[{"delta":{"content":"a"}}]})", out));
}

}  // namespace
}  // namespace tandem::providers
