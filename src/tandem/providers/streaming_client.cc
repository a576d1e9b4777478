#include "tandem/providers/streaming_client.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>

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
        const RetryPolicy& policy, StreamObserver* observer, net::HttpRequest http)
      : provider_(std::move(provider)),
        codec_(std::move(codec)),
        transport_(std::move(transport)),
        policy_(policy),
        observer_(observer),
        http_(std::move(http)) {
    emit_ = [this](const protocol::StreamEvent& e) {
      if (observer_ != nullptr) observer_->OnEvent(e);
    };
  }

  void StartAttempt(int delay_ms) {
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
      std::lock_guard<std::mutex> lock(mu_);
      cancelled = cancelled_;
    }
    if (cancelled) {
      Complete(CancelledError());
      return;
    }
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
      std::lock_guard<std::mutex> lock(mu_);
      transfer_ = id;
      cancel_now = cancelled_ && !done_;
    }
    if (cancel_now) transport_->Cancel(id);
  }

  ReplyResult Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_; });
    return *outcome_;
  }

  void Cancel() {
    net::TransferId id;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (done_ || cancelled_) return;
      cancelled_ = true;
      id = transfer_;
    }
    if (id != 0) transport_->Cancel(id);
  }

  bool done() {
    std::lock_guard<std::mutex> lock(mu_);
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
    int retries;
    bool cancelled;
    {
      std::lock_guard<std::mutex> lock(mu_);
      retries = retries_;
      cancelled = cancelled_;
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
      RetryDecision d = policy_.Decide(*err, r.headers, retries);
      if (d.retry) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          retries = ++retries_;
        }
        if (observer_ != nullptr) observer_->OnRetry(*err, retries, d.delay_ms);
        StartAttempt(d.delay_ms);
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
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return;
    outcome_.emplace(std::move(result));
    done_ = true;
    cv_.notify_all();
  }

  const std::string provider_;
  const std::shared_ptr<const WireCodec> codec_;
  const std::shared_ptr<net::HttpTransport> transport_;
  const RetryPolicy policy_;
  StreamObserver* const observer_;
  const net::HttpRequest http_;
  EmitFn emit_;

  // The current attempt: touched by one thread at a time (the starter, then
  // the I/O thread), handed over through the transport's queue.
  std::unique_ptr<StreamDecoder> decoder_;
  std::unique_ptr<net::SseParser> parser_;
  std::string error_body_;
  std::optional<ModelError> stream_error_;
  bool body_began_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;                   // guarded by mu_
  bool cancelled_ = false;              // guarded by mu_
  net::TransferId transfer_ = 0;        // guarded by mu_
  int retries_ = 0;                     // guarded by mu_
  std::optional<ReplyResult> outcome_;  // guarded by mu_
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
                                 std::shared_ptr<net::HttpTransport> transport, RetryPolicy policy)
    : settings_(std::move(settings)),
      codec_(std::move(codec)),
      transport_(std::move(transport)),
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
  http.pool = settings_.name.empty() ? base : settings_.name;
  http.max_concurrent = settings_.max_concurrent;
  http.connect_timeout_ms = settings_.connect_timeout_ms;
  http.idle_timeout_ms = settings_.idle_timeout_ms;
  http.total_timeout_ms = settings_.request_timeout_ms;
  auto reply = std::make_shared<Reply>(settings_.name, codec_, transport_, policy_, observer, std::move(http));
  reply->StartAttempt(0);
  return std::make_unique<PendingReplyImpl>(std::move(reply));
}

}  // namespace tandem::providers
