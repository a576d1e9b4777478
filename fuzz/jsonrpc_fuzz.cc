// libFuzzer target for the MCP JSON-RPC reader (mcp/jsonrpc.h): the bytes an
// untrusted MCP server writes on stdout, split into lines and parsed.
//
// Input: byte 0 seeds the chunk sizes, the rest is the stream. Checked
// properties beyond "no crash, no sanitizer report, no exception":
//   - chunking never changes the lines or the error (whole feed vs. chunks);
//   - between feeds the reader holds at most its bound (an unfinished line);
//   - every parsed message is well-formed (ids are strings or integers, a
//     method is set exactly for requests and notifications) and every error
//     message is non-empty valid UTF-8 (it may reach the model).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "tandem/mcp/jsonrpc.h"

namespace {

using tandem::mcp::LineReader;
using tandem::mcp::MessageKind;

constexpr size_t kBound = 4096;
constexpr size_t kMaxChunk = 97;

struct Outcome {
  std::vector<std::string> lines;
  std::string error;
};

Outcome Read(std::string_view stream, uint8_t seed, bool chunked) {
  Outcome out;
  LineReader reader(kBound);
  size_t pos = 0;
  uint32_t state = seed * 2654435761u + 1;
  while (pos < stream.size() && out.error.empty()) {
    size_t n = stream.size();
    if (chunked) {
      state = state * 1103515245u + 12345u;
      n = 1 + (state >> 16) % kMaxChunk;
    }
    reader.Feed(stream.substr(pos, n));
    pos += n;
    for (;;) {
      auto next = reader.Next();
      if (!next) {
        out.error = next.error().message();
        break;
      }
      if (!next->has_value()) break;
      out.lines.push_back(**next);
    }
    if (out.error.empty() && reader.pending() > kBound) {
      tandem::fuzz::Fail("jsonrpc_fuzz", "reader holds more than its bound", "");
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  Outcome whole = Read(stream, data[0], false);
  Outcome chunked = Read(stream, data[0], true);
  // A line past the bound may be caught before its newline arrives in the
  // chunked feed: the lines read before the error are then a prefix.
  if (whole.error.empty() != chunked.error.empty()) {
    tandem::fuzz::Fail("jsonrpc_fuzz", "chunking changed whether the stream is broken", whole.error);
  }
  if (whole.error.empty() && whole.lines != chunked.lines) {
    tandem::fuzz::Fail("jsonrpc_fuzz", "chunking changed the lines", "");
  }
  for (const std::string& line : whole.lines) {
    if (line.size() > kBound) tandem::fuzz::Fail("jsonrpc_fuzz", "a line past the bound", "");
    auto m = tandem::mcp::ParseMessage(line);
    if (!m) {
      const std::string& e = m.error().message();
      if (e.empty() || !tandem::fuzz::IsValidUtf8(e)) {
        tandem::fuzz::Fail("jsonrpc_fuzz", "error message empty or not UTF-8", e);
      }
      continue;
    }
    if (m->kind == MessageKind::kRequest || m->kind == MessageKind::kResult) {
      if (!m->id.is_string() && !m->id.is_number_integer()) {
        tandem::fuzz::Fail("jsonrpc_fuzz", "a request or result without a valid id", line);
      }
    }
    if (m->kind == MessageKind::kNotification && !m->id.is_null()) {
      tandem::fuzz::Fail("jsonrpc_fuzz", "a notification with an id", line);
    }
    // What tandem writes back about it serializes.
    if (tandem::mcp::ResultLine(m->id, m->params).empty()) {
      tandem::fuzz::Fail("jsonrpc_fuzz", "a reply that does not serialize", line);
    }
  }
  return 0;
}
