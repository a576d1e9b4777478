// libFuzzer target for secret redaction (base/redact.h): command output,
// gate output, MCP results and provider errors are any bytes, and a secret
// may sit in them raw, base64- or hex-encoded, or wrapped over lines.
//
// Three secrets are registered once (fuzz/redact_fuzz.dict holds them and
// their encodings, so the fuzzer splices them into inputs). The input is the
// text. Properties checked beyond "no crash, no sanitizer report":
//   - the output holds no registered secret, and no standard or URL-safe
//     base64 (at offset 0: every character the secret alone determines) or
//     hex (either case) encoding of one, as a whole;
//   - redaction is a fixed point: Apply(Apply(text)) == Apply(text), so a
//     marker never combines with its neighbours into something redactable;
//   - text with nothing to redact comes back unchanged.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "tandem/base/redact.h"

namespace {

const char* const kSecrets[] = {
    "hunter2-canary-0123456789",
    "s3cr3t/with+base64=chars!",
    "postgres-Passw0rd-aZ09xyQ",
};

std::string Base64(std::string_view in, bool url) {
  const char* a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                      : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += a[(v >> s) & 63];
  }
  // The tail: only the characters the secret alone determines (the next one
  // mixes in whatever byte follows it).
  size_t rest = in.size() - i;
  if (rest >= 1) out += a[uint8_t(in[i]) >> 2];
  if (rest == 2) out += a[((uint8_t(in[i]) & 3) << 4) | (uint8_t(in[i + 1]) >> 4)];
  return out;
}

std::string Hex(std::string_view in, bool upper) {
  const char* d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  for (char c : in) {
    out += d[uint8_t(c) >> 4];
    out += d[uint8_t(c) & 15];
  }
  return out;
}

struct Forbidden {
  std::vector<std::string> all;
  Forbidden() {
    for (const char* s : kSecrets) {
      tandem::Redactor::Register(s);
      all.push_back(s);
      all.push_back(Base64(s, false));
      all.push_back(Base64(s, true));
      all.push_back(Hex(s, false));
      all.push_back(Hex(s, true));
    }
  }
};

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  tandem::fuzz::Fail("redact_fuzz", what, detail);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Forbidden forbidden;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string once = tandem::Redactor::Apply(text);
  for (const std::string& f : forbidden.all) {
    if (once.find(f) != std::string::npos) Fail("a secret or its encoding left readable", f);
  }
  std::string twice = tandem::Redactor::Apply(once);
  if (twice != once) Fail("redaction is not a fixed point", once + "\n---\n" + twice);
  if (once.find("[REDACTED]") == std::string::npos && once != text) {
    Fail("text changed without a redaction marker", once);
  }
  return 0;
}
