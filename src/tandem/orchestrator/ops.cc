#include "tandem/orchestrator/ops.h"

#include <fmt/format.h>

#include <utility>

namespace tandem::orchestrator {

using protocol::OpKind;

void LiveOps::SetHandler(OpKind kind, Handler handler) {
  MutexLock apply(apply_mu_);  // after it returns, the old handler is not running
  MutexLock lock(mu_);
  if (handler) {
    handlers_[kind] = std::move(handler);
  } else {
    handlers_.erase(kind);
  }
}

OpResult LiveOps::Submit(Op op) {
  MutexLock apply(apply_mu_);
  OpResult result;
  Handler handler;
  {
    MutexLock lock(mu_);
    result.id = next_op_++;
    switch (op.kind) {
      case OpKind::kApprove:
      case OpKind::kDeny:
        result.status = AnswerLocked(op.approval_id, {op.kind == OpKind::kApprove, op.text});
        return result;
      case OpKind::kInterrupt:
        interrupted_ = true;
        cv_.notify_all();
        break;
      case OpKind::kSteer:
      case OpKind::kCancel:
        break;
    }
    auto it = handlers_.find(op.kind);
    if (it != handlers_.end()) handler = it->second;
  }
  if (handler) {
    result.status = handler(op);
  } else if (op.kind != OpKind::kInterrupt) {
    result.status = Unavailable(fmt::format("nothing takes a {} op now", protocol::Name(op.kind)));
  }
  return result;
}

Status LiveOps::Answer(int64_t id, ApprovalAnswer answer) {
  MutexLock lock(mu_);
  return AnswerLocked(id, std::move(answer));
}

Status LiveOps::AnswerLocked(int64_t id, ApprovalAnswer answer) {
  auto it = open_.find(id);
  if (it == open_.end() || it->second.answer) {
    return NotFound(fmt::format("no open approval #{}", id));
  }
  it->second.answer = std::move(answer);
  cv_.notify_all();
  return Status::Ok();
}

int LiveOps::Watch(Watcher watcher) {
  MutexLock lock(mu_);
  int handle = next_watcher_++;
  watchers_[handle] = std::move(watcher);
  return handle;
}

void LiveOps::Unwatch(int handle) {
  {
    MutexLock lock(mu_);
    watchers_.erase(handle);
    cv_.notify_all();  // an Await with nobody left to answer it ends
  }
  MutexLock calling(watch_call_mu_);  // a call of it in flight has returned
}

bool LiveOps::Answerable() const {
  MutexLock lock(mu_);
  return !watchers_.empty() && !interrupted_;
}

int64_t LiveOps::Open(ApprovalRequest request) {
  OpenApproval opened;
  std::vector<Watcher> watchers;
  {
    MutexLock lock(mu_);
    opened.id = next_approval_++;
    opened.request = request;
    open_[opened.id] = Slot{std::move(request), std::nullopt};
    for (const auto& [handle, watcher] : watchers_) watchers.push_back(watcher);
  }
  MutexLock calling(watch_call_mu_);
  for (const Watcher& watcher : watchers) watcher(opened);
  return opened.id;
}

Result<ApprovalAnswer> LiveOps::Await(int64_t id) {
  MutexLock lock(mu_);
  while (true) {
    auto it = open_.find(id);
    if (it == open_.end()) return NotFound(fmt::format("no open approval #{}", id));
    if (it->second.answer) {
      ApprovalAnswer answer = std::move(*it->second.answer);
      open_.erase(it);
      return answer;
    }
    if (interrupted_ || watchers_.empty()) {
      open_.erase(it);
      return Unavailable(interrupted_ ? "interrupted at the prompt" : "nobody is there to answer");
    }
    cv_.wait(mu_);
  }
}

std::vector<OpenApproval> LiveOps::Pending() const {
  MutexLock lock(mu_);
  std::vector<OpenApproval> out;
  for (const auto& [id, slot] : open_) {
    if (!slot.answer) out.push_back({id, slot.request});
  }
  return out;
}

ApprovalDecision Decide(config::ApprovalPolicy policy, LiveOps* ops, const ApprovalRequest& request,
                        const std::function<void(int64_t)>& announce,
                        const std::function<int64_t()>& now_ms) {
  ApprovalDecision d;
  switch (policy) {
    case config::ApprovalPolicy::kApprove:
      announce(0);
      d.kind = ApprovalDecision::Kind::kApproved;
      d.reason = "approval.policy = approve";
      return d;
    case config::ApprovalPolicy::kDeny:
      announce(0);
      d.kind = ApprovalDecision::Kind::kDenied;
      d.reason = "approval.policy = deny";
      return d;
    case config::ApprovalPolicy::kAsk:
      break;
  }
  if (!ops || !ops->Answerable()) {
    announce(0);
    d.reason = "nobody to ask (no terminal); set approval.policy to approve or deny for CI";
    return d;
  }
  int64_t start = now_ms();
  d.approval_id = ops->Open(request);
  announce(d.approval_id);
  auto answer = ops->Await(d.approval_id);
  d.waited_ms = now_ms() - start;
  if (!answer) {
    d.reason = answer.error().message();
    return d;
  }
  d.by_person = true;
  d.kind = answer->approved ? ApprovalDecision::Kind::kApproved : ApprovalDecision::Kind::kDenied;
  d.reason = answer->reason.empty()
                 ? (answer->approved ? "approved at the terminal" : "denied at the terminal")
                 : answer->reason;
  return d;
}

}  // namespace tandem::orchestrator
