#include "tandem/orchestrator/skill_capture.h"

#include <fmt/format.h>

#include "tandem/skills/capture.h"

namespace tandem::orchestrator {

Result<DistilledSkill> DistillSkill(const PlannerEnv& env,
                                    const std::vector<skills::Attempt>& attempts, size_t verified,
                                    std::string_view source, std::string_view name) {
  protocol::ModelRequest request = PlannerRequest(env, skills::CaptureSystemPrompt(),
                                                  skills::CapturePrompt(attempts, verified));
  DistilledSkill out;
  for (;;) {
    std::string answer = TRY(CallPlanner(env, request, ""));
    auto skill = skills::SkillFromAnswer(answer, attempts[verified], source, name);
    if (skill) {
      out.skill = std::move(*skill);
      out.evals_json = skills::EvalsJson(out.skill, attempts[verified]);
      return out;
    }
    if (out.fixes >= env.max_fixes) {
      return InvalidArgument(fmt::format("the planner's SKILL.md is still not valid after {} fix(es): {}",
                                         out.fixes, skill.error().message()));
    }
    ++out.fixes;
    request.messages.push_back({protocol::Role::kAssistant, answer, {}, {}, false});
    request.messages.push_back(protocol::Message::User(fmt::format(
        "That SKILL.md is not valid: {}. Answer with the corrected SKILL.md only.",
        skill.error().message())));
  }
}

}  // namespace tandem::orchestrator
