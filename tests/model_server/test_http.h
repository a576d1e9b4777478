// Test helpers: a blocking libcurl HTTP client and an SSE splitter, so the
// model server tests see exactly what a real client sees on the wire.
#pragma once

#include <curl/curl.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tandem::model_server {

struct HttpResult {
  CURLcode curl_code = CURLE_OK;  // CURLE_PARTIAL_FILE etc. when the body was cut
  long status = 0;
  std::map<std::string, std::string> headers;  // lowercased names
  std::string body;
};

HttpResult HttpPost(const std::string& url, const std::string& body,
                    const std::vector<std::string>& headers = {});
HttpResult HttpGet(const std::string& url, const std::vector<std::string>& headers = {});

struct SseEvent {
  std::string event;  // "" when the event had no `event:` line
  std::string data;
};

// Splits an SSE body into events (blank-line separated; comments skipped).
std::vector<SseEvent> ParseSse(const std::string& body);

// The JSON payloads of the events, skipping "[DONE]".
std::vector<nlohmann::json> SseJson(const std::string& body);

}  // namespace tandem::model_server
