#include "tandem/metrics/stats.h"

#include "tandem/metrics/compute.h"
#include "tandem/metrics/read_facts.h"

namespace tandem::metrics {
namespace {

SkillArmFigures Arm(const ledger::SkillArm& a) {
  SkillArmFigures f;
  f.tasks = a.tasks;
  f.succeeded = a.succeeded;
  if (a.tasks > 0) {
    double n = static_cast<double>(a.tasks);
    f.success_rate = a.succeeded / n;
    f.steps_per_task = a.steps / n;
    f.tokens_per_task = a.tokens / n;
    f.wall_ms_per_task = a.wall_ms / n;
  }
  if (a.succeeded > 0) f.cost_per_success_usd = a.cost_usd / static_cast<double>(a.succeeded);
  return f;
}

SkillFigures Figures(const std::string& name, const ledger::SkillArm& with,
                     const ledger::SkillArm& without) {
  SkillFigures f{name, Arm(with), Arm(without), std::nullopt};
  if (f.with.wall_ms_per_task && f.without.wall_ms_per_task) {
    f.time_saved_ms = (*f.without.wall_ms_per_task - *f.with.wall_ms_per_task) * with.tasks;
  }
  return f;
}

void Add(ledger::SkillArm& into, const ledger::SkillArm& a) {
  into.tasks += a.tasks;
  into.succeeded += a.succeeded;
  into.steps += a.steps;
  into.tokens += a.tokens;
  into.cost_usd += a.cost_usd;
  into.wall_ms += a.wall_ms;
}

}  // namespace

std::vector<SkillFigures> SkillFiguresFrom(const std::vector<ledger::SkillCounts>& counts) {
  std::vector<SkillFigures> out;
  ledger::SkillArm with, without;
  for (const auto& c : counts) {
    if (c.with.tasks == 0 && c.without.tasks == 0) continue;
    out.push_back(Figures(c.skill, c.with, c.without));
    Add(with, c.with);
    Add(without, c.without);
  }
  if (!out.empty()) out.push_back(Figures("(all skills)", with, without));
  return out;
}

Result<Report> ReportFromLedgerFile(const std::filesystem::path& ledger_path, const Window& window,
                                    ledger::Clock clock) {
  std::error_code ec;
  if (!std::filesystem::exists(ledger_path, ec)) return ComputeReport(LedgerFacts{}, window);
  auto ledger = TRY(ledger::Ledger::Open({ledger_path, std::move(clock)}));
  LedgerFacts facts = TRY(ReadLedgerFacts(*ledger, window));
  Report report = ComputeReport(facts, window);
  report.skills = SkillFiguresFrom(TRY(ledger->SkillStats()));
  return report;
}

}  // namespace tandem::metrics
