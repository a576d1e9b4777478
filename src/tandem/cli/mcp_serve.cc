#include "tandem/cli/mcp_serve.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <stop_token>

#include <fmt/format.h>

#include "tandem/base/clock.h"
#include "tandem/base/mutex.h"
#include "tandem/base/redact.h"
#include "tandem/base/scope_glob.h"
#include "tandem/cli/command_bodies.h"
#include "tandem/cli/do_run.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/plan_run.h"
#include "tandem/cli/runtime.h"
#include "tandem/cli/signals.h"
#include "tandem/cli/variants_view.h"
#include "tandem/cli/version.h"
#include "tandem/mcp/server.h"
#include "tandem/orchestrator/fanout.h"
#include "tandem/orchestrator/status.h"
#include "tandem/tools/text.h"
#include "tandem/tools/tool_args.h"
#include "tandem/workspace/workspace.h"

namespace tandem::cli {
namespace {

using nlohmann::json;

// What a tool call printed, read back once it is done.
class Capture {
 public:
  Capture() : file_(::open_memstream(&buf_, &len_)) {}
  ~Capture() {
    if (file_) std::fclose(file_);
    std::free(buf_);
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;
  // stderr when the stream could not be made (the text then goes to the log).
  std::FILE* get() const { return file_ ? file_ : stderr; }
  std::string Take() {
    if (!file_) return "";
    std::fclose(file_);
    file_ = nullptr;
    return std::string(buf_, len_);
  }

 private:
  char* buf_ = nullptr;
  size_t len_ = 0;
  std::FILE* file_;
};

// The approvals the MCP client can answer, by a server-wide id
// ("approval-1", ...). Each call that may ask has its own input queue
// (orchestrator::LiveOps, watched here, so approvals opened on it are
// answerable); an approval opened on it is announced as a progress message
// of that call, listed by tandem_status, and answered by tandem_approve /
// tandem_deny, which submit an approve or deny op to that queue.
class ApprovalBoard {
 public:
  struct Entry {
    std::string id;
    orchestrator::LiveOps* ops;
    int64_t local_id;
    orchestrator::ApprovalRequest request;
  };

  // While it lives, approvals opened on `ops` are announced on `call` and
  // may be answered by id.
  class Watch {
   public:
    Watch(ApprovalBoard& board, orchestrator::LiveOps& ops, mcp::CallContext& call)
        : board_(board), ops_(ops) {
      handle_ = ops.Watch([this, &call](const orchestrator::OpenApproval& opened) {
        std::string id = board_.Add(ops_, opened);
        const auto& r = opened.request;
        call.Progress(fmt::format(
            "approval {} needed{}: {} ({}). Call tandem_approve or tandem_deny with id \"{}\".", id,
            r.task_id.empty() ? "" : " for task " + r.task_id,
            Redactor::Apply(r.command.empty() ? r.what : r.command), Redactor::Apply(r.why), id));
      });
    }
    ~Watch() {
      ops_.Unwatch(handle_);
      board_.Forget(ops_);
    }
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;

   private:
    ApprovalBoard& board_;
    orchestrator::LiveOps& ops_;
    int handle_;
  };

  // kNotFound when no approval with this id waits.
  Status Decide(const std::string& id, bool approved, const std::string& reason) {
    orchestrator::LiveOps* ops = nullptr;
    int64_t local = 0;
    {
      MutexLock lock(mu_);
      auto it = entries_.find(id);
      if (it != entries_.end()) ops = it->second.ops, local = it->second.local_id;
    }
    Status answered = ops == nullptr
                          ? NotFound("")
                          : ops->Submit({.kind = approved ? protocol::OpKind::kApprove
                                                          : protocol::OpKind::kDeny,
                                         .approval_id = local,
                                         .text = reason.empty()
                                                     ? std::string(approved ? "approved" : "denied") +
                                                           " by the MCP client (" + id + ")"
                                                     : reason,
                                         .source = "mcp"})
                                .status;
    if (!answered.ok()) {
      return NotFound("no approval '" + id + "' is waiting (tandem_status lists those that are)");
    }
    MutexLock lock(mu_);
    entries_.erase(id);
    return Status::Ok();
  }

  // The approvals open now, oldest first.
  std::vector<Entry> Waiting() const {
    std::vector<Entry> all;
    {
      MutexLock lock(mu_);
      for (const auto& [id, entry] : entries_) all.push_back(entry);
    }
    std::vector<Entry> out;
    for (const Entry& e : all) {
      for (const auto& open : e.ops->Pending()) {
        if (open.id == e.local_id) out.push_back(e);
      }
    }
    std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
      return std::stoll(a.id.substr(9)) < std::stoll(b.id.substr(9));
    });
    return out;
  }

 private:
  std::string Add(orchestrator::LiveOps& ops, const orchestrator::OpenApproval& opened) {
    MutexLock lock(mu_);
    std::string id = "approval-" + std::to_string(++next_);
    entries_[id] = Entry{id, &ops, opened.id, opened.request};
    return id;
  }
  void Forget(orchestrator::LiveOps& ops) {
    MutexLock lock(mu_);
    std::erase_if(entries_, [&](const auto& kv) { return kv.second.ops == &ops; });
  }

  mutable Mutex mu_;
  std::map<std::string, Entry> entries_ GUARDED_BY(mu_);
  int64_t next_ GUARDED_BY(mu_) = 0;
};

// Events as progress lines for the client, and the gates' last verdicts.
class ProgressSink : public protocol::EventSink {
 public:
  explicit ProgressSink(mcp::CallContext& call) : call_(call) {}

  void Publish(const protocol::Event& event) override {
    std::string line = std::visit([&](const auto& e) { return Line(event, e); }, event.payload);
    if (line.empty()) return;
    if (!event.scope.task_id.empty()) line = event.scope.task_id + ": " + line;
    call_.Progress(Redactor::Apply(line));
  }

  json Gates() const {
    MutexLock lock(mu_);
    json out = json::array();
    for (const auto& [name, verdict] : gates_) out.push_back({{"gate", name}, {"verdict", verdict}});
    return out;
  }

 private:
  template <typename E>
  std::string Line(const protocol::Event&, const E& e) {
    using T = std::decay_t<E>;
    if constexpr (std::is_same_v<T, protocol::RunStarted>) {
      return fmt::format("run started ({}): {}", e.model, e.goal);
    } else if constexpr (std::is_same_v<T, protocol::StepStarted>) {
      return fmt::format("step {}{}", e.step, e.attempt > 1 ? fmt::format(" (attempt {})", e.attempt) : "");
    } else if constexpr (std::is_same_v<T, protocol::ToolFinished>) {
      return fmt::format("{} {}: {}", e.name, protocol::Name(e.outcome), e.detail);
    } else if constexpr (std::is_same_v<T, protocol::GateFinished>) {
      {
        MutexLock lock(mu_);
        gates_[e.gate] = std::string(protocol::Name(e.verdict));
      }
      return fmt::format("gate {}: {}{}", e.gate, protocol::Name(e.verdict), e.cached ? " (cached)" : "");
    } else if constexpr (std::is_same_v<T, protocol::StepRolledBack>) {
      return fmt::format("step {} rolled back: {}", e.step, e.reason);
    } else if constexpr (std::is_same_v<T, protocol::StepFinished>) {
      return fmt::format("step {} done ({} files, {} lines)", e.step, e.files_changed, e.lines_changed);
    } else if constexpr (std::is_same_v<T, protocol::Notice>) {
      return std::string(protocol::Name(e.level)) + ": " + e.text;
    } else if constexpr (std::is_same_v<T, protocol::RunFinished>) {
      return fmt::format("finished: {}: {}", protocol::Name(e.outcome), e.summary);
    } else if constexpr (std::is_same_v<T, protocol::TaskStarted>) {
      return fmt::format("task started on {} ({}): {}", e.tier, e.model, e.title);
    } else if constexpr (std::is_same_v<T, protocol::TaskFinished>) {
      return fmt::format("task {}: {}", protocol::Name(e.state), e.summary);
    } else if constexpr (std::is_same_v<T, protocol::ApprovalDecided>) {
      return fmt::format("approval {}: {}", protocol::Name(e.decision), e.reason);
    } else if constexpr (std::is_same_v<T, protocol::Escalated>) {
      return fmt::format("escalated {} -> {}: {}", e.from_tier, e.to_tier, e.reason);
    } else {
      return "";  // model text, calls, checkpoints: too fine-grained for progress
    }
  }

  mcp::CallContext& call_;
  mutable Mutex mu_;
  std::map<std::string, std::string> gates_ GUARDED_BY(mu_);
};

json Schema(json properties, std::vector<std::string> required = {}) {
  json schema = {{"type", "object"}, {"properties", std::move(properties)},
                 {"additionalProperties", false}};
  if (!required.empty()) schema["required"] = required;
  return schema;
}

std::vector<mcp::ServedTool> Tools() {
  json str = {{"type", "string"}};
  auto described = [](json type, const char* what) {
    type["description"] = what;
    return type;
  };
  json writes = {{"readOnlyHint", false}, {"destructiveHint", false}, {"openWorldHint", true}};
  return {
      {"tandem_do",
       "Run one bounded coding task in this repository with tandem's verified loop: every editing "
       "step is checkpointed, checked by the repository's gates and rolled back when they fail. "
       "Returns the outcome, the summary, the diff stat and the gate results; progress arrives as "
       "notifications. tandem_undo restores the tree as it was before it.",
       Schema({{"task", described(str, "What to do, in words")},
               {"scope", {{"type", "array"},
                          {"items", {{"type", "string"}}},
                          {"description", "Path globs the task may change, e.g. src/**"}}},
               {"model", described(str, "A model name (default: the executor role)")},
               {"max_steps", {{"type", "integer"}, {"description", "limits.max_steps for this task"}}},
               {"max_wall_s", {{"type", "integer"}, {"description", "limits.max_wall_s for this task"}}},
               {"max_cost_usd", {{"type", "number"}, {"description", "limits.max_cost_usd for this task"}}},
               {"variants", {{"type", "integer"},
                             {"description", "Fan out: run this many variants (1-75), each in its own "
                                             "worktree, verified and ranked; the checkout is not "
                                             "changed until tandem_pick applies one. The limits "
                                             "are one budget for all of them"}}},
               {"stop_after", {{"type", "integer"},
                               {"description", "With variants: end once this many variants pass"}}},
               {"parallel", {{"type", "integer"},
                             {"description", "With variants: how many run at once (default min(variants, 8))"}}},
               {"models", {{"type", "array"},
                           {"items", {{"type", "string"}}},
                           {"description", "With variants: the model pool they spread over"}}},
               {"approaches", {{"type", "boolean"},
                               {"description", "With variants: the planner writes a different "
                                               "approach for each variant first"}}},
               {"tournament", {{"type", "boolean"},
                               {"description", "With variants: the reviewer model judges the "
                                               "passing variants pairwise (default: the "
                                               "configuration's fanout.tournament, true unless "
                                               "set; false: the score alone ranks them)"}}}},
              {"task"}),
       writes},
      {"tandem_status",
       "The current (or last) plan run: tasks and their states, what is running, approvals "
       "waiting (with their ids) and notes not yet delivered.",
       Schema(json::object()),
       {{"readOnlyHint", true}, {"openWorldHint", false}}},
      {"tandem_plan",
       "The planner model writes plan.md for a goal: a checklist of small, verified tasks that "
       "tandem_run executes. Returns the plan.",
       Schema({{"goal", described(str, "What to achieve, in words")},
               {"force", {{"type", "boolean"}, {"description", "Replace a plan.md with unfinished tasks"}}}},
              {"goal"}),
       writes},
      {"tandem_run",
       "Execute plan.md task by task, each verified. An irreversible task or command waits for "
       "tandem_approve / tandem_deny with the approval id the progress notifications and "
       "tandem_status give.",
       Schema({{"resume", {{"type", "boolean"}, {"description", "Continue an interrupted run"}}},
               {"run", described(str, "With resume: the run id (default: the last unfinished one)")}}),
       writes},
      {"tandem_approve", "Approve a waiting approval by its id (from tandem_status or progress).",
       Schema({{"id", described(str, "The approval id, e.g. approval-1")},
               {"reason", described(str, "Why, recorded with the decision")}},
              {"id"}),
       {{"readOnlyHint", false}, {"destructiveHint", false}, {"openWorldHint", false}}},
      {"tandem_deny", "Deny a waiting approval by its id.",
       Schema({{"id", described(str, "The approval id, e.g. approval-1")},
               {"reason", described(str, "Why, recorded with the decision")}},
              {"id"}),
       {{"readOnlyHint", false}, {"destructiveHint", false}, {"openWorldHint", false}}},
      {"tandem_pick",
       "Apply one variant of a fan-out (tandem_do with variants) to the checkout as one "
       "checkpointed change, verified by every gate first; refused, with the gates' output, when "
       "the result fails them. tandem_undo reverts it.",
       Schema({{"variant", described(str, "v1, 1, RUN/1 or RUN.v1 (default run: the last fan-out)")},
               {"only", {{"type", "array"},
                         {"items", {{"type", "string"}}},
                         {"description", "Apply only these paths of the variant"}}}},
              {"variant"}),
       {{"readOnlyHint", false}, {"destructiveHint", false}, {"openWorldHint", false}}},
      {"tandem_undo",
       "Restore the tree as it was before a run (default: the last one), refusing when its files "
       "changed since.",
       Schema({{"run", described(str, "The run id to undo (default: the last one)")}}),
       {{"readOnlyHint", false}, {"destructiveHint", false}, {"openWorldHint", false}}},
  };
}

class TandemTools {
 public:
  TandemTools(std::string repo_root, std::vector<std::string> overrides)
      : root_(std::move(repo_root)), overrides_(std::move(overrides)), tools_(Tools()) {}

  const std::vector<mcp::ServedTool>& tools() const { return tools_; }

  mcp::ToolReply Call(const std::string& name, const json& args, mcp::CallContext& call) {
    for (const auto& t : tools_) {
      if (t.name != name) continue;
      if (Status valid = tools::ValidateArgs({t.name, t.description, t.input_schema}, args); !valid.ok()) {
        return {true, valid.message(), nullptr};
      }
    }
    if (name == "tandem_do") return Do(args, call);
    if (name == "tandem_status") return StatusReply();
    if (name == "tandem_plan") return Plan(args, call);
    if (name == "tandem_run") return RunPlan(args, call);
    if (name == "tandem_approve" || name == "tandem_deny") {
      Status decided = board_.Decide(tools::StringArg(args, "id"), name == "tandem_approve",
                                    tools::StringArg(args, "reason"));
      if (!decided.ok()) return {true, decided.message(), nullptr};
      return {false,
              fmt::format("{} {}", tools::StringArg(args, "id"),
                          name == "tandem_approve" ? "approved" : "denied"),
              {{"id", tools::StringArg(args, "id")}, {"approved", name == "tandem_approve"}}};
    }
    if (name == "tandem_pick") return Pick(args, call);
    if (name == "tandem_undo") return Undo(args);
    return {true, "unknown tool " + name, nullptr};
  }

 private:
  // Runs `stop` when the call is cancelled (at once if it already is).
  struct CancelBridge {
    CancelBridge(mcp::CallContext& call, std::function<void()> stop)
        : callback(call.cancel(), std::move(stop)) {}
    std::stop_callback<std::function<void()>> callback;
  };

  static std::string Text(Capture& out, Capture& err) {
    std::string text = out.Take();
    std::string errors = err.Take();
    if (!errors.empty()) text += (text.empty() || text.back() == '\n' ? "" : "\n") + errors;
    return tools::SanitizeUtf8(Redactor::Apply(text));
  }

  mcp::ToolReply Do(const json& args, mcp::CallContext& call) {
    DoOptions options;
    options.task = tools::StringArg(args, "task");
    options.repo_root = root_;
    options.model = tools::StringArg(args, "model");
    options.overrides = overrides_;
    options.scope = Strings(args, "scope");
    options.models = Strings(args, "models");
    options.variants = static_cast<int>(args.value("variants", 0LL));
    options.stop_after = static_cast<int>(args.value("stop_after", 0LL));
    options.parallel = static_cast<int>(args.value("parallel", 0LL));
    options.approaches = args.value("approaches", false);
    // Absent: the configuration's fanout.tournament decides.
    if (args.contains("tournament") && args["tournament"].is_boolean()) {
      options.overrides.push_back(std::string("fanout.tournament=") +
                                  (args["tournament"].get<bool>() ? "true" : "false"));
    }
    if (options.variants <= 0 && args.contains("variants")) {
      return {true, "tandem_do: variants must be 1 to " + std::to_string(orchestrator::kMaxVariants),
              nullptr};
    }
    for (const char* limit : {"max_steps", "max_wall_s", "max_cost_usd"}) {
      if (args.contains(limit) && !args[limit].is_null()) {
        options.overrides.push_back(fmt::format("limits.{}={}", limit, args[limit].dump()));
      }
    }
    Capture out, err;
    ProgressSink sink(call);
    agent::InterruptHub interrupts;
    // Where its approvals are opened (approval.policy `ask`) and answered by id.
    orchestrator::LiveOps ops;
    ApprovalBoard::Watch watch(board_, ops, call);
    CancelBridge bridge(call, [&] {
      ops.Submit({.kind = protocol::OpKind::kInterrupt, .source = "mcp"});
      interrupts.Interrupt();
    });
    CommandIo io{out.get(), err.get(), &sink, &interrupts, &ops};
    DoReport report;
    int code = RunDo(options, io, &report);
    std::string text = Text(out, err);
    json result = {{"exit_code", code}};
    if (!report.run_id.empty()) result["run_id"] = report.run_id;
    if (report.outcome) result["outcome"] = protocol::Name(*report.outcome);
    if (!report.summary.empty()) result["summary"] = Redactor::Apply(report.summary);
    std::string head;
    if (report.outcome && options.variants > 0) {
      // The ranked variants, as `tandem variants --json RUN` shows them; the
      // client picks one with tandem_pick.
      head = fmt::format("{}: {}\n", protocol::Name(*report.outcome), result.value("summary", ""));
      if (auto variants = Variants(report.run_id)) {
        result["fanout"] = *variants;
        for (const auto& v : (*variants)["variants"]) {
          if (v["rank"] != 1 || v["state"] != "passed") continue;
          head += fmt::format(
              "Nothing in the checkout changed. tandem_pick with variant \"{}/{}\" applies the "
              "top-ranked one (verified by the gates first); the table below ranks them all.\n",
              report.run_id, v["n"].get<int64_t>());
        }
      }
    } else if (report.outcome) {
      result["gates"] = sink.Gates();
      head = fmt::format("{}: {}\n", protocol::Name(*report.outcome), result.value("summary", ""));
      if (auto stat = DiffStat(report)) {
        result["diff"] = *stat;
        head += fmt::format("{} file(s) changed, +{} -{}\n", (*stat)["files"].size(),
                            (*stat)["lines_added"].get<int64_t>(), (*stat)["lines_removed"].get<int64_t>());
        for (const auto& f : (*stat)["files"]) {
          head += fmt::format("  {} {} (+{} -{})\n", f["change"].get<std::string>(),
                              f["path"].get<std::string>(), f["added"].get<int64_t>(),
                              f["removed"].get<int64_t>());
        }
      }
      for (const auto& g : result["gates"]) {
        head += fmt::format("gate {}: {}\n", g["gate"].get<std::string>(), g["verdict"].get<std::string>());
      }
    } else {
      result["gates"] = sink.Gates();
    }
    return {code != kExitSuccess, head + text, result};
  }

  static std::vector<std::string> Strings(const json& args, const char* key) {
    std::vector<std::string> out;
    if (args.contains(key)) {
      for (const auto& item : args[key]) out.push_back(item.get<std::string>());
    }
    return out;
  }

  // Fan-out `run_id`'s variants, ranked, and its picks (VariantsToJson).
  std::optional<json> Variants(const std::string& run_id) {
    auto ledger = OpenLedger(root_, stderr);
    if (!ledger) return std::nullopt;
    auto fan = OpenFanoutLedger(**ledger, stderr);
    if (!fan) return std::nullopt;
    auto run = (*ledger)->GetRun(run_id);
    auto ranked = orchestrator::LoadRankedFanout(**fan, run_id);
    auto picks = (*fan)->ListPicks(run_id);
    if (!run || !*run || !ranked || !picks) return std::nullopt;
    json out = VariantsToJson(**run, ranked->variants, *picks, ranked->comparisons);
    // Model text (the summaries, the approaches) passes the redactor as every result does.
    return json::parse(Redactor::Apply(out.dump(-1, ' ', false, json::error_handler_t::replace)));
  }

  mcp::ToolReply Pick(const json& args, mcp::CallContext& call) {
    PickOptions options;
    options.variant = tools::StringArg(args, "variant");
    options.only = Strings(args, "only");
    options.overrides = overrides_;
    Capture out, err;
    ProgressSink sink(call);
    agent::InterruptHub interrupts;
    CancelBridge bridge(call, [&interrupts] { interrupts.Interrupt(); });
    CommandIo io{out.get(), err.get(), &sink, &interrupts, nullptr};
    orchestrator::PickResult picked;
    int code = RunPick(root_, options, io, &picked);
    json result = {{"exit_code", code}, {"applied", picked.applied}};
    if (!picked.pick_run_id.empty()) result["pick_run"] = picked.pick_run_id;
    result["paths"] = picked.paths;
    if (picked.rank) result["rank"] = *picked.rank;
    if (!picked.reason.empty()) result["reason"] = tools::SanitizeUtf8(Redactor::Apply(picked.reason));
    return {code != kExitSuccess, Text(out, err), result};
  }

  // The run's changes, from its base checkpoint to its final one.
  std::optional<json> DiffStat(const DoReport& report) {
    if (report.final_checkpoint.empty()) return std::nullopt;
    auto ledger = OpenLedger(root_, stderr);
    if (!ledger) return std::nullopt;
    auto run = (*ledger)->GetRun(report.run_id);
    if (!run || !*run || (*run)->base_checkpoint.empty()) return std::nullopt;
    auto from = workspace::CheckpointId::Parse((*run)->base_checkpoint);
    auto to = workspace::CheckpointId::Parse(report.final_checkpoint);
    auto ws = workspace::Workspace::Open(root_);
    if (!from || !to || !ws) return std::nullopt;
    auto changes = (*ws)->Diff(*from, *to);
    if (!changes) return std::nullopt;
    json files = json::array();
    int64_t added = 0, removed = 0;
    for (const auto& c : *changes) {
      files.push_back({{"path", c.path},
                       {"change", workspace::ChangeKindName(c.kind)},
                       {"added", c.lines_added},
                       {"removed", c.lines_removed}});
      added += c.lines_added;
      removed += c.lines_removed;
    }
    return json{{"files", files}, {"lines_added", added}, {"lines_removed", removed}};
  }

  mcp::ToolReply StatusReply() {
    Capture err;
    if (root_.empty()) return {true, "tandem: not inside a git repository", nullptr};
    auto ledger = OpenLedger(root_, err.get());
    if (!ledger) return {true, err.Take(), nullptr};
    auto status = orchestrator::GatherStatus(root_, **ledger);
    if (!status) return {true, "tandem: " + status.error().message(), nullptr};
    json result = orchestrator::StatusToJson(*status);
    std::string text = orchestrator::FormatStatus(*status);
    json approvals = json::array();
    for (const auto& a : board_.Waiting()) {
      const auto& r = a.request;
      std::string what = r.command.empty() ? r.what : r.command;
      approvals.push_back({{"id", a.id},
                           {"what", Redactor::Apply(what)},
                           {"why", Redactor::Apply(r.why)},
                           {"run_id", r.run_id},
                           {"task_id", r.task_id}});
      text += fmt::format("approval {} waits: {}\n", a.id,
                          Redactor::Apply(what.substr(0, what.find('\n'))));
    }
    result["mcp_approvals"] = approvals;
    return {false, tools::SanitizeUtf8(Redactor::Apply(text)), result};
  }

  mcp::ToolReply Plan(const json& args, mcp::CallContext& call) {
    PlanOptions options;
    options.goal = tools::StringArg(args, "goal");
    options.force = args.value("force", false);
    options.overrides = overrides_;
    Capture out, err;
    ProgressSink sink(call);
    CommandIo io{out.get(), err.get(), &sink, nullptr, nullptr};
    int code = RunPlanGoal(root_, options, io);
    return {code != kExitSuccess, Text(out, err), {{"exit_code", code}}};
  }

  mcp::ToolReply RunPlan(const json& args, mcp::CallContext& call) {
    PlanRunOptions options;
    options.overrides = overrides_;
    options.resume = args.value("resume", false);
    options.run_id = tools::StringArg(args, "run");
    Capture out, err;
    ProgressSink sink(call);
    orchestrator::LiveOps ops;  // the run's input queue: approvals, and the cancel
    ApprovalBoard::Watch watch(board_, ops, call);
    // The hub too: a cancel that comes while RunPlanCommand still loads its
    // configuration, before its kInterrupt handler is on `ops`, stops it.
    agent::InterruptHub interrupts;
    CancelBridge bridge(call, [&ops, &interrupts] {
      ops.Submit({.kind = protocol::OpKind::kInterrupt, .source = "mcp"});
      interrupts.Interrupt();
    });
    CommandIo io{out.get(), err.get(), &sink, &interrupts, &ops};
    int code = RunPlanCommand(root_, options, io);
    std::string text = Text(out, err);
    json result = {{"exit_code", code}};
    mcp::ToolReply status = StatusReply();
    if (!status.is_error) result["status"] = status.structured;
    return {code != kExitSuccess, text, result};
  }

  mcp::ToolReply Undo(const json& args) {
    Capture out, err;
    CommandIo io{out.get(), err.get(), nullptr, nullptr, nullptr};
    int code = RunUndo(root_, tools::StringArg(args, "run"), io);
    return {code != kExitSuccess, Text(out, err), {{"exit_code", code}}};
  }

  std::string root_;
  std::vector<std::string> overrides_;
  std::vector<mcp::ServedTool> tools_;
  ApprovalBoard board_;
};

}  // namespace

int RunMcpServe(const std::string& repo_root, const std::vector<std::string>& overrides) {
  // The protocol's own descriptors; fd 1 becomes stderr and fd 0 /dev/null,
  // so nothing but the protocol reaches the client and no child reads it.
  int proto_in = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
  int proto_out = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (proto_in < 0 || proto_out < 0 || null_fd < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0 ||
      ::dup2(null_fd, STDIN_FILENO) < 0) {
    fmt::print(stderr, "tandem: mcp serve: cannot set up stdin/stdout\n");
    return kExitInternal;
  }
  ::close(null_fd);
  std::fflush(stdout);

  TandemTools tools(repo_root, overrides);
  mcp::Server::Options options;
  options.version = kVersion;
  options.instructions =
      "tandem runs bounded coding tasks in this repository with a verified loop (checkpoints, "
      "gates, rollback). Use tandem_do for one task, tandem_plan + tandem_run for a goal, "
      "tandem_status to see where things are, tandem_undo to take a run back.";
  options.tools = tools.tools();
  options.handler = [&tools](const std::string& name, const nlohmann::json& args,
                             mcp::CallContext& call) { return tools.Call(name, args, call); };
  mcp::Server server(std::move(options), proto_in, proto_out);
  // Ctrl-C / SIGTERM / SIGHUP: running calls are interrupted (their steps
  // rolled back) and the server ends; a second signal exits at once.
  InterruptScope scope([&server] { server.Stop(); });
  fmt::print(stderr, "tandem mcp serve: serving {} on stdio (protocol 2026-07-28 and 2025-11-25)\n",
             repo_root.empty() ? std::string("no repository") : repo_root);
  Status served = server.Serve();
  ::close(proto_in);
  ::close(proto_out);
  if (!served.ok()) {
    fmt::print(stderr, "tandem: mcp serve: {}\n", served.message());
    return kExitInternal;
  }
  return InterruptScope::Interrupted() ? kExitInterrupted : kExitSuccess;
}

}  // namespace tandem::cli
