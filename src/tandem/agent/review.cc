#include "tandem/agent/review.h"

#include <fmt/format.h>

namespace tandem::agent {

bool ReviewDue(const ReviewSetup& setup, int64_t lines_changed, bool irreversible_command_ran) {
  if (!setup.reviewer) return false;
  const protocol::ReviewPolicy& p = setup.policy;
  if (p.always || setup.commit) return true;
  if (p.irreversible && (setup.irreversible_task || irreversible_command_ran)) return true;
  return p.large && lines_changed > setup.large_lines;
}

std::string ReviewFeedback(const ReviewResult& review) {
  std::string out =
      "You said the task is done and its gates pass, but the reviewer requested changes before "
      "it counts as done:\n";
  for (const std::string& reason : review.reasons) out += "- " + reason + "\n";
  for (const ReviewPlace& place : review.places) {
    out += place.line > 0 ? fmt::format("- at {}:{}", place.path, place.line)
                          : fmt::format("- at {}", place.path);
    out += place.note.empty() ? "\n" : ": " + place.note + "\n";
  }
  out += "Make these changes, keep the gates passing, then call finish again.";
  return out;
}

}  // namespace tandem::agent
