#include "tandem/net/http_transport.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/base/redact.h"

namespace tandem::net {
namespace {

// A real HTTP server on 127.0.0.1, run on its own thread.
class LoopbackServer {
 public:
  LoopbackServer() {
    server_.new_task_queue = [] { return new httplib::ThreadPool(32); };
    server_.Post("/echo", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(ports_mu_);
        echo_client_ports_.push_back(req.remote_port);
      }
      res.set_header("x-request-id", "req_42");
      res.set_header("Retry-After", "3");
      res.set_content(req.get_header_value("X-Test") + "|" + req.body, "text/plain");
    });
    server_.Post("/status/429", [](const httplib::Request&, httplib::Response& res) {
      res.status = 429;
      res.set_content("{\"error\":{\"message\":\"slow down\"}}", "application/json");
    });
    // Streams `n` chunks "chunk-i\n", one every `gap` ms; with stall=M it
    // waits M ms after the first chunk.
    server_.Post("/stream", [this](const httplib::Request& req, httplib::Response& res) {
      int n = std::stoi(req.get_param_value("n"));
      int gap = req.has_param("gap") ? std::stoi(req.get_param_value("gap")) : 0;
      int stall = req.has_param("stall") ? std::stoi(req.get_param_value("stall")) : 0;
      int now = ++in_flight_;
      int prev = max_in_flight_.load();
      while (now > prev && !max_in_flight_.compare_exchange_weak(prev, now)) {
      }
      if (req.has_param("barrier")) {
        // Hold the response until `barrier` requests are in flight at once
        // (or 10 s pass): proves concurrency without depending on timing.
        int want = std::stoi(req.get_param_value("barrier"));
        std::unique_lock<std::mutex> lock(barrier_mu_);
        ++arrived_;
        barrier_cv_.notify_all();
        barrier_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return arrived_ >= want; });
      }
      res.set_chunked_content_provider("text/event-stream", [=, this](size_t i, httplib::DataSink& sink) {
        if (static_cast<int>(i) >= n * 8) {  // offsets: each chunk is 8 bytes
          --in_flight_;
          sink.done();
          return true;
        }
        int k = static_cast<int>(i) / 8;
        std::this_thread::sleep_for(std::chrono::milliseconds(k == 1 ? stall + gap : gap));
        std::string chunk = "chunk-" + std::to_string(k % 10) + "\n";
        return sink.write(chunk.data(), chunk.size());
      }, [this](bool success) {
        if (!success) --in_flight_;
      });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~LoopbackServer() {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int max_in_flight() const { return max_in_flight_; }
  // The client-side TCP port of each /echo request so far: one port for
  // several requests means they shared one connection.
  std::vector<int> echo_client_ports() {
    std::lock_guard<std::mutex> lock(ports_mu_);
    return echo_client_ports_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};
  std::mutex barrier_mu_;
  std::condition_variable barrier_cv_;
  int arrived_ = 0;
  std::mutex ports_mu_;
  std::vector<int> echo_client_ports_;
};

// Collects one transfer's body and result; Wait() blocks until on_done.
struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  std::string body;
  bool done = false;
  HttpResult result;
  int chunks = 0;
  std::function<void()> on_first_chunk;

  TransferCallbacks Callbacks() {
    return TransferCallbacks{
        [this](int, std::string_view chunk) {
          std::function<void()> hook;
          {
            std::lock_guard<std::mutex> lock(mu);
            body.append(chunk);
            if (chunks++ == 0) hook = on_first_chunk;
          }
          if (hook) hook();
          return true;
        },
        [this](HttpResult r) {
          std::lock_guard<std::mutex> lock(mu);
          result = std::move(r);
          done = true;
          cv.notify_all();
        }};
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
  }
};

HttpRequest Post(const std::string& url) {
  HttpRequest r;
  r.url = url;
  return r;
}

TEST(HttpTransport, PostsBodyAndHeadersAndReturnsLowercasedResponseHeaders) {
  LoopbackServer server;
  HttpTransport transport;
  Collector c;
  HttpRequest rq = Post(server.Url("/echo"));
  rq.headers = {"X-Test: hello"};
  rq.body = "{\"a\":1}";
  transport.Start(rq, c.Callbacks());
  c.Wait();
  EXPECT_EQ(c.result.error, TransferError::kNone) << c.result.error_message;
  EXPECT_EQ(c.result.status, 200);
  EXPECT_EQ(c.body, "hello|{\"a\":1}");
  EXPECT_EQ(c.result.headers["x-request-id"], "req_42");
  EXPECT_EQ(c.result.headers["retry-after"], "3");
  EXPECT_EQ(c.result.body_bytes, c.body.size());
}

TEST(HttpTransport, ReportsErrorStatusWithItsBody) {
  LoopbackServer server;
  HttpTransport transport;
  Collector c;
  transport.Start(Post(server.Url("/status/429")), c.Callbacks());
  c.Wait();
  EXPECT_EQ(c.result.error, TransferError::kNone);
  EXPECT_EQ(c.result.status, 429);
  EXPECT_NE(c.body.find("slow down"), std::string::npos);
}

TEST(HttpTransport, RunsManyStreamsConcurrentlyOnOneThread) {
  LoopbackServer server;
  HttpTransport transport;
  constexpr int kStreams = 12;
  std::vector<std::unique_ptr<Collector>> cs;
  std::mutex ids_mu;
  std::vector<std::thread::id> callback_threads;
  for (int i = 0; i < kStreams; ++i) {
    cs.push_back(std::make_unique<Collector>());
    cs.back()->on_first_chunk = [&] {
      std::lock_guard<std::mutex> lock(ids_mu);
      callback_threads.push_back(std::this_thread::get_id());
    };
    transport.Start(Post(server.Url("/stream?n=5&gap=20&barrier=12")), cs.back()->Callbacks());
  }
  for (auto& c : cs) {
    c->Wait();
    EXPECT_EQ(c->body, "chunk-0\nchunk-1\nchunk-2\nchunk-3\nchunk-4\n");
  }
  // All streams were in flight together (the server's barrier saw them) ...
  EXPECT_EQ(server.max_in_flight(), kStreams);
  // ... and every callback ran on the same single I/O thread.
  ASSERT_EQ(callback_threads.size(), static_cast<size_t>(kStreams));
  EXPECT_TRUE(std::all_of(callback_threads.begin(), callback_threads.end(),
                          [&](std::thread::id id) { return id == callback_threads[0]; }));
  EXPECT_NE(callback_threads[0], std::this_thread::get_id());
}

TEST(HttpTransport, PoolCapQueuesRequestsBeyondIt) {
  LoopbackServer server;
  HttpTransport transport;
  std::vector<std::unique_ptr<Collector>> cs;
  for (int i = 0; i < 6; ++i) {
    cs.push_back(std::make_unique<Collector>());
    HttpRequest rq = Post(server.Url("/stream?n=3&gap=20&barrier=2"));
    rq.pool = "provider-a";
    rq.max_concurrent = 2;
    transport.Start(rq, cs.back()->Callbacks());
  }
  for (auto& c : cs) {
    c->Wait();
    EXPECT_EQ(c->result.error, TransferError::kNone);
    EXPECT_EQ(c->body, "chunk-0\nchunk-1\nchunk-2\n");
  }
  EXPECT_EQ(server.max_in_flight(), 2);
}

TEST(HttpTransport, IdleTimeoutFiresOnStalledStream) {
  LoopbackServer server;
  HttpTransport transport;
  Collector c;
  HttpRequest rq = Post(server.Url("/stream?n=3&stall=1500"));
  rq.idle_timeout_ms = 400;
  transport.Start(rq, c.Callbacks());
  c.Wait();
  EXPECT_EQ(c.result.error, TransferError::kIdleTimeout);
  EXPECT_EQ(c.body, "chunk-0\n");  // the bytes before the stall did arrive
}

// Deadlines are not re-checked on every wake-up (only once the earliest one
// could be due): a stream that keeps sending must outlive its idle timeout
// many times over.
TEST(HttpTransport, IdleTimeoutDoesNotFireWhileBytesKeepArriving) {
  LoopbackServer server;
  HttpTransport transport;
  Collector c;
  HttpRequest rq = Post(server.Url("/stream?n=25&gap=20"));
  rq.idle_timeout_ms = 200;
  transport.Start(rq, c.Callbacks());
  c.Wait();
  EXPECT_EQ(c.result.error, TransferError::kNone) << c.result.error_message;
  EXPECT_EQ(c.body.size(), 25u * 8);
}

// curl's own deadlines reach it through its timer callback.
TEST(HttpTransport, TotalTimeoutEndsAStreamThatIsStillSending) {
  LoopbackServer server;
  HttpTransport transport;
  Collector c;
  HttpRequest rq = Post(server.Url("/stream?n=1000&gap=10"));
  rq.total_timeout_ms = 300;
  transport.Start(rq, c.Callbacks());
  c.Wait();
  EXPECT_EQ(c.result.error, TransferError::kTotalTimeout) << c.result.error_message;
  EXPECT_FALSE(c.body.empty());
  EXPECT_LT(c.body.size(), 1000u * 8);
}

// Later requests reuse the kept-alive connection: its socket leaves the
// epoll set between transfers and must come back.
TEST(HttpTransport, SequentialRequestsReuseTheConnection) {
  LoopbackServer server;
  HttpTransport transport;
  for (int i = 0; i < 3; ++i) {
    Collector c;
    HttpRequest rq = Post(server.Url("/echo"));
    rq.headers = {"X-Test: " + std::to_string(i)};
    transport.Start(rq, c.Callbacks());
    c.Wait();
    EXPECT_EQ(c.result.status, 200);
    EXPECT_EQ(c.body, std::to_string(i) + "|");
  }
  std::vector<int> ports = server.echo_client_ports();
  ASSERT_EQ(ports.size(), 3u);
  EXPECT_GT(ports[0], 0);
  EXPECT_EQ(ports[1], ports[0]) << "the second request opened a new connection";
  EXPECT_EQ(ports[2], ports[0]) << "the third request opened a new connection";
}

TEST(HttpTransport, CancelFromAnotherThreadStopsStream) {
  LoopbackServer server;
  HttpTransport transport;
  Collector c;
  std::promise<void> first_chunk;
  c.on_first_chunk = [&] { first_chunk.set_value(); };
  TransferId id = transport.Start(Post(server.Url("/stream?n=1000&gap=10")), c.Callbacks());
  first_chunk.get_future().wait();
  std::thread([&] { transport.Cancel(id); }).join();
  c.Wait();
  EXPECT_EQ(c.result.error, TransferError::kCancelled);
  EXPECT_LT(c.body.size(), 1000u * 8);
  transport.Cancel(id);  // finished ids are ignored
}

TEST(HttpTransport, CancelDuringStartDelayCompletesWithoutConnecting) {
  HttpTransport transport;
  Collector c;
  HttpRequest rq = Post("http://127.0.0.1:9/never");
  rq.start_delay_ms = 60000;
  TransferId id = transport.Start(rq, c.Callbacks());
  transport.Cancel(id);
  c.Wait();
  EXPECT_EQ(c.result.error, TransferError::kCancelled);
  EXPECT_EQ(c.result.status, 0);
}

TEST(HttpTransport, StartDelayPostponesTheRequest) {
  LoopbackServer server;
  HttpTransport transport;
  Collector c;
  HttpRequest rq = Post(server.Url("/echo"));
  rq.start_delay_ms = 150;
  auto before = std::chrono::steady_clock::now();
  transport.Start(rq, c.Callbacks());
  c.Wait();
  EXPECT_EQ(c.result.status, 200);
  EXPECT_GE(c.result.started - before, std::chrono::milliseconds(150));
}

TEST(HttpTransport, ConnectionRefusedIsAConnectErrorWithoutSecrets) {
  Redactor::Register("super-secret-key-123456");
  HttpTransport transport;
  Collector c;
  // Port 1 on loopback: nothing listens there in the test environment.
  HttpRequest rq = Post("http://127.0.0.1:1/v1/chat");
  rq.headers = {"Authorization: Bearer super-secret-key-123456"};
  transport.Start(rq, c.Callbacks());
  c.Wait();
  EXPECT_EQ(c.result.error, TransferError::kConnect);
  EXPECT_FALSE(c.result.error_message.empty());
  EXPECT_EQ(c.result.error_message.find("super-secret"), std::string::npos);
}

TEST(HttpTransport, BodyCallbackCanAbortTheTransfer) {
  LoopbackServer server;
  HttpTransport transport;
  std::promise<HttpResult> done;
  int chunks = 0;
  transport.Start(Post(server.Url("/stream?n=100&gap=5")),
                  TransferCallbacks{[&](int, std::string_view) { return ++chunks < 2; },
                                    [&](HttpResult r) { done.set_value(std::move(r)); }});
  HttpResult r = done.get_future().get();
  EXPECT_EQ(r.error, TransferError::kAborted);
  EXPECT_EQ(chunks, 2);
}

TEST(HttpTransport, DestructorCancelsOutstandingTransfers) {
  LoopbackServer server;
  Collector running, delayed;
  {
    HttpTransport transport;
    std::promise<void> first_chunk;
    running.on_first_chunk = [&] { first_chunk.set_value(); };
    transport.Start(Post(server.Url("/stream?n=1000&gap=10")), running.Callbacks());
    HttpRequest rq = Post(server.Url("/echo"));
    rq.start_delay_ms = 60000;
    transport.Start(rq, delayed.Callbacks());
    first_chunk.get_future().wait();
  }
  EXPECT_TRUE(running.done);
  EXPECT_EQ(running.result.error, TransferError::kCancelled);
  EXPECT_TRUE(delayed.done);
  EXPECT_EQ(delayed.result.error, TransferError::kCancelled);
}

TEST(HttpTransport, StartFromInsideCallbackWorks) {
  LoopbackServer server;
  HttpTransport transport;
  Collector second;
  std::promise<void> first_done;
  transport.Start(Post(server.Url("/echo")),
                  TransferCallbacks{nullptr, [&](HttpResult) {
                                      transport.Start(Post(server.Url("/echo")), second.Callbacks());
                                      first_done.set_value();
                                    }});
  first_done.get_future().wait();
  second.Wait();
  EXPECT_EQ(second.result.status, 200);
}


// A reply that owns the transport can be the last owner, and it is released
// on the I/O thread when its callbacks are destroyed: the destructor then
// runs on the thread it would join. It must neither abort nor leak the
// other transfers (they still complete, cancelled).
TEST(HttpTransport, LastOwnerReleasedInsideCallbackDoesNotJoinItself) {
  LoopbackServer server;
  Collector other;
  std::promise<void> released;
  {
    auto transport = std::make_shared<HttpTransport>();
    HttpRequest slow = Post(server.Url("/echo"));
    slow.start_delay_ms = 60000;
    transport->Start(slow, other.Callbacks());
    auto holder = std::make_shared<std::shared_ptr<HttpTransport>>(std::move(transport));
    holder->get()->Start(Post(server.Url("/echo")),
                         TransferCallbacks{nullptr, [holder, &released](HttpResult) {
                                             holder->reset();  // the last reference, on the I/O thread
                                             released.set_value();
                                           }});
    holder.reset();
  }
  released.get_future().wait();
  other.Wait();
  EXPECT_EQ(other.result.error, TransferError::kCancelled);
}

}  // namespace
}  // namespace tandem::net
