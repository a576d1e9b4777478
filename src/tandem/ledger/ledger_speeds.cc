// Ledger: the measured speed of each model's recent calls (routing by
// measured speed, providers/routing.h; `tandem models`).
#include <string>
#include <vector>

#include "tandem/ledger/ledger.h"
#include "tandem/ledger/sqlite.h"
#include "tandem/ledger/try.h"

namespace tandem::ledger {

Result<std::vector<ModelSpeedRow>> Ledger::RecentModelCalls(int per_model) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "SELECT provider, model, role, tokens_in, tokens_cached, tokens_out, ttft_ms, duration_ms, at"
      " FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY provider, model ORDER BY id DESC) AS newer"
      "       FROM model_calls"
      "       WHERE error_kind IS NULL AND ttft_ms > 0 AND tokens_out > 0)"
      " WHERE newer <= ?1 ORDER BY id"));
  stmt.Bind(1, int64_t{per_model});
  std::vector<ModelSpeedRow> rows;
  while (LEDGER_TRY(stmt.Step())) {
    ModelSpeedRow row;
    row.provider = stmt.Text(0);
    row.model = stmt.Text(1);
    row.role = stmt.Text(2);
    row.tokens_in = stmt.Int(3);
    row.tokens_cached = stmt.Int(4);
    row.tokens_out = stmt.Int(5);
    row.ttft_ms = stmt.Int(6);
    row.duration_ms = stmt.Int(7);
    row.at = stmt.Int(8);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace tandem::ledger
