#include "tandem/providers/streaming_client.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <utility>

#include "tandem/base/mutex.h"
#include "tandem/base/redact.h"
#include "tandem/base/token_rate.h"
#include "tandem/net/sse_parser.h"
#include "tandem/providers/model_errors.h"

namespace tandem::providers {
namespace {

using protocol::ModelError;
using protocol::ModelErrorKind;
using protocol::ModelResponse;
using ReplyResult = Result<ModelResponse, ModelError>;

constexpr size_t kMaxErrorBody = 64 * 1024;

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// One request across all its attempts. Shared by the PendingReply and the
// transport callbacks of the attempt in flight.
class Reply : public std::enable_shared_from_this<Reply> {
 public:
  Reply(std::string provider, std::shared_ptr<const WireCodec> codec, std::shared_ptr<net::HttpTransport> transport,
        std::shared_ptr<RateLimiter> limiter, const RetryPolicy& policy, StreamObserver* observer,
        net::HttpRequest http)
      : provider_(std::move(provider)),
        codec_(std::move(codec)),
        transport_(std::move(transport)),
        limiter_(std::move(limiter)),
        policy_(policy),
        observer_(observer),
        http_(std::move(http)),
        estimated_tokens_(static_cast<int64_t>(http_.body.size() / 4)) {
    emit_ = [this](const protocol::StreamEvent& e) {
      if (observer_ != nullptr) observer_->OnEvent(e);
    };
  }

  // The next attempt, `delay_ms` after it is admitted: started now if the
  // limiter admits it, else parked for Wait(). Never blocks.
  void Queue(int delay_ms) {
    RateLimiter::Attempt admitted = limiter_->TryAcquire(estimated_tokens_);
    if (admitted.permit) {
      StartAttempt(delay_ms, std::move(*admitted.permit));
      return;
    }
    {
      MutexLock lock(mu_);
      parked_ = true;
      parked_delay_ms_ = delay_ms;
    }
    cv_.notify_all();
  }

  void StartAttempt(int delay_ms, RateLimiter::Permit permit) {
    decoder_ = codec_->NewDecoder();
    parser_ = std::make_unique<net::SseParser>([this](const net::SseEvent& e) {
      if (stream_error_) return;  // the attempt already failed; ignore the rest of the chunk
      if (auto err = decoder_->OnEvent(e, emit_)) stream_error_ = std::move(err);
    });
    error_body_.clear();
    stream_error_.reset();
    body_began_ = false;
    bool cancelled;
    {
      MutexLock lock(mu_);
      cancelled = cancelled_;
    }
    if (cancelled) {
      Complete(CancelledError());
      return;
    }
    permit_.emplace(std::move(permit));
    net::HttpRequest rq = http_;
    rq.start_delay_ms = delay_ms;
    auto self = shared_from_this();
    net::TransferId id = transport_->Start(
        std::move(rq), net::TransferCallbacks{[self](int status, std::string_view chunk) {
                                                return self->OnBody(status, chunk);
                                              },
                                              [self](net::HttpResult r) { self->OnDone(std::move(r)); }});
    bool cancel_now = false;
    {
      MutexLock lock(mu_);
      transfer_ = id;
      cancel_now = cancelled_ && !done_;
    }
    if (cancel_now) transport_->Cancel(id);
  }

  // Waits for the outcome, starting a parked attempt once the limiter
  // admits it.
  ReplyResult Wait() {
    for (;;) {
      int delay_ms = 0;
      {
        MutexLock lock(mu_);
        while (!done_ && !parked_) cv_.wait(mu_);
        if (done_) return *outcome_;
        parked_ = false;
        delay_ms = parked_delay_ms_;
      }
      Result<RateLimiter::Permit> permit = limiter_->Acquire(estimated_tokens_, stop_.get_token());
      if (permit) {
        StartAttempt(delay_ms, std::move(*permit));
      } else {
        Complete(CancelledError());
      }
    }
  }

  void Cancel() {
    net::TransferId id;
    {
      MutexLock lock(mu_);
      if (done_ || cancelled_) return;
      cancelled_ = true;
      id = transfer_;
    }
    stop_.request_stop();  // a Wait() blocked on the limiter gives up
    if (id != 0) transport_->Cancel(id);
  }

  bool done() {
    MutexLock lock(mu_);
    return done_;
  }

 private:
  // I/O thread.
  bool OnBody(int status, std::string_view chunk) {
    if (status < 200 || status >= 300) {
      error_body_.append(chunk.substr(0, kMaxErrorBody - std::min(kMaxErrorBody, error_body_.size())));
      return true;
    }
    body_began_ = true;
    parser_->Feed(chunk);
    return !stream_error_;
  }

  // I/O thread (or the caller's, if the transport has shut down).
  void OnDone(net::HttpResult r) {
    std::optional<ModelError> err;
    std::optional<ModelResponse> response;
    if (r.error == net::TransferError::kCancelled) {
      err = CancelledError();
    } else if (stream_error_) {
      err = std::move(stream_error_);
    } else if (r.error != net::TransferError::kNone) {
      err = ErrorFromTransfer(provider_, r, body_began_);
    } else if (r.status < 200 || r.status >= 300) {
      err = ErrorFromHttpStatus(provider_, r.status, error_body_);
      for (const char* h : {"x-request-id", "request-id"}) {
        auto it = r.headers.find(h);
        if (it != r.headers.end()) err->message += " [" + std::string(h) + " " + it->second + "]";
      }
    } else {
      parser_->Finish();  // a last event without its blank line
      if (stream_error_) {
        err = std::move(stream_error_);
      } else {
        ReplyResult decoded = decoder_->Finish(emit_);
        if (decoded) {
          response = std::move(*decoded);
        } else {
          err = decoded.error();
        }
      }
    }
    // The attempt is over: its concurrency slot frees, its tokens settle
    // (a failed attempt is taken as having used none).
    if (permit_) {
      permit_->Finish(response ? response->usage.input_tokens + response->usage.output_tokens : 0);
      permit_.reset();
    }
    int retries;
    bool cancelled;
    RetryHistory history;
    {
      MutexLock lock(mu_);
      retries = retries_;
      cancelled = cancelled_;
      history = history_;
    }
    if (response) {
      protocol::Timings& t = response->timings;
      t.time_to_first_token_ms = Ms(r.first_byte - r.started);
      t.total_ms = Ms(r.finished - r.started);
      t.output_tokens_per_s = ReplyTokensPerSecond(response->usage.output_tokens,
                                                   t.time_to_first_token_ms, t.total_ms);
      response->retries = retries;
      Complete(std::move(*response));
      return;
    }
    if (cancelled) err = CancelledError();
    if (err->kind != ModelErrorKind::kCancelled) {
      RetryDecision d = policy_.Decide(*err, r.headers, history);
      if (d.retry) {
        {
          MutexLock lock(mu_);
          retries = ++retries_;
          if (d.rate_limited) {
            ++history_.rate_limited;
            history_.rate_limited_ms += d.delay_ms;
          } else {
            ++history_.retries;
          }
        }
        // A rate limit holds back every request to the provider, this
        // one's retry included (it then waits in the limiter, from Wait()).
        if (d.rate_limited) limiter_->PauseFor(d.delay_ms);
        if (observer_ != nullptr) observer_->OnRetry(*err, retries, d.delay_ms);
        Queue(d.rate_limited ? 0 : d.delay_ms);
        return;
      }
    }
    err->retries = retries;
    Complete(std::move(*err));
  }

  ModelError CancelledError() const {
    return ModelError{ModelErrorKind::kCancelled, 0, provider_ + ": cancelled", 0};
  }

  void Complete(ReplyResult result) {
    MutexLock lock(mu_);
    if (done_) return;
    outcome_.emplace(std::move(result));
    done_ = true;
    cv_.notify_all();
  }

  const std::string provider_;
  const std::shared_ptr<const WireCodec> codec_;
  const std::shared_ptr<net::HttpTransport> transport_;
  const std::shared_ptr<RateLimiter> limiter_;
  const RetryPolicy policy_;
  StreamObserver* const observer_;
  const net::HttpRequest http_;
  const int64_t estimated_tokens_;  // for tokens_per_minute: body bytes / 4
  EmitFn emit_;
  std::stop_source stop_;  // Cancel(): ends a Wait() blocked on the limiter

  // The current attempt: touched by one thread at a time (the starter, then
  // the I/O thread), handed over through the transport's queue.
  std::unique_ptr<StreamDecoder> decoder_;
  std::unique_ptr<net::SseParser> parser_;
  std::string error_body_;
  std::optional<ModelError> stream_error_;
  bool body_began_ = false;
  std::optional<RateLimiter::Permit> permit_;  // the attempt's, until it ends

  Mutex mu_;
  std::condition_variable_any cv_;
  bool done_ GUARDED_BY(mu_) = false;
  bool cancelled_ GUARDED_BY(mu_) = false;
  net::TransferId transfer_ GUARDED_BY(mu_) = 0;
  int retries_ GUARDED_BY(mu_) = 0;                    // every retry
  RetryHistory history_ GUARDED_BY(mu_);               // what RetryPolicy counts
  bool parked_ GUARDED_BY(mu_) = false;                // an attempt waits for Wait()
  int parked_delay_ms_ GUARDED_BY(mu_) = 0;
  std::optional<ReplyResult> outcome_ GUARDED_BY(mu_);
};

class PendingReplyImpl : public PendingReply {
 public:
  explicit PendingReplyImpl(std::shared_ptr<Reply> reply) : reply_(std::move(reply)) {}
  ~PendingReplyImpl() override {
    if (!reply_->done()) {
      reply_->Cancel();
      (void)reply_->Wait();
    }
  }
  ReplyResult Wait() override { return reply_->Wait(); }
  void Cancel() override { reply_->Cancel(); }

 private:
  std::shared_ptr<Reply> reply_;
};

}  // namespace

StreamingClient::StreamingClient(ProviderSettings settings, std::shared_ptr<const WireCodec> codec,
                                 std::shared_ptr<net::HttpTransport> transport,
                                 std::shared_ptr<RateLimiter> limiter, RetryPolicy policy)
    : settings_(std::move(settings)),
      codec_(std::move(codec)),
      transport_(std::move(transport)),
      limiter_(std::move(limiter)),
      policy_(std::move(policy)) {
  Redactor::Register(settings_.api_key);
}

std::unique_ptr<PendingReply> StreamingClient::Start(const protocol::ModelRequest& request,
                                                     StreamObserver* observer) {
  // No secret byte reaches a request: what tandem writes into a prompt (a
  // task, AGENTS.md, a failed attempt's diff for the planner) is redacted
  // here. Tool results are redacted where they are made, and the assistant's
  // turns are the model's own.
  protocol::ModelRequest redacted = request;
  redacted.system = Redactor::Apply(redacted.system);
  for (protocol::Message& message : redacted.messages) {
    if (message.role == protocol::Role::kUser) message.text = Redactor::Apply(message.text);
  }
  WireRequest wire = codec_->Encode(redacted);
  net::HttpRequest http;
  std::string base = settings_.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  http.url = base + wire.path;
  http.headers = std::move(wire.headers);
  http.body = std::move(wire.body);
  http.pool = settings_.name.empty() ? base : settings_.name;  // concurrency: limiter_
  http.connect_timeout_ms = settings_.connect_timeout_ms;
  http.idle_timeout_ms = settings_.idle_timeout_ms;
  http.total_timeout_ms = settings_.request_timeout_ms;
  auto reply = std::make_shared<Reply>(settings_.name, codec_, transport_, limiter_, policy_, observer,
                                       std::move(http));
  reply->Queue(0);
  return std::make_unique<PendingReplyImpl>(std::move(reply));
}

}  // namespace tandem::providers
