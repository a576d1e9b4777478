#include "tandem/base/redact.h"

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(Redactor, RegisteredSecretIsReplacedEverywhere) {
  Redactor::Register("my-very-secret-value-123");
  EXPECT_EQ(Redactor::Apply("a my-very-secret-value-123 b my-very-secret-value-123"),
            "a [REDACTED] b [REDACTED]");
}

TEST(Redactor, KeyShapedTokensAreReplacedEvenWhenUnregistered) {
  EXPECT_EQ(Redactor::Apply("Authorization: Bearer sk-abcdefghijklmnopqrstuvwx"),
            "Authorization: Bearer [REDACTED]");
  EXPECT_EQ(Redactor::Apply("key=gsk_ABCDEFGHIJKLMNOPQRSTUV end"), "key=[REDACTED] end");
}

TEST(Redactor, ShortSecretsAndOrdinaryWordsAreLeftAlone) {
  Redactor::Register("abc");
  EXPECT_EQ(Redactor::Apply("abc sk-short task-list"), "abc sk-short task-list");
}

TEST(Redactor, ProviderAndCloudKeyShapesAreReplaced) {
  for (const char* key : {"ghp_0123456789abcdefghijABCDEFGHIJ012345", "github_pat_11ABCDEFG0123456789_abcdef",
                          "AKIAIOSFODNN7EXAMPLE", "xoxb-123456789012-abcdefghijkl",
                          "AIzaSyA-0123456789abcdefghijklmnopqrstu", "glpat-abcdefghij0123456789"}) {
    EXPECT_EQ(Redactor::Apply(std::string("token ") + key + " end"), "token [REDACTED] end") << key;
    EXPECT_TRUE(Redactor::HasSecretShape(key)) << key;
  }
}

TEST(Redactor, UrlPasswordsAreReplacedAndTheRestOfTheUrlKept) {
  EXPECT_EQ(Redactor::Apply("DATABASE_URL=postgres://app:hunter2-canary@db.internal:5432/app"),
            "DATABASE_URL=postgres://app:[REDACTED]@db.internal:5432/app");
  EXPECT_TRUE(Redactor::HasSecretShape("https://user:pw@example.com/"));
  EXPECT_FALSE(Redactor::HasSecretShape("https://example.com:8443/path@v2"));
  EXPECT_FALSE(Redactor::HasSecretShape("/usr/local/bin:/usr/bin"));
  EXPECT_EQ(Redactor::Apply("see http://localhost:8080/x and a@b"), "see http://localhost:8080/x and a@b");
}

// RFC 4648 base64 (with padding), written out here independently of the
// redactor's own fragment code.
std::string Base64(std::string_view in, bool url = false) {
  const char* abc = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                        : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += abc[(v >> s) & 63];
  }
  if (in.size() - i == 1) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += "==";
  } else if (in.size() - i == 2) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += abc[(v >> 18) & 63];
    out += abc[(v >> 12) & 63];
    out += abc[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string Hex(std::string_view in, bool upper = false) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  for (unsigned char c : in) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// A command or a model can print a secret base64-encoded: wherever the
// secret sits in the encoded bytes (three alignments), before padding or
// more data, the word that holds it is replaced.
TEST(Redactor, ARegisteredSecretIsRedactedInBase64AtEveryAlignment) {
  const std::string secret = "b64-canary-Secret-9d1f";
  Redactor::Register(secret);
  for (std::string prefix : {"", "a", "ab", "abc", "{\"k\":\""}) {
    for (std::string suffix : {"", "z", "zz", "\"}\n"}) {
      for (bool url : {false, true}) {
        const std::string encoded = Base64(prefix + secret + suffix, url);
        const std::string text = "token: " + encoded + " (end)";
        EXPECT_EQ(Redactor::Apply(text), "token: [REDACTED] (end)")
            << "prefix '" << prefix << "' suffix '" << suffix << "' url " << url << ": " << text;
      }
    }
  }
  // Without padding, as URL-safe encoders often write it.
  std::string bare = Base64("x" + secret, true);
  while (bare.back() == '=') bare.pop_back();
  EXPECT_EQ(Redactor::Apply("id=" + bare + "&next=1"), "id=[REDACTED]&next=1");
}

TEST(Redactor, ARegisteredSecretIsRedactedInHex) {
  const std::string secret = "hex-canary-Secret-77e0";
  Redactor::Register(secret);
  EXPECT_EQ(Redactor::Apply("dump " + Hex(secret) + " done"), "dump [REDACTED] done");
  EXPECT_EQ(Redactor::Apply("DUMP " + Hex("\x01" + secret + "\n", true) + ";"), "DUMP [REDACTED];");
}

// `base64` wraps at 76 columns (and `xxd -p` at 60): the secret's encoding
// is then split over lines, and each line alone holds only part of it.
TEST(Redactor, ABase64EncodingWrappedOverLinesIsRedactedWhole) {
  const std::string secret = "wrapped-canary-Secret-0a5c";
  Redactor::Register(secret);
  for (const char* eol : {"\n", "\r\n"}) {
    for (size_t shift = 0; shift < 60; shift += 7) {
      const std::string encoded = Base64(std::string(shift, '.') + "k=" + secret + "\nmore text\n");
      std::string wrapped;
      for (size_t at = 0; at < encoded.size(); at += 76) wrapped += encoded.substr(at, 76) + eol;
      const std::string out = Redactor::Apply("$ base64 found.txt" + std::string(eol) + wrapped + "$ ");
      EXPECT_EQ(out, "$ base64 found.txt" + std::string(eol) + "[REDACTED]" + eol + "$ ")
          << "shift " << shift << ":\n" << wrapped;
    }
  }
  const std::string hex = Hex("xxxxxxxxxx" + secret + "yyyyyyyyyy");  // 92 digits: two lines
  std::string hex_lines;
  for (size_t at = 0; at < hex.size(); at += 60) hex_lines += hex.substr(at, 60) + "\n";
  EXPECT_EQ(Redactor::Apply(hex_lines), "[REDACTED]\n") << hex_lines;
}

// Encodings of text that holds no registered secret, prose split over
// lines, and hex that is not one stay as they are.
TEST(Redactor, OrdinaryBase64HexAndProseAreLeftAlone) {
  Redactor::Register("left-alone-canary-31b7");
  const std::string text = "Content: " + Base64("hello world, nothing to see here at all") +
                           "\ncommit 0123456789abcdef0123456789abcdef01234567\n" +
                           "averyveryverylongwordthatgoeson\nandcontinueshere on the next line\n" +
                           Base64(std::string(200, 'q')) + "\n";
  EXPECT_EQ(Redactor::Apply(text), text);
}

TEST(Redactor, OverlappingSecretsAreAllCovered) {
  Redactor::Register("overlap-canary-AAAA");
  Redactor::Register("AAAA-overlap-tail-BB");
  EXPECT_EQ(Redactor::Apply("x overlap-canary-AAAA-overlap-tail-BB y"), "x [REDACTED] y");
  EXPECT_EQ(Redactor::Apply("overlap-canary-AAAA"), "[REDACTED]");
}

}  // namespace
}  // namespace tandem
