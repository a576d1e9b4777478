#include "tandem/net/sse_parser.h"

#include <cstring>
#include <utility>

namespace tandem::net {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

const char* Find(const char* begin, const char* end, char c) {
  return static_cast<const char*>(std::memchr(begin, c, static_cast<size_t>(end - begin)));
}

}  // namespace

SseParser::SseParser(Callback on_event) : on_event_(std::move(on_event)) {}

void SseParser::Feed(std::string_view bytes) {
  bytes_fed_ += bytes.size();
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  if (p == end) return;
  if (skip_lf_) {
    skip_lf_ = false;
    if (*p == '\n') ++p;
  }
  // Most streams never use CR; then one scan per feed spares a scan per line.
  const bool has_cr = p < end && Find(p, end, '\r') != nullptr;
  while (p < end) {
    const char* eol = Find(p, end, '\n');
    if (eol == nullptr) eol = end;
    if (has_cr) {
      const char* cr = Find(p, eol, '\r');
      if (cr != nullptr) eol = cr;
    }
    if (eol == end) {  // unterminated: keep for the next feed
      partial_.append(p, static_cast<size_t>(end - p));
      return;
    }
    if (partial_.empty()) {
      ProcessLine(std::string_view(p, static_cast<size_t>(eol - p)));
    } else {
      partial_.append(p, static_cast<size_t>(eol - p));
      ProcessLine(partial_);
      partial_.clear();
    }
    if (*eol == '\r') {
      if (eol + 1 == end) {
        skip_lf_ = true;
        return;
      }
      p = eol + (eol[1] == '\n' ? 2 : 1);
    } else {
      p = eol + 1;
    }
  }
}

void SseParser::Finish() {
  partial_.clear();
  skip_lf_ = false;
  Dispatch();
  last_id_.clear();
  at_stream_start_ = true;
}

void SseParser::ProcessLine(std::string_view line) {
  if (at_stream_start_) {
    at_stream_start_ = false;
    if (line.substr(0, kBom.size()) == kBom) line.remove_prefix(kBom.size());
  }
  if (line.empty()) {
    Dispatch();
    return;
  }
  if (line[0] == ':') return;  // comment / keep-alive
  std::string_view field = line;
  std::string_view value;
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_name_.assign(value);
    has_event_fields_ = true;
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) {
      last_id_.assign(value);
      has_event_fields_ = true;
    }
  }
  // "retry" and unknown fields are ignored.
}

void SseParser::Dispatch() {
  if (!has_data_ && !has_event_fields_) return;
  on_event_(SseEvent{event_name_, data_, last_id_});
  data_.clear();
  event_name_.clear();
  has_data_ = false;
  has_event_fields_ = false;
}

}  // namespace tandem::net
