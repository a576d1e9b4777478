// libFuzzer target for the verify.md parser (a human- or model-edited file).
// Properties checked beyond "no crash, no sanitizer report, no exception":
//   - a verify.md that parses renders to text that parses back to the same
//     gates, and rendering is then a fixed point;
//   - every parsed gate satisfies the documented shape (valid name, positive
//     timeout, a safe relative cwd, `after` naming earlier gates);
//   - a rejected file is kInvalidArgument "line N: ..." with N within the
//     text, so the user can find the problem.
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "tandem/verify/verify_md.h"

namespace {

using tandem::verify::Gate;

void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "verify_md_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

bool ValidName(const std::string& name) {
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

void CheckGates(const std::vector<Gate>& gates) {
  for (size_t i = 0; i < gates.size(); ++i) {
    const Gate& g = gates[i];
    if (!ValidName(g.name)) Fail("invalid gate name accepted", g.name);
    if (g.timeout.count() <= 0) Fail("non-positive timeout accepted", g.name);
    if (g.command.find_first_not_of(" \t\r\n\f\v") == std::string::npos) {
      Fail("blank command accepted", g.name);
    }
    if (!g.cwd.empty() && (g.cwd[0] == '/' || g.cwd.find("..") != std::string::npos)) {
      // ".." inside a name ("a..b") is fine; only a ".." component is not.
      for (const auto& part : std::filesystem::path(g.cwd)) {
        if (part == ".." || g.cwd[0] == '/') Fail("unsafe cwd accepted", g.cwd);
      }
    }
    for (const std::string& dep : g.after) {
      bool earlier = false;
      for (size_t k = 0; k < i; ++k) earlier = earlier || gates[k].name == dep;
      if (!earlier) Fail("'after' names no earlier gate", g.name + " after " + dep);
    }
    for (size_t k = 0; k < i; ++k) {
      if (gates[k].name == g.name) Fail("duplicate gate name accepted", g.name);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tandem::verify;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto gates = ParseVerifyMd(text);
  if (!gates) {
    const tandem::Status& error = gates.error();
    if (error.code() != tandem::StatusCode::kInvalidArgument) {
      Fail("unexpected error code", error.ToString());
    }
    const std::string& m = error.message();
    if (!m.starts_with("line ")) Fail("error does not name a line", m);
    size_t digits = 5;
    while (digits < m.size() && std::isdigit(static_cast<unsigned char>(m[digits]))) ++digits;
    if (digits == 5 || digits > 14 || m.compare(digits, 2, ": ") != 0) {
      Fail("error does not name a line", m);
    }
    long long line = std::stoll(m.substr(5, digits - 5));
    long long lines = 1;
    for (char c : text) lines += c == '\n';
    if (line < 1 || line > lines) Fail("error names a line outside the text", m);
    if (m.size() <= digits + 2) Fail("error has no message after the line", m);
    return 0;
  }
  CheckGates(*gates);
  std::string rendered = RenderVerifyMd(*gates, "Fuzzed.");
  auto again = ParseVerifyMd(rendered);
  if (!again) Fail("rendered verify.md does not parse", again.error().ToString() + "\n" + rendered);
  if (*again != *gates) Fail("round trip changed the gates", rendered);
  if (RenderVerifyMd(*again, "Fuzzed.") != rendered) Fail("render is not a fixed point", rendered);
  return 0;
}
