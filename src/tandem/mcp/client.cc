#include "tandem/mcp/client.h"

#include <algorithm>

namespace tandem::mcp {
namespace {

using std::chrono::milliseconds;
using Clock = StdioProcess::Clock;

constexpr char kClientName[] = "tandem";
constexpr char kClientVersion[] = "0.1.0";
constexpr int kMaxToolPages = 100;
constexpr size_t kStderrInError = 600;

nlohmann::json ClientInfo() { return {{"name", kClientName}, {"version", kClientVersion}}; }

std::string Seconds(milliseconds ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + " s";
  return std::to_string(ms.count()) + " ms";
}

// The content of a tools/call result as text.
std::string ContentText(const nlohmann::json& result) {
  std::string text;
  auto content = result.find("content");
  if (content != result.end() && content->is_array()) {
    for (const auto& part : *content) {
      if (!part.is_object()) continue;
      std::string type = part.value("type", "");
      std::string piece;
      if (type == "text" && part.contains("text") && part["text"].is_string()) {
        piece = part["text"].get<std::string>();
      } else if (type == "image" || type == "audio") {
        piece = "[" + type + " " + part.value("mimeType", std::string("?")) + "]";
      } else if (type == "resource_link") {
        piece = "[resource link " + part.value("uri", std::string("?")) + "]";
      } else if (type == "resource" && part.contains("resource") && part["resource"].is_object()) {
        const auto& r = part["resource"];
        piece = r.contains("text") && r["text"].is_string()
                    ? r["text"].get<std::string>()
                    : "[resource " + r.value("uri", std::string("?")) + "]";
      } else {
        piece = "[" + (type.empty() ? std::string("unknown") : type) + " content]";
      }
      if (!text.empty()) text += "\n";
      text += piece;
    }
  }
  if (text.empty()) {
    if (auto sc = result.find("structuredContent"); sc != result.end()) {
      text = sc->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  return text;
}

}  // namespace

const char* RevisionName(Revision r) {
  return r == Revision::k2026_07_28 ? "2026-07-28" : "2025-11-25";
}

bool IsValidToolName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

Client::Client(ClientOptions options, std::unique_ptr<StdioProcess> process)
    : options_(std::move(options)), process_(std::move(process)) {}

Client::~Client() { Shutdown(); }

Result<std::unique_ptr<Client>> Client::Connect(ClientOptions options, std::stop_token cancel) {
  const std::string name = options.name;
  auto process = StdioProcess::Start(options.spec, options.max_line_bytes);
  if (!process) {
    return Status(process.error().code(),
                  "MCP server '" + name + "' did not start: " + process.error().message());
  }
  std::unique_ptr<Client> client(new Client(std::move(options), std::move(*process)));
  RETURN_IF_ERROR(client->Negotiate(cancel));
  return client;
}

Status Client::Negotiate(std::stop_token cancel) {
  MutexLock lock(mu_);
  const milliseconds probe = options_.start_timeout / 2;
  revision_ = Revision::k2026_07_28;
  auto discover = Request("server/discover", nlohmann::json::object(), probe, cancel);
  if (discover) {
    auto versions = discover->find("supportedVersions");
    bool listed = versions == discover->end() || !versions->is_array() ||
                  std::find(versions->begin(), versions->end(), RevisionName(Revision::k2026_07_28)) !=
                      versions->end();
    if (listed) return Status::Ok();
  } else if (dead_ || discover.error().code() == StatusCode::kCancelled) {
    return discover.error();
  }
  // 2025-11-25: the handshake.
  revision_ = Revision::k2025_11_25;
  nlohmann::json params = {{"protocolVersion", RevisionName(revision_)},
                           {"capabilities", nlohmann::json::object()},
                           {"clientInfo", ClientInfo()}};
  auto init = Request("initialize", std::move(params), options_.start_timeout - probe, cancel);
  if (!init) return init.error();
  if (!init->is_object() || !init->contains("protocolVersion")) {
    return Fail("its initialize result has no protocolVersion");
  }
  return Notify("notifications/initialized", nlohmann::json::object());
}

bool Client::alive() const {
  MutexLock lock(mu_);
  return !dead_;
}

Status Client::Fail(const std::string& what) {
  dead_ = true;
  dead_reason_ = what;
  process_->Shutdown(milliseconds(200));
  return Unavailable("MCP server '" + options_.name + "' " + what);
}

Status Client::Notify(const std::string& method, nlohmann::json params) {
  if (revision_ == Revision::k2026_07_28 && params.is_object()) {
    params["_meta"]["io.modelcontextprotocol/protocolVersion"] = RevisionName(revision_);
  }
  Status s = process_->WriteLine(NotificationLine(method, params), Clock::now() + milliseconds(1000), {});
  if (!s.ok()) return Fail("cannot be written to (" + s.message() + ")");
  return Status::Ok();
}

Result<nlohmann::json> Client::Request(const std::string& method, nlohmann::json params,
                                       milliseconds timeout, std::stop_token cancel) {
  if (dead_) return Unavailable("MCP server '" + options_.name + "' is not running: " + dead_reason_);
  if (revision_ == Revision::k2026_07_28) {
    auto& meta = params["_meta"];
    meta["io.modelcontextprotocol/protocolVersion"] = RevisionName(revision_);
    meta["io.modelcontextprotocol/clientInfo"] = ClientInfo();
    meta["io.modelcontextprotocol/clientCapabilities"] = nlohmann::json::object();
  }
  const int64_t id = next_id_++;
  const auto deadline = Clock::now() + timeout;
  const std::string who = "MCP server '" + options_.name + "'";
  auto crashed = [&](const Status& s) REQUIRES(mu_) {
    // Its stdout ended: it is exiting (or closed stdout and lives on).
    process_->WaitForExit(milliseconds(500));
    process_->DrainStderr(milliseconds(200));
    std::string err = process_->StderrTail();
    if (err.size() > kStderrInError) err = "..." + err.substr(err.size() - kStderrInError);
    std::string what = (process_->Exited() ? process_->ExitDescription() : "closed its output") +
                       " during " + method;
    while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
    if (!err.empty()) what += "; its stderr ends: " + Printable(err, err.size());
    return Fail(what + " (" + s.message() + ")");
  };
  auto timed_out = [&](const Status& s) REQUIRES(mu_) -> Status {
    // The request is abandoned: tell the server (a late reply is skipped by id).
    Status sent = Notify("notifications/cancelled",
                         {{"requestId", id},
                          {"reason", s.code() == StatusCode::kCancelled ? "cancelled by the user"
                                                                        : "timed out"}});
    if (s.code() == StatusCode::kCancelled) {
      return Cancelled(who + ": " + method + " cancelled" + (sent.ok() ? " (cancellation sent)" : ""));
    }
    return DeadlineExceeded(who + " did not answer " + method + " within " + Seconds(timeout) +
                            (sent.ok() ? " (cancellation sent)" : ""));
  };

  Status wrote = process_->WriteLine(RequestLine(id, method, params), deadline, cancel);
  if (!wrote.ok()) {
    if (wrote.code() == StatusCode::kUnavailable) return crashed(wrote);
    return timed_out(wrote);
  }
  for (;;) {
    auto line = process_->ReadLine(deadline, cancel);
    if (!line) {
      switch (line.error().code()) {
        case StatusCode::kDeadlineExceeded:
        case StatusCode::kCancelled:
          return timed_out(line.error());
        case StatusCode::kInvalidArgument:
          return Fail("sent malformed JSON-RPC during " + method + ": " + line.error().message());
        default:
          return crashed(line.error());
      }
    }
    if (line->find_first_not_of(" \t\r") == std::string::npos) continue;  // blank line
    auto message = ParseMessage(*line);
    if (!message) {
      return Fail("sent malformed JSON-RPC during " + method + ": " + message.error().message());
    }
    switch (message->kind) {
      case MessageKind::kNotification:
        continue;
      case MessageKind::kRequest: {
        std::string reply = message->method == "ping"
                                ? ResultLine(message->id, nlohmann::json::object())
                                : ErrorLine(message->id, kMethodNotFound,
                                            "tandem does not support " + message->method);
        Status s = process_->WriteLine(reply, deadline, cancel);
        if (!s.ok() && s.code() == StatusCode::kUnavailable) return crashed(s);
        continue;
      }
      case MessageKind::kResult:
        if (message->id != id) continue;  // a late reply to an abandoned request
        return std::move(message->result);
      case MessageKind::kError:
        if (message->id != id) continue;
        return Status(message->error_code == kMethodNotFound ? StatusCode::kNotFound
                                                             : StatusCode::kFailedPrecondition,
                      who + " refused " + method + " (" + std::to_string(message->error_code) +
                          "): " + message->error_message);
    }
  }
}

Result<std::vector<ToolInfo>> Client::ListTools(std::stop_token cancel) {
  MutexLock lock(mu_);
  std::vector<ToolInfo> tools;
  nlohmann::json cursor;
  for (int page = 0; page < kMaxToolPages; ++page) {
    nlohmann::json params = nlohmann::json::object();
    if (!cursor.is_null()) params["cursor"] = cursor;
    auto result = TRY(Request("tools/list", std::move(params), options_.call_timeout, cancel));
    if (!result.is_object() || !result.contains("tools") || !result["tools"].is_array()) {
      return InvalidArgument("MCP server '" + options_.name + "' sent a tools/list result without a tools array");
    }
    for (const auto& t : result["tools"]) {
      if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) continue;
      ToolInfo info;
      info.name = t["name"].get<std::string>();
      if (!IsValidToolName(info.name)) continue;
      if (t.contains("description") && t["description"].is_string()) {
        info.description = t["description"].get<std::string>();
      }
      info.input_schema = t.contains("inputSchema") && t["inputSchema"].is_object()
                              ? t["inputSchema"]
                              : nlohmann::json{{"type", "object"}};
      if (auto a = t.find("annotations"); a != t.end() && a->is_object()) {
        if (auto r = a->find("readOnlyHint"); r != a->end() && r->is_boolean()) info.read_only = r->get<bool>();
        if (auto d = a->find("destructiveHint"); d != a->end() && d->is_boolean()) {
          info.destructive = d->get<bool>();
        }
      }
      if (info.read_only) info.destructive = false;
      tools.push_back(std::move(info));
    }
    auto next = result.find("nextCursor");
    if (next == result.end() || next->is_null()) break;
    cursor = *next;
  }
  std::sort(tools.begin(), tools.end(), [](const ToolInfo& a, const ToolInfo& b) { return a.name < b.name; });
  return tools;
}

Result<CallResult> Client::CallTool(const std::string& tool, const nlohmann::json& arguments,
                                    std::stop_token cancel) {
  MutexLock lock(mu_);
  nlohmann::json params = {{"name", tool},
                           {"arguments", arguments.is_object() ? arguments : nlohmann::json::object()}};
  auto result = TRY(Request("tools/call", std::move(params), options_.call_timeout, cancel));
  if (!result.is_object()) {
    return InvalidArgument("MCP server '" + options_.name + "' sent a tools/call result that is not an object");
  }
  CallResult out;
  out.is_error = result.value("isError", false) ||
                 (result.contains("resultType") && result["resultType"] == "error");
  out.text = ContentText(result);
  return out;
}

void Client::Shutdown() {
  MutexLock lock(mu_);
  if (process_) process_->Shutdown();
  if (!dead_) {
    dead_ = true;
    dead_reason_ = "it was shut down";
  }
}

}  // namespace tandem::mcp
