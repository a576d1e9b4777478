// Routing by measured speed: a pool of models behind one ModelClient.
//
// A role that names a pool ([pools.NAME], docs/CONFIG.md) gets a client that
// sends each request to the member with the lowest predicted time for it:
//
//   predicted_ms = ttft_base_ms + prefill_ms_per_token * uncached_prompt_tokens
//                + decode_ms_per_token * expected_output_tokens
//
// fitted per model from a rolling window of its recent calls (SpeedBook:
// the last kWindow successful calls, newest weighted most, half-life
// kHalfLife calls), seeded from the ledger's model_calls at start and
// updated by every reply in the process. `uncached_prompt_tokens` is the
// request's size (bytes / 4) less what the member served last in the same
// conversation (its prompt cache); `expected_output_tokens` is the role's
// recent mean output. The documented prior: a member without a measured
// call is tried first (pool order), so every member gets measured; a member
// whose newest sample is kProbeAfter calls behind the pool's gets one call,
// so one that recovers is seen; a member that failed is skipped for
// kFailedCooldownMs while another is left, and a failed request goes to the
// next member once. Until a model has been measured on prompts of different
// sizes its time to first token counts as constant (prefill slope 0).
//
// Each reply carries the member that served it (ModelResponse::served_by),
// so callers price and record it at that model (config::ReplyCostUsd).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tandem/base/mutex.h"
#include "tandem/providers/model_client.h"

namespace tandem::providers {

inline constexpr int kWindow = 16;            // samples kept per model (and outputs per role)
inline constexpr double kHalfLife = 4;        // calls; the weight of a sample halves every 4 newer ones
inline constexpr int64_t kProbeAfter = 40;    // a member this many book calls stale gets one call
inline constexpr int64_t kPriorOutputTokens = 256;  // a role's expected output before any reply
inline constexpr int64_t kFailedCooldownMs = 30000;

// One measured call of a model.
struct SpeedSample {
  int64_t uncached_input = 0;  // prompt tokens the provider had to prefill
  int64_t output_tokens = 0;
  double ttft_ms = 0;
  double total_ms = 0;
};

// A model's fitted figures. `prefill_ms_per_token` is 0 until the window
// holds prompts of different sizes.
struct SpeedEstimate {
  int samples = 0;
  double ttft_base_ms = 0;
  double prefill_ms_per_token = 0;
  double decode_ms_per_token = 0;
  double median_ttft_ms = 0;  // of the window, for people (tandem models)

  double PredictMs(int64_t uncached_prompt_tokens, int64_t expected_output_tokens) const;
  // Tokens per second, 0 when unknown.
  double PrefillTokensPerS() const;
  double DecodeTokensPerS() const;
};

// Fits an estimate to `window` (oldest first). Pure; O(window).
SpeedEstimate EstimateSpeed(const std::deque<SpeedSample>& window);

// The measured speeds of every model the process has seen, keyed
// "provider/model_id" (the ledger's provider and model columns), and each
// role's recent output sizes.
// Thread-safety: every method may be called from any thread.
class SpeedBook {
 public:
  // Appends a sample (dropping the oldest beyond kWindow) and counts a call.
  void Record(const std::string& model_key, const SpeedSample& sample);
  // Appends an output size for `role` (dropping the oldest beyond kWindow).
  void RecordOutput(const std::string& role, int64_t output_tokens);
  // The estimate of `model_key`; nullopt without a sample.
  std::optional<SpeedEstimate> Estimate(const std::string& model_key) const;
  // The weighted mean of the role's recent outputs; kPriorOutputTokens without any.
  int64_t ExpectedOutput(const std::string& role) const;
  // Calls recorded since the model's newest sample (0 when it is the newest;
  // nullopt without a sample).
  std::optional<int64_t> CallsSince(const std::string& model_key) const;
  // A failed call: Failed() is true for kFailedCooldownMs from `now`.
  void MarkFailed(const std::string& model_key, std::chrono::steady_clock::time_point now);
  bool Failed(const std::string& model_key, std::chrono::steady_clock::time_point now) const;
  // Every model key with samples.
  std::vector<std::string> Models() const;

 private:
  struct Window {
    std::deque<SpeedSample> samples;
    int64_t newest_call = 0;  // calls_ when the newest sample was recorded
  };
  mutable Mutex mu_;
  std::map<std::string, Window> windows_ GUARDED_BY(mu_);
  std::map<std::string, std::deque<int64_t>> outputs_ GUARDED_BY(mu_);
  std::map<std::string, std::chrono::steady_clock::time_point> failed_ GUARDED_BY(mu_);
  int64_t calls_ GUARDED_BY(mu_) = 0;
};

// One member of a pool as the router sees it.
struct PoolMember {
  protocol::ServedBy identity;  // model_name, provider, model_id, prices, fast_mode
  std::string Key() const { return identity.provider + "/" + identity.model_id; }
};

// What the router decided for one request.
struct RouteChoice {
  size_t member = 0;
  std::optional<double> predicted_ms;  // nullopt: an unmeasured member tried (the prior)
  bool probe = false;                  // a stale member given one call
};

// The member a step of `prompt_tokens` (uncached_per_member[i] of them
// uncached on member i) and `expected_output` tokens goes to now. Members in
// `skip` (already failed for this request) are left out; REQUIRES: at least
// one member is not skipped. Pure apart from reading `book`.
RouteChoice ChooseMember(const SpeedBook& book, const std::vector<PoolMember>& members,
                         const std::vector<int64_t>& uncached_per_member, int64_t expected_output,
                         const std::vector<bool>& skip,
                         std::chrono::steady_clock::time_point now);

// A request's prompt size in tokens as the router estimates it: the bytes of
// its system text, messages, tool calls and tool definitions over 4.
int64_t EstimatePromptTokens(const protocol::ModelRequest& request);

// The ModelClient of a pool. `clients[i]` talks to `members[i]`; `role`
// names whose outputs set the expected output ("executor", ...).
// Thread-safety: like every ModelClient, usable from many threads.
std::unique_ptr<ModelClient> MakeRoutedClient(std::vector<PoolMember> members,
                                              std::vector<std::unique_ptr<ModelClient>> clients,
                                              std::shared_ptr<SpeedBook> book, std::string role);

}  // namespace tandem::providers
