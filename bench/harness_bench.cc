// Harness overhead per step (issue #3): everything tandem does in a step
// except model streaming and the gate commands themselves, on synthetic
// repositories of 10,000 and 100,000 files. Budget: median <= 5 ms (10k)
// and <= 25 ms (100k).
//
// BM_Step drives agent::VerifiedStepPolicy directly, as the turn loop does:
// BeginStep, OnReply (accounting + ledger), RunStep with an edit_file and a
// write_file call (Predict, ledger rows, the tools, diff, guardrails,
// checkpoint, task-level diff) against a real ToolBox, a Workspace with an
// active run and a Ledger on a real SQLite file. No gates are configured, so
// gate command time is excluded by construction. One step per repetition:
// the "median" aggregate is the median step.
//
// The other benchmarks split out once-per-run costs (repository view, task
// message and token estimate, ToolBox and Ledger setup) and the per-step
// request encoding the provider client does before each model call.
//
// The repositories are generated once into /tmp/tandem-bench-repo-<n> with
// the same layout as bench/checkpoint_bench.cc (which reuses them too) and
// restored to HEAD (git reset --hard, git clean) before and after use.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tandem/agent/prompt.h"
#include "tandem/agent/repo_view.h"
#include "tandem/agent/verified_step.h"
#include "tandem/ledger/ledger.h"
#include "tandem/providers/openai_client.h"
#include "tandem/tools/toolbox.h"
#include "tandem/workspace/workspace.h"

namespace tandem::bench {
namespace {

namespace fs = std::filesystem;

constexpr int kFilesPerDir = 100;

// Same layout as checkpoint_bench.cc: d000/s0/f00.txt ...
std::string FileName(int i) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "d%03d/s%02d/f%03d.txt", i / 1000, (i / kFilesPerDir) % 10,
                i % kFilesPerDir);
  return buf;
}

void WriteFile(const fs::path& p, const std::string& content) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << content;
}

void Shell(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "harness_bench: failed: %s\n", cmd.c_str());
    std::abort();
  }
}

// TANDEM_BENCH_REPO_PREFIX (default /tmp/tandem-bench-repo-) lets
// benchmarks running at the same time use separate copies.
fs::path RepoPath(int files) {
  const char* prefix = std::getenv("TANDEM_BENCH_REPO_PREFIX");
  return (prefix ? std::string(prefix) : std::string("/tmp/tandem-bench-repo-")) +
         std::to_string(files);
}

// Returns the repository for `files` files, generating it on first use.
fs::path SyntheticRepo(int files) {
  fs::path root = RepoPath(files);
  if (!fs::exists(root / ".tandem-bench-ready")) {
    fs::remove_all(root);
    fs::create_directories(root);
    for (int i = 0; i < files; ++i) {
      fs::path p = root / FileName(i);
      if (i % kFilesPerDir == 0) fs::create_directories(p.parent_path());
      WriteFile(p, "file " + std::to_string(i) + "\nsome content line\n");
    }
    WriteFile(root / ".gitignore", "*.o\n");
    Shell("cd " + root.string() +
          " && git init -q && git config gc.auto 0 && git config gc.autoDetach false"
          " && git add -A && git -c user.name=bench -c "
          "user.email=bench@localhost commit -q -m synthetic && git gc -q");
    WriteFile(root / ".git/info/exclude", ".tandem-bench-ready\n");
    WriteFile(root / ".tandem-bench-ready", "");
  }
  return root;
}

// Back to HEAD, without checkpoints of earlier runs.
void CleanRepo(const fs::path& root) {
  fs::remove_all(root / ".git/refs/tandem");
  Shell("cd " + root.string() + " && git reset -q --hard && git clean -fdq");
}

class DiscardSink : public protocol::EventSink {
 public:
  void Publish(const protocol::Event& event) override { benchmark::DoNotOptimize(&event); }
};

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

protocol::ToolCall Call(std::string id, std::string name, nlohmann::json args) {
  protocol::ToolCall call;
  call.id = std::move(id);
  call.name = std::move(name);
  call.arguments_json = args.dump();
  call.arguments = std::move(args);
  return call;
}

// What a real run holds while its steps go by.
struct Run {
  fs::path root;
  std::unique_ptr<workspace::Workspace> ws;
  std::unique_ptr<tools::ToolBox> toolbox;
  std::unique_ptr<ledger::Ledger> ledger;
  DiscardSink sink;
  std::unique_ptr<agent::VerifiedStepPolicy> policy;
  int step = 0;
  std::string edited;   // the file edit_file changes, step after step
  std::string written;  // the file write_file rewrites
};

std::unique_ptr<Run> StartRun(int files) {
  auto run = std::make_unique<Run>();
  run->root = SyntheticRepo(files);
  CleanRepo(run->root);
  std::string run_id = fmt::format("harness-bench-{}", files);

  auto ws = workspace::Workspace::Open(run->root);
  if (!ws) std::abort();
  run->ws = std::move(*ws);
  auto base = run->ws->StartRun(run_id);
  if (!base) std::abort();

  tools::ToolOptions tool_options;
  tool_options.sandbox = tools::SandboxMode::kOff;  // BM_CommandStep: bwrap start-up is not harness time
  auto toolbox = tools::ToolBox::Create(run->root, tool_options);
  if (!toolbox) std::abort();
  run->toolbox = std::make_unique<tools::ToolBox>(std::move(*toolbox));

  // Outside the repository so git clean leaves it alone; fresh per process.
  fs::path db = fmt::format("/tmp/tandem-harness-bench/ledger-{}.db", files);
  fs::remove(db);
  fs::remove(db.string() + "-wal");
  fs::remove(db.string() + "-shm");
  auto ledger = ledger::Ledger::Open({db, WallMs});
  if (!ledger) std::abort();
  run->ledger = std::move(*ledger);
  ledger::RunStart start;
  start.id = run_id;
  start.kind = "bench";
  start.goal = "harness overhead";
  start.repo = run->root.string();
  start.base_checkpoint = base->hex;
  if (!run->ledger->BeginRun(start).ok()) std::abort();

  agent::VerifiedStepDeps deps;
  deps.workspace = run->ws.get();
  deps.toolbox = run->toolbox.get();
  deps.ledger = run->ledger.get();
  deps.events = &run->sink;
  agent::VerifiedStepOptions options;
  options.scope = {run_id, "", "executor"};
  options.limits.max_steps = 1 << 30;
  options.limits.max_tokens = int64_t{1} << 60;
  options.limits.max_cost_usd = 1e12;
  options.limits.max_wall_s = int64_t{1} << 40;
  // The task-level caps would stop a long benchmark; the per-step ones stay.
  options.guardrails.max_lines_per_task = int64_t{1} << 40;
  options.guardrails.max_files_per_task = int64_t{1} << 40;
  options.model.price_input = 0.35;
  options.model.price_output = 0.75;
  options.model_name = "bench-fast";
  options.provider = "scripted";
  options.base = *base;
  run->policy = std::make_unique<agent::VerifiedStepPolicy>(deps, options);

  // Two files in different directories, far apart in the tree.
  run->edited = FileName(files / 3 + 7);
  run->written = FileName(files - 5);
  return run;
}

// One started run per repository size, kept across repetitions (a real run
// pays StartRun's full scan once; that cost is measured by checkpoint_bench).
Run& SharedRun(int files) {
  static std::map<int, std::unique_ptr<Run>> runs;
  auto& run = runs[files];
  if (!run) run = StartRun(files);
  return *run;
}

// The reply that asked for this step's calls, as the provider client builds it.
protocol::ModelResponse Reply(int step, std::vector<protocol::ToolCall> calls) {
  protocol::ModelResponse reply;
  reply.model = "bench-fast";
  reply.text = "Next edit.";
  reply.tool_calls = std::move(calls);
  reply.usage.input_tokens = 1500 + 120 * step;
  reply.usage.output_tokens = 60;
  reply.usage.cached_input_tokens = 1400 + 100 * step;
  reply.stop_reason = protocol::StopReason::kToolUse;
  reply.timings.time_to_first_token_ms = 150;
  reply.timings.total_ms = 200;
  reply.timings.output_tokens_per_s = 1200;
  return reply;
}

void BM_Step(benchmark::State& state) {
  int files = static_cast<int>(state.range(0));
  Run& run = SharedRun(files);
  for (auto _ : state) {
    int n = ++run.step;
    std::string old_line = n == 1 ? "some content line\n" : fmt::format("edited in step {}\n", n - 1);
    std::vector<protocol::ToolCall> calls = {
        Call(fmt::format("call_{}_0", n), "edit_file",
             {{"path", run.edited},
              {"old_text", old_line},
              {"new_text", fmt::format("edited in step {}\n", n)}}),
        Call(fmt::format("call_{}_1", n), "write_file",
             {{"path", run.written},
              {"content", fmt::format("written in step {}\nline two\nline three\n", n)}}),
    };
    protocol::ModelResponse reply = Reply(n, calls);

    if (run.policy->BeginStep(n)) state.SkipWithError("BeginStep refused the step");
    run.policy->OnReply(reply);
    agent::StepOutcome outcome = run.policy->RunStep(n, calls);
    if (outcome.state != agent::StepState::kContinue || !outcome.feedback.empty() ||
        outcome.tool_results.size() != 2 || outcome.tool_results[0].is_error ||
        outcome.tool_results[1].is_error) {
      state.SkipWithError(("unexpected step outcome: " + outcome.feedback + outcome.summary).c_str());
      break;
    }
    benchmark::DoNotOptimize(outcome);
  }
  state.counters["files"] = files;
}

// A step whose one call is run_command (`echo ... > cmd-out.txt`, no
// sandbox): a command's effects are unknown, so the checkpoint takes the
// paths the workspace's inotify watch reported (full_scans counts the
// steps that had to rescan instead). Manual time = the step minus the
// command's own run time (tool_ms), i.e. the harness's share of a command
// step; the CPU column is the whole step's, spawning the command included.
void BM_CommandStep(benchmark::State& state) {
  int files = static_cast<int>(state.range(0));
  Run& run = SharedRun(files);
  int64_t scans = run.ws->full_scans();
  for (auto _ : state) {
    int n = ++run.step;
    std::vector<protocol::ToolCall> calls = {
        Call(fmt::format("call_{}_0", n), "run_command",
             {{"command", fmt::format("echo {} > cmd-out.txt", n)}})};
    double tool_ms_before = run.policy->totals().tool_ms;
    auto t0 = std::chrono::steady_clock::now();
    if (run.policy->BeginStep(n)) state.SkipWithError("BeginStep refused the step");
    run.policy->OnReply(Reply(n, calls));
    agent::StepOutcome outcome = run.policy->RunStep(n, calls);
    double step_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    double command_ms = run.policy->totals().tool_ms - tool_ms_before;
    if (outcome.state != agent::StepState::kContinue || !outcome.feedback.empty() ||
        outcome.tool_results.size() != 1 || outcome.tool_results[0].is_error) {
      state.SkipWithError(("unexpected step outcome: " + outcome.feedback +
                           (outcome.tool_results.empty() ? "" : outcome.tool_results[0].text))
                              .c_str());
      break;
    }
    state.SetIterationTime((step_ms - command_ms) / 1000.0);
    state.counters["command_ms"] = command_ms;
  }
  state.counters["full_scans"] = static_cast<double>(run.ws->full_scans() - scans);
}

// The same step as BM_Step, replayed phase by phase through the public APIs
// VerifiedStepPolicy::RunStep uses, with a timer per phase (ms counters; the
// median aggregate of each counter is the median phase). Where the time goes.
void BM_StepBreakdown(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  int files = static_cast<int>(state.range(0));
  Run& run = SharedRun(files);
  ledger::Ledger& ledger = *run.ledger;
  workspace::Workspace& ws = *run.ws;
  std::string run_id = ws.run_id();
  workspace::CheckpointId base = ws.RunCheckpoints(run_id)->front();
  std::map<std::string, double> phase_ms;
  auto time = [&](const char* phase, auto&& fn) {
    auto t0 = Clock::now();
    fn();
    phase_ms[phase] = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };
  for (auto _ : state) {
    int n = ++run.step;
    std::string old_line = n == 1 ? "some content line\n" : fmt::format("edited in step {}\n", n - 1);
    std::vector<protocol::ToolCall> calls = {
        Call(fmt::format("call_{}_0", n), "edit_file",
             {{"path", run.edited},
              {"old_text", old_line},
              {"new_text", fmt::format("edited in step {}\n", n)}}),
        Call(fmt::format("call_{}_1", n), "write_file",
             {{"path", run.written},
              {"content", fmt::format("written in step {}\nline two\nline three\n", n)}}),
    };
    std::vector<std::string> may_write;
    time("predict", [&] {
      for (const auto& call : calls) {
        tools::ToolEffects effects = run.toolbox->Predict(call);
        may_write.insert(may_write.end(), effects.may_write.begin(), effects.may_write.end());
      }
    });
    workspace::TouchedPaths touched = workspace::TouchedPaths::Only(may_write);
    workspace::CheckpointId before = *ws.last_checkpoint();
    ledger::StepId step_id = 0;
    time("ledger_begin", [&] {
      step_id = *ledger.BeginStep({run_id, "", 1, before.hex});
      ledger::ModelCallRecord record;
      record.step_id = step_id;
      record.role = "executor";
      record.model = "bench-fast";
      record.tokens_in = 1500;
      record.tokens_out = 60;
      (void)ledger.RecordModelCall(record);
    });
    std::vector<tools::ToolOutcome> results;
    time("tools", [&] {
      for (const auto& call : calls) results.push_back(run.toolbox->Execute(call));
    });
    time("ledger_tools", [&] {
      for (size_t i = 0; i < calls.size(); ++i) {
        (void)ledger.RecordToolCall({step_id, calls[i].name, calls[i].arguments_json,
                                     ledger::ToolOutcome::kOk, 0, results[i].content});
      }
    });
    std::optional<workspace::CheckpointId> after;
    time("diff_to_worktree", [&] { (void)ws.DiffToWorkingTree(before, touched); });
    time("checkpoint", [&] { after = *ws.Checkpoint(touched, fmt::format("step {}", n)); });
    time("task_diff", [&] { (void)ws.Diff(base, *after); });
    time("ledger_end", [&] {
      ledger::StepEnd end;
      end.checkpoint_after = after->hex;
      end.lines_changed = 4;
      end.files_changed = 2;
      (void)ledger.EndStep(step_id, end);
    });
    for (const auto& r : results) {
      if (r.kind != tools::ToolOutcomeKind::kOk) state.SkipWithError(r.content.c_str());
    }
  }
  for (const auto& [phase, ms] : phase_ms) state.counters[phase + "_ms"] = ms;
}

// ---- once per run ----

void BM_RepoView(benchmark::State& state) {
  fs::path root = SyntheticRepo(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    std::string view = agent::BuildRepoView(root.string());
    if (view.empty()) state.SkipWithError("empty repository view");
    benchmark::DoNotOptimize(view);
  }
}

agent::TaskContext SampleContext(const std::string& repo_view) {
  agent::TaskContext context;
  context.task = "Make `sh test.sh` pass: fix slugify.sh so titles become lower-case slugs.";
  context.agents_md = "# AGENTS.md\n\n- Shell scripts are POSIX sh; keep them small.\n"
                      "- `sh test.sh` must pass.\n";
  context.repo_view = repo_view;
  context.gates = "- test (each step): sh test.sh\n";
  return context;
}

void BM_TaskMessageAndEstimate(benchmark::State& state) {
  fs::path root = SyntheticRepo(static_cast<int>(state.range(0)));
  std::string repo_view = agent::BuildRepoView(root.string());
  tools::ToolOptions tool_options;
  tool_options.sandbox = tools::SandboxMode::kOff;
  auto toolbox = tools::ToolBox::Create(root, tool_options);
  if (!toolbox) std::abort();
  agent::TaskContext context = SampleContext(repo_view);
  int64_t tokens = 0;
  for (auto _ : state) {
    protocol::ModelRequest request;
    request.model = "bench-fast";
    request.system = agent::ExecutorSystemPrompt();
    request.tools = toolbox->Specs();
    request.max_tokens = 8192;
    request.messages.push_back(protocol::Message::User(agent::BuildTaskMessage(context)));
    tokens = agent::EstimateTokens(request);
    benchmark::DoNotOptimize(tokens);
  }
  state.counters["first_request_tokens"] = static_cast<double>(tokens);
}

void BM_ToolBoxCreate(benchmark::State& state) {
  fs::path root = SyntheticRepo(static_cast<int>(state.range(0)));
  tools::ToolOptions tool_options;
  tool_options.sandbox = tools::SandboxMode::kOff;
  for (auto _ : state) {
    auto toolbox = tools::ToolBox::Create(root, tool_options);
    if (!toolbox) state.SkipWithError("ToolBox::Create failed");
    benchmark::DoNotOptimize(toolbox);
  }
}

void BM_LedgerOpenAndBeginRun(benchmark::State& state) {
  fs::path dir = "/tmp/tandem-harness-bench/open";
  fs::remove_all(dir);
  int n = 0;
  for (auto _ : state) {
    auto ledger = ledger::Ledger::Open({dir / "ledger.db", WallMs});
    if (!ledger) {
      state.SkipWithError("Ledger::Open failed");
      break;
    }
    ledger::RunStart start;
    start.id = fmt::format("open-{}", n++);
    start.kind = "bench";
    if (!(*ledger)->BeginRun(start).ok()) state.SkipWithError("BeginRun failed");
  }
}

// ---- per step, inside the provider client ----

// Encoding the request of step 10 (system, tools, task message and nine
// assistant/tool-result pairs) into the OpenAI wire body.
void BM_EncodeRequestStep10(benchmark::State& state) {
  fs::path root = SyntheticRepo(10000);
  tools::ToolOptions tool_options;
  tool_options.sandbox = tools::SandboxMode::kOff;
  auto toolbox = tools::ToolBox::Create(root, tool_options);
  if (!toolbox) std::abort();
  protocol::ModelRequest request;
  request.model = "bench-fast";
  request.system = agent::ExecutorSystemPrompt();
  request.tools = toolbox->Specs();
  request.max_tokens = 8192;
  request.messages.push_back(protocol::Message::User(
      agent::BuildTaskMessage(SampleContext(agent::BuildRepoView(root.string())))));
  for (int i = 1; i <= 9; ++i) {
    protocol::Message assistant{protocol::Role::kAssistant, "Next edit.", {}, {}, false};
    assistant.tool_calls.push_back(Call(fmt::format("call_{}", i), "edit_file",
                                        {{"path", FileName(i)},
                                         {"old_text", "some content line\n"},
                                         {"new_text", fmt::format("edited in step {}\n", i)}}));
    request.messages.push_back(assistant);
    request.messages.push_back(protocol::Message::ToolResult(
        fmt::format("call_{}", i), fmt::format("edited {} (1 replacement, line 2)", FileName(i)),
        false));
  }
  providers::ProviderSettings settings;
  settings.name = "scripted";
  settings.base_url = "http://127.0.0.1:1/v1";
  providers::OpenAICodec codec(settings);
  size_t bytes = 0;
  for (auto _ : state) {
    providers::WireRequest wire = codec.Encode(request);
    bytes = wire.body.size();
    benchmark::DoNotOptimize(wire);
  }
  state.counters["body_bytes"] = static_cast<double>(bytes);
}

BENCHMARK(BM_Step)
    ->Arg(10000)
    ->Arg(100000)
    ->Iterations(1)
    ->Repetitions(60)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CommandStep)
    ->Arg(10000)
    ->Arg(100000)
    ->Iterations(1)
    ->Repetitions(30)
    ->UseManualTime()
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StepBreakdown)
    ->Arg(10000)
    ->Arg(100000)
    ->Iterations(1)
    ->Repetitions(60)
    ->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RepoView)->Arg(10000)->Arg(100000)->Repetitions(5)->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TaskMessageAndEstimate)->Arg(10000)->Arg(100000)->Repetitions(5)
    ->ReportAggregatesOnly(true)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ToolBoxCreate)->Arg(10000)->Arg(100000)->Repetitions(5)->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LedgerOpenAndBeginRun)->Repetitions(5)->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeRequestStep10)->Repetitions(5)->ReportAggregatesOnly(true)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tandem::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  // Leave the shared repositories at HEAD for the next benchmark.
  for (int files : {10000, 100000}) {
    std::filesystem::path root = tandem::bench::RepoPath(files);
    if (std::filesystem::exists(root / ".tandem-bench-ready")) tandem::bench::CleanRepo(root);
  }
  return 0;
}
