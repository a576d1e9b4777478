#include "tandem/net/http_transport.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "tandem/base/mutex.h"
#include "tandem/base/redact.h"
#include "tandem/net/curl_api.h"

namespace tandem::net {
namespace {

using Clock = std::chrono::steady_clock;

thread_local Clock::time_point tls_chunk_arrival;

int MsUntil(Clock::time_point now, Clock::time_point t) {
  if (t <= now) return 0;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - now).count() + 1;
  return static_cast<int>(std::min<int64_t>(ms, 1 << 30));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

const char* TransferErrorName(TransferError e) {
  switch (e) {
    case TransferError::kNone: return "none";
    case TransferError::kConnect: return "connect";
    case TransferError::kConnectTimeout: return "connect_timeout";
    case TransferError::kIdleTimeout: return "idle_timeout";
    case TransferError::kTotalTimeout: return "total_timeout";
    case TransferError::kNetwork: return "network";
    case TransferError::kAborted: return "aborted";
    case TransferError::kCancelled: return "cancelled";
  }
  return "unknown";
}

Clock::time_point HttpTransport::ChunkArrivalTime() { return tls_chunk_arrival; }

struct HttpTransport::Impl {
  enum class State { kNew, kDelayed, kWaiting, kActive };

  struct Transfer {
    TransferId id = 0;
    HttpRequest request;
    TransferCallbacks callbacks;
    State state = State::kNew;
    CURL* easy = nullptr;
    curl_slist* header_list = nullptr;
    char errbuf[CURL_ERROR_SIZE] = {};
    HttpResult result;
    Clock::time_point due;            // kDelayed: when to queue
    Clock::time_point last_activity;  // kActive: last byte in
    bool aborted = false;
    int status = 0;  // known once the first body byte arrives
  };

  struct Pool {
    int active = 0;
    int cap = 0;
    std::deque<Transfer*> waiting;
  };

  Impl() {
    auto loaded = LoadCurl();
    if (!loaded) {
      // No libcurl: every request completes at once with this reason.
      unavailable = loaded.error().message();
      exited = true;
      return;
    }
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd;
    if (epoll_fd < 0 || wake_fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev) != 0) {
      unavailable = std::string("cannot set up the I/O thread's epoll set: ") + std::strerror(errno);
      exited = true;
      return;
    }
    curl = *loaded;
    multi = curl->multi_init();
    curl->multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::OnSocket);
    curl->multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl->multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::OnTimer);
    curl->multi_setopt(multi, CURLMOPT_TIMERDATA, this);
  }

  ~Impl() {
    if (multi != nullptr) curl->multi_cleanup(multi);  // may still call OnSocket: fds stay open until here
    if (wake_fd >= 0) close(wake_fd);
    if (epoll_fd >= 0) close(epoll_fd);
  }

  // Wakes the I/O thread's epoll_wait. Callers checked !exited.
  void Wake() REQUIRES(mu) {
    uint64_t one = 1;
    // Only fails (EAGAIN) when the counter is already huge: then it is readable anyway.
    [[maybe_unused]] ssize_t n = write(wake_fd, &one, sizeof one);
  }

  // The I/O thread shares ownership of Impl, so the last HttpTransport
  // reference may be dropped inside a callback (a reply that owned the
  // transport finishing last): then the thread cannot join itself; it
  // detaches, cancels what is left, and frees Impl when it returns.
  static void StartThread(const std::shared_ptr<Impl>& impl) {
    if (impl->curl == nullptr) return;
    impl->thread = std::thread([impl] { impl->Run(); });
  }

  void Stop() {
    if (!thread.joinable()) return;
    {
      MutexLock lock(mu);
      stopping = true;
      Wake();
    }
    if (thread.get_id() == std::this_thread::get_id()) {
      thread.detach();
    } else {
      thread.join();
    }
  }

  // --- any thread ---

  TransferId Start(HttpRequest request, TransferCallbacks callbacks) {
    auto t = std::make_unique<Transfer>();
    t->request = std::move(request);
    t->callbacks = std::move(callbacks);
    {
      MutexLock lock(mu);
      t->id = ++next_id;
      if (!exited) {
        TransferId id = t->id;
        incoming.push_back(std::move(t));
        // Also from the I/O thread itself: its next epoll_wait must not sleep.
        Wake();
        return id;
      }
    }
    // The I/O thread is gone: complete at once.
    HttpResult r;
    r.error = unavailable.empty() ? TransferError::kCancelled : TransferError::kNetwork;
    r.error_message = unavailable.empty() ? "transport shut down" : unavailable;
    r.started = r.first_byte = r.finished = Clock::now();
    if (t->callbacks.on_done) t->callbacks.on_done(std::move(r));
    return t->id;
  }

  void Cancel(TransferId id) {
    MutexLock lock(mu);
    if (exited) return;
    cancels.push_back(id);
    Wake();
  }

  // --- I/O thread ---

  // The loop: epoll_wait for the sockets curl asked about (OnSocket), the
  // wake-up eventfd and the earliest deadline (curl's timer, an idle timeout,
  // a delayed start); then curl_multi_socket_action for exactly the sockets
  // that are ready. Nothing walks all transfers or polls all sockets per
  // wake-up, which at 64 streams x 1,200 chunks/s is what costs.
  void Run() {
    constexpr int kMaxEvents = 128;
    epoll_event events[kMaxEvents];
    bool woken = true;  // drain the queues on the first pass
    for (;;) {
      if (woken && DrainQueues()) break;
      woken = false;
      Clock::time_point now = Clock::now();
      QueueDueTransfers(now);
      if (timer_due <= now) {
        timer_due = Clock::time_point::max();  // curl re-arms it through OnTimer
        int running = 0;
        curl->multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        CompleteFinished();
      }
      int n = epoll_wait(epoll_fd, events, kMaxEvents, WaitMs(Clock::now()));
      removed_in_batch.clear();
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        const uint32_t what = events[i].events;
        if (fd == wake_fd) {
          uint64_t count;
          [[maybe_unused]] ssize_t r = read(wake_fd, &count, sizeof count);
          woken = true;
          continue;
        }
        int mask = 0;
        if (what & EPOLLIN) mask |= CURL_CSELECT_IN;
        if (what & EPOLLOUT) mask |= CURL_CSELECT_OUT;
        if (what & (EPOLLERR | EPOLLHUP)) mask |= CURL_CSELECT_ERR;
        // An event for an fd curl let go of earlier in this batch is stale:
        // the number may already name a new connection, which must not
        // receive an old error.
        if (std::find(removed_in_batch.begin(), removed_in_batch.end(), fd) !=
            removed_in_batch.end()) {
          continue;
        }
        int running = 0;
        curl->multi_socket_action(multi, fd, mask, &running);
      }
      CompleteFinished();
    }
    Shutdown();
  }

  // Takes new transfers and cancellations from other threads; true when the
  // transport is stopping.
  bool DrainQueues() {
    std::vector<std::unique_ptr<Transfer>> new_transfers;
    std::vector<TransferId> new_cancels;
    bool stop;
    {
      MutexLock lock(mu);
      new_transfers.swap(incoming);
      new_cancels.swap(cancels);
      stop = stopping;
    }
    Clock::time_point now = Clock::now();
    for (auto& t : new_transfers) Admit(std::move(t), now);
    for (TransferId id : new_cancels) {
      auto it = transfers.find(id);
      if (it != transfers.end()) Finish(it->second.get(), TransferError::kCancelled, "cancelled");
    }
    return stop;
  }

  void CompleteFinished() {
    int left = 0;
    while (CURLMsg* msg = curl->multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl->easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      CompleteFromCurl(t, msg->data.result);
    }
  }

  // CURLMOPT_SOCKETFUNCTION: curl says which events it wants on a socket.
  static int OnSocket(CURL*, curl_socket_t fd, int what, void* userp, void*) {
    auto* self = static_cast<Impl*>(userp);
    if (what == CURL_POLL_REMOVE) {
      // Fails harmlessly when curl already closed it (epoll dropped it then).
      epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
      self->removed_in_batch.push_back(fd);
      return 0;
    }
    epoll_event ev{};
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    // Called only when curl's interest changes, so the failed ADD costs little.
    if (epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST) {
      epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, fd, &ev);
    }
    return 0;
  }

  // CURLMOPT_TIMERFUNCTION: when curl next wants CURL_SOCKET_TIMEOUT
  // (connect/total timeouts, its own retries); -1 = no timer.
  static int OnTimer(CURLM*, long timeout_ms, void* userp) {  // NOLINT(runtime/int): curl's type
    auto* self = static_cast<Impl*>(userp);
    self->timer_due = timeout_ms < 0 ? Clock::time_point::max()
                                     : Clock::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
  }

  void Admit(std::unique_ptr<Transfer> owned, Clock::time_point now) {
    Transfer* t = owned.get();
    transfers.emplace(t->id, std::move(owned));
    if (t->request.start_delay_ms > 0) {
      t->state = State::kDelayed;
      t->due = now + std::chrono::milliseconds(t->request.start_delay_ms);
      delayed.emplace(t->due, t);
    } else {
      Enqueue(t);
    }
  }

  void QueueDueTransfers(Clock::time_point now) {
    while (!delayed.empty() && delayed.begin()->first <= now) {
      Transfer* t = delayed.begin()->second;
      delayed.erase(delayed.begin());
      Enqueue(t);
    }
  }

  void Enqueue(Transfer* t) {
    Pool& pool = pools[t->request.pool];
    pool.cap = t->request.max_concurrent;
    if (pool.cap > 0 && pool.active >= pool.cap) {
      t->state = State::kWaiting;
      pool.waiting.push_back(t);
      return;
    }
    Activate(t, pool);
  }

  void Activate(Transfer* t, Pool& pool) {
    const HttpRequest& rq = t->request;
    CURL* e = curl->easy_init();
    t->easy = e;
    curl->easy_setopt(e, CURLOPT_URL, rq.url.c_str());
    curl->easy_setopt(e, CURLOPT_PRIVATE, t);
    curl->easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl->easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl->easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::OnWrite);
    curl->easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl->easy_setopt(e, CURLOPT_HEADERFUNCTION, &Impl::OnHeader);
    curl->easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl->easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl->easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(rq.connect_timeout_ms));
    if (rq.total_timeout_ms > 0) curl->easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(rq.total_timeout_ms));
    if (rq.post) {
      curl->easy_setopt(e, CURLOPT_POST, 1L);
      curl->easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(rq.body.size()));
      curl->easy_setopt(e, CURLOPT_POSTFIELDS, rq.body.data());
    }
    for (const std::string& h : rq.headers) t->header_list = curl->slist_append(t->header_list, h.c_str());
    // No "Expect: 100-continue" round trip before large bodies.
    t->header_list = curl->slist_append(t->header_list, "Expect:");
    curl->easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);

    t->state = State::kActive;
    t->result.started = t->last_activity = Clock::now();
    if (rq.idle_timeout_ms > 0) {
      idle_check_due = std::min(idle_check_due, t->last_activity + std::chrono::milliseconds(rq.idle_timeout_ms));
    }
    ++pool.active;
    curl->multi_add_handle(multi, e);
  }

  static size_t OnWrite(char* ptr, size_t size, size_t n, void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    const size_t len = size * n;
    Clock::time_point now = Clock::now();
    tls_chunk_arrival = now;
    t->last_activity = now;
    if (t->result.body_bytes == 0) {
      long code = 0;
      (*LoadCurl())->easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);  // loaded: a transfer exists
      t->status = static_cast<int>(code);
      t->result.first_byte = now;
    }
    t->result.body_bytes += len;
    if (t->callbacks.on_body && !t->callbacks.on_body(t->status, std::string_view(ptr, len))) {
      t->aborted = true;
      return 0;  // curl stops with CURLE_WRITE_ERROR
    }
    return len;
  }

  static size_t OnHeader(char* buffer, size_t size, size_t n, void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    const size_t len = size * n;
    t->last_activity = Clock::now();
    std::string_view line(buffer, len);
    if (line.substr(0, 5) == "HTTP/") {
      t->result.headers.clear();  // a new response (after 1xx or a redirect)
      return len;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return len;
    std::string name(Trim(line.substr(0, colon)));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    t->result.headers[std::move(name)] = std::string(Trim(line.substr(colon + 1)));
    return len;
  }

  void CompleteFromCurl(Transfer* t, CURLcode code) {
    if (code == CURLE_OK) {
      Finish(t, TransferError::kNone, "");
      return;
    }
    TransferError kind = TransferError::kNetwork;
    switch (code) {
      case CURLE_WRITE_ERROR:
        if (t->aborted) kind = TransferError::kAborted;
        break;
      case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t connect_us = 0;
        curl->easy_getinfo(t->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
        kind = connect_us == 0 ? TransferError::kConnectTimeout : TransferError::kTotalTimeout;
        break;
      }
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_COULDNT_CONNECT:
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_URL_MALFORMAT:
        kind = TransferError::kConnect;
        break;
      default:
        break;
    }
    std::string message = t->errbuf[0] != '\0' ? std::string(t->errbuf) : curl->easy_strerror(code);
    Finish(t, kind, message);
  }

  // Finishes transfers whose idle timeout passed and returns how long
  // epoll_wait may sleep before the next deadline. Transfers are scanned only
  // once the earliest idle deadline seen so far is due (deadlines only move
  // later as bytes arrive), not on every wake-up.
  int WaitMs(Clock::time_point now) {
    if (idle_check_due <= now) {
      idle_check_due = Clock::time_point::max();
      std::vector<Transfer*> expired;
      for (auto& [id, owned] : transfers) {
        Transfer* t = owned.get();
        if (t->state != State::kActive || t->request.idle_timeout_ms <= 0) continue;
        Clock::time_point deadline = t->last_activity + std::chrono::milliseconds(t->request.idle_timeout_ms);
        if (deadline <= now) {
          expired.push_back(t);
        } else {
          idle_check_due = std::min(idle_check_due, deadline);
        }
      }
      for (Transfer* t : expired) {
        Finish(t, TransferError::kIdleTimeout,
               "no data received for " + std::to_string(t->request.idle_timeout_ms) + " ms");
      }
      // A finished transfer may have freed a pool slot (curl's timer is due) or run a callback.
      if (!expired.empty()) return 0;
    }
    int wait_ms = 1000;
    wait_ms = std::min(wait_ms, MsUntil(now, idle_check_due));
    wait_ms = std::min(wait_ms, MsUntil(now, timer_due));
    if (!delayed.empty()) wait_ms = std::min(wait_ms, MsUntil(now, delayed.begin()->first));
    return wait_ms;
  }

  // Completes `t`: detaches it from curl and its pool, runs on_done, frees it.
  void Finish(Transfer* t, TransferError error, std::string message) {
    std::unique_ptr<Transfer> owned = std::move(transfers[t->id]);
    transfers.erase(t->id);
    Pool& pool = pools[t->request.pool];
    switch (t->state) {
      case State::kActive:
        curl->multi_remove_handle(multi, t->easy);
        --pool.active;
        break;
      case State::kWaiting:
        pool.waiting.erase(std::find(pool.waiting.begin(), pool.waiting.end(), t));
        break;
      case State::kDelayed:
        for (auto it = delayed.lower_bound(t->due); it != delayed.end(); ++it) {
          if (it->second == t) {
            delayed.erase(it);
            break;
          }
        }
        break;
      case State::kNew:
        break;
    }
    HttpResult result = std::move(t->result);
    result.error = error;
    result.error_message = Redactor::Apply(message);
    result.finished = Clock::now();
    if (t->state == State::kActive) {
      long code = 0;
      curl->easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
      result.status = static_cast<int>(code);
    } else {
      result.started = result.finished;
    }
    if (result.body_bytes == 0) result.first_byte = result.started;
    if (t->easy != nullptr) curl->easy_cleanup(t->easy);
    curl->slist_free_all(t->header_list);
    t->easy = nullptr;
    t->header_list = nullptr;

    while (!pool.waiting.empty() && (pool.cap <= 0 || pool.active < pool.cap)) {
      Transfer* next = pool.waiting.front();
      pool.waiting.pop_front();
      Activate(next, pool);
    }
    if (owned->callbacks.on_done) owned->callbacks.on_done(std::move(result));
  }

  void Shutdown() {
    for (;;) {
      std::vector<std::unique_ptr<Transfer>> late;
      {
        MutexLock lock(mu);
        late.swap(incoming);
        cancels.clear();
        if (late.empty() && transfers.empty()) {
          exited = true;
          return;
        }
      }
      Clock::time_point now = Clock::now();
      for (auto& t : late) Admit(std::move(t), now);
      // Waiting transfers first, so finishing active ones does not start them.
      std::vector<Transfer*> order;
      for (auto& [id, t] : transfers) {
        if (t->state != State::kActive) order.push_back(t.get());
      }
      for (auto& [id, t] : transfers) {
        if (t->state == State::kActive) order.push_back(t.get());
      }
      for (Transfer* t : order) Finish(t, TransferError::kCancelled, "transport shut down");
    }
  }

  const CurlApi* curl = nullptr;  // null when libcurl could not be loaded
  std::string unavailable;        // why, then
  CURLM* multi = nullptr;
  int epoll_fd = -1;  // curl's sockets (OnSocket) and wake_fd
  std::vector<int> removed_in_batch;  // fds curl removed since the last epoll_wait
  int wake_fd = -1;   // eventfd: Start/Cancel/Stop from any thread
  std::thread thread;

  Mutex mu;
  std::vector<std::unique_ptr<Transfer>> incoming GUARDED_BY(mu);
  std::vector<TransferId> cancels GUARDED_BY(mu);
  TransferId next_id GUARDED_BY(mu) = 0;
  bool stopping GUARDED_BY(mu) = false;
  bool exited GUARDED_BY(mu) = false;

  // I/O thread only.
  std::unordered_map<TransferId, std::unique_ptr<Transfer>> transfers;
  std::multimap<Clock::time_point, Transfer*> delayed;
  std::unordered_map<std::string, Pool> pools;
  Clock::time_point timer_due = Clock::time_point::max();       // curl's (OnTimer)
  Clock::time_point idle_check_due = Clock::time_point::max();  // <= the earliest idle deadline
};

HttpTransport::HttpTransport() : impl_(std::make_shared<Impl>()) { Impl::StartThread(impl_); }
HttpTransport::~HttpTransport() { impl_->Stop(); }

TransferId HttpTransport::Start(HttpRequest request, TransferCallbacks callbacks) {
  return impl_->Start(std::move(request), std::move(callbacks));
}

void HttpTransport::Cancel(TransferId id) { impl_->Cancel(id); }

}  // namespace tandem::net
