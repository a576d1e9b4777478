#include "tandem/mcp/jsonrpc.h"

#include <cstring>

namespace tandem::mcp {
namespace {

// Depth of [ and { outside strings; stops counting past the limit.
bool NestsTooDeep(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

bool IsValidId(const nlohmann::json& id) { return id.is_string() || id.is_number_integer(); }

std::string Shorten(std::string_view s) { return Printable(s, 120); }


}  // namespace

std::string Printable(std::string_view s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?';
  }
  if (s.size() > max) out += "...";
  return out;
}
void LineReader::Feed(std::string_view bytes) {
  if (!broken_.ok()) return;
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {  // keep the buffer from growing with consumed lines
    buf_.erase(0, pos_);
    scan_ -= pos_;
    pos_ = 0;
  }
  buf_.append(bytes);
}

Result<std::optional<std::string>> LineReader::Next() {
  if (!broken_.ok()) return broken_;
  const char* base = buf_.data();
  const void* nl = scan_ < buf_.size() ? std::memchr(base + scan_, '\n', buf_.size() - scan_) : nullptr;
  if (nl == nullptr) {
    scan_ = buf_.size();
    if (buf_.size() - pos_ > max_) {
      broken_ = InvalidArgument("a line longer than " + std::to_string(max_) + " bytes");
      buf_.clear();
      buf_.shrink_to_fit();
      pos_ = scan_ = 0;
      return broken_;
    }
    return std::optional<std::string>();
  }
  size_t end = static_cast<size_t>(static_cast<const char*>(nl) - base);
  if (end - pos_ > max_) {
    broken_ = InvalidArgument("a line longer than " + std::to_string(max_) + " bytes");
    buf_.clear();
    pos_ = scan_ = 0;
    return broken_;
  }
  size_t line_end = end;
  if (line_end > pos_ && buf_[line_end - 1] == '\r') --line_end;
  std::string line = buf_.substr(pos_, line_end - pos_);
  pos_ = end + 1;
  scan_ = pos_;
  return std::optional<std::string>(std::move(line));
}

Result<Message> ParseMessage(std::string_view line) {
  if (NestsTooDeep(line)) {
    return InvalidArgument("JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument("not JSON (" + Printable(e.what(), 400) + "): " + Shorten(line));
  }
  if (!j.is_object()) return InvalidArgument("not a JSON-RPC message object: " + Shorten(line));
  auto version = j.find("jsonrpc");
  if (version == j.end() || !version->is_string() || *version != "2.0") {
    return InvalidArgument("missing \"jsonrpc\": \"2.0\": " + Shorten(line));
  }
  Message m;
  auto id = j.find("id");
  auto method = j.find("method");
  if (method != j.end()) {
    if (!method->is_string()) return InvalidArgument("\"method\" is not a string");
    m.method = method->get<std::string>();
    if (auto p = j.find("params"); p != j.end()) {
      if (!p->is_object() && !p->is_array()) return InvalidArgument("\"params\" is not an object");
      m.params = *p;
    }
    if (id == j.end()) {
      m.kind = MessageKind::kNotification;
      return m;
    }
    if (!IsValidId(*id)) return InvalidArgument("request id is not a string or an integer");
    m.kind = MessageKind::kRequest;
    m.id = *id;
    return m;
  }
  if (id == j.end()) return InvalidArgument("neither a request nor a response: " + Shorten(line));
  auto result = j.find("result");
  auto error = j.find("error");
  if ((result != j.end()) == (error != j.end())) {
    return InvalidArgument("a response needs exactly one of \"result\" and \"error\"");
  }
  if (result != j.end()) {
    if (!IsValidId(*id)) return InvalidArgument("response id is not a string or an integer");
    m.kind = MessageKind::kResult;
    m.id = *id;
    m.result = *result;
    return m;
  }
  if (!IsValidId(*id) && !id->is_null()) return InvalidArgument("error id is not a string or an integer");
  if (!error->is_object()) return InvalidArgument("\"error\" is not an object");
  auto code = error->find("code");
  auto message = error->find("message");
  if (code == error->end() || !code->is_number_integer()) {
    return InvalidArgument("\"error\" has no integer \"code\"");
  }
  m.kind = MessageKind::kError;
  m.id = *id;
  m.error_code = code->get<int64_t>();
  if (message != error->end() && message->is_string()) m.error_message = message->get<std::string>();
  if (auto data = error->find("data"); data != error->end()) m.error_data = *data;
  return m;
}

namespace {
std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

std::string RequestLine(int64_t id, std::string_view method, const nlohmann::json& params) {
  nlohmann::json j = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) j["params"] = params;
  return Dump(j);
}

std::string NotificationLine(std::string_view method, const nlohmann::json& params) {
  nlohmann::json j = {{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) j["params"] = params;
  return Dump(j);
}

std::string ResultLine(const nlohmann::json& id, const nlohmann::json& result) {
  return Dump({{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
}

std::string ErrorLine(const nlohmann::json& id, int64_t code, std::string_view message) {
  return Dump({{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}});
}

}  // namespace tandem::mcp
