// Ledger: which skills tasks saw, and their counts (docs/SKILLS.md).
#include <map>
#include <string>

#include "tandem/ledger/ledger.h"
#include "tandem/ledger/rows.h"
#include "tandem/ledger/sqlite.h"
#include "tandem/ledger/try.h"

namespace tandem::ledger {

using internal::Clean;
using internal::kMaxShort;
using internal::kMaxText;

Status Ledger::RecordSkillUses(std::string_view run_id, std::string_view task_id,
                               const std::vector<SkillUse>& uses) {
  std::lock_guard<std::mutex> lock(mu_);
  Transaction txn = LEDGER_TRY(Transaction::Begin(*db_));
  for (const SkillUse& u : uses) {
    Statement stmt = LEDGER_TRY(db_->Prepare(
        "INSERT INTO skill_uses (run_id, task_id, skill, injected, forced, score, tokens, source,"
        " eval, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
    stmt.Bind(1, run_id)
        .Bind(2, Clean(task_id, kMaxShort))
        .Bind(3, Clean(u.skill, kMaxShort))
        .Bind(4, u.injected ? 1 : 0)
        .Bind(5, u.forced ? 1 : 0)
        .Bind(6, u.score)
        .Bind(7, u.tokens)
        .Bind(8, Clean(u.source, kMaxShort))
        .Bind(9, u.eval ? 1 : 0)
        .Bind(10, Now());
    RETURN_IF_ERROR(stmt.Run().WithContext("RecordSkillUses"));
  }
  return txn.Commit();
}

Status Ledger::EndSkillUses(std::string_view run_id, std::string_view task_id,
                            const SkillUseEnd& end) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "UPDATE skill_uses SET outcome = ?3, steps = ?4, task_tokens = ?5, cost_usd = ?6,"
      " wall_ms = ?7, ended_at = ?8 WHERE run_id = ?1 AND task_id = ?2 AND outcome IS NULL"));
  stmt.Bind(1, run_id)
      .Bind(2, task_id)
      .Bind(3, protocol::Name(end.outcome))
      .Bind(4, end.steps)
      .Bind(5, end.tokens)
      .Bind(6, end.cost_usd)
      .Bind(7, end.wall_ms)
      .Bind(8, Now());
  return stmt.Run().WithContext("EndSkillUses");
}

Result<std::vector<SkillCounts>> Ledger::SkillStats() {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, SkillCounts> by_name;
  {
    Statement stmt = LEDGER_TRY(db_->Prepare(
        "SELECT skill, MAX(at) FROM skill_restores GROUP BY skill"));
    while (LEDGER_TRY(stmt.Step())) {
      SkillCounts& c = by_name[stmt.Text(0)];
      c.skill = stmt.Text(0);
      c.restored_at = stmt.Int(1);
    }
  }
  Statement stmt = LEDGER_TRY(db_->Prepare(
      "SELECT skill, injected, outcome, steps, task_tokens, cost_usd, wall_ms, at FROM skill_uses"
      " WHERE outcome IS NOT NULL ORDER BY id"));
  while (LEDGER_TRY(stmt.Step())) {
    SkillCounts& c = by_name[stmt.Text(0)];
    c.skill = stmt.Text(0);
    bool injected = stmt.Int(1) != 0;
    bool ok = stmt.Text(2) == protocol::Name(protocol::Outcome::kSucceeded);
    SkillArm& arm = injected ? c.with : c.without;
    ++arm.tasks;
    arm.succeeded += ok ? 1 : 0;
    arm.steps += stmt.Int(3);
    arm.tokens += stmt.Int(4);
    arm.cost_usd += stmt.Double(5);
    arm.wall_ms += stmt.Int(6);
    // A replay at the very millisecond of a restore counts after it.
    if (injected && stmt.Int(7) >= c.restored_at) {
      ++c.recent_replays;
      c.recent_failures += ok ? 0 : 1;
    }
  }
  std::vector<SkillCounts> out;
  for (auto& [name, c] : by_name) out.push_back(std::move(c));
  return out;
}

Status Ledger::RestoreSkill(std::string_view skill, std::string_view reason) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement stmt = LEDGER_TRY(
      db_->Prepare("INSERT INTO skill_restores (skill, reason, at) VALUES (?1, ?2, ?3)"));
  stmt.Bind(1, Clean(skill, kMaxShort)).Bind(2, Clean(reason, kMaxText)).Bind(3, Now());
  return stmt.Run().WithContext("RestoreSkill");
}

}  // namespace tandem::ledger
