#include "tandem/mcp/server.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tandem::mcp {
namespace {

constexpr char kVersionKey[] = "io.modelcontextprotocol/protocolVersion";
constexpr char kRevision2026[] = "2026-07-28";
constexpr char kRevision2025[] = "2025-11-25";
// The tool list does not change while the server runs; a client may reuse
// it for a minute.
constexpr int64_t kToolsTtlMs = 60000;

bool Served(const std::string& revision) {
  return std::any_of(std::begin(kServedRevisions), std::end(kServedRevisions),
                     [&](const char* r) { return revision == r; });
}

nlohmann::json SupportedList() {
  nlohmann::json list = nlohmann::json::array();
  for (const char* r : kServedRevisions) list.push_back(r);
  return list;
}

std::string IdKey(const nlohmann::json& id) { return id.dump(); }

constexpr int64_t kInvalidRequest = -32600;

// An error response with a "data" member (jsonrpc.h's ErrorLine has none).
std::string ErrorWithData(const nlohmann::json& id, int64_t code, const std::string& message,
                          const nlohmann::json& data) {
  nlohmann::json j = {{"jsonrpc", "2.0"},
                      {"id", id},
                      {"error", {{"code", code}, {"message", message}, {"data", data}}}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void CallContext::Progress(const std::string& message) {
  // After a cancellation the client has dropped the token (a progress line
  // for it would be an error there).
  if (token_.is_null() || cancel_.stop_requested()) return;
  int64_t n = ++progress_;
  server_->Write(NotificationLine(
      "notifications/progress", {{"progressToken", token_}, {"progress", n}, {"message", message}}));
}

Server::Server(Options options, int in_fd, int out_fd)
    : options_(std::move(options)), in_fd_(in_fd), out_fd_(out_fd) {
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
}

Server::~Server() {
  CancelAll();
  Reap(true);
  for (int fd : wake_) {
    if (fd >= 0) ::close(fd);
  }
}

void Server::CancelAll() {
  MutexLock lock(calls_mu_);
  for (auto& [id, call] : calls_) call->stop.request_stop();
}

void Server::Stop() {
  CancelAll();
  stopping_ = true;
  if (wake_[1] >= 0) {
    char byte = 1;
    [[maybe_unused]] auto ignored = ::write(wake_[1], &byte, 1);
  }
}

void Server::Write(const std::string& line) {
  std::string data = line + "\n";
  MutexLock lock(write_mu_);
  if (write_failed_) return;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(out_fd_, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      write_failed_ = true;  // the client is gone; reading ends the session soon
      return;
    }
  }
}

void Server::Reap(bool all) {
  std::vector<std::unique_ptr<Running>> finished;
  {
    MutexLock lock(calls_mu_);
    for (auto it = calls_.begin(); it != calls_.end();) {
      if (all || it->second->done.load()) {
        finished.push_back(std::move(it->second));
        it = calls_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& call : finished) {
    if (call->thread.joinable()) call->thread.join();
  }
}

Status Server::Serve() {
  LineReader reader(options_.max_line_bytes);
  char buf[65536];
  Status ended = Status::Ok();
  while (!stopping_) {
    pollfd fds[2] = {{in_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    int ready = ::poll(fds, wake_[0] >= 0 ? 2 : 1, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      ended = IoError(std::string("poll: ") + std::strerror(errno));
      break;
    }
    if (stopping_) break;
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    ssize_t got = ::read(in_fd_, buf, sizeof buf);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) {
      if (got < 0) ended = IoError(std::string("reading the input: ") + std::strerror(errno));
      break;
    }
    reader.Feed(std::string_view(buf, static_cast<size_t>(got)));
    for (;;) {
      auto line = reader.Next();
      if (!line) {
        Write(ErrorLine(nullptr, kParseError, line.error().message()));
        ended = line.error();
        break;
      }
      if (!line->has_value()) break;
      if ((*line)->find_first_not_of(" \t\r") == std::string::npos) continue;
      auto message = ParseMessage(**line);
      if (!message) {
        Write(ErrorLine(nullptr, kParseError, message.error().message()));
        continue;
      }
      Handle(*message);
    }
    if (!ended.ok()) break;
    Reap(false);
  }
  CancelAll();
  Reap(true);
  return ended;
}

void Server::Handle(const Message& message) {
  switch (message.kind) {
    case MessageKind::kRequest:
      return HandleRequest(message);
    case MessageKind::kNotification:
      if (message.method == "notifications/cancelled" && message.params.is_object()) {
        auto id = message.params.find("requestId");
        if (id == message.params.end()) return;
        MutexLock lock(calls_mu_);
        if (auto it = calls_.find(IdKey(*id)); it != calls_.end()) {
          it->second->cancelled_by_client = true;
          it->second->stop.request_stop();
        }
      }
      return;  // notifications/initialized and the rest need nothing
    case MessageKind::kResult:
    case MessageKind::kError:
      return;  // the server sends no requests
  }
}

bool Server::CheckVersion(const Message& message, std::string* revision) {
  const nlohmann::json* version = nullptr;
  if (message.params.is_object()) {
    auto meta = message.params.find("_meta");
    if (meta != message.params.end() && meta->is_object()) {
      auto v = meta->find(kVersionKey);
      if (v != meta->end()) version = &*v;
    }
  }
  if (version != nullptr) {
    if (version->is_string() && Served(version->get<std::string>())) {
      *revision = version->get<std::string>();
      return true;
    }
    std::string asked = version->is_string() ? version->get<std::string>() : version->dump();
    Write(ErrorWithData(message.id, kUnsupportedProtocolVersion,
                    "unsupported protocol version " + Printable(asked, 64) + " (supported: " +
                        kServedRevisions[0] + ", " + kServedRevisions[1] + ")",
                    {{"supported", SupportedList()}, {"requested", *version}}));
    return false;
  }
  if (!session_revision_.empty()) {
    *revision = session_revision_;
    return true;
  }
  Write(ErrorWithData(message.id, kUnsupportedProtocolVersion,
                  "no protocol version: send server/discover and put the version in each "
                  "request's _meta (2026-07-28), or initialize first (2025-11-25)",
                  {{"supported", SupportedList()}}));
  return false;
}

nlohmann::json Server::Tag(nlohmann::json result, const std::string& revision,
                           bool cacheable) const {
  if (revision != kRevision2026) return result;
  result["resultType"] = "complete";
  if (cacheable) {
    result["ttlMs"] = kToolsTtlMs;
    result["cacheScope"] = "private";
  }
  return result;
}

void Server::HandleRequest(const Message& message) {
  const std::string& method = message.method;
  nlohmann::json server_info = {{"name", options_.name}, {"version", options_.version}};
  nlohmann::json capabilities = {{"tools", {{"listChanged", false}}},
                                 {"logging", nlohmann::json::object()}};
  if (method == "server/discover") {
    nlohmann::json result = {{"supportedVersions", SupportedList()},
                             {"capabilities", capabilities},
                             {"serverInfo", server_info}};
    if (!options_.instructions.empty()) result["instructions"] = options_.instructions;
    return Write(ResultLine(message.id, Tag(std::move(result), kRevision2026, true)));
  }
  if (method == "initialize") {
    session_revision_ = kRevision2025;
    nlohmann::json result = {{"protocolVersion", kRevision2025},
                             {"capabilities", capabilities},
                             {"serverInfo", server_info}};
    if (!options_.instructions.empty()) result["instructions"] = options_.instructions;
    return Write(ResultLine(message.id, result));
  }
  if (method == "ping") return Write(ResultLine(message.id, nlohmann::json::object()));
  if (method == "logging/setLevel") {  // every log line is "info": nothing to filter
    return Write(ResultLine(message.id, nlohmann::json::object()));
  }
  std::string revision;
  if (method == "tools/list") {
    if (!CheckVersion(message, &revision)) return;
    nlohmann::json tools = nlohmann::json::array();
    for (const ServedTool& t : options_.tools) {
      nlohmann::json tool = {
          {"name", t.name}, {"description", t.description}, {"inputSchema", t.input_schema}};
      if (!t.annotations.is_null()) tool["annotations"] = t.annotations;
      tools.push_back(std::move(tool));
    }
    return Write(ResultLine(message.id, Tag({{"tools", tools}}, revision, true)));
  }
  if (method == "tools/call") {
    if (!CheckVersion(message, &revision)) return;
    return CallTool(message, revision);
  }
  Write(ErrorLine(message.id, kMethodNotFound, "tandem does not serve " + Printable(method, 80)));
}

void Server::CallTool(const Message& message, const std::string& revision) {
  const nlohmann::json& params = message.params;
  auto name = params.is_object() ? params.find("name") : params.end();
  if (!params.is_object() || name == params.end() || !name->is_string()) {
    return Write(ErrorLine(message.id, kInvalidParams, "tools/call needs a tool name"));
  }
  const std::string tool = name->get<std::string>();
  if (std::none_of(options_.tools.begin(), options_.tools.end(),
                   [&](const ServedTool& t) { return t.name == tool; })) {
    return Write(ErrorLine(message.id, kInvalidParams, "unknown tool: " + Printable(tool, 128)));
  }
  nlohmann::json arguments = nlohmann::json::object();
  if (auto a = params.find("arguments"); a != params.end() && !a->is_null()) arguments = *a;
  nlohmann::json token;
  if (auto meta = params.find("_meta"); meta != params.end() && meta->is_object()) {
    if (auto t = meta->find("progressToken"); t != meta->end() && (t->is_string() || t->is_number_integer())) {
      token = *t;
    }
  }
  auto running = std::make_unique<Running>();
  Running* call = running.get();
  {
    MutexLock lock(calls_mu_);
    if (calls_.count(IdKey(message.id)) != 0) {
      return Write(ErrorLine(message.id, kInvalidRequest, "a call with this id is still running"));
    }
    calls_[IdKey(message.id)] = std::move(running);
  }
  nlohmann::json id = message.id;
  call->thread = std::thread([this, call, id, tool, arguments = std::move(arguments),
                              token = std::move(token), revision] {
    CallContext context(this, token, call->stop.get_token());
    ToolReply reply;
    if (!arguments.is_object()) {
      reply = {true, tool + ": arguments must be a JSON object", nullptr};
    } else {
      reply = options_.handler(tool, arguments, context);
    }
    if (call->cancelled_by_client.load()) {
      // No response (MCP); a log line says the cancelled work has stopped,
      // so a client can tell when its effects are settled.
      Write(NotificationLine("notifications/message",
                             {{"level", "info"},
                              {"logger", options_.name},
                              {"data", {{"requestId", id}, {"cancelled", true}, {"text", reply.text}}}}));
    } else {
      nlohmann::json result = {{"content", {{{"type", "text"}, {"text", reply.text}}}},
                               {"isError", reply.is_error}};
      if (!reply.structured.is_null()) result["structuredContent"] = reply.structured;
      Write(ResultLine(id, Tag(std::move(result), revision, false)));
    }
    call->done = true;
  });
}

}  // namespace tandem::mcp
