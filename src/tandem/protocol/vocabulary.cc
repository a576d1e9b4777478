#include "tandem/protocol/vocabulary.h"

#include <array>
#include <string>

namespace tandem::protocol {
namespace {

// Indexed by the enum's value: keep in declaration order.
constexpr std::array<std::string_view, 6> kTaskState = {"pending", "running", "done",
                                                        "failed",  "skipped", "waiting"};
constexpr std::array<std::string_view, 2> kRisk = {"reversible", "irreversible"};
constexpr std::array<std::string_view, 5> kRunOutcome = {"running", "succeeded", "failed",
                                                         "interrupted", "cancelled"};
constexpr std::array<std::string_view, 6> kOutcome = {"succeeded",   "failed",         "limit",
                                                      "interrupted", "provider_error", "error"};
constexpr std::array<std::string_view, 5> kTaskEnd = {"done", "failed", "skipped", "waiting",
                                                      "interrupted"};
constexpr std::array<std::string_view, 4> kStepState = {"running", "done", "rolled_back",
                                                        "interrupted"};
constexpr std::array<std::string_view, 3> kToolOutcome = {"ok", "error", "refused"};
constexpr std::array<std::string_view, 3> kVerdict = {"pass", "fail", "error"};
constexpr std::array<std::string_view, 2> kDecision = {"approved", "denied"};
constexpr std::array<std::string_view, 3> kDecidedBy = {"person", "policy", "slow_tier"};
constexpr std::array<std::string_view, 3> kAction = {"replan", "split", "escalate"};
constexpr std::array<std::string_view, 3> kLevel = {"info", "warn", "error"};
constexpr std::array<std::string_view, 5> kOpKind = {"approve", "deny", "steer", "interrupt",
                                                     "cancel"};
constexpr std::array<std::string_view, 3> kReviewVerdict = {"approve", "request_changes", "error"};
constexpr std::array<std::string_view, 6> kVariantState = {"running",   "passed",      "failed",
                                                           "cancelled", "interrupted", "error"};
constexpr std::array<std::string_view, 2> kComparisonDecider = {"reviewer", "score"};
constexpr std::array<std::string_view, 4> kReviewWhen = {"never", "irreversible", "large",
                                                         "always"};

template <typename E, size_t N>
std::string_view NameIn(const std::array<std::string_view, N>& names, E v) {
  size_t i = static_cast<size_t>(v);
  return i < N ? names[i] : "unknown";
}

template <typename E, size_t N>
Result<E> ParseIn(const std::array<std::string_view, N>& names, std::string_view s,
                  std::string_view what) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return InvalidArgument("unknown " + std::string(what) + " '" + std::string(s) + "'");
}

}  // namespace

std::string_view Name(TaskState v) { return NameIn(kTaskState, v); }
std::string_view Name(Risk v) { return NameIn(kRisk, v); }
std::string_view Name(RunOutcome v) { return NameIn(kRunOutcome, v); }
std::string_view Name(Outcome v) { return NameIn(kOutcome, v); }
std::string_view Name(TaskEnd v) { return NameIn(kTaskEnd, v); }
std::string_view Name(StepState v) { return NameIn(kStepState, v); }
std::string_view Name(ToolOutcome v) { return NameIn(kToolOutcome, v); }
std::string_view Name(Verdict v) { return NameIn(kVerdict, v); }
std::string_view Name(ApprovalDecision v) { return NameIn(kDecision, v); }
std::string_view Name(DecidedBy v) { return NameIn(kDecidedBy, v); }
std::string_view Name(EscalationAction v) { return NameIn(kAction, v); }
std::string_view Name(NoticeLevel v) { return NameIn(kLevel, v); }
std::string_view Name(OpKind v) { return NameIn(kOpKind, v); }
std::string_view Name(ReviewVerdict v) { return NameIn(kReviewVerdict, v); }
std::string_view Name(VariantState v) { return NameIn(kVariantState, v); }
std::string_view Name(ComparisonDecider v) { return NameIn(kComparisonDecider, v); }
std::string_view Name(ReviewWhen v) { return NameIn(kReviewWhen, v); }

std::string Name(const ReviewPolicy& v) {
  if (v.always) return "always";
  if (v.never()) return "never";
  if (v.irreversible && v.large) return "irreversible,large";
  return v.irreversible ? "irreversible" : "large";
}

Result<TaskState> ParseTaskState(std::string_view s) {
  if (s == "waiting_approval") return TaskState::kWaiting;  // the ledger's column spelling
  return ParseIn<TaskState>(kTaskState, s, "task state");
}
Result<Risk> ParseRisk(std::string_view s) { return ParseIn<Risk>(kRisk, s, "risk"); }
Result<RunOutcome> ParseRunOutcome(std::string_view s) {
  return ParseIn<RunOutcome>(kRunOutcome, s, "run outcome");
}
Result<StepState> ParseStepState(std::string_view s) {
  return ParseIn<StepState>(kStepState, s, "step state");
}
Result<Verdict> ParseVerdict(std::string_view s) {
  return ParseIn<Verdict>(kVerdict, s, "gate verdict");
}
Result<ApprovalDecision> ParseApprovalDecision(std::string_view s) {
  return ParseIn<ApprovalDecision>(kDecision, s, "approval decision");
}
Result<DecidedBy> ParseDecidedBy(std::string_view s) {
  return ParseIn<DecidedBy>(kDecidedBy, s, "decided by");
}
Result<ReviewVerdict> ParseReviewVerdict(std::string_view s) {
  return ParseIn<ReviewVerdict>(kReviewVerdict, s, "review verdict");
}
Result<VariantState> ParseVariantState(std::string_view s) {
  return ParseIn<VariantState>(kVariantState, s, "variant state");
}
Result<ComparisonDecider> ParseComparisonDecider(std::string_view s) {
  return ParseIn<ComparisonDecider>(kComparisonDecider, s, "comparison decider");
}

Result<ReviewPolicy> ParseReviewPolicy(std::string_view list) {
  ReviewPolicy policy{false, false, false};
  bool never = false;
  int names = 0;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find_first_of(",+", pos);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = list.substr(pos, end - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    pos = end + 1;
    if (item.empty()) {
      if (end == list.size() && names > 0) break;
      return InvalidArgument("review policy '" + std::string(list) +
                             "': an empty name; expected never, irreversible, large or always, "
                             "or a list such as \"irreversible,large\"");
    }
    auto when = ParseIn<ReviewWhen>(kReviewWhen, item, "review policy value");
    if (!when) {
      return InvalidArgument(when.error().message() +
                             "; expected never, irreversible, large or always, or a list such "
                             "as \"irreversible,large\"");
    }
    names++;
    switch (*when) {
      case ReviewWhen::kNever: never = true; break;
      case ReviewWhen::kIrreversible: policy.irreversible = true; break;
      case ReviewWhen::kLarge: policy.large = true; break;
      case ReviewWhen::kAlways: policy.always = true; break;
    }
  }
  if (never && names > 1) {
    return InvalidArgument("review policy '" + std::string(list) +
                           "': never cannot be combined with other values");
  }
  return policy;
}

Result<EscalationAction> ParseEscalationAction(std::string_view s) {
  return ParseIn<EscalationAction>(kAction, s, "escalation action");
}

Result<OpKind> ParseOpKind(std::string_view s) { return ParseIn<OpKind>(kOpKind, s, "op"); }

ExitCode ExitCodeFor(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSucceeded: return kExitSuccess;
    case Outcome::kFailed:
    case Outcome::kLimit: return kExitTaskFailed;
    case Outcome::kProviderError: return kExitProvider;
    case Outcome::kError: return kExitInternal;
    case Outcome::kInterrupted: return kExitInterrupted;
  }
  return kExitInternal;
}

}  // namespace tandem::protocol
