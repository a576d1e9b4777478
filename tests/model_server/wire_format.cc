#include "tests/model_server/wire_format.h"

namespace tandem::model_server {

std::string SseEvent(const nlohmann::json& data, std::string_view event) {
  std::string out;
  if (!event.empty()) {
    out += "event: ";
    out += event;
    out += "\n";
  }
  out += "data: ";
  out += data.dump();
  out += "\n\n";
  return out;
}

std::string ContentText(const nlohmann::json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (!content.is_array()) return out;
  for (const auto& part : content) {
    if (!part.is_object()) continue;
    auto text = part.find("text");
    if (text != part.end() && text->is_string()) {
      if (!out.empty()) out += "\n";
      out += text->get<std::string>();
    }
  }
  return out;
}

}  // namespace tandem::model_server
