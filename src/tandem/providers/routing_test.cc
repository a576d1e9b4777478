#include "tandem/providers/routing.h"

#include <gtest/gtest.h>

#include <atomic>

namespace tandem::providers {
namespace {

using Clock = std::chrono::steady_clock;

SpeedSample Sample(int64_t uncached, int64_t out, double ttft, double total) {
  return {uncached, out, ttft, total};
}

PoolMember Member(const std::string& name) {
  PoolMember m;
  m.identity.model_name = name;
  m.identity.provider = "p-" + name;
  m.identity.model_id = name + "-id";
  return m;
}

TEST(EstimateSpeed, FitsTheFixedTimeAndThePrefillSlopeFromPromptsOfDifferentSizes) {
  // ttft = 50 ms + 0.5 ms per uncached token; 10 ms per output token.
  std::deque<SpeedSample> window;
  for (int64_t x : {1000, 4000, 2000, 8000}) {
    window.push_back(Sample(x, 20, 50 + 0.5 * x, 50 + 0.5 * x + 200));
  }
  SpeedEstimate e = EstimateSpeed(window);
  EXPECT_EQ(e.samples, 4);
  EXPECT_NEAR(e.ttft_base_ms, 50, 1e-6);
  EXPECT_NEAR(e.prefill_ms_per_token, 0.5, 1e-9);
  EXPECT_NEAR(e.decode_ms_per_token, 10, 1e-9);
  EXPECT_NEAR(e.PrefillTokensPerS(), 2000, 1e-6);
  EXPECT_NEAR(e.DecodeTokensPerS(), 100, 1e-6);
  EXPECT_NEAR(e.PredictMs(3000, 50), 50 + 1500 + 500, 1e-6);
}

TEST(EstimateSpeed, PromptsOfOneSizeGiveAConstantTimeToFirstToken) {
  std::deque<SpeedSample> window = {Sample(1000, 10, 100, 200), Sample(1050, 10, 300, 400)};
  SpeedEstimate e = EstimateSpeed(window);
  EXPECT_EQ(e.prefill_ms_per_token, 0);
  // The newer sample weighs more: between the two, nearer 300.
  EXPECT_GT(e.ttft_base_ms, 200);
  EXPECT_LT(e.ttft_base_ms, 300);
}

TEST(EstimateSpeed, ARecentSlowdownOutweighsOlderFastCalls) {
  std::deque<SpeedSample> window;
  for (int i = 0; i < 6; ++i) window.push_back(Sample(500, 20, 10, 15));  // 0.25 ms per token
  window.push_back(Sample(500, 20, 10, 3010));                             // a 3 s stall
  SpeedEstimate e = EstimateSpeed(window);
  // One slow call among six fast ones already predicts more than 10x slower.
  EXPECT_GT(e.PredictMs(500, 20), 10 * (10 + 0.25 * 20));
}

TEST(SpeedBook, KeepsTheNewestWindowAndCountsCallsSinceAModelsNewestSample) {
  SpeedBook book;
  EXPECT_FALSE(book.Estimate("a").has_value());
  EXPECT_FALSE(book.CallsSince("a").has_value());
  for (int i = 0; i < kWindow + 5; ++i) book.Record("a", Sample(100, 10, 5, 10));
  book.Record("b", Sample(100, 10, 5, 10));
  book.Record("b", Sample(100, 10, 5, 10));
  EXPECT_EQ(book.Estimate("a")->samples, kWindow);
  EXPECT_EQ(*book.CallsSince("a"), 2);
  EXPECT_EQ(*book.CallsSince("b"), 0);
}

TEST(SpeedBook, ExpectedOutputIsTheRolesRecentMeanOrThePrior) {
  SpeedBook book;
  EXPECT_EQ(book.ExpectedOutput("planner"), kPriorOutputTokens);
  for (int i = 0; i < 4; ++i) book.RecordOutput("planner", 800);
  book.RecordOutput("executor", 30);
  EXPECT_EQ(book.ExpectedOutput("planner"), 800);
  EXPECT_EQ(book.ExpectedOutput("executor"), 30);
}

TEST(ChooseMember, TriesUnmeasuredMembersFirstThenTheFastest) {
  SpeedBook book;
  std::vector<PoolMember> members = {Member("slow"), Member("quick")};
  std::vector<bool> skip(2, false);
  auto now = Clock::now();
  RouteChoice first = ChooseMember(book, members, {100, 100}, 20, skip, now);
  EXPECT_EQ(first.member, 0u);  // pool order among the unmeasured
  EXPECT_FALSE(first.predicted_ms.has_value());
  book.Record(members[0].Key(), Sample(100, 20, 300, 500));
  EXPECT_EQ(ChooseMember(book, members, {100, 100}, 20, skip, now).member, 1u);  // unmeasured
  book.Record(members[1].Key(), Sample(100, 20, 10, 15));
  RouteChoice best = ChooseMember(book, members, {100, 100}, 20, skip, now);
  EXPECT_EQ(best.member, 1u);
  ASSERT_TRUE(best.predicted_ms.has_value());
  EXPECT_NEAR(*best.predicted_ms, 15, 1e-6);
}

TEST(ChooseMember, PromptHeavyAndOutputHeavyStepsGoWhereEachIsServedFaster) {
  SpeedBook book;
  std::vector<PoolMember> members = {Member("prefill"), Member("decode")};
  // "prefill": 0.01 ms per prompt token, 5 ms per output token.
  // "decode": 0.25 ms per prompt token, 0.1 ms per output token.
  for (int64_t x : {500, 4000, 1500}) {
    book.Record(members[0].Key(), Sample(x, 100, 10 + 0.01 * x, 10 + 0.01 * x + 500));
    book.Record(members[1].Key(), Sample(x, 100, 10 + 0.25 * x, 10 + 0.25 * x + 10));
  }
  std::vector<bool> skip(2, false);
  auto now = Clock::now();
  EXPECT_EQ(ChooseMember(book, members, {6000, 6000}, 20, skip, now).member, 0u);
  EXPECT_EQ(ChooseMember(book, members, {800, 800}, 600, skip, now).member, 1u);
  // The member that served the conversation holds its prefix: the same big
  // prompt, nearly all cached on "decode", is faster there.
  EXPECT_EQ(ChooseMember(book, members, {6000, 100}, 20, skip, now).member, 1u);
}

TEST(ChooseMember, AStaleMemberGetsOneProbeAndAFailedOneSitsOut) {
  SpeedBook book;
  std::vector<PoolMember> members = {Member("a"), Member("b")};
  std::vector<bool> skip(2, false);
  auto now = Clock::now();
  book.Record(members[0].Key(), Sample(100, 20, 500, 900));
  for (int i = 0; i < kProbeAfter; ++i) book.Record(members[1].Key(), Sample(100, 20, 10, 15));
  RouteChoice probe = ChooseMember(book, members, {100, 100}, 20, skip, now);
  EXPECT_EQ(probe.member, 0u);
  EXPECT_TRUE(probe.probe);
  book.Record(members[0].Key(), Sample(100, 20, 500, 900));
  EXPECT_EQ(ChooseMember(book, members, {100, 100}, 20, skip, now).member, 1u);
  book.MarkFailed(members[1].Key(), now);
  EXPECT_EQ(ChooseMember(book, members, {100, 100}, 20, skip, now).member, 0u);
  EXPECT_EQ(ChooseMember(book, members, {100, 100}, 20, skip,
                         now + std::chrono::milliseconds(kFailedCooldownMs + 1))
                .member,
            1u);
  // Skipped for this request (already tried): never chosen.
  EXPECT_EQ(ChooseMember(book, members, {100, 100}, 20, {false, true}, now).member, 0u);
}

// An in-process scripted model: fails or answers with fixed timings.
class ScriptedClient : public ModelClient {
 public:
  explicit ScriptedClient(bool fail, double ttft_ms) : fail_(fail), ttft_ms_(ttft_ms) {}
  std::unique_ptr<PendingReply> Start(const protocol::ModelRequest& request,
                                      StreamObserver*) override {
    seen_model = request.model;
    ++calls;
    struct Reply : PendingReply {
      bool fail;
      double ttft;
      Result<protocol::ModelResponse, protocol::ModelError> Wait() override {
        if (fail) {
          return Unexpected(protocol::ModelError{protocol::ModelErrorKind::kServer, 500, "down", 2});
        }
        protocol::ModelResponse r;
        r.usage.input_tokens = 100;
        r.usage.output_tokens = 10;
        r.timings.time_to_first_token_ms = ttft;
        r.timings.total_ms = ttft + 10;
        return r;
      }
      void Cancel() override {}
    };
    auto reply = std::make_unique<Reply>();
    reply->fail = fail_;
    reply->ttft = ttft_ms_;
    return reply;
  }
  std::atomic<int> calls{0};
  std::string seen_model;

 private:
  bool fail_;
  double ttft_ms_;
};

class CountingObserver : public StreamObserver {
 public:
  void OnEvent(const protocol::StreamEvent&) override {}
  void OnRetry(const protocol::ModelError&, int, int) override { ++retries; }
  int retries = 0;
};

TEST(RoutedClient, AFailedMemberHandsTheRequestToTheNextAndTheReplyNamesWhoServedIt) {
  auto book = std::make_shared<SpeedBook>();
  std::vector<PoolMember> members = {Member("down"), Member("up")};
  members[1].identity.price_output = 2.5;
  std::vector<std::unique_ptr<ModelClient>> clients;
  clients.push_back(std::make_unique<ScriptedClient>(true, 0));
  clients.push_back(std::make_unique<ScriptedClient>(false, 20));
  auto* down = static_cast<ScriptedClient*>(clients[0].get());
  auto* up = static_cast<ScriptedClient*>(clients[1].get());
  auto client = MakeRoutedClient(members, std::move(clients), book, "executor");
  CountingObserver observer;
  protocol::ModelRequest request;
  request.model = "ignored";
  request.messages.push_back(protocol::Message::User("hi"));
  auto reply = client->Complete(request, &observer);
  ASSERT_TRUE(reply.has_value()) << reply.error().message;
  EXPECT_EQ(down->calls, 1);
  EXPECT_EQ(up->calls, 1);
  EXPECT_EQ(up->seen_model, "up-id");
  EXPECT_EQ(observer.retries, 1);
  ASSERT_TRUE(reply->served_by.has_value());
  EXPECT_EQ(reply->served_by->model_name, "up");
  EXPECT_EQ(reply->served_by->price_output, 2.5);
  EXPECT_EQ(book->Estimate(members[1].Key())->samples, 1);
  EXPECT_EQ(book->ExpectedOutput("executor"), 10);
  // The failed member sits out: the next request goes straight to "up".
  ASSERT_TRUE(client->Complete(request, &observer).has_value());
  EXPECT_EQ(down->calls, 1);
  EXPECT_EQ(up->calls, 2);
}

TEST(RoutedClient, WhenEveryMemberFailsTheLastErrorIsReturned) {
  auto book = std::make_shared<SpeedBook>();
  std::vector<std::unique_ptr<ModelClient>> clients;
  clients.push_back(std::make_unique<ScriptedClient>(true, 0));
  clients.push_back(std::make_unique<ScriptedClient>(true, 0));
  auto client = MakeRoutedClient({Member("a"), Member("b")}, std::move(clients), book, "executor");
  protocol::ModelRequest request;
  auto reply = client->Complete(request);
  ASSERT_FALSE(reply.has_value());
  EXPECT_EQ(reply.error().kind, protocol::ModelErrorKind::kServer);
}

}  // namespace
}  // namespace tandem::providers
