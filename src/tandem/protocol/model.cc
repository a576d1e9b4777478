#include "tandem/protocol/model.h"

namespace tandem::protocol {

const char* StopReasonName(StopReason r) {
  switch (r) {
    case StopReason::kEndTurn: return "end_turn";
    case StopReason::kToolUse: return "tool_use";
    case StopReason::kMaxTokens: return "max_tokens";
    case StopReason::kRefusal: return "refusal";
    case StopReason::kOther: return "other";
  }
  return "other";
}

const char* ModelErrorKindName(ModelErrorKind k) {
  switch (k) {
    case ModelErrorKind::kAuth: return "auth";
    case ModelErrorKind::kRateLimited: return "rate_limited";
    case ModelErrorKind::kOverloaded: return "overloaded";
    case ModelErrorKind::kServer: return "server";
    case ModelErrorKind::kNetwork: return "network";
    case ModelErrorKind::kBadRequest: return "bad_request";
    case ModelErrorKind::kContextTooLong: return "context_too_long";
    case ModelErrorKind::kStreamBroken: return "stream_broken";
    case ModelErrorKind::kTimeout: return "timeout";
    case ModelErrorKind::kCancelled: return "cancelled";
    case ModelErrorKind::kMalformed: return "malformed";
  }
  return "unknown";
}

}  // namespace tandem::protocol
