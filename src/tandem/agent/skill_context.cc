#include "tandem/agent/skill_context.h"

#include <fmt/format.h>

#include "tandem/skills/catalog.h"
#include "tandem/skills/catalog_cache.h"
#include "tandem/skills/health.h"
#include "tandem/skills/index.h"

namespace tandem::agent {

Status CheckSkillsExist(const std::string& repo_root, const config::Config& config,
                        const std::vector<std::string>& names) {
  if (names.empty()) return Status::Ok();
  std::shared_ptr<const skills::CatalogSnapshot> snapshot =
      skills::ProcessCatalogCache().Get({repo_root, ".agents/skills", config.skills.home});
  const skills::Catalog& catalog = snapshot->catalog;
  skills::SelectOptions options;
  options.forced = names;
  options.max_skills = 0;
  auto selection = skills::Select(catalog, skills::SkillIndex(), "", options);
  if (selection) return Status::Ok();
  std::string problems;
  for (const std::string& p : catalog.problems) problems += "\n  skipped: " + p;
  return Status(selection.error().code(), selection.error().message() + problems);
}

Result<SkillContext> PickSkills(const TaskSpec& spec, const TaskEnv& env,
                                const std::vector<std::string>& scope_paths) {
  SkillContext out;
  const config::Skills& cfg = env.config.skills;
  if (!spec.skill_compared.empty()) {
    // The arm without skills of `tandem skills eval`: nothing injected.
    ledger::SkillUse use;
    use.skill = spec.skill_compared;
    use.injected = false;
    use.eval = spec.skills_eval;
    out.uses.push_back(use);
    return out;
  }
  if (!cfg.enabled && spec.skills.empty()) return out;
  // Discovered and indexed once per process while the folders do not change
  // (or once per checkpoint for a fan-out's worktrees).
  const skills::SkillRoots roots{env.repo_root, ".agents/skills", cfg.home};
  std::shared_ptr<const skills::CatalogSnapshot> snapshot =
      env.skills_checkpoint.empty()
          ? skills::ProcessCatalogCache().Get(roots)
          : skills::ProcessCatalogCache().GetPinned(roots, env.skills_checkpoint);
  const skills::Catalog& catalog = snapshot->catalog;
  for (const std::string& problem : catalog.problems) {
    out.notices.push_back("skipped a malformed skill: " + problem);
  }
  if (catalog.skills.empty() && spec.skills.empty()) return out;
  skills::SelectOptions options;
  options.max_skills = static_cast<size_t>(cfg.enabled ? cfg.max_injected : 0);
  options.token_budget = cfg.token_budget;
  options.min_score = cfg.min_score;
  options.forced = spec.skills;
  if (env.ledger) {
    auto counts = env.ledger->SkillStats();
    if (counts) {
      options.excluded = skills::FlaggedSkills(*counts, {cfg.flag_failure_share, cfg.flag_min_replays});
    } else {
      out.notices.push_back("skills: replay counts not read: " + counts.error().message());
    }
  }
  std::string query = spec.task;
  for (const std::string& path : scope_paths) query += " " + path;
  skills::Selection selection = TRY(skills::Select(catalog, snapshot->index, query, options));
  std::string picked;
  for (const skills::PickedSkill& p : selection.picked) {
    ledger::SkillUse use;
    use.skill = p.name;
    use.forced = p.forced;
    use.score = p.score;
    use.tokens = p.tokens;
    use.source = p.shown;
    use.eval = spec.skills_eval;
    out.uses.push_back(std::move(use));
    picked += fmt::format("{}{} ({}{}, {:.2f})", picked.empty() ? "" : ", ", p.name,
                          p.forced ? "forced, " : "", p.verified ? "verified" : "unverified",
                          p.score);
  }
  if (!picked.empty()) out.notices.push_back("skills: " + picked);
  out.text = std::move(selection.text);
  return out;
}

}  // namespace tandem::agent
