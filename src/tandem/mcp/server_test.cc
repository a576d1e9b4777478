#include "tandem/mcp/server.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "tandem/mcp/test_sigpipe.h"

namespace tandem::mcp {
namespace {

using nlohmann::json;

// A server on pipes in a thread of its own, spoken to line by line.
class Harness {
 public:
  explicit Harness(Server::Handler handler) {
    EXPECT_EQ(::pipe(in_), 0);
    EXPECT_EQ(::pipe(out_), 0);
    Server::Options o;
    o.version = "test";
    o.instructions = "delegate tasks";
    o.tools = {{"echo", "Echo text.",
                {{"type", "object"}, {"properties", {{"text", {{"type", "string"}}}}}},
                {{"readOnlyHint", true}}},
               {"wait", "Waits until cancelled.", {{"type", "object"}}, nullptr}};
    o.handler = std::move(handler);
    server_ = std::make_unique<Server>(std::move(o), in_[0], out_[1]);
    thread_ = std::thread([this] { served_ = server_->Serve(); });
  }
  ~Harness() { EXPECT_TRUE(Close().ok()); }

  void Send(const json& message) { SendRaw(message.dump()); }
  void SendRaw(const std::string& line) {
    std::string data = line + "\n";
    ASSERT_EQ(::write(in_[1], data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }
  // The next line the server wrote, parsed; a null json after 20 s (a hang
  // guard, not a timing assertion).
  json Next() {
    for (;;) {
      if (size_t nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return json::parse(line);
      }
      pollfd p{out_[0], POLLIN, 0};
      if (::poll(&p, 1, 20000) <= 0) return nullptr;
      char chunk[4096];
      ssize_t got = ::read(out_[0], chunk, sizeof chunk);
      if (got <= 0) return nullptr;
      buf_.append(chunk, static_cast<size_t>(got));
    }
  }
  Status Close() {
    if (in_[1] >= 0) ::close(in_[1]), in_[1] = -1;
    if (thread_.joinable()) thread_.join();
    for (int* fd : {&in_[0], &out_[0], &out_[1]}) {
      if (*fd >= 0) ::close(*fd), *fd = -1;
    }
    return served_;
  }

 private:
  int in_[2] = {-1, -1};
  int out_[2] = {-1, -1};
  std::unique_ptr<Server> server_;
  std::thread thread_;
  Status served_;
  std::string buf_;
};

json Request(int id, const std::string& method, json params = json::object()) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

json Modern(json params = json::object()) {
  params["_meta"]["io.modelcontextprotocol/protocolVersion"] = "2026-07-28";
  return params;
}

ToolReply Echo(const std::string& tool, const json& args, CallContext& context) {
  context.Progress("echoing");
  return {false, tool + ": " + args.value("text", ""), {{"said", args.value("text", "")}}};
}

TEST(McpServer, ServerDiscoverListsBothRevisionsAndEachRequestCarriesItsVersion) {
  Harness h(Echo);
  h.Send(Request(1, "server/discover", Modern()));
  json discover = h.Next();
  EXPECT_EQ(discover["result"]["supportedVersions"], json::array({"2026-07-28", "2025-11-25"}));
  EXPECT_EQ(discover["result"]["resultType"], "complete");
  EXPECT_TRUE(discover["result"].contains("ttlMs"));
  EXPECT_EQ(discover["result"]["instructions"], "delegate tasks");
  h.Send(Request(2, "tools/list", Modern()));
  json list = h.Next();
  ASSERT_EQ(list["result"]["tools"].size(), 2u) << list.dump();
  EXPECT_EQ(list["result"]["tools"][0]["name"], "echo");
  EXPECT_EQ(list["result"]["tools"][0]["annotations"]["readOnlyHint"], true);
  EXPECT_FALSE(list["result"]["tools"][1].contains("annotations"));
  EXPECT_EQ(list["result"]["cacheScope"], "private");
  h.Send(Request(3, "tools/call", Modern({{"name", "echo"}, {"arguments", {{"text", "hi"}}}})));
  json call = h.Next();
  EXPECT_EQ(call["id"], 3);
  EXPECT_EQ(call["result"]["resultType"], "complete");
  EXPECT_EQ(call["result"]["isError"], false);
  EXPECT_EQ(call["result"]["content"][0]["text"], "echo: hi");
  EXPECT_EQ(call["result"]["structuredContent"]["said"], "hi");
  EXPECT_TRUE(h.Close().ok());
}

TEST(McpServer, InitializeStartsA2025Session) {
  Harness h(Echo);
  h.Send(Request(1, "initialize", {{"protocolVersion", "2025-11-25"},
                                   {"capabilities", json::object()},
                                   {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
  json init = h.Next();
  EXPECT_EQ(init["result"]["protocolVersion"], "2025-11-25");
  EXPECT_TRUE(init["result"]["capabilities"].contains("tools"));
  h.Send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
  h.Send(Request(2, "tools/call", {{"name", "echo"}, {"arguments", {{"text", "old"}}}}));
  json call = h.Next();
  EXPECT_EQ(call["result"]["content"][0]["text"], "echo: old");
  EXPECT_FALSE(call["result"].contains("resultType"));  // a 2026-07-28 field
}

TEST(McpServer, AnUnsupportedVersionIsRefusedWithTheSupportedList) {
  Harness h(Echo);
  h.Send(Request(1, "tools/list",
                 {{"_meta", {{"io.modelcontextprotocol/protocolVersion", "2099-01-01"}}}}));
  json refused = h.Next();
  EXPECT_EQ(refused["error"]["code"], -32022);
  EXPECT_EQ(refused["error"]["data"]["supported"], json::array({"2026-07-28", "2025-11-25"}));
  EXPECT_EQ(refused["error"]["data"]["requested"], "2099-01-01");
  // Without a version and before initialize: the same error.
  h.Send(Request(2, "tools/list"));
  json none = h.Next();
  EXPECT_EQ(none["error"]["code"], -32022);
  EXPECT_NE(none["error"]["message"].get<std::string>().find("initialize"), std::string::npos);
}

TEST(McpServer, ACancelledCallStopsAndGetsNoResponseWhileOtherRequestsAreServed) {
  std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool saw_cancel = false;
  Harness h([&](const std::string&, const json&, CallContext& context) {
    {
      std::lock_guard<std::mutex> lock(mu);
      started = true;
    }
    cv.notify_all();
    std::mutex wait_mu;
    std::condition_variable_any wait_cv;
    std::unique_lock<std::mutex> lock(wait_mu);
    std::stop_token token = context.cancel();
    wait_cv.wait(lock, token, [] { return false; });
    {
      std::lock_guard<std::mutex> g(mu);
      saw_cancel = token.stop_requested();
    }
    return ToolReply{false, "stopped", nullptr};
  });
  h.Send(Request(7, "tools/call", Modern({{"name", "wait"}})));
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return started; });
  }
  // Served while the call runs.
  h.Send(Request(8, "ping"));
  EXPECT_EQ(h.Next()["id"], 8);
  h.Send({{"jsonrpc", "2.0"},
          {"method", "notifications/cancelled"},
          {"params", {{"requestId", 7}, {"reason", "user"}}}});
  h.Send(Request(9, "ping"));
  // The ping's reply and the log line that the cancelled call stopped, in
  // either order; never a response for 7.
  bool pinged = false, logged = false;
  while (!(pinged && logged)) {
    json m = h.Next();
    ASSERT_FALSE(m.is_null());
    if (m.value("method", "") == "notifications/message") {
      EXPECT_EQ(m["params"]["data"]["requestId"], 7) << m.dump();
      EXPECT_EQ(m["params"]["data"]["cancelled"], true);
      logged = true;
    } else {
      EXPECT_EQ(m.value("id", json()), 9) << m.dump();
      pinged = true;
    }
  }
  EXPECT_TRUE(h.Close().ok());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(saw_cancel);
}

TEST(McpServer, ProgressNotificationsCarryTheRequestsToken) {
  Harness h(Echo);
  json params = Modern({{"name", "echo"}, {"arguments", {{"text", "x"}}}});
  params["_meta"]["progressToken"] = "tok-1";
  h.Send(Request(1, "tools/call", params));
  json progress = h.Next();
  EXPECT_EQ(progress["method"], "notifications/progress");
  EXPECT_EQ(progress["params"]["progressToken"], "tok-1");
  EXPECT_EQ(progress["params"]["progress"], 1);
  EXPECT_EQ(progress["params"]["message"], "echoing");
  EXPECT_EQ(h.Next()["id"], 1);
}

TEST(McpServer, BadInputIsAnsweredAndTheSessionGoesOn) {
  Harness h(Echo);
  h.SendRaw("this is not json");
  json parse = h.Next();
  EXPECT_EQ(parse["error"]["code"], -32700);
  EXPECT_TRUE(parse["id"].is_null());
  h.Send(Request(1, "tools/call", Modern({{"name", "nope"}})));
  EXPECT_EQ(h.Next()["error"]["code"], -32602);
  h.Send(Request(2, "tools/call", Modern({{"name", "echo"}, {"arguments", json::array({1})}})));
  json bad_args = h.Next();
  EXPECT_EQ(bad_args["result"]["isError"], true) << bad_args.dump();
  h.Send(Request(3, "resources/list", Modern()));
  EXPECT_EQ(h.Next()["error"]["code"], -32601);
  h.Send(Request(4, "ping"));
  EXPECT_EQ(h.Next()["id"], 4);
}

}  // namespace
}  // namespace tandem::mcp
