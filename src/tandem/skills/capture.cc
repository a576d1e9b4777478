#include "tandem/skills/capture.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "tandem/base/redact.h"
#include "tandem/base/strings.h"
#include "tandem/platform/atomic_file.h"

namespace tandem::skills {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxPromptBytes = 48 * 1024;
constexpr size_t kMaxPaths = 12;

// The last round's verdict of each gate: later entries win.
std::map<std::string, protocol::Verdict> LastVerdicts(const Attempt& a) {
  std::map<std::string, protocol::Verdict> last;
  for (const TrajectoryEntry& e : a.entries) {
    if (e.kind == EntryKind::kGate) last[e.name] = e.verdict;
  }
  return last;
}

std::string Short(std::string_view text, size_t max) { return RedactAndCap(text, max); }

}  // namespace

std::vector<std::string> PassedGates(const Attempt& attempt) {
  std::map<std::string, protocol::Verdict> last = LastVerdicts(attempt);
  std::vector<std::string> out;
  for (const TrajectoryGate& g : attempt.gates) {
    auto it = last.find(g.name);
    if (it != last.end() && it->second == protocol::Verdict::kPass) out.push_back(g.name);
  }
  return out;
}

Result<size_t> VerifiedAttempt(const std::vector<Attempt>& attempts) {
  bool succeeded_unverified = false;
  for (size_t i = attempts.size(); i-- > 0;) {
    const Attempt& a = attempts[i];
    if (!a.ended || a.outcome != protocol::Outcome::kSucceeded) continue;
    if (!PassedGates(a).empty()) return i;
    succeeded_unverified = true;
  }
  if (succeeded_unverified) {
    return FailedPrecondition(
        "it succeeded without gates (no verify.md and none detected), so nothing verified it; "
        "only verified runs become skills");
  }
  std::string outcomes;
  for (const Attempt& a : attempts) {
    outcomes += (outcomes.empty() ? "" : ", ") +
                std::string(a.ended ? protocol::Name(a.outcome) : "killed");
  }
  return FailedPrecondition(fmt::format(
      "no attempt of it succeeded ({}); only verified runs become skills",
      outcomes.empty() ? "none recorded" : outcomes));
}

std::vector<std::string> ChangedPaths(const Attempt& attempt) {
  std::vector<std::string> out;
  for (const TrajectoryEntry& e : attempt.entries) {
    if (e.kind != EntryKind::kDiff) continue;
    size_t pos = 0;
    while ((pos = e.text.find("diff --git a/", pos)) != std::string::npos) {
      size_t start = pos + 13;
      size_t end = e.text.find('\n', start);
      std::string line = e.text.substr(start, end == std::string::npos ? std::string::npos : end - start);
      size_t b = line.find(" b/");
      std::string path = b == std::string::npos ? line : line.substr(0, b);
      if (!path.empty() && std::find(out.begin(), out.end(), path) == out.end()) out.push_back(path);
      pos = start;
    }
  }
  return out;
}

const std::string& CaptureSystemPrompt() {
  static const std::string kPrompt =
      R"(You are the planner of tandem, a harness in which a slow, careful model (you) plans and fast models execute. A fast executor model finished a task below, and tandem verified it: the repository's gates passed. Distill the run into a skill, so that a fast model given a similar task later solves it in fewer steps.

Answer with the SKILL.md file only, in the Agent Skills format:

---
name: <the kind of task: lowercase letters, digits and single hyphens, at most 64 characters>
description: <at most 1,024 characters on one line: what the skill does and when to use it, with the words a similar task would use>
---
# <title>

## When to use
<the kind of task, the files or symptoms that show it>

## Steps that worked
<numbered, concrete: which files, which edits, which commands>

## How it was verified
<the gates and commands that proved it>

## Pitfalls
<what failed in this run (rolled-back steps, earlier attempts) and how it was avoided; "none seen" if nothing failed>

Rules: general enough for similar tasks, specific about this repository's files and commands. Never copy secrets, tokens or personal data. At most 500 lines; aim for under 60. No YAML keys other than name and description: tandem adds its own metadata.
)";
  return kPrompt;
}

std::string CapturePrompt(const std::vector<Attempt>& attempts, size_t verified) {
  const Attempt& a = attempts[verified];
  std::string out = fmt::format("Task: {}\n", Short(a.goal, 4000));
  if (!a.scope.empty()) out += fmt::format("Scope: {}\n", fmt::join(a.scope, ", "));
  std::vector<std::string> passed = PassedGates(a);
  out += "Gates that passed at the end:\n";
  for (const TrajectoryGate& g : a.gates) {
    if (std::find(passed.begin(), passed.end(), g.name) == passed.end()) continue;
    out += fmt::format("- {} ({}): {}\n", g.name, g.when, Short(g.command, 300));
  }
  out += fmt::format("Outcome: succeeded in {} step(s) with {} rollback(s). Executor's summary: {}\n",
                     a.steps, a.retries, Short(a.summary, 1500));
  if (!a.skills.empty()) out += fmt::format("Skills it was given: {}\n", fmt::join(a.skills, ", "));
  std::string earlier;
  for (size_t i = 0; i < verified; ++i) {
    const Attempt& f = attempts[i];
    earlier += fmt::format("- attempt {} ended {}: {}\n", i + 1,
                           f.ended ? protocol::Name(f.outcome) : "killed", Short(f.summary, 600));
    for (const TrajectoryEntry& e : f.entries) {
      if (e.kind == EntryKind::kRollback) earlier += fmt::format("  step {} rolled back: {}\n", e.step, Short(e.text, 300));
    }
  }
  if (!earlier.empty()) out += "\nEarlier attempts of this task that did not pass:\n" + earlier;
  out += "\nThe verified run, step by step:\n";
  int step = 0;
  for (const TrajectoryEntry& e : a.entries) {
    if (e.step != step) {
      step = e.step;
      out += fmt::format("\n## Step {}\n", step);
    }
    switch (e.kind) {
      case EntryKind::kAssistant:
        if (!TrimSpace(e.text).empty()) out += fmt::format("Model: {}\n", Short(e.text, 1500));
        for (const TrajectoryToolCall& c : e.calls) {
          out += fmt::format("Call {} {}\n", c.name, Short(c.arguments, 1500));
        }
        break;
      case EntryKind::kToolResult:
        out += fmt::format("Result of {}{}: {}\n", e.name, e.error ? " (error)" : "", Short(e.text, 1000));
        break;
      case EntryKind::kGate:
        out += fmt::format("Gate {}: {}{}{}\n", e.name, protocol::Name(e.verdict), e.cached ? " (cached)" : "",
                           e.text.empty() ? "" : "\n" + Short(e.text, 1000));
        break;
      case EntryKind::kRollback: out += fmt::format("Rolled back: {}\n", Short(e.text, 500)); break;
      case EntryKind::kFeedback: out += fmt::format("tandem told the model: {}\n", Short(e.text, 800)); break;
      case EntryKind::kDiff: out += fmt::format("Change kept:\n```diff\n{}\n```\n", Short(e.text, 3000)); break;
    }
  }
  if (a.truncated) out += "\n(the rest of the run was too long to keep)\n";
  return RedactAndCap(out, kMaxPromptBytes);
}

std::string ExtractSkillText(std::string_view answer) {
  std::string_view t = answer;
  while (!t.empty() && (t.front() == '\n' || t.front() == '\r' || t.front() == ' ')) t.remove_prefix(1);
  if (t.starts_with("---")) return std::string(t);
  if (t.starts_with("```")) {
    // A fence around the whole file: from the line after it to the last fence.
    size_t body = t.find('\n');
    size_t close = t.rfind("\n```");
    if (body != std::string_view::npos && close != std::string_view::npos && close > body) {
      return std::string(t.substr(body + 1, close - body)) ;
    }
  }
  size_t pos = 0;
  while (pos < t.size()) {
    size_t end = t.find('\n', pos);
    std::string_view line = t.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (TrimSpace(line) == "---") return std::string(t.substr(pos));
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  return std::string(t);
}

Result<Skill> SkillFromAnswer(std::string_view answer, const Attempt& verified,
                              std::string_view source, std::string_view name) {
  std::string text = ExtractSkillText(answer);
  auto parsed = ParseSkill(text, "");
  if (!parsed) {
    return InvalidArgument(fmt::format("line {}: {}", parsed.error().line, parsed.error().message));
  }
  Skill skill = std::move(*parsed);
  if (!name.empty()) {
    if (auto problem = NameProblem(name)) {
      return InvalidArgument(fmt::format("--name '{}': {}", name, *problem));
    }
    skill.name = std::string(name);
  }
  skill.description = Redactor::Apply(skill.description);
  skill.body = Redactor::Apply(skill.body);
  skill.compatibility = Redactor::Apply(skill.compatibility);
  for (auto& [key, value] : skill.metadata) value = Redactor::Apply(value);
  skill.SetMeta("tandem-source-run", std::string(source));
  skill.SetMeta("tandem-gates", fmt::format("{}", fmt::join(PassedGates(verified), " ")));
  std::vector<std::string> paths = ChangedPaths(verified);
  if (paths.size() > kMaxPaths) paths.resize(kMaxPaths);
  if (paths.empty()) paths = verified.scope;
  if (!paths.empty()) skill.SetMeta("tandem-paths", Redactor::Apply(fmt::format("{}", fmt::join(paths, " "))));
  // What is written must read back, in a folder of its name.
  auto again = ParseSkill(RenderSkill(skill), skill.name);
  if (!again) {
    return InvalidArgument(fmt::format("line {}: {}", again.error().line, again.error().message));
  }
  return skill;
}

std::string EvalsJson(const Skill& skill, const Attempt& verified) {
  nlohmann::json expectations = nlohmann::json::array();
  for (const std::string& gate : PassedGates(verified)) {
    expectations.push_back(fmt::format("gate '{}' passes", gate));
  }
  nlohmann::json doc = {
      {"skill_name", skill.name},
      {"evals",
       {{{"id", 1},
         {"prompt", Redactor::Apply(verified.goal)},
         {"expected_output", Redactor::Apply(verified.summary)},
         {"files", nlohmann::json::array()},
         {"expectations", expectations}}}}};
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {

// Makes `rel` (relative, '/'-separated) under `root` a chain of real
// directories, creating what is missing.
Status RealDirs(const fs::path& root, const fs::path& rel) {
  fs::path at = root;
  for (const fs::path& part : rel) {
    if (part.empty() || part == "." ) continue;
    if (part == "..") return PermissionDenied(fmt::format("{}: leaves the repository", rel.string()));
    at /= part;
    struct stat st {};
    if (::lstat(at.c_str(), &st) == 0) {
      if (S_ISLNK(st.st_mode)) {
        return PermissionDenied(fmt::format("{} is a link; tandem writes skills only into real folders",
                                            at.lexically_relative(root).string()));
      }
      if (!S_ISDIR(st.st_mode)) {
        return FailedPrecondition(fmt::format("{} is not a folder", at.lexically_relative(root).string()));
      }
      continue;
    }
    if (::mkdir(at.c_str(), 0755) != 0 && errno != EEXIST) {
      return IoError(fmt::format("{}: {}", at.string(), std::strerror(errno)));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> WriteSkillFolder(const fs::path& repo_root, std::string_view dir,
                                     const Skill& skill, std::string_view evals_json) {
  if (auto problem = NameProblem(skill.name)) return InvalidArgument(*problem);
  fs::path rel = fs::path(std::string(dir)) / skill.name;
  RETURN_IF_ERROR(RealDirs(repo_root, fs::path(std::string(dir))));
  fs::path folder = repo_root / rel;
  struct stat st {};
  if (::lstat(folder.c_str(), &st) == 0) {
    return Status(StatusCode::kAlreadyExists,
                  fmt::format("{} exists: a skill of that name is there already", rel.string()));
  }
  if (::mkdir(folder.c_str(), 0755) != 0) {
    if (errno == EEXIST) {
      return Status(StatusCode::kAlreadyExists, fmt::format("{} exists", rel.string()));
    }
    return IoError(fmt::format("{}: {}", folder.string(), std::strerror(errno)));
  }
  RETURN_IF_ERROR(RealDirs(repo_root, rel / "evals"));
  RETURN_IF_ERROR(platform::WriteFileAtomically(folder / "evals" / "evals.json", evals_json,
                                                platform::WriteOptions::CreateOnly()));
  RETURN_IF_ERROR(platform::WriteFileAtomically(folder / "SKILL.md", RenderSkill(skill),
                                                platform::WriteOptions::CreateOnly()));
  return (rel / "SKILL.md").string();
}

}  // namespace tandem::skills
