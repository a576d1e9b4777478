#include "tandem/providers/retry_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <random>

namespace tandem::providers {
namespace {

using protocol::ModelErrorKind;

double DefaultRandom() {
  static std::mutex mu;
  static std::mt19937_64 gen(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

const std::string* Find(const HeaderMap& headers, const char* name) {
  auto it = headers.find(name);
  return it == headers.end() ? nullptr : &it->second;
}

std::optional<double> ParseNumber(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  while (end != nullptr && *end == ' ') ++end;
  if (end == s.c_str() || end == nullptr || *end != '\0' || !std::isfinite(v)) return std::nullopt;
  return v;
}

// RFC 7231 IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(const std::string& s) {
  std::tm tm{};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (end == nullptr) return std::nullopt;
  time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

}  // namespace

RetryPolicy::RetryPolicy(int max_retries, int max_retry_after_ms, int64_t max_rate_limit_wait_ms,
                         RandomSource random)
    : max_retries_(max_retries),
      max_retry_after_ms_(max_retry_after_ms),
      max_rate_limit_wait_ms_(max_rate_limit_wait_ms),
      random_(random ? std::move(random) : RandomSource(&DefaultRandom)) {}

bool RetryPolicy::IsRateLimit(const protocol::ModelError& error) {
  return error.http_status == 429 || error.kind == ModelErrorKind::kRateLimited;
}

bool RetryPolicy::IsRetryable(const protocol::ModelError& error, const HeaderMap& headers) {
  switch (error.kind) {
    case ModelErrorKind::kCancelled:
    case ModelErrorKind::kMalformed:
      return false;  // never: the caller asked, or retrying cannot help
    default:
      break;
  }
  if (const std::string* v = Find(headers, "x-should-retry")) {
    if (*v == "true") return true;
    if (*v == "false") return false;
  }
  const int s = error.http_status;
  if (s >= 400) return s == 408 || s == 409 || s == 429 || s >= 500;
  switch (error.kind) {
    case ModelErrorKind::kNetwork:
    case ModelErrorKind::kTimeout:
    case ModelErrorKind::kStreamBroken:
    case ModelErrorKind::kOverloaded:
    case ModelErrorKind::kRateLimited:
    case ModelErrorKind::kServer:
      return true;
    default:
      return false;
  }
}

int RetryPolicy::BackoffMs(int retries_taken, double random01) {
  double seconds = std::min(0.5 * std::pow(2.0, retries_taken), 8.0);
  return static_cast<int>(std::lround(seconds * (1.0 - 0.25 * random01) * 1000.0));
}

std::optional<double> RetryPolicy::ServerDelayMs(const HeaderMap& headers,
                                                 std::chrono::system_clock::time_point now) {
  if (const std::string* v = Find(headers, "retry-after-ms")) {
    if (auto ms = ParseNumber(*v)) return *ms;
  }
  if (const std::string* v = Find(headers, "retry-after")) {
    if (auto seconds = ParseNumber(*v)) return *seconds * 1000.0;
    if (auto date = ParseHttpDate(*v)) {
      return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(*date - now).count());
    }
  }
  return std::nullopt;
}

RetryDecision RetryPolicy::Decide(const protocol::ModelError& error, const HeaderMap& headers,
                                  const RetryHistory& history,
                                  std::chrono::system_clock::time_point now) const {
  RetryDecision d;
  if (!IsRetryable(error, headers)) return d;
  d.rate_limited = IsRateLimit(error);
  if (!d.rate_limited && history.retries >= max_retries_) return d;
  std::optional<double> server_ms = ServerDelayMs(headers, now);
  if (server_ms && *server_ms > max_retry_after_ms_) return d;  // the server wants a long pause: surface
  if (server_ms && *server_ms > 0) {
    d.delay_ms = static_cast<int>(std::ceil(*server_ms));
  } else {
    d.delay_ms = BackoffMs(d.rate_limited ? history.rate_limited : history.retries, random_());
  }
  if (d.rate_limited && history.rate_limited_ms + d.delay_ms > max_rate_limit_wait_ms_) return d;
  d.retry = true;
  return d;
}

}  // namespace tandem::providers
