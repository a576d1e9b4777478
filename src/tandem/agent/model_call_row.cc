#include "tandem/agent/model_call_row.h"

#include <cstdint>

namespace tandem::agent {
std::string FastModeTier(const std::string& role, bool fast_mode) {
  return fast_mode ? role + "+fast_mode" : role;
}

namespace {

ledger::ModelCallRecord Base(const ModelCallWho& who) {
  ledger::ModelCallRecord record;
  record.run_id = who.run_id;
  record.step_id = who.step_id;
  record.role = who.role;
  record.tier = FastModeTier(who.role, who.fast_mode);
  record.provider = who.provider;
  record.model = who.model;
  return record;
}

}  // namespace

ledger::ModelCallRecord ModelCallRow(const ModelCallWho& who, const protocol::ModelResponse& reply,
                                     double cost_usd) {
  ledger::ModelCallRecord record = Base(who);
  if (reply.served_by) {  // a pool's member: the row is that model's
    record.provider = reply.served_by->provider;
    record.model = reply.served_by->model_id;
    record.tier = FastModeTier(who.role, reply.served_by->fast_mode);
  }
  record.tokens_in = reply.usage.input_tokens;
  record.tokens_out = reply.usage.output_tokens;
  record.tokens_cached = reply.usage.cached_input_tokens;
  record.cache_write = reply.usage.cache_write_tokens;
  record.cost_usd = cost_usd;
  record.ttft_ms = static_cast<int64_t>(reply.timings.time_to_first_token_ms);
  record.duration_ms = static_cast<int64_t>(reply.timings.total_ms);
  record.tokens_per_s = reply.timings.output_tokens_per_s;
  record.retries = reply.retries;
  return record;
}

ledger::ModelCallRecord ModelCallRow(const ModelCallWho& who, const protocol::ModelError& error) {
  ledger::ModelCallRecord record = Base(who);
  record.error_kind = protocol::ModelErrorKindName(error.kind);
  return record;
}

}  // namespace tandem::agent
