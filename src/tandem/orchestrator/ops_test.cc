#include "tandem/orchestrator/ops.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace tandem::orchestrator {
namespace {

using protocol::OpKind;

ApprovalRequest For(const std::string& task) {
  ApprovalRequest r;
  r.task_id = task;
  r.what = "run " + task;
  return r;
}

TEST(LiveOpsTest, OpsGetIncreasingIdsInSubmissionOrder) {
  LiveOps ops;
  ops.SetHandler(OpKind::kSteer, [](const Op&) { return Status::Ok(); });
  int64_t a = ops.Submit({.kind = OpKind::kSteer, .text = "one"}).id;
  int64_t b = ops.Submit({.kind = OpKind::kSteer, .text = "two"}).id;
  EXPECT_GT(a, 0);
  EXPECT_EQ(b, a + 1);
}

TEST(LiveOpsTest, AnOpWithNoHandlerIsUnavailableNotLost) {
  LiveOps ops;
  OpResult r = ops.Submit({.kind = OpKind::kCancel, .task_id = "T1"});
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status.message().find("cancel"), std::string::npos);
}

TEST(LiveOpsTest, HandlersSeeTheOpTheySubmitted) {
  LiveOps ops;
  std::vector<std::string> seen;
  ops.SetHandler(OpKind::kSteer, [&](const Op& op) {
    seen.push_back(op.task_id + ":" + op.text);
    return Status::Ok();
  });
  ops.SetHandler(OpKind::kCancel, [&](const Op& op) {
    seen.push_back("cancel " + op.task_id);
    return NotFound("no task " + op.task_id);
  });
  EXPECT_TRUE(ops.Submit({.kind = OpKind::kSteer, .task_id = "T2", .text = "use v2"}).status.ok());
  EXPECT_EQ(ops.Submit({.kind = OpKind::kCancel, .task_id = "T9"}).status.code(),
            StatusCode::kNotFound);
  EXPECT_EQ(seen, (std::vector<std::string>{"T2:use v2", "cancel T9"}));
}

TEST(LiveOpsTest, WithNobodyWatchingAnApprovalCannotBeAnswered) {
  LiveOps ops;
  EXPECT_FALSE(ops.Answerable());
  int64_t id = ops.Open(For("T1"));
  auto answer = ops.Await(id);
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(ops.Pending().empty());
}

TEST(LiveOpsTest, SeveralApprovalsOpenAtOnceAreEachAnsweredByTheirOwnId) {
  LiveOps ops;
  std::vector<int64_t> shown;
  std::mutex shown_mu;
  ops.Watch([&](const OpenApproval& a) {
    std::lock_guard<std::mutex> lock(shown_mu);
    shown.push_back(a.id);
  });
  int64_t first = ops.Open(For("T1"));
  int64_t second = ops.Open(For("T2"));
  ASSERT_NE(first, second);
  EXPECT_EQ(ops.Pending().size(), 2u);
  // Each waits on its own thread; answering the second never answers (or
  // waits on) the first.
  auto wait_first = std::async(std::launch::async, [&] { return ops.Await(first); });
  auto wait_second = std::async(std::launch::async, [&] { return ops.Await(second); });
  EXPECT_TRUE(ops.Submit({.kind = OpKind::kDeny, .approval_id = second, .text = "not now"}).status.ok());
  auto b = wait_second.get();
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(b->approved);
  EXPECT_EQ(b->reason, "not now");
  ASSERT_EQ(ops.Pending().size(), 1u);
  EXPECT_EQ(ops.Pending()[0].id, first);
  EXPECT_EQ(ops.Pending()[0].request.task_id, "T1");
  EXPECT_TRUE(ops.Submit({.kind = OpKind::kApprove, .approval_id = first}).status.ok());
  auto a = wait_first.get();
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->approved);
  EXPECT_EQ(shown, (std::vector<int64_t>{first, second}));
}

TEST(LiveOpsTest, AnAnswerToNoOpenApprovalIsNotFound) {
  LiveOps ops;
  ops.Watch([](const OpenApproval&) {});
  int64_t id = ops.Open(For("T1"));
  EXPECT_EQ(ops.Submit({.kind = OpKind::kApprove, .approval_id = id + 7}).status.code(),
            StatusCode::kNotFound);
  EXPECT_TRUE(ops.Submit({.kind = OpKind::kApprove, .approval_id = id}).status.ok());
  // A second answer to the same approval changes nothing.
  EXPECT_EQ(ops.Submit({.kind = OpKind::kDeny, .approval_id = id}).status.code(),
            StatusCode::kNotFound);
  auto answer = ops.Await(id);
  ASSERT_TRUE(answer.has_value());
  EXPECT_TRUE(answer->approved);
}

TEST(LiveOpsTest, AnInterruptEndsEveryOpenApprovalAndRunsItsHandler) {
  LiveOps ops;
  ops.Watch([](const OpenApproval&) {});
  std::atomic<int> interrupted{0};
  ops.SetHandler(OpKind::kInterrupt, [&](const Op&) {
    interrupted++;
    return Status::Ok();
  });
  int64_t id = ops.Open(For("T1"));
  auto waiting = std::async(std::launch::async, [&] { return ops.Await(id); });
  EXPECT_TRUE(ops.Submit({.kind = OpKind::kInterrupt, .source = "signal"}).status.ok());
  auto answer = waiting.get();
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(interrupted.load(), 1);
  EXPECT_FALSE(ops.Answerable());
}

TEST(LiveOpsTest, TheLastWatcherLeavingEndsTheWait) {
  LiveOps ops;
  int watch = ops.Watch([](const OpenApproval&) {});
  int64_t id = ops.Open(For("T1"));
  auto waiting = std::async(std::launch::async, [&] { return ops.Await(id); });
  ops.Unwatch(watch);
  auto answer = waiting.get();
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code(), StatusCode::kUnavailable);
}

TEST(DecideTest, AskOpensTheRequestAnnouncesItsIdAndReturnsThePersonsAnswer) {
  LiveOps ops;
  std::promise<int64_t> opened;
  ops.Watch([&](const OpenApproval& a) { opened.set_value(a.id); });
  auto answering = std::async(std::launch::async, [&] {
    int64_t id = opened.get_future().get();
    return ops.Submit({.kind = OpKind::kApprove, .approval_id = id, .text = "looks right"});
  });
  int64_t announced = -1;
  int64_t clock = 100;
  ApprovalDecision d = Decide(
      config::ApprovalPolicy::kAsk, &ops, For("T3"), [&](int64_t id) { announced = id; },
      [&] { return clock += 250; });
  EXPECT_TRUE(answering.get().status.ok());
  EXPECT_EQ(d.kind, ApprovalDecision::Kind::kApproved);
  EXPECT_TRUE(d.by_person);
  EXPECT_EQ(d.reason, "looks right");
  EXPECT_EQ(d.approval_id, announced);
  EXPECT_GT(announced, 0);
  EXPECT_EQ(d.waited_ms, 250);
}

TEST(DecideTest, APolicyDecidesWithoutOpeningAnything) {
  LiveOps ops;
  ops.Watch([](const OpenApproval&) { ADD_FAILURE() << "a policy decision opened a prompt"; });
  int64_t announced = -1;
  ApprovalDecision d = Decide(
      config::ApprovalPolicy::kDeny, &ops, For("T1"), [&](int64_t id) { announced = id; },
      [] { return int64_t{0}; });
  EXPECT_EQ(d.kind, ApprovalDecision::Kind::kDenied);
  EXPECT_FALSE(d.by_person);
  EXPECT_EQ(announced, 0);
}

TEST(DecideTest, AskWithNobodyThereWaits) {
  ApprovalDecision d = Decide(
      config::ApprovalPolicy::kAsk, nullptr, For("T1"), [](int64_t) {}, [] { return int64_t{0}; });
  EXPECT_EQ(d.kind, ApprovalDecision::Kind::kWaiting);
  EXPECT_NE(d.reason.find("nobody to ask"), std::string::npos);
}

}  // namespace
}  // namespace tandem::orchestrator
