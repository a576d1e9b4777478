// tandem skills list|show|eval|restore|rm|capture (docs/SKILLS.md): the
// skills tandem finds for this repository, with their replay counts from the
// ledger and whether they are flagged; a skill's text; its eval cases run
// with and without it; restoring a flagged skill; removing one of the
// repository's skills; capturing a verified run as a skill
// (cli/skill_capture.h).
#include <filesystem>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "tandem/agent/task_runner.h"
#include "tandem/cli/command_bodies.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/do_run.h"
#include "tandem/platform/atomic_file.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/runtime.h"
#include "tandem/cli/skill_capture.h"
#include "tandem/cli/writer_lock.h"
#include "tandem/skills/catalog.h"
#include "tandem/skills/health.h"
#include "tandem/skills/skill.h"

namespace tandem::cli {
namespace {

struct SkillsOptions {
  std::string name;
  std::string model;
  std::string reason;
  std::vector<std::string> overrides;
  std::string source;         // capture: RUN or RUN/TASK
  std::string export_to;      // capture --export: "claude"
};

struct Loaded {
  std::unique_ptr<Runtime> runtime;
  skills::Catalog catalog;
  std::vector<ledger::SkillCounts> counts;
};

Result<Loaded, int> Load(const std::string& repo_root, const SkillsOptions& options) {
  auto runtime = LoadRuntime(repo_root, {options.overrides, false});
  if (!runtime) {
    fmt::print(stderr, "tandem: {}\n", runtime.error().message());
    return Unexpected(static_cast<int>(kExitUsage));
  }
  Loaded out;
  out.runtime = std::move(*runtime);
  out.catalog = skills::DiscoverSkills(
      {out.runtime->repo_root, ".agents/skills", out.runtime->loaded.config.skills.home});
  if (!out.runtime->repo_root.empty()) {
    auto ledger = OpenLedger(out.runtime->repo_root);
    if (!ledger) return Unexpected(static_cast<int>(ledger.error()));
    auto counts = (*ledger)->SkillStats();
    if (!counts) {
      fmt::print(stderr, "tandem: {}\n", counts.error().message());
      return Unexpected(static_cast<int>(kExitInternal));
    }
    out.counts = std::move(*counts);
  }
  return out;
}

const ledger::SkillCounts* CountsOf(const Loaded& l, std::string_view name) {
  for (const auto& c : l.counts) {
    if (c.skill == name) return &c;
  }
  return nullptr;
}

skills::FlagRule RuleOf(const Loaded& l) {
  const config::Skills& s = l.runtime->loaded.config.skills;
  return {s.flag_failure_share, s.flag_min_replays};
}

std::string CountsLine(const ledger::SkillCounts* c, const skills::FlagRule& rule) {
  if (!c || c->with.tasks == 0) return "no replays";
  std::string line = fmt::format("{} replays, {} succeeded ({:.0f}%)", c->with.tasks,
                                 c->with.succeeded, 100.0 * c->with.succeeded / c->with.tasks);
  if (skills::IsFlagged(*c, rule)) {
    line += fmt::format(" · FLAGGED: {} of its last {} replays failed (`tandem skills restore`)",
                        c->recent_failures, c->recent_replays);
  }
  return line;
}

int RunList(const std::string& repo_root, const SkillsOptions& options) {
  auto loaded = Load(repo_root, options);
  if (!loaded) return loaded.error();
  for (const std::string& p : loaded->catalog.problems) fmt::print(stderr, "skipped: {}\n", p);
  if (loaded->catalog.skills.empty()) {
    fmt::print("no skills found (.agents/skills/, .claude/skills/, ~/.agents/skills/; docs/SKILLS.md)\n");
    return kExitSuccess;
  }
  for (const auto& s : loaded->catalog.skills) {
    fmt::print("{}  [{}{}] {}\n  {}\n  {}\n", s.skill.name, skills::SkillOriginName(s.origin),
               s.captured() ? ", captured" : ", unverified", s.shown,
               s.skill.description.substr(0, s.skill.description.find('\n')),
               CountsLine(CountsOf(*loaded, s.skill.name), RuleOf(*loaded)));
  }
  return loaded->catalog.problems.empty() ? kExitSuccess : kExitTaskFailed;
}

int RunShow(const std::string& repo_root, const SkillsOptions& options) {
  auto loaded = Load(repo_root, options);
  if (!loaded) return loaded.error();
  const skills::FoundSkill* s = loaded->catalog.Find(options.name);
  if (!s) {
    fmt::print(stderr, "tandem: no skill named '{}'\n", options.name);
    for (const std::string& p : loaded->catalog.problems) fmt::print(stderr, "skipped: {}\n", p);
    return kExitUsage;
  }
  fmt::print("# {} ({})\n# {}\n{}", s->skill.name, s->shown,
             CountsLine(CountsOf(*loaded, s->skill.name), RuleOf(*loaded)), skills::RenderSkill(s->skill));
  return kExitSuccess;
}

int RunRestore(const std::string& repo_root, const SkillsOptions& options) {
  auto loaded = Load(repo_root, options);
  if (!loaded) return loaded.error();
  if (loaded->runtime->repo_root.empty()) {
    fmt::print(stderr, "tandem: not inside a git repository\n");
    return kExitUsage;
  }
  if (!loaded->catalog.Find(options.name) && !CountsOf(*loaded, options.name)) {
    fmt::print(stderr, "tandem: no skill named '{}'\n", options.name);
    return kExitUsage;
  }
  auto ledger = OpenLedger(loaded->runtime->repo_root);
  if (!ledger) return ledger.error();
  Status restored = (*ledger)->RestoreSkill(
      options.name, options.reason.empty() ? "restored by a person" : options.reason);
  if (!restored.ok()) {
    fmt::print(stderr, "tandem: {}\n", restored.message());
    return kExitInternal;
  }
  fmt::print("restored {}: its earlier replays no longer count towards flagging it\n", options.name);
  return kExitSuccess;
}

int RunRm(const std::string& repo_root, const SkillsOptions& options) {
  auto loaded = Load(repo_root, options);
  if (!loaded) return loaded.error();
  const skills::FoundSkill* s = loaded->catalog.Find(options.name);
  if (!s) {
    fmt::print(stderr, "tandem: no skill named '{}'\n", options.name);
    return kExitUsage;
  }
  if (s->origin == skills::SkillOrigin::kUser) {
    fmt::print(stderr, "tandem: {} is in your home, not this repository; remove it yourself\n", s->shown);
    return kExitUsage;
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  // The folder must be a real directory inside the repository (not a link).
  if (fs::is_symlink(s->dir, ec) || !fs::is_directory(fs::symlink_status(s->dir, ec))) {
    fmt::print(stderr, "tandem: {} is not a plain folder; not removed\n", s->dir);
    return kExitUsage;
  }
  fs::remove_all(s->dir, ec);
  if (ec) {
    fmt::print(stderr, "tandem: removing {}: {}\n", s->dir, ec.message());
    return kExitInternal;
  }
  fmt::print("removed {} ({}); its counts stay in the ledger\n", options.name, s->shown);
  return kExitSuccess;
}

// One arm's sums over the eval cases.
struct ArmTotals {
  int cases = 0;
  int passed = 0;
  int64_t steps = 0;
  int64_t tokens = 0;
  double cost_usd = 0;
};

int RunEval(const std::string& repo_root, const SkillsOptions& options) {
  auto loaded = Load(repo_root, options);
  if (!loaded) return loaded.error();
  const std::string root = loaded->runtime->repo_root;
  if (root.empty()) {
    fmt::print(stderr, "tandem: not inside a git repository\n");
    return kExitUsage;
  }
  const skills::FoundSkill* s = loaded->catalog.Find(options.name);
  if (!s) {
    fmt::print(stderr, "tandem: no skill named '{}'\n", options.name);
    return kExitUsage;
  }
  auto text = platform::ReadFileWithin(s->dir, "evals/evals.json", 1 << 20);
  if (!text) {
    fmt::print(stderr, "tandem: {}/evals/evals.json: {}\n", s->dir, text.error().message());
    return kExitUsage;
  }
  std::vector<std::string> prompts;
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_object() && doc.contains("evals") && doc["evals"].is_array()) {
    for (const auto& c : doc["evals"]) {
      if (c.is_object() && c.contains("prompt") && c["prompt"].is_string()) {
        prompts.push_back(c["prompt"].get<std::string>());
      }
    }
  }
  if (prompts.empty()) {
    fmt::print(stderr,
               "tandem: {}/evals/evals.json has no eval cases (expected {{\"evals\": [{{\"id\": 1, "
               "\"prompt\": \"...\"}}]}})\n",
               s->dir);
    return kExitUsage;
  }
  ArmTotals with, without;
  for (size_t i = 0; i < prompts.size(); ++i) {
    for (bool use_skill : {true, false}) {
      DoOptions run;
      run.task = prompts[i];
      run.repo_root = root;
      run.model = options.model;
      run.overrides = options.overrides;
      run.run_id = agent::NewRunId();
      run.kind = "eval";
      run.skills_eval = true;
      if (use_skill) {
        run.skills = {options.name};
      } else {
        run.skill_compared = options.name;
      }
      fmt::print("== case {} of {}, {} the skill: {}\n", i + 1, prompts.size(),
                 use_skill ? "with" : "without", run.run_id);
      std::fflush(stdout);
      int code = RunDo(run);
      ArmTotals& arm = use_skill ? with : without;
      ++arm.cases;
      arm.passed += code == kExitSuccess ? 1 : 0;
      auto ledger = OpenLedger(root);
      if (!ledger) return ledger.error();
      if (auto r = (*ledger)->GetRun(run.run_id); r && *r) {
        arm.steps += (*r)->totals.steps;
        arm.tokens += (*r)->totals.tokens_in + (*r)->totals.tokens_out;
        arm.cost_usd += (*r)->totals.cost_usd;
        ledger->reset();
        // Each case starts from the same tree: the arm's changes are undone.
        if (RunUndo(root, run.run_id, {}) != kExitSuccess) {
          fmt::print(stderr, "tandem: undoing eval run {} failed; stopping\n", run.run_id);
          return kExitInternal;
        }
      }
    }
  }
  auto line = [](const char* name, const ArmTotals& a) {
    return fmt::format("{:<8} {}/{} passed ({:.0f}%) · {:.1f} steps · {:.0f} tokens · ${:.4f} per case\n",
                       name, a.passed, a.cases, 100.0 * a.passed / a.cases,
                       static_cast<double>(a.steps) / a.cases, static_cast<double>(a.tokens) / a.cases,
                       a.cost_usd / a.cases);
  };
  fmt::print("\neval {} ({} cases)\n{}{}", options.name, prompts.size(), line("with", with),
             line("without", without));
  const ledger::SkillCounts* counts = CountsOf(*loaded, options.name);
  if (with.passed == with.cases && counts && skills::IsFlagged(*counts, RuleOf(*loaded))) {
    auto ledger = OpenLedger(root);
    if (!ledger) return ledger.error();
    Status restored = (*ledger)->RestoreSkill(options.name, "every eval case passed with it");
    if (restored.ok()) fmt::print("{} was flagged; its eval passed, so it is restored\n", options.name);
  }
  return with.passed == with.cases ? kExitSuccess : kExitTaskFailed;
}

int RunCapture(const std::string& repo_root, const SkillsOptions& options) {
  if (!options.export_to.empty() && options.export_to != "claude") {
    fmt::print(stderr, "tandem: --export {}: expected claude (also writes .claude/skills/)\n",
               options.export_to);
    return kExitUsage;
  }
  auto runtime = LoadRuntime(repo_root, {options.overrides, false});
  if (!runtime) {
    fmt::print(stderr, "tandem: {}\n", runtime.error().message());
    return kExitUsage;
  }
  Runtime& rt = **runtime;
  if (rt.repo_root.empty()) {
    fmt::print(stderr, "tandem: not inside a git repository\n");
    return kExitUsage;
  }
  // It writes into the working tree: not while another tandem writes it.
  auto lock = LockForWriting(rt.repo_root, "skills capture", stderr);
  if (!lock) return lock.error();
  auto ledger = OpenLedger(rt.repo_root);
  if (!ledger) return ledger.error();
  CaptureOptions capture;
  capture.source = options.source;
  capture.name = options.name;
  capture.model = options.model;
  capture.export_claude = options.export_to == "claude";
  return CaptureSkill(rt, **ledger, capture, stdout, stderr);
}

}  // namespace

CommandRun SetupSkills(CLI::App& app) {
  auto options = std::make_shared<SkillsOptions>();
  auto which = std::make_shared<std::string>();
  auto list = app.add_subcommand("list", "The skills found, their replays and flags");
  auto show = app.add_subcommand("show", "A skill's SKILL.md and its counts");
  show->add_option("name", options->name, "The skill's name")->required();
  auto restore = app.add_subcommand("restore", "Inject a flagged skill again; its count starts afresh");
  restore->add_option("name", options->name, "The skill's name")->required();
  restore->add_option("--reason", options->reason, "Why (recorded in the ledger)");
  auto rm = app.add_subcommand("rm", "Remove one of the repository's skills (its folder)");
  rm->add_option("name", options->name, "The skill's name")->required();
  auto eval = app.add_subcommand(
      "eval", "Run the skill's eval cases with and without it; report both arms");
  eval->add_option("name", options->name, "The skill's name")->required();
  eval->add_option("--model,-m", options->model, "A model name (default: the executor role)");
  auto capture = app.add_subcommand(
      "capture", "Distill a verified run into a skill (.agents/skills/<name>/) with the planner");
  capture->add_option("source", options->source, "RUN, or RUN/TASK for a plan task or RUN/vN for a variant")
      ->required();
  capture->add_option("--name", options->name, "The skill's name (default: the planner's)");
  capture->add_option("--model,-m", options->model, "A model name (default: the planner role)");
  capture->add_option("--export", options->export_to, "claude: also write .claude/skills/<name>/");
  for (CLI::App* sub : {list, show, restore, rm, eval, capture}) {
    sub->add_option("--set", options->overrides, "Override a configuration key (key=value)");
    sub->callback([which, sub] { *which = sub->get_name(); });
  }
  app.require_subcommand(1);
  return [options, which](const Invocation& in) {
    if (*which == "show") return RunShow(in.repo_root, *options);
    if (*which == "restore") return RunRestore(in.repo_root, *options);
    if (*which == "rm") return RunRm(in.repo_root, *options);
    if (*which == "eval") return RunEval(in.repo_root, *options);
    if (*which == "capture") return RunCapture(in.repo_root, *options);
    return RunList(in.repo_root, *options);
  };
}

}  // namespace tandem::cli
