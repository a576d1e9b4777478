// Worktree creation, removal and reset cost on synthetic repositories of
// 10,000 and 100,000 small files (issue 9: creation "well under the cost of
// one model step"), plus the first Workspace::StartRun in a fresh worktree
// (which shows whether the index creation wrote lets it skip hashing).
//
// The repositories are generated once with `git fast-import` (objects only,
// no files: a worktree is made from objects) into
// /tmp/tandem-wt-bench-repo-<n> (TANDEM_BENCH_REPO_PREFIX overrides the
// prefix) and reused. Each repetition times one operation; read `_median`.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <unistd.h>

#include "tandem/workspace/workspace.h"
#include "tandem/workspace/worktree.h"

namespace tandem::workspace {
namespace {

namespace fs = std::filesystem;

std::string FileName(int i) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "d%03d/s%02d/f%03d.txt", i / 1000, (i / 100) % 10, i % 100);
  return buf;
}

fs::path RepoPath(int files) {
  const char* prefix = std::getenv("TANDEM_BENCH_REPO_PREFIX");
  return (prefix ? std::string(prefix) : std::string("/tmp/tandem-wt-bench-repo-")) +
         std::to_string(files);
}

// Two commits: `base` with `files` files, `next` changing 10 of them.
fs::path SyntheticRepo(int files) {
  fs::path root = RepoPath(files);
  if (fs::exists(root / ".git/tandem-bench-ready")) return root;
  fs::remove_all(root);
  fs::create_directories(root);
  std::string cmd = "cd " + root.string() + " && git init -q && git fast-import --quiet";
  FILE* in = popen(cmd.c_str(), "w");
  if (in == nullptr) std::abort();
  std::fprintf(in, "commit refs/heads/main\ncommitter b <b@l> 0 +0000\ndata 4\nbase\n");
  for (int i = 0; i < files; ++i) {
    std::string content = "file " + std::to_string(i) + "\nsome content line\n";
    std::fprintf(in, "M 100644 inline %s\ndata %zu\n%s\n", FileName(i).c_str(), content.size(),
                 content.c_str());
  }
  std::fprintf(in, "\ncommit refs/heads/next\ncommitter b <b@l> 1 +0000\ndata 4\nnext\n"
                   "from refs/heads/main\n");
  for (int k = 0; k < 10; ++k) {
    std::fprintf(in, "M 100644 inline %s\ndata 8\nchanged\n\n", FileName(k * (files / 10) + 7).c_str());
  }
  if (pclose(in) != 0) std::abort();
  if (std::system(("cd " + root.string() + " && git gc -q").c_str()) != 0) std::abort();
  std::FILE* ready = std::fopen((root / ".git/tandem-bench-ready").c_str(), "w");
  std::fclose(ready);
  return root;
}

CheckpointId Rev(const fs::path& root, const std::string& rev) {
  std::string cmd = "git -C " + root.string() + " rev-parse " + rev;
  FILE* out = popen(cmd.c_str(), "r");
  char buf[64] = {};
  if (out == nullptr || std::fgets(buf, sizeof(buf), out) == nullptr) std::abort();
  pclose(out);
  return CheckpointId{std::string(buf, 40)};
}

void CleanUp(const fs::path& root) {
  Result<std::vector<std::string>> ids = Worktree::List(root);
  if (!ids) std::abort();
  for (const std::string& id : *ids) {
    if (!Worktree::Remove(root, id).ok()) std::abort();
  }
}

WorktreeOptions NoIgnored() {
  WorktreeOptions options;
  options.ignored = std::vector<IgnoredPathPolicy>{};
  return options;
}

void BM_CreateWorktree(benchmark::State& state) {
  fs::path root = SyntheticRepo(static_cast<int>(state.range(0)));
  CleanUp(root);
  CheckpointId base = Rev(root, "main");
  int n = 0;
  for (auto _ : state) {
    std::string id = "bench-" + std::to_string(getpid()) + "-" + std::to_string(n++);
    if (!Worktree::Create(root, id, base, NoIgnored())) state.SkipWithError("create failed");
    state.PauseTiming();
    if (!Worktree::Remove(root, id).ok()) state.SkipWithError("remove failed");
    state.ResumeTiming();
  }
}

void BM_RemoveWorktree(benchmark::State& state) {
  fs::path root = SyntheticRepo(static_cast<int>(state.range(0)));
  CleanUp(root);
  CheckpointId base = Rev(root, "main");
  int n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::string id = "bench-" + std::to_string(getpid()) + "-" + std::to_string(n++);
    if (!Worktree::Create(root, id, base, NoIgnored())) state.SkipWithError("create failed");
    state.ResumeTiming();
    if (!Worktree::Remove(root, id).ok()) state.SkipWithError("remove failed");
  }
}

// The first StartRun in a fresh worktree: a full stat scan, and no hashing
// when the index carries the stat data of the checkout.
void BM_StartRunInFreshWorktree(benchmark::State& state) {
  fs::path root = SyntheticRepo(static_cast<int>(state.range(0)));
  CleanUp(root);
  CheckpointId base = Rev(root, "main");
  int n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::string id = "bench-" + std::to_string(getpid()) + "-" + std::to_string(n++);
    Result<Worktree> wt = Worktree::Create(root, id, base, NoIgnored());
    if (!wt) state.SkipWithError("create failed");
    state.ResumeTiming();
    auto ws = Workspace::Open(wt->root());
    if (!ws || !(*ws)->StartRun("bench")) state.SkipWithError("start run failed");
    state.PauseTiming();
    ws->reset();
    if (!Worktree::Remove(root, id).ok()) state.SkipWithError("remove failed");
    state.ResumeTiming();
  }
}

// The pooled worktree "pool-0" of the repository, at `base`: created by the
// first benchmark that needs it and reused by the later repetitions and
// benchmarks (creating it takes minutes at 100,000 files on a loaded
// machine). Its live Workspace, when a benchmark keeps one, is in Live().
std::unique_ptr<Workspace>& Live(int files) {
  static std::map<int, std::unique_ptr<Workspace>> live;
  return live[files];
}

fs::path PooledWorktree(const fs::path& root, const CheckpointId& base) {
  fs::path tree = Worktree::PathFor(root / ".git", "pool-0");
  if (!fs::exists(tree / ".git")) {
    CleanUp(root);
    if (!Worktree::Create(root, "pool-0", base, NoIgnored())) std::abort();
  }
  return tree;
}

std::string RunName() {
  static int n = 0;
  return "bench-" + std::to_string(getpid()) + "-" + std::to_string(n++);
}

// A pooled worktree moved to a checkpoint 10 files away (each repetition
// first puts it back, untimed). Unknown: its state is unknown (no Workspace
// of its last task), the full-scan fallback. Known: with the Workspace of
// its last task, kept live from one repetition to the next as a slot of the
// plan runner keeps it, so the reset costs what changed. WithStartRun adds
// the next task's Workspace::StartRun (checkpoint 0 of its run): what a
// pooled slot costs a task before its first step.
void Reset(benchmark::State& state, bool known, bool with_start_run) {
  int files = static_cast<int>(state.range(0));
  fs::path root = SyntheticRepo(files);
  CheckpointId base = Rev(root, "main");
  CheckpointId next = Rev(root, "next");
  PooledWorktree(root, base);
  std::unique_ptr<Workspace>& ws = Live(files);
  if (!known) ws.reset();
  auto back = Worktree::Reset(root, "pool-0", base, std::move(ws));  // untimed
  if (!back) std::abort();
  if (known) ws = std::move(*back);
  for (auto _ : state) {
    auto reset = Worktree::Reset(root, "pool-0", next, std::move(ws));
    if (!reset || (with_start_run && !(*reset)->StartRun(RunName()))) {
      state.SkipWithError("reset or start run");
      break;
    }
    if (known) ws = std::move(*reset);
  }
}
void BM_ResetPooledWorktree(benchmark::State& state) { Reset(state, false, false); }
void BM_ResetPooledWorktreeKnown(benchmark::State& state) { Reset(state, true, false); }
void BM_ResetAndStartRunKnown(benchmark::State& state) { Reset(state, true, true); }
void BM_ResetAndStartRunUnknown(benchmark::State& state) { Reset(state, false, true); }

#define WT_BENCH(fn, reps)                                                                    \
  BENCHMARK(fn)->Arg(10000)->Arg(100000)->Iterations(1)->Repetitions(reps)->Unit(          \
      benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime()->ReportAggregatesOnly(true)
WT_BENCH(BM_CreateWorktree, 5);
WT_BENCH(BM_RemoveWorktree, 5);
WT_BENCH(BM_StartRunInFreshWorktree, 5);
WT_BENCH(BM_ResetPooledWorktree, 5);
WT_BENCH(BM_ResetPooledWorktreeKnown, 5);
WT_BENCH(BM_ResetAndStartRunKnown, 5);
WT_BENCH(BM_ResetAndStartRunUnknown, 5);

}  // namespace
}  // namespace tandem::workspace

BENCHMARK_MAIN();
