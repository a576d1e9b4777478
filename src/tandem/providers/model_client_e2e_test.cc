// End-to-end: the real clients over real HTTP against the scripted model
// server (tests/model_server), one server subprocess per test.
#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/base/token_rate.h"
#include "tandem/net/http_transport.h"
#include "tandem/providers/model_client.h"
#include "tests/support/model_server_process.h"

namespace tandem::providers {
namespace {

using nlohmann::json;
using protocol::ModelErrorKind;
using testing::ModelServerOptions;
using testing::ModelServerProcess;

constexpr char kKey[] = "sk-e2e-correct-key-0123456789";

// Records what a consumer would see: events, voided on retry.
class Recorder : public StreamObserver {
 public:
  void OnEvent(const protocol::StreamEvent& e) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto* t = std::get_if<protocol::TextDelta>(&e)) text_ += t->text;
    if (auto* c = std::get_if<protocol::ToolCallReady>(&e)) calls_.push_back(c->call);
    if (std::holds_alternative<protocol::UsageReport>(e)) ++usage_reports_;
    if (!first_event_sent_) {
      first_event_sent_ = true;
      first_event_.set_value();
    }
  }
  void OnRetry(const protocol::ModelError& error, int attempt, int delay_ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    text_.clear();
    calls_.clear();
    usage_reports_ = 0;
    retries_.push_back({error.kind, delay_ms});
    if (retries_.size() == 1) first_retry_.set_value();
  }
  std::string text() {
    std::lock_guard<std::mutex> lock(mu_);
    return text_;
  }
  std::vector<protocol::ToolCall> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  int usage_reports() {
    std::lock_guard<std::mutex> lock(mu_);
    return usage_reports_;
  }
  std::vector<std::pair<ModelErrorKind, int>> retries() {
    std::lock_guard<std::mutex> lock(mu_);
    return retries_;
  }
  std::future<void> FirstEvent() { return first_event_.get_future(); }
  std::future<void> FirstRetry() { return first_retry_.get_future(); }

 private:
  std::mutex mu_;
  std::string text_;
  std::vector<protocol::ToolCall> calls_;
  int usage_reports_ = 0;
  std::vector<std::pair<ModelErrorKind, int>> retries_;
  bool first_event_sent_ = false;
  std::promise<void> first_event_;
  std::promise<void> first_retry_;
};

json Turn(const std::string& text, json tool_calls = json::array(), json faults = json::array()) {
  json t = {{"text", text}};
  if (!tool_calls.empty()) t["tool_calls"] = std::move(tool_calls);
  if (!faults.empty()) t["faults"] = std::move(faults);
  return t;
}

class E2E : public ::testing::Test {
 protected:
  void StartServer(json turns, int tokens_per_second = 2000, std::vector<std::string> extra = {}) {
    ModelServerOptions o;
    o.script_json = json({{"turns", std::move(turns)}}).dump();
    o.tokens_per_second = tokens_per_second;
    o.ttft_ms = 20;
    o.api_key = kKey;
    o.extra_args = std::move(extra);
    auto server = ModelServerProcess::Start(o);
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(*server);
  }

  ProviderSettings Settings(WireFormat wire, std::string key = kKey) {
    ProviderSettings s;
    s.name = wire == WireFormat::kOpenAI ? "openai-e2e" : "anthropic-e2e";
    s.wire = wire;
    s.base_url = server_->base_url();
    s.api_key = std::move(key);
    s.idle_timeout_ms = 5000;
    return s;
  }

  std::unique_ptr<ModelClient> Client(const ProviderSettings& s, ModelOptions o = {}) {
    return MakeModelClient(s, o, transport_);
  }

  static protocol::ModelRequest Request(const std::string& user = "please fix the bug") {
    protocol::ModelRequest rq;
    rq.model = "scripted-model";
    rq.system = "You are an executor.";
    rq.max_tokens = 1000;
    rq.tools.push_back({"read_file", "Read a file", {{"type", "object"}, {"properties", {{"path", {{"type", "string"}}}}}}});
    rq.tools.push_back({"edit_file", "Edit a file", {{"type", "object"}}});
    rq.messages.push_back(protocol::Message::User(user));
    return rq;
  }

  std::shared_ptr<net::HttpTransport> transport_ = std::make_shared<net::HttpTransport>();
  std::unique_ptr<ModelServerProcess> server_;
};

class BothWires : public E2E, public ::testing::WithParamInterface<WireFormat> {};

const char* kText = "I will read the file first, then make the smallest change that fixes it.";

TEST_P(BothWires, StreamsTextWithUsage) {
  StartServer(json::array({Turn(kText)}));
  Recorder rec;
  auto result = Client(Settings(GetParam()))->Complete(Request(), &rec);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->text, kText);
  EXPECT_EQ(rec.text(), kText);
  EXPECT_EQ(result->stop_reason, protocol::StopReason::kEndTurn);
  EXPECT_TRUE(result->saw_done);
  EXPECT_EQ(result->retries, 0);
  EXPECT_GT(result->usage.input_tokens, 10);
  EXPECT_GT(result->usage.output_tokens, 5);
  EXPECT_EQ(rec.usage_reports(), 1);
  EXPECT_GT(result->timings.total_ms, result->timings.time_to_first_token_ms);
  // ~15 tokens within a few milliseconds: too short to be a rate.
  EXPECT_EQ(result->timings.output_tokens_per_s, 0);
}

TEST_P(BothWires, ALongReplysSpeedIsItsTokensAfterTheFirstOverItsStreamingTime) {
  std::string text = "word";
  for (int i = 0; i < 200; ++i) text += " word";
  StartServer(json::array({Turn(text)}), /*tokens_per_second=*/2000);
  auto result = Client(Settings(GetParam()))->Complete(Request(), nullptr);
  ASSERT_TRUE(result) << result.error().message;
  // The one rule (base/token_rate.h) over the reply's own timings: the
  // tokens after the first over the time from the first to the last, not
  // from the request or counting the first token.
  const protocol::Timings& t = result->timings;
  int64_t tokens = result->usage.output_tokens;
  ASSERT_GT(tokens - 1, kMinRateTokens);
  ASSERT_GE(t.total_ms - t.time_to_first_token_ms, kMinRateSpanMs);  // 200 tokens 0.5 ms apart
  EXPECT_DOUBLE_EQ(t.output_tokens_per_s,
                   static_cast<double>(tokens - 1) * 1000.0 /
                       (t.total_ms - t.time_to_first_token_ms))
      << tokens;
}

TEST_P(BothWires, SeveralParallelToolCallsArriveValidated) {
  json calls = json::array({{{"name", "read_file"}, {"arguments", {{"path", "src/a.py"}}}},
                            {{"name", "read_file"}, {"arguments", {{"path", "src/b.py"}}}},
                            {{"name", "edit_file"}, {"arguments", {{"path", "c.py"}, {"old", "x = 1"}, {"new", "x = 2"}}}}});
  json turn = Turn("Reading both.", calls);
  turn["interleave_tool_calls"] = true;
  StartServer(json::array({turn}));
  Recorder rec;
  auto result = Client(Settings(GetParam()))->Complete(Request(), &rec);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->stop_reason, protocol::StopReason::kToolUse);
  ASSERT_EQ(result->tool_calls.size(), 3u);
  EXPECT_EQ(result->tool_calls[0].arguments, json({{"path", "src/a.py"}}));
  EXPECT_EQ(result->tool_calls[1].arguments, json({{"path", "src/b.py"}}));
  EXPECT_EQ(result->tool_calls[2].arguments["new"], "x = 2");
  EXPECT_FALSE(result->tool_calls[0].id.empty());
  EXPECT_NE(result->tool_calls[0].id, result->tool_calls[1].id);
  EXPECT_EQ(rec.calls().size(), 3u);
}

TEST_P(BothWires, ToolResultsRoundTripAndPrefixIsCached) {
  json calls = json::array({{{"id", "call_1"}, {"name", "read_file"}, {"arguments", {{"path", "a.py"}}}}});
  json first = Turn("", calls);
  first["when"] = {{"assistant_turns", 0}};
  json second = Turn("Done.");
  second["when"] = {{"last_message_contains", "print"}};
  StartServer(json::array({first, second}));
  auto client = Client(Settings(GetParam()));
  protocol::ModelRequest rq = Request(std::string(2000, 'x'));  // a prefix long enough to cache
  auto r1 = client->Complete(rq);
  ASSERT_TRUE(r1) << r1.error().message;
  ASSERT_EQ(r1->tool_calls.size(), 1u);
  protocol::Message asst;
  asst.role = protocol::Role::kAssistant;
  asst.tool_calls = r1->tool_calls;
  rq.messages.push_back(asst);
  rq.messages.push_back(protocol::Message::ToolResult(r1->tool_calls[0].id, "print('hi')", false));
  auto r2 = client->Complete(rq);
  ASSERT_TRUE(r2) << r2.error().message;
  EXPECT_EQ(r2->text, "Done.");
  // The model server keys its simulated cache on the JSON text including
  // cache_control markers, so the Anthropic breakpoint that moves to the
  // newest block ends the shared prefix at the first user message there (the
  // real API ignores marker positions). Tools + system are still cached.
  EXPECT_GT(r2->usage.cached_input_tokens, GetParam() == WireFormat::kOpenAI ? 400 : 50);
  EXPECT_GE(r2->usage.input_tokens, r2->usage.cached_input_tokens);
}

TEST_P(BothWires, RateLimitIsRetriedAfterTheServerDirectedDelay) {
  StartServer(json::array({Turn(kText, {}, json::array({{{"kind", "http_429"}, {"retry_after_ms", 300}}}))}));
  Recorder rec;
  auto result = Client(Settings(GetParam()))->Complete(Request(), &rec);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->retries, 1);
  EXPECT_EQ(result->text, kText);
  ASSERT_EQ(rec.retries().size(), 1u);
  EXPECT_EQ(rec.retries()[0], std::make_pair(ModelErrorKind::kRateLimited, 300));
  EXPECT_EQ(server_->Requests().size(), 2u);
}

TEST_P(BothWires, RetryAfterSecondsIsHonored) {
  StartServer(json::array({Turn(kText, {}, json::array({{{"kind", "http_429"}, {"retry_after_s", 1}}}))}));
  Recorder rec;
  auto result = Client(Settings(GetParam()))->Complete(Request(), &rec);
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(rec.retries().size(), 1u);
  EXPECT_EQ(rec.retries()[0].second, 1000);
}

TEST_P(BothWires, RetryAfterAboveTheCapIsNotWaitedFor) {
  StartServer(json::array({Turn(kText, {}, json::array({{{"kind", "http_429"}, {"retry_after_s", 30}}}))}));
  ProviderSettings s = Settings(GetParam());
  s.max_retry_after_ms = 5000;
  auto result = Client(s)->Complete(Request());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ModelErrorKind::kRateLimited);
  EXPECT_EQ(result.error().http_status, 429);
  EXPECT_EQ(server_->Requests().size(), 1u);
}

TEST_P(BothWires, ServerErrorsAreRetriedWithBackoffUntilMaxRetries) {
  StartServer(json::array({Turn(kText, {}, json::array({{{"kind", "http_500"}, {"times", 5}}}))}));
  ProviderSettings s = Settings(GetParam());
  s.max_retries = 1;
  Recorder rec;
  auto result = Client(s)->Complete(Request(), &rec);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ModelErrorKind::kServer);
  EXPECT_EQ(result.error().retries, 1);
  ASSERT_EQ(rec.retries().size(), 1u);
  EXPECT_GE(rec.retries()[0].second, 375);  // 0.5 s minus up to 25 % jitter
  EXPECT_LE(rec.retries()[0].second, 500);
  EXPECT_EQ(server_->Requests().size(), 2u);
}

TEST_P(BothWires, AStormOf429sIsWaitedOutWithoutSpendingTheRetryBudget) {
  StartServer(json::array({Turn(kText)}), 2000, {"--fault", "http_429:times=6,retry_after_ms=20"});
  ProviderSettings s = Settings(GetParam());
  s.max_retries = 0;  // no retry after an error; rate limits are not errors
  Recorder rec;
  auto result = Client(s)->Complete(Request(), &rec);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->text, kText);
  EXPECT_EQ(result->retries, 6);
  ASSERT_EQ(rec.retries().size(), 6u);
  for (const auto& [kind, delay_ms] : rec.retries()) {
    EXPECT_EQ(kind, ModelErrorKind::kRateLimited);
    EXPECT_EQ(delay_ms, 20);
  }
  std::vector<json> requests = server_->Requests();
  ASSERT_EQ(requests.size(), 7u);
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(requests[i]["status"], 429) << i;
  EXPECT_EQ(requests[6]["status"], 200);
}

TEST_P(BothWires, RetryAfterAsAnHttpDateIsHonored) {
  StartServer(
      json::array({Turn(kText, {}, json::array({{{"kind", "http_429"}, {"retry_after_date_s", 1}}}))}));
  Recorder rec;
  auto result = Client(Settings(GetParam()))->Complete(Request(), &rec);
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(rec.retries().size(), 1u);
  // A date has whole seconds: at most 1 s away, or already past (then the
  // backoff of a first rate limit, 375..500 ms).
  EXPECT_GT(rec.retries()[0].second, 0);
  EXPECT_LE(rec.retries()[0].second, 1000);
  EXPECT_EQ(server_->Requests().at(0)["status"], 429);
}

TEST_P(BothWires, RateLimitsPastTheWaitCapFailTheRequest) {
  StartServer(json::array({Turn(kText)}), 2000, {"--fault", "http_429:retry_after_ms=100"});
  ProviderSettings s = Settings(GetParam());
  s.max_rate_limit_wait_ms = 250;  // 100 + 100 fit; a third 100 does not
  auto result = Client(s)->Complete(Request());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ModelErrorKind::kRateLimited);
  EXPECT_EQ(result.error().http_status, 429);
  EXPECT_EQ(result.error().retries, 2);
  EXPECT_EQ(server_->Requests().size(), 3u);
}

// Two agents' clients of one provider, one limiter: with
// max_concurrent_requests = 1 the server never has two of their requests
// at once (it records how many it was answering when each arrived).
TEST_P(BothWires, ClientsSharingTheProvidersLimiterNeverOverlapAtTheServer) {
  StartServer(json::array({Turn(kText)}));
  ProviderSettings s = Settings(GetParam());
  s.limits = RateLimits{.max_concurrent_requests = 1};
  RateLimiters limiters;
  auto limiter = limiters.For(s.name, s.limits);
  ASSERT_TRUE(limiter) << limiter.error().ToString();
  auto agent = [&] {
    auto client = MakeModelClient(s, {}, transport_, *limiter);
    for (int i = 0; i < 3; ++i) {
      auto reply = client->Complete(Request());
      if (!reply) return reply.error().message;
    }
    return std::string();
  };
  auto first = std::async(std::launch::async, agent);
  auto second = std::async(std::launch::async, agent);
  EXPECT_EQ(first.get(), "");
  EXPECT_EQ(second.get(), "");
  std::vector<json> requests = server_->Requests();
  ASSERT_EQ(requests.size(), 6u);
  for (const json& rq : requests) EXPECT_EQ(rq["in_flight"], 1) << rq["seq"];
  EXPECT_EQ((*limiter)->in_flight(), 0);
}

// A 429 to one agent pauses the provider for every agent: until its
// Retry-After has passed (on the limiter's clock, which the test moves),
// neither the retry nor another client's new request starts.
TEST_P(BothWires, A429PausesEveryClientOfTheProviderUntilItsRetryAfterHasPassed) {
  StartServer(
      json::array({Turn(kText, {}, json::array({{{"kind", "http_429"}, {"retry_after_ms", 30000}}}))}));
  std::atomic<int64_t> now_ms{1000};
  auto limiter = std::make_shared<RateLimiter>(RateLimits{}, [&] { return now_ms.load(); });
  ProviderSettings s = Settings(GetParam());
  auto first = MakeModelClient(s, {}, transport_, limiter);
  auto second = MakeModelClient(s, {}, transport_, limiter);
  Recorder rec;
  std::future<void> retried = rec.FirstRetry();
  std::unique_ptr<PendingReply> a = first->Start(Request(), &rec);
  retried.wait();  // the 429 arrived
  RateLimiter::Attempt probe = limiter->TryAcquire(0);
  EXPECT_FALSE(probe.permit);
  EXPECT_EQ(probe.retry_at_ms, 31000);  // paused for the Retry-After, on the shared limiter
  probe.permit.reset();
  std::unique_ptr<PendingReply> b = second->Start(Request(), nullptr);
  EXPECT_EQ(limiter->in_flight(), 0);  // neither the retry nor b started
  auto a_done = std::async(std::launch::async, [&] { return a->Wait(); });
  auto b_done = std::async(std::launch::async, [&] { return b->Wait(); });
  EXPECT_EQ(server_->Requests().size(), 1u);
  now_ms += 30000;
  limiter->Wake();
  auto a_result = a_done.get();
  auto b_result = b_done.get();
  ASSERT_TRUE(a_result) << a_result.error().message;
  ASSERT_TRUE(b_result) << b_result.error().message;
  EXPECT_EQ(a_result->retries, 1);
  EXPECT_EQ(b_result->retries, 0);
  std::vector<json> requests = server_->Requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["status"], 429);
}

TEST_P(BothWires, CancelEndsAWaitForThePausedProvider) {
  StartServer(json::array({Turn(kText)}));
  std::atomic<int64_t> now_ms{1000};
  auto limiter = std::make_shared<RateLimiter>(RateLimits{}, [&] { return now_ms.load(); });
  limiter->PauseFor(60000);  // another agent's 429; the clock never moves
  auto client = MakeModelClient(Settings(GetParam()), {}, transport_, limiter);
  std::unique_ptr<PendingReply> reply = client->Start(Request(), nullptr);
  auto done = std::async(std::launch::async, [&] { return reply->Wait(); });
  reply->Cancel();
  auto result = done.get();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ModelErrorKind::kCancelled);
  EXPECT_TRUE(server_->Requests().empty());
}

TEST_P(BothWires, BadRequestAndAuthErrorsAreNotRetried) {
  json bad = Turn(kText, {}, json::array({{{"kind", "http_400"}}}));
  bad["when"] = {{"last_message_contains", "four hundred"}};
  json auth = Turn(kText, {}, json::array({{{"kind", "http_401"}}}));
  auth["when"] = {{"last_message_contains", "four oh one"}};
  StartServer(json::array({bad, auth}));
  auto client = Client(Settings(GetParam()));
  auto r1 = client->Complete(Request("four hundred"));
  ASSERT_FALSE(r1);
  EXPECT_EQ(r1.error().kind, ModelErrorKind::kBadRequest);
  EXPECT_EQ(r1.error().http_status, 400);
  EXPECT_EQ(r1.error().retries, 0);
  auto r2 = client->Complete(Request("four oh one"));
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().kind, ModelErrorKind::kAuth);
  EXPECT_EQ(r2.error().retries, 0);
  EXPECT_EQ(server_->Requests().size(), 2u);
}

TEST_P(BothWires, WrongKeyIsAuthErrorAndNoKeyLeaksIntoTheMessage) {
  StartServer(json::array({Turn(kText)}));
  const std::string wrong = "sk-e2e-wrong-key-9876543210";
  auto result = Client(Settings(GetParam(), wrong))->Complete(Request());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ModelErrorKind::kAuth);
  EXPECT_EQ(result.error().message.find(wrong), std::string::npos);
  EXPECT_EQ(result.error().message.find(kKey), std::string::npos);
  // The key did travel, as the header the wire format wants.
  json headers = server_->Requests().at(0)["headers"];
  if (GetParam() == WireFormat::kOpenAI) {
    EXPECT_EQ(headers["authorization"], "Bearer " + wrong);
  } else {
    EXPECT_EQ(headers["x-api-key"], wrong);
    EXPECT_EQ(headers["anthropic-version"], "2023-06-01");
  }
}

TEST_P(BothWires, StreamResetMidwayIsRetriedFromTheStart) {
  StartServer(json::array({Turn(kText, {}, json::array({{{"kind", "reset"}, {"after_tokens", 5}}}))}));
  Recorder rec;
  auto result = Client(Settings(GetParam()))->Complete(Request(), &rec);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->text, kText);  // not the 5 tokens of the broken attempt plus the whole reply
  EXPECT_EQ(rec.text(), kText);
  ASSERT_EQ(rec.retries().size(), 1u);
  EXPECT_EQ(rec.retries()[0].first, ModelErrorKind::kStreamBroken);
}

TEST_P(BothWires, TruncatedStreamIsRetried) {
  StartServer(json::array({Turn(kText, {}, json::array({{{"kind", "truncate"}, {"after_tokens", 4}}}))}));
  Recorder rec;
  auto result = Client(Settings(GetParam()))->Complete(Request(), &rec);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->text, kText);
  ASSERT_EQ(rec.retries().size(), 1u);
  EXPECT_EQ(rec.retries()[0].first, ModelErrorKind::kStreamBroken);
}

TEST_P(BothWires, MidStreamErrorEventIsRetried) {
  StartServer(json::array({Turn(kText, {}, json::array({{{"kind", "error_event"}, {"after_tokens", 3}}}))}));
  Recorder rec;
  auto result = Client(Settings(GetParam()))->Complete(Request(), &rec);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->text, kText);
  ASSERT_EQ(rec.retries().size(), 1u);
  EXPECT_EQ(rec.retries()[0].first,
            GetParam() == WireFormat::kAnthropic ? ModelErrorKind::kOverloaded : ModelErrorKind::kStreamBroken);
}

TEST_P(BothWires, BadToolJsonIsDeliveredAsAMalformedCallWithoutRetry) {
  json calls = json::array({{{"name", "edit_file"}, {"arguments", {{"path", "a.py"}}}}});
  StartServer(json::array({Turn("", calls, json::array({{{"kind", "bad_tool_json"}}}))}));
  Recorder rec;
  auto result = Client(Settings(GetParam()))->Complete(Request(), &rec);
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(result->tool_calls.size(), 1u);
  EXPECT_EQ(result->tool_calls[0].name, "edit_file");
  EXPECT_NE(result->tool_calls[0].malformed.find("not valid JSON"), std::string::npos);
  EXPECT_EQ(server_->Requests().size(), 1u);
}

TEST_P(BothWires, StalledStreamHitsTheIdleTimeout) {
  StartServer(json::array({Turn(kText, {}, json::array({{{"kind", "stall"}, {"after_tokens", 3}, {"stall_ms", 3000}}}))}));
  ProviderSettings s = Settings(GetParam());
  s.idle_timeout_ms = 300;
  s.max_retries = 0;
  auto result = Client(s)->Complete(Request());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ModelErrorKind::kTimeout);
}

TEST_P(BothWires, StalledStreamIsRetriedAfterIdleTimeout) {
  StartServer(json::array({Turn(kText, {}, json::array({{{"kind", "stall"}, {"after_tokens", 3}, {"stall_ms", 3000}}}))}));
  ProviderSettings s = Settings(GetParam());
  s.idle_timeout_ms = 300;
  Recorder rec;
  auto result = Client(s)->Complete(Request(), &rec);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(result->text, kText);
  ASSERT_EQ(rec.retries().size(), 1u);
  EXPECT_EQ(rec.retries()[0].first, ModelErrorKind::kTimeout);
}

TEST_P(BothWires, CancelFromAnotherThreadStopsTheStream) {
  std::string long_text;
  for (int i = 0; i < 400; ++i) long_text += "word ";
  StartServer(json::array({Turn(long_text)}), /*tokens_per_second=*/100);
  Recorder rec;
  auto client = Client(Settings(GetParam()));
  auto reply = client->Start(Request(), &rec);
  rec.FirstEvent().wait();
  std::thread([&] { reply->Cancel(); }).join();
  auto result = reply->Wait();
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ModelErrorKind::kCancelled);
  EXPECT_LT(rec.text().size(), long_text.size());
}

TEST_P(BothWires, ManyConcurrentRepliesShareOneTransport) {
  json turns = json::array();
  for (int i = 0; i < 8; ++i) {
    json t = Turn("answer " + std::to_string(i) + " done.");
    t["when"] = {{"last_message_contains", "question " + std::to_string(i) + "!"}};
    turns.push_back(t);
  }
  StartServer(turns);
  ProviderSettings s = Settings(GetParam());
  s.limits.max_concurrent_requests = 3;
  auto client = Client(s);
  std::vector<std::unique_ptr<PendingReply>> replies;
  for (int i = 0; i < 8; ++i) replies.push_back(client->Start(Request("question " + std::to_string(i) + "!"), nullptr));
  for (int i = 0; i < 8; ++i) {
    auto r = replies[i]->Wait();
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->text, "answer " + std::to_string(i) + " done.");
  }
}

TEST_P(BothWires, RecordedRequestHasTheWireShape) {
  StartServer(json::array({Turn(kText)}));
  auto result = Client(Settings(GetParam()), ModelOptions{.fast_mode = GetParam() == WireFormat::kAnthropic})
                    ->Complete(Request());
  ASSERT_TRUE(result) << result.error().message;
  json rq = server_->Requests().at(0);
  EXPECT_EQ(rq["status"], 200);
  const json& body = rq["body"];
  EXPECT_EQ(body["stream"], true);
  if (GetParam() == WireFormat::kOpenAI) {
    EXPECT_EQ(rq["path"], "/v1/chat/completions");
    EXPECT_EQ(body["stream_options"]["include_usage"], true);
    EXPECT_EQ(body["max_completion_tokens"], 1000);
    EXPECT_EQ(body["tools"][0]["type"], "function");
  } else {
    EXPECT_EQ(rq["path"], "/v1/messages");
    EXPECT_EQ(body["speed"], "fast");
    EXPECT_EQ(rq["headers"]["anthropic-beta"], "fast-mode-2026-02-01");
    EXPECT_EQ(body["tools"][1]["cache_control"]["type"], "ephemeral");
    EXPECT_EQ(body["system"][0]["cache_control"]["type"], "ephemeral");
  }
}

INSTANTIATE_TEST_SUITE_P(Wire, BothWires, ::testing::Values(WireFormat::kOpenAI, WireFormat::kAnthropic),
                         [](const auto& info) { return info.param == WireFormat::kOpenAI ? "OpenAI" : "Anthropic"; });

TEST_F(E2E, Anthropic529OverloadedIsRetried) {
  StartServer(json::array({Turn(kText, {}, json::array({{{"kind", "http_529"}}}))}));
  Recorder rec;
  auto result = Client(Settings(WireFormat::kAnthropic))->Complete(Request(), &rec);
  ASSERT_TRUE(result) << result.error().message;
  ASSERT_EQ(rec.retries().size(), 1u);
  EXPECT_EQ(rec.retries()[0].first, ModelErrorKind::kOverloaded);
}

TEST_F(E2E, ConnectionRefusedIsNetworkError) {
  ProviderSettings s;
  s.name = "nowhere";
  s.base_url = "http://127.0.0.1:1/v1";
  s.max_retries = 0;
  auto result = MakeModelClient(s, {}, transport_)->Complete(Request());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind, ModelErrorKind::kNetwork);
}

}  // namespace
}  // namespace tandem::providers
