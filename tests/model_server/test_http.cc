#include "tests/model_server/test_http.h"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace tandem::model_server {
namespace {

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  std::string line(data, size * count);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * count;
}

HttpResult Perform(const std::string& url, const std::string* body,
                   const std::vector<std::string>& headers) {
  HttpResult result;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const std::string& header : headers) list = curl_slist_append(list, header.c_str());
  if (body != nullptr) {
    list = curl_slist_append(list, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  result.curl_code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return result;
}

}  // namespace

HttpResult HttpPost(const std::string& url, const std::string& body,
                    const std::vector<std::string>& headers) {
  return Perform(url, &body, headers);
}

HttpResult HttpGet(const std::string& url, const std::vector<std::string>& headers) {
  return Perform(url, nullptr, headers);
}

std::vector<SseEvent> ParseSse(const std::string& body) {
  std::vector<SseEvent> events;
  std::istringstream in(body);
  std::string line;
  SseEvent current;
  bool has_fields = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (has_fields) events.push_back(current);
      current = SseEvent();
      has_fields = false;
      continue;
    }
    if (line[0] == ':') continue;
    if (line.rfind("event: ", 0) == 0) {
      current.event = line.substr(7);
      has_fields = true;
    } else if (line.rfind("data: ", 0) == 0) {
      if (!current.data.empty()) current.data += "\n";
      current.data += line.substr(6);
      has_fields = true;
    }
  }
  // An event without its closing blank line was cut off: not delivered.
  return events;
}

std::vector<nlohmann::json> SseJson(const std::string& body) {
  std::vector<nlohmann::json> out;
  for (const SseEvent& event : ParseSse(body)) {
    if (event.data == "[DONE]") continue;
    out.push_back(nlohmann::json::parse(event.data));
  }
  return out;
}

}  // namespace tandem::model_server
