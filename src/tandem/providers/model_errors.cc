#include "tandem/providers/model_errors.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "tandem/base/redact.h"

namespace tandem::providers {
namespace {

using protocol::ModelError;
using protocol::ModelErrorKind;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string StringField(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// Extracts (type, message, code) from either vendor's error body.
struct ErrorBody {
  std::string type;
  std::string message;
  std::string code;
};

ErrorBody ParseErrorObject(const nlohmann::json& err) {
  ErrorBody b;
  if (err.is_string()) {
    b.message = err.get<std::string>();
    return b;
  }
  b.type = StringField(err, "type");
  b.message = StringField(err, "message");
  b.code = StringField(err, "code");
  return b;
}

ErrorBody ParseErrorBody(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("error")) return ParseErrorObject(j["error"]);
  ErrorBody b;
  // Not JSON: keep a bounded prefix of the text (an HTML error page, say).
  b.message = std::string(body.substr(0, 300));
  return b;
}

ModelError Make(ModelErrorKind kind, int status, std::string_view provider, const std::string& text) {
  ModelError e;
  e.kind = kind;
  e.http_status = status;
  e.message = Redactor::Apply(std::string(provider) + ": " + text);
  return e;
}

}  // namespace

bool MentionsContextLength(std::string_view message) {
  std::string m = Lower(message);
  for (const char* needle : {"context length", "context_length", "context window", "maximum context",
                             "prompt is too long", "too many tokens", "prompt too long",
                             "exceeds the context", "input is too long"}) {
    if (m.find(needle) != std::string::npos) return true;
  }
  return false;
}

ModelError ErrorFromHttpStatus(std::string_view provider, int status, std::string_view body) {
  ErrorBody b = ParseErrorBody(body);
  std::string text = "HTTP " + std::to_string(status);
  if (!b.type.empty()) text += " " + b.type;
  if (!b.message.empty()) text += ": " + b.message;
  ModelErrorKind kind;
  if (status == 401 || status == 403) {
    kind = ModelErrorKind::kAuth;
  } else if (status == 429) {
    kind = ModelErrorKind::kRateLimited;
  } else if (status == 529 || b.type == "overloaded_error") {
    kind = ModelErrorKind::kOverloaded;
  } else if (status == 408) {
    kind = ModelErrorKind::kTimeout;
  } else if (status >= 500) {
    kind = ModelErrorKind::kServer;
  } else if ((status == 400 || status == 413) &&
             (b.code == "context_length_exceeded" || MentionsContextLength(b.message))) {
    kind = ModelErrorKind::kContextTooLong;
  } else {
    kind = ModelErrorKind::kBadRequest;
  }
  return Make(kind, status, provider, text);
}

ModelError ErrorFromStreamPayload(std::string_view provider, const nlohmann::json& error) {
  ErrorBody b = ParseErrorObject(error);
  if (b.message.empty()) b.message = "An error occurred during streaming";
  std::string type = Lower(b.type + " " + b.code);
  ModelErrorKind kind = ModelErrorKind::kStreamBroken;
  if (type.find("overloaded") != std::string::npos) {
    kind = ModelErrorKind::kOverloaded;
  } else if (type.find("rate_limit") != std::string::npos) {
    kind = ModelErrorKind::kRateLimited;
  } else if (MentionsContextLength(b.message) || type.find("context_length") != std::string::npos) {
    kind = ModelErrorKind::kContextTooLong;
  }
  std::string text = "error in stream";
  if (!b.type.empty()) text += " (" + b.type + ")";
  return Make(kind, 200, provider, text + ": " + b.message);
}

ModelError ErrorFromTransfer(std::string_view provider, const net::HttpResult& result, bool body_began) {
  using net::TransferError;
  ModelErrorKind kind = ModelErrorKind::kNetwork;
  switch (result.error) {
    case TransferError::kConnectTimeout:
    case TransferError::kIdleTimeout:
    case TransferError::kTotalTimeout:
      kind = ModelErrorKind::kTimeout;
      break;
    case TransferError::kCancelled:
      kind = ModelErrorKind::kCancelled;
      break;
    case TransferError::kNetwork:
    case TransferError::kAborted:
      kind = body_began ? ModelErrorKind::kStreamBroken : ModelErrorKind::kNetwork;
      break;
    case TransferError::kConnect:
    case TransferError::kNone:
      break;
  }
  return Make(kind, result.status, provider,
              std::string(net::TransferErrorName(result.error)) + ": " + result.error_message);
}

}  // namespace tandem::providers
