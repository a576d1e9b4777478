// JSON-RPC 2.0 as MCP's stdio transport frames it: one message per line
// (UTF-8 JSON, no embedded newline), read from an untrusted server.
//
// LineReader splits a byte stream into lines with a bound on a line's
// length; ParseMessage turns one line into a Message or a clear error. Both
// treat every input as hostile: huge lines, invalid UTF-8, deep nesting and
// non-JSON give an error value, never a crash or unbounded memory.
//
// Thread-safety: a LineReader is used by one thread at a time; the free
// functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tandem/base/status.h"

namespace tandem::mcp {

inline constexpr size_t kMaxLineBytes = 16 * 1024 * 1024;
inline constexpr int kMaxJsonDepth = 128;

class LineReader {
 public:
  explicit LineReader(size_t max_line_bytes = kMaxLineBytes) : max_(max_line_bytes) {}

  // Appends bytes read from the stream.
  void Feed(std::string_view bytes);

  // The next complete line without its '\n' (and a '\r' before it), nullopt
  // when no line is complete yet. kInvalidArgument when a line is longer than
  // the bound (complete or not); the reader is then broken and every later
  // call returns the same error.
  Result<std::optional<std::string>> Next();

  // Bytes buffered but not yet returned.
  size_t pending() const { return buf_.size() - pos_; }

 private:
  size_t max_;
  std::string buf_;
  size_t pos_ = 0;   // start of the first unread line
  size_t scan_ = 0;  // bytes before this are known to hold no '\n'
  Status broken_;
};

enum class MessageKind { kRequest, kNotification, kResult, kError };

struct Message {
  MessageKind kind = MessageKind::kNotification;
  nlohmann::json id;      // requests and responses: a string or an integer (null in an error without one)
  std::string method;     // requests and notifications
  nlohmann::json params;  // requests and notifications; null when absent
  nlohmann::json result;  // kResult
  int64_t error_code = 0;  // kError
  std::string error_message;
  nlohmann::json error_data;
};

// Parses one line. kInvalidArgument naming what is wrong: not JSON (with
// the parser's reason, e.g. ill-formed UTF-8), nested deeper than
// kMaxJsonDepth, not a JSON-RPC 2.0 object, a bad id, method or error.
// A batch (JSON array) is not part of MCP and is refused.
Result<Message> ParseMessage(std::string_view line);

// `s` with every byte that is not printable ASCII replaced by '?', cut at
// `max` bytes ("..." after): server text inside an error message, which
// must be valid UTF-8 whatever the server sent.
std::string Printable(std::string_view s, size_t max);

// Serialized lines (no trailing newline).
std::string RequestLine(int64_t id, std::string_view method, const nlohmann::json& params);
std::string NotificationLine(std::string_view method, const nlohmann::json& params);
std::string ResultLine(const nlohmann::json& id, const nlohmann::json& result);
std::string ErrorLine(const nlohmann::json& id, int64_t code, std::string_view message);

// Standard JSON-RPC error codes, and MCP's.
inline constexpr int64_t kMethodNotFound = -32601;
inline constexpr int64_t kInvalidParams = -32602;
inline constexpr int64_t kParseError = -32700;
inline constexpr int64_t kUnsupportedProtocolVersion = -32022;  // 2026-07-28

}  // namespace tandem::mcp
