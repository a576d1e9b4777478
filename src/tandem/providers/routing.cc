#include "tandem/providers/routing.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace tandem::providers {
namespace {

using Clock = std::chrono::steady_clock;

// Weight of the sample `age` calls older than the newest.
double Weight(size_t age) { return std::pow(0.5, static_cast<double>(age) / kHalfLife); }

// Two prompt sizes closer than this (relative) do not fix a prefill slope.
constexpr double kMinSpread = 0.2;

}  // namespace

double SpeedEstimate::PredictMs(int64_t uncached_prompt_tokens,
                                int64_t expected_output_tokens) const {
  return ttft_base_ms + prefill_ms_per_token * static_cast<double>(uncached_prompt_tokens) +
         decode_ms_per_token * static_cast<double>(expected_output_tokens);
}

double SpeedEstimate::PrefillTokensPerS() const {
  return prefill_ms_per_token > 0 ? 1000.0 / prefill_ms_per_token : 0;
}

double SpeedEstimate::DecodeTokensPerS() const {
  return decode_ms_per_token > 0 ? 1000.0 / decode_ms_per_token : 0;
}

SpeedEstimate EstimateSpeed(const std::deque<SpeedSample>& window) {
  SpeedEstimate out;
  out.samples = static_cast<int>(window.size());
  if (window.empty()) return out;
  // Weighted means; the newest sample (the back) has age 0.
  double w_sum = 0, x_mean = 0, y_mean = 0, decode_ms = 0, decode_tokens = 0;
  double x_min = 1e300, x_max = 0;
  std::vector<double> ttfts;
  for (size_t i = 0; i < window.size(); ++i) {
    const SpeedSample& s = window[i];
    double w = Weight(window.size() - 1 - i);
    double x = static_cast<double>(s.uncached_input);
    w_sum += w;
    x_mean += w * x;
    y_mean += w * s.ttft_ms;
    x_min = std::min(x_min, x);
    x_max = std::max(x_max, x);
    ttfts.push_back(s.ttft_ms);
    if (s.output_tokens > 0) {
      decode_ms += w * std::max(0.0, s.total_ms - s.ttft_ms);
      decode_tokens += w * static_cast<double>(s.output_tokens);
    }
  }
  x_mean /= w_sum;
  y_mean /= w_sum;
  std::nth_element(ttfts.begin(), ttfts.begin() + ttfts.size() / 2, ttfts.end());
  out.median_ttft_ms = ttfts[ttfts.size() / 2];
  out.decode_ms_per_token = decode_tokens > 0 ? decode_ms / decode_tokens : 0;
  out.ttft_base_ms = y_mean;
  if (window.size() >= 2 && x_max > 0 && (x_max - x_min) / x_max >= kMinSpread) {
    double sxx = 0, sxy = 0;
    for (size_t i = 0; i < window.size(); ++i) {
      double w = Weight(window.size() - 1 - i);
      double dx = static_cast<double>(window[i].uncached_input) - x_mean;
      sxx += w * dx * dx;
      sxy += w * dx * (window[i].ttft_ms - y_mean);
    }
    double slope = sxx > 0 ? sxy / sxx : 0;
    if (slope > 0) {
      out.prefill_ms_per_token = slope;
      out.ttft_base_ms = y_mean - slope * x_mean;
      if (out.ttft_base_ms < 0) {  // the line through the origin and the mean instead
        out.ttft_base_ms = 0;
        out.prefill_ms_per_token = x_mean > 0 ? y_mean / x_mean : 0;
      }
    }
  }
  return out;
}

void SpeedBook::Record(const std::string& model_key, const SpeedSample& sample) {
  MutexLock lock(mu_);
  Window& window = windows_[model_key];
  window.samples.push_back(sample);
  while (window.samples.size() > static_cast<size_t>(kWindow)) window.samples.pop_front();
  window.newest_call = ++calls_;
  failed_.erase(model_key);
}

void SpeedBook::RecordOutput(const std::string& role, int64_t output_tokens) {
  MutexLock lock(mu_);
  std::deque<int64_t>& outputs = outputs_[role];
  outputs.push_back(output_tokens);
  while (outputs.size() > static_cast<size_t>(kWindow)) outputs.pop_front();
}

std::optional<SpeedEstimate> SpeedBook::Estimate(const std::string& model_key) const {
  MutexLock lock(mu_);
  auto found = windows_.find(model_key);
  if (found == windows_.end() || found->second.samples.empty()) return std::nullopt;
  return EstimateSpeed(found->second.samples);
}

int64_t SpeedBook::ExpectedOutput(const std::string& role) const {
  MutexLock lock(mu_);
  auto found = outputs_.find(role);
  if (found == outputs_.end() || found->second.empty()) return kPriorOutputTokens;
  const std::deque<int64_t>& outputs = found->second;
  double sum = 0, w_sum = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    double w = Weight(outputs.size() - 1 - i);
    sum += w * static_cast<double>(outputs[i]);
    w_sum += w;
  }
  return static_cast<int64_t>(std::llround(sum / w_sum));
}

std::optional<int64_t> SpeedBook::CallsSince(const std::string& model_key) const {
  MutexLock lock(mu_);
  auto found = windows_.find(model_key);
  if (found == windows_.end() || found->second.samples.empty()) return std::nullopt;
  return calls_ - found->second.newest_call;
}

void SpeedBook::MarkFailed(const std::string& model_key, Clock::time_point now) {
  MutexLock lock(mu_);
  failed_[model_key] = now;
}

bool SpeedBook::Failed(const std::string& model_key, Clock::time_point now) const {
  MutexLock lock(mu_);
  auto found = failed_.find(model_key);
  return found != failed_.end() &&
         now - found->second < std::chrono::milliseconds(kFailedCooldownMs);
}

std::vector<std::string> SpeedBook::Models() const {
  MutexLock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [key, window] : windows_) {
    if (!window.samples.empty()) out.push_back(key);
  }
  return out;
}

RouteChoice ChooseMember(const SpeedBook& book, const std::vector<PoolMember>& members,
                         const std::vector<int64_t>& uncached_per_member, int64_t expected_output,
                         const std::vector<bool>& skip, Clock::time_point now) {
  // Members that failed recently sit out while another is left.
  std::vector<size_t> open;
  for (size_t i = 0; i < members.size(); ++i) {
    if (!skip[i] && !book.Failed(members[i].Key(), now)) open.push_back(i);
  }
  if (open.empty()) {
    for (size_t i = 0; i < members.size(); ++i) {
      if (!skip[i]) open.push_back(i);
    }
  }
  // The prior: an unmeasured member first; then one gone stale.
  for (size_t i : open) {
    if (!book.CallsSince(members[i].Key())) return {i, std::nullopt, false};
  }
  for (size_t i : open) {
    if (*book.CallsSince(members[i].Key()) >= kProbeAfter) {
      return {i, book.Estimate(members[i].Key())->PredictMs(uncached_per_member[i], expected_output),
              true};
    }
  }
  RouteChoice best{open.front(), std::nullopt, false};
  for (size_t i : open) {
    double ms = book.Estimate(members[i].Key())->PredictMs(uncached_per_member[i], expected_output);
    if (!best.predicted_ms || ms < *best.predicted_ms) best = {i, ms, false};
  }
  return best;
}

int64_t EstimatePromptTokens(const protocol::ModelRequest& request) {
  size_t bytes = request.system.size();
  for (const protocol::Message& message : request.messages) {
    bytes += message.text.size();
    for (const protocol::ToolCall& call : message.tool_calls) {
      bytes += call.name.size() + call.arguments_json.size();
    }
  }
  for (const protocol::ToolSpec& tool : request.tools) {
    bytes += tool.name.size() + tool.description.size() + tool.parameters.dump().size();
  }
  return static_cast<int64_t>(bytes / 4);
}

namespace {

Unexpected<protocol::ModelError> Cancelled() {
  return Unexpected(protocol::ModelError{protocol::ModelErrorKind::kCancelled, 0, "cancelled", 0});
}

// The conversation a request continues: its system text and first message.
size_t ConversationKey(const protocol::ModelRequest& request) {
  std::string head = request.system;
  if (!request.messages.empty()) head += '\x1f' + request.messages.front().text;
  return std::hash<std::string>{}(head);
}

class RoutedClient;

class RoutedReply : public PendingReply {
 public:
  RoutedReply(RoutedClient* client, protocol::ModelRequest request, StreamObserver* observer)
      : client_(client), request_(std::move(request)), observer_(observer) {}
  void Begin();
  Result<protocol::ModelResponse, protocol::ModelError> Wait() override;
  void Cancel() override {
    MutexLock lock(mu_);
    cancelled_ = true;
    if (current_) current_->Cancel();
  }

 private:
  // Starts the request on the best member not yet tried. REQUIRES: one is
  // left. False when the reply was cancelled meanwhile.
  bool StartNext() EXCLUDES(mu_);

  RoutedClient* client_;
  const protocol::ModelRequest request_;
  StreamObserver* observer_;
  int64_t prompt_tokens_ = 0;
  int64_t expected_output_ = 0;
  std::vector<bool> tried_;
  RouteChoice choice_;
  Mutex mu_;
  std::unique_ptr<PendingReply> current_ GUARDED_BY(mu_);
  bool cancelled_ GUARDED_BY(mu_) = false;
};

class RoutedClient : public ModelClient {
 public:
  RoutedClient(std::vector<PoolMember> members, std::vector<std::unique_ptr<ModelClient>> clients,
               std::shared_ptr<SpeedBook> book, std::string role)
      : members_(std::move(members)),
        clients_(std::move(clients)),
        book_(std::move(book)),
        role_(std::move(role)) {}

  std::unique_ptr<PendingReply> Start(const protocol::ModelRequest& request,
                                      StreamObserver* observer) override {
    auto reply = std::make_unique<RoutedReply>(this, request, observer);
    reply->Begin();
    return reply;
  }

  const std::vector<PoolMember>& members() const { return members_; }
  ModelClient& client(size_t i) { return *clients_[i]; }
  SpeedBook& book() { return *book_; }
  const std::string& role() const { return role_; }

  // Uncached prompt tokens of a request of `prompt_tokens` on each member:
  // all of them, except on the member that served this conversation last.
  std::vector<int64_t> UncachedPerMember(size_t conversation, int64_t prompt_tokens) {
    std::vector<int64_t> out(members_.size(), prompt_tokens);
    MutexLock lock(mu_);
    auto last = last_served_.find(conversation);
    if (last != last_served_.end()) {
      out[last->second.member] = std::max<int64_t>(0, prompt_tokens - last->second.prompt_tokens);
    }
    return out;
  }
  void Served(size_t conversation, size_t member, int64_t prompt_tokens) {
    MutexLock lock(mu_);
    if (last_served_.size() >= 4096) last_served_.clear();  // bounded; forgetting costs one guess
    last_served_[conversation] = {member, prompt_tokens};
  }

 private:
  struct LastServed {
    size_t member = 0;
    int64_t prompt_tokens = 0;
  };
  const std::vector<PoolMember> members_;
  std::vector<std::unique_ptr<ModelClient>> clients_;
  std::shared_ptr<SpeedBook> book_;
  const std::string role_;
  Mutex mu_;
  std::map<size_t, LastServed> last_served_ GUARDED_BY(mu_);
};

void RoutedReply::Begin() {
  prompt_tokens_ = EstimatePromptTokens(request_);
  expected_output_ = client_->book().ExpectedOutput(client_->role());
  tried_.assign(client_->members().size(), false);
  StartNext();
}

bool RoutedReply::StartNext() {
  std::vector<int64_t> uncached =
      client_->UncachedPerMember(ConversationKey(request_), prompt_tokens_);
  choice_ = ChooseMember(client_->book(), client_->members(), uncached, expected_output_, tried_,
                         Clock::now());
  tried_[choice_.member] = true;
  protocol::ModelRequest request = request_;
  request.model = client_->members()[choice_.member].identity.model_id;
  MutexLock lock(mu_);
  if (cancelled_) return false;
  current_ = client_->client(choice_.member).Start(request, observer_);
  return true;
}

Result<protocol::ModelResponse, protocol::ModelError> RoutedReply::Wait() {
  int failovers = 0;
  while (true) {
    PendingReply* current;
    {
      MutexLock lock(mu_);
      current = current_.get();
    }
    if (!current) {
      return Cancelled();
    }
    Result<protocol::ModelResponse, protocol::ModelError> reply = current->Wait();
    const PoolMember& member = client_->members()[choice_.member];
    if (reply) {
      SpeedSample sample;
      sample.uncached_input =
          std::max<int64_t>(0, reply->usage.input_tokens - reply->usage.cached_input_tokens);
      sample.output_tokens = reply->usage.output_tokens;
      sample.ttft_ms = reply->timings.time_to_first_token_ms;
      sample.total_ms = reply->timings.total_ms;
      if (sample.ttft_ms > 0 && sample.output_tokens > 0) {
        client_->book().Record(member.Key(), sample);
        client_->book().RecordOutput(client_->role(), sample.output_tokens);
      }
      client_->Served(ConversationKey(request_), choice_.member, reply->usage.input_tokens);
      reply->served_by = member.identity;
      reply->served_by->predicted_ms = choice_.predicted_ms.value_or(0);
      reply->retries += failovers;
      return reply;
    }
    if (reply.error().kind == protocol::ModelErrorKind::kCancelled) return reply;
    client_->book().MarkFailed(member.Key(), Clock::now());
    {
      MutexLock lock(mu_);
      current_.reset();  // its observer calls ended with its Wait
      if (cancelled_) return Cancelled();
    }
    if (std::find(tried_.begin(), tried_.end(), false) == tried_.end()) return reply;
    // The next member: what the observer saw of this attempt is void.
    ++failovers;
    if (observer_) observer_->OnRetry(reply.error(), failovers, 0);
    if (!StartNext()) return Cancelled();
  }
}

}  // namespace

std::unique_ptr<ModelClient> MakeRoutedClient(std::vector<PoolMember> members,
                                              std::vector<std::unique_ptr<ModelClient>> clients,
                                              std::shared_ptr<SpeedBook> book, std::string role) {
  return std::make_unique<RoutedClient>(std::move(members), std::move(clients), std::move(book),
                                        std::move(role));
}

}  // namespace tandem::providers
