// LiveOps: the one input queue of a live run. Everything that reaches running
// agents from outside (a person's answer to an approval, a steer note, Ctrl-C,
// the cancel of one task) is an Op. Submit gives it an id and applies it in id
// order, whatever its source: the terminal (cli/live_input.h) and the signal
// handler today, the dashboard and `tandem mcp serve` later. `tandem steer`
// from another process stays a ledger row (orchestrator/steer.h): the ledger
// is the channel between processes, this queue the one inside a process.
//
// Approvals are requests with ids. Any thread may Open one and Await its
// answer; several can be open at once; an approve or deny op answers exactly
// the approval its id names, and never waits on another.
//
// Cost: one mutex and one condition variable; ops come at human speed.
// Thread-safety: every method may be called from any thread. Handlers and
// watchers run on the calling thread without the lock held; handlers run one
// at a time, in id order. A handler or watcher must not call Submit or
// SetHandler.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tandem/base/mutex.h"
#include "tandem/base/status.h"
#include "tandem/base/thread_annotations.h"
#include "tandem/orchestrator/approval.h"
#include "tandem/protocol/vocabulary.h"

namespace tandem::orchestrator {

struct Op {
  protocol::OpKind kind = protocol::OpKind::kSteer;
  int64_t approval_id = 0;  // kApprove, kDeny: the approval it answers
  std::string task_id{};    // kSteer (empty: every running task), kCancel
  std::string text{};       // kSteer: the note; kApprove, kDeny: the reason
  std::string source{};     // "terminal", "signal", "dashboard", ...
};

struct OpResult {
  int64_t id = 0;  // the op's id, in submission order
  Status status;   // NotFound: no open approval or task of that id; Unavailable: nobody handles it
};

struct OpenApproval {
  int64_t id = 0;
  ApprovalRequest request;
};

class LiveOps {
 public:
  using Handler = std::function<Status(const Op&)>;
  using Watcher = std::function<void(const OpenApproval&)>;

  // The handler of kSteer, kInterrupt or kCancel ops (approve and deny are
  // LiveOps' own). Replaces an earlier one; an empty handler removes it.
  // Waits for a handler running now, so after a removal returns the old
  // handler's captures may go.
  void SetHandler(protocol::OpKind kind, Handler handler);

  // Applies `op` now and returns its id and what became of it. kApprove and
  // kDeny answer the open approval `op.approval_id`; kInterrupt also ends
  // every open approval and every later Await (nobody will answer them).
  OpResult Submit(Op op);

  // A front end that shows approval prompts to a person: called for every
  // approval opened from now on. While one is attached, approvals can be
  // answered (Answerable); returns a handle for Unwatch, after which the
  // watcher is not running and will not run.
  int Watch(Watcher watcher);
  void Unwatch(int handle);
  bool Answerable() const;

  // Opens `request` for an answer and tells the watchers; returns its id.
  int64_t Open(ApprovalRequest request);
  // Waits for the answer to approval `id`, then closes it. Unavailable when
  // the run was interrupted, or nobody watches (Answerable() false).
  Result<ApprovalAnswer> Await(int64_t id);
  // Answers approval `id` (what kApprove and kDeny ops do; also for a
  // runner denying the approval of a task it cancels). NotFound when no
  // approval of that id is open or it has its answer already.
  Status Answer(int64_t id, ApprovalAnswer answer);
  // The approvals open now, oldest first.
  std::vector<OpenApproval> Pending() const;

 private:
  struct Slot {
    ApprovalRequest request;
    std::optional<ApprovalAnswer> answer;
  };

  Status AnswerLocked(int64_t id, ApprovalAnswer answer) REQUIRES(mu_);

  Mutex watch_call_mu_;  // held while Open calls the watchers (Unwatch waits for it)
  mutable Mutex mu_;
  std::condition_variable_any cv_;
  Mutex apply_mu_;  // taken before mu_: handlers run one at a time, in id order
  int64_t next_op_ GUARDED_BY(mu_) = 1;
  int64_t next_approval_ GUARDED_BY(mu_) = 1;
  bool interrupted_ GUARDED_BY(mu_) = false;
  std::map<protocol::OpKind, Handler> handlers_ GUARDED_BY(mu_);
  std::map<int, Watcher> watchers_ GUARDED_BY(mu_);
  int next_watcher_ GUARDED_BY(mu_) = 1;
  std::map<int64_t, Slot> open_ GUARDED_BY(mu_);
};

// Applies `policy` to `request`: approve and deny decide at once (by policy;
// `announce(0)`). ask opens the request on `ops`, calls `announce(id)` (the
// caller publishes approval_requested with the id) and waits for the answer,
// measuring the wait with `now_ms`. Nobody to ask (`ops` null or not
// Answerable): kWaiting, after `announce(0)`.
ApprovalDecision Decide(config::ApprovalPolicy policy, LiveOps* ops, const ApprovalRequest& request,
                        const std::function<void(int64_t)>& announce,
                        const std::function<int64_t()>& now_ms);

}  // namespace tandem::orchestrator
