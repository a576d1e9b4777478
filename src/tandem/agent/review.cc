#include "tandem/agent/review.h"

#include <fmt/format.h>

#include "tandem/agent/patch_filter.h"

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

std::string FilterPatch(const std::string& patch, const std::vector<std::string>& skip,
                        size_t max_bytes) {
  std::string out;
  size_t pos = 0;
  while (pos < patch.size()) {
    size_t next = patch.find("\ndiff --git ", pos);
    size_t end = next == std::string::npos ? patch.size() : next + 1;
    std::string_view section(patch.data() + pos, end - pos);
    bool skipped = false;
    for (const std::string& path : skip) {
      if (section.starts_with("diff --git a/" + path + " ")) skipped = true;
    }
    if (!skipped) out.append(section);
    pos = end;
  }
  if (out.size() > max_bytes) {
    size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += fmt::format("\n[... the diff is cut at {} KiB]\n", max_bytes / 1024);
  }
  return out;
}

}  // namespace tandem::agent
