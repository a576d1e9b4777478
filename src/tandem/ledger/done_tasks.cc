#include "tandem/ledger/done_tasks.h"

#include <utility>
#include <variant>

namespace tandem::ledger {

Result<std::vector<DoneTask>> ListDoneTasks(Ledger& ledger) {
  QueryResult result = TRY(ledger.Query(
      "SELECT run_id, task_id, title FROM tasks WHERE state = 'done' ORDER BY rowid"));
  std::vector<DoneTask> done;
  for (std::vector<SqlValue>& row : result.rows) {
    auto text = [&](size_t i) {
      auto* s = i < row.size() ? std::get_if<std::string>(&row[i]) : nullptr;
      return s ? std::move(*s) : std::string();
    };
    done.push_back({text(0), text(1), text(2)});
  }
  return done;
}

}  // namespace tandem::ledger
