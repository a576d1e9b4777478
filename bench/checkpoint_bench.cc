// Checkpoint, rollback and diff cost on synthetic repositories of 10,000 and
// 100,000 small files (the budget: checkpoint and rollback of a 10-file change
// in the 100,000-file repository at most 20 ms each, median), and the cost of
// checkpoints whose touched paths are unknown (shell steps): watched by
// inotify, or rescanning when the watch is unsure, plus arming the watch.
//
// The repositories are generated once into /tmp/tandem-bench-repo-<n>
// (committed with git) and reused by later runs. Each benchmark runs one
// operation per repetition, so the "median" aggregate is the median operation.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tandem/workspace/git_handle.h"
#include "tandem/workspace/stat_cache.h"
#include "tandem/workspace/tree_watcher.h"
#include "tandem/workspace/workspace.h"

namespace tandem::workspace {
namespace {

namespace fs = std::filesystem;

constexpr int kFilesPerDir = 100;
constexpr int kChangedFiles = 10;

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
  if (fs::exists(root / ".tandem-bench-ready")) {
    fs::remove_all(root / ".git/refs/tandem");  // checkpoints of earlier runs
    return root;
  }
  fs::remove_all(root);
  fs::create_directories(root);
  for (int i = 0; i < files; ++i) {
    fs::path p = root / FileName(i);
    if (i % kFilesPerDir == 0) fs::create_directories(p.parent_path());
    WriteFile(p, "file " + std::to_string(i) + "\nsome content line\n");
  }
  WriteFile(root / ".gitignore", "*.o\n");
  std::string cmd = "cd " + root.string() +
                    " && git init -q && git config gc.auto 0 && git config gc.autoDetach false"
                    " && git add -A && git -c user.name=bench -c "
                    "user.email=bench@localhost commit -q -m synthetic && git gc -q";
  if (std::system(cmd.c_str()) != 0) std::abort();
  WriteFile(root / ".git/info/exclude", ".tandem-bench-ready\n");
  WriteFile(root / ".tandem-bench-ready", "");
  return root;
}

std::vector<std::string> ChangedPaths(int files) {
  std::vector<std::string> paths;
  for (int k = 0; k < kChangedFiles; ++k) paths.push_back(FileName(k * (files / kChangedFiles) + 7));
  return paths;
}

// Changes 10 files: 8 modified, 1 deleted, 1 created (paths.back() stays).
void MakeChange(const fs::path& root, const std::vector<std::string>& paths, int round) {
  for (size_t k = 0; k + 2 < paths.size(); ++k) {
    WriteFile(root / paths[k], "edited in round " + std::to_string(round) + "\nline\nline\n");
  }
  fs::remove(root / paths[paths.size() - 2]);
  WriteFile(root / (paths.back() + ".new"), "created\n");
}

std::vector<std::string> TouchedBy(const std::vector<std::string>& paths) {
  std::vector<std::string> touched = paths;
  touched.push_back(paths.back() + ".new");
  return touched;
}

struct Fixture {
  fs::path root;
  std::unique_ptr<Workspace> ws;
  std::vector<std::string> paths;
  CheckpointId start;
};

Fixture Start(int files, const std::string& run) {
  Fixture f;
  f.root = SyntheticRepo(files);
  f.paths = ChangedPaths(files);
  // Undo what an earlier benchmark left behind (the repository is ours).
  std::string clean = "cd " + f.root.string() + " && git reset -q --hard && git clean -fdq";
  if (std::system(clean.c_str()) != 0) std::abort();
  auto ws = Workspace::Open(f.root);
  if (!ws) std::abort();
  f.ws = std::move(*ws);
  auto start = f.ws->StartRun(run);
  if (!start) std::abort();
  f.start = *start;
  return f;
}

// One started run per (benchmark, size), kept across repetitions so that the
// full scan is paid once, as in a real run.
Fixture& Shared(int files, const std::string& name) {
  static std::map<std::string, Fixture> fixtures;
  std::string key = name + "-" + std::to_string(files);
  auto it = fixtures.find(key);
  if (it == fixtures.end()) it = fixtures.emplace(key, Start(files, "bench-" + key)).first;
  return it->second;
}

void BM_FullBaseSnapshot(benchmark::State& state) {
  int files = static_cast<int>(state.range(0));
  fs::path root = SyntheticRepo(files);
  static int run = 0;
  for (auto _ : state) {
    auto ws = Workspace::Open(root);
    auto cp = (*ws)->StartRun("bench-base-" + std::to_string(run++));
    if (!cp) state.SkipWithError(cp.error().ToString().c_str());
  }
}

void BM_IncrementalCheckpoint(benchmark::State& state) {
  int files = static_cast<int>(state.range(0));
  Fixture& f = Shared(files, "inc");
  std::vector<std::string> touched = TouchedBy(f.paths);
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    (void)f.ws->Restore(f.start, TouchedPaths::Only(touched));
    MakeChange(f.root, f.paths, round++);
    state.ResumeTiming();
    auto cp = f.ws->Checkpoint(TouchedPaths::Only(touched), "step");
    if (!cp) state.SkipWithError(cp.error().ToString().c_str());
  }
}

void BM_Rollback(benchmark::State& state) {
  int files = static_cast<int>(state.range(0));
  Fixture& f = Shared(files, "rollback");
  std::vector<std::string> touched = TouchedBy(f.paths);
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    MakeChange(f.root, f.paths, round++);
    (void)f.ws->Checkpoint(TouchedPaths::Only(touched), "step");
    state.ResumeTiming();
    auto cp = f.ws->Restore(f.start, TouchedPaths::Only(touched));
    if (!cp) state.SkipWithError(cp.error().ToString().c_str());
  }
}

void BM_Diff(benchmark::State& state) {
  int files = static_cast<int>(state.range(0));
  Fixture& f = Shared(files, "diff");
  std::vector<std::string> touched = TouchedBy(f.paths);
  (void)f.ws->Restore(f.start, TouchedPaths::Only(touched));
  MakeChange(f.root, f.paths, 0);
  auto after = f.ws->Checkpoint(TouchedPaths::Only(touched), "step");
  if (!after) std::abort();
  for (auto _ : state) {
    auto changes = f.ws->Diff(f.start, *after);
    if (!changes || changes->size() != touched.size() - 1) state.SkipWithError("unexpected diff");
    benchmark::DoNotOptimize(changes);
  }
}

// A checkpoint after a change of unknown extent (a shell step): the
// inotify watch reports the 10 changed paths.
void BM_UnknownCheckpoint(benchmark::State& state) {
  int files = static_cast<int>(state.range(0));
  Fixture& f = Shared(files, "unknown");
  std::vector<std::string> touched = TouchedBy(f.paths);
  int round = 0;
  int64_t scans = f.ws->full_scans();
  for (auto _ : state) {
    state.PauseTiming();
    (void)f.ws->Restore(f.start, TouchedPaths::Only(touched));
    MakeChange(f.root, f.paths, round++);
    state.ResumeTiming();
    auto cp = f.ws->Checkpoint(TouchedPaths::Unknown(), "shell step");
    if (!cp) state.SkipWithError(cp.error().ToString().c_str());
  }
  state.counters["full_scans"] = static_cast<double>(f.ws->full_scans() - scans);
}

// The same when the watch cannot be sure (here: a directory renamed away
// and back), so the checkpoint rescans the whole tree.
void BM_RescanCheckpoint(benchmark::State& state) {
  int files = static_cast<int>(state.range(0));
  Fixture& f = Shared(files, "rescan");
  std::vector<std::string> touched = TouchedBy(f.paths);
  int round = 0;
  int64_t scans = f.ws->full_scans();
  for (auto _ : state) {
    state.PauseTiming();
    (void)f.ws->Restore(f.start, TouchedPaths::Only(touched));
    MakeChange(f.root, f.paths, round++);
    fs::rename(f.root / "d000/s01", f.root / "d000/s01-moved");
    fs::rename(f.root / "d000/s01-moved", f.root / "d000/s01");
    state.ResumeTiming();
    auto cp = f.ws->Checkpoint(TouchedPaths::Unknown(), "shell step");
    if (!cp) state.SkipWithError(cp.error().ToString().c_str());
  }
  state.counters["full_scans"] = static_cast<double>(f.ws->full_scans() - scans);
}

// The end of a task that ran commands: a checkpoint of what changed since
// the last step (nothing here). Arg 1 = as it is now (the watch plus a
// re-stat of the files with other hard links); arg 0 = as before, a forced
// full rescan (DistrustWatch), for comparison.
void BM_FinalCheckpoint(benchmark::State& state) {
  int files = static_cast<int>(state.range(0));
  bool watched = state.range(1) != 0;
  Fixture& f = Shared(files, watched ? "final" : "final-rescan");
  // A few hard-linked files, as a build tree or a package cache may have.
  for (int k = 0; k < 3; ++k) {
    fs::path link = f.root / ("linked-" + std::to_string(k) + ".o");
    fs::remove(link);
    fs::create_hard_link(f.root / f.paths[k], link);
  }
  (void)f.ws->Checkpoint(TouchedPaths::Unknown(), "links");
  for (auto _ : state) {
    if (!watched) f.ws->DistrustWatch();
    auto cp = f.ws->Checkpoint(TouchedPaths::Unknown(), "final scan");
    if (!cp) state.SkipWithError(cp.error().ToString().c_str());
  }
}

// StartRun with protected ignored files next to the tracked ones: .env, a
// 4 MB database, a data/ directory of 200 files, and exempt build output
// (build/, 1,000 files) that is skipped. Measured against
// BM_FullBaseSnapshot, this is the price of protecting ignored files.
void BM_FullBaseSnapshotWithIgnored(benchmark::State& state) {
  int files = static_cast<int>(state.range(0));
  fs::path root = SyntheticRepo(files);
  WriteFile(root / ".git/info/exclude", ".tandem-bench-ready\n.env\n*.sqlite\ndata/\nbuild/\n");
  WriteFile(root / ".env", "TOKEN=bench\n");
  WriteFile(root / "app.sqlite", std::string(4 << 20, 'x'));
  fs::create_directories(root / "data");
  fs::create_directories(root / "build");
  for (int i = 0; i < 200; ++i) WriteFile(root / ("data/rec" + std::to_string(i)), "row\n");
  for (int i = 0; i < 1000; ++i) WriteFile(root / ("build/obj" + std::to_string(i)), "obj\n");
  static int run = 0;
  for (auto _ : state) {
    auto ws = Workspace::Open(root);
    auto cp = (*ws)->StartRun("bench-ignored-" + std::to_string(run++));
    if (!cp) state.SkipWithError(cp.error().ToString().c_str());
  }
  fs::remove_all(root / "data");
  fs::remove_all(root / "build");
  fs::remove(root / ".env");
  fs::remove(root / "app.sqlite");
  WriteFile(root / ".git/info/exclude", ".tandem-bench-ready\n");
}

// Arming the inotify watch alone (part of StartRun, and of every rescan
// forced by a doubt): walk the directories, check ignores, add watches.
void BM_WatcherStart(benchmark::State& state) {
  int files = static_cast<int>(state.range(0));
  fs::path root = SyntheticRepo(files);
  internal::LibGit2Session session;
  git_repository* raw = nullptr;
  if (git_repository_open(&raw, root.c_str()) < 0) std::abort();
  internal::RepoPtr repo(raw);
  auto cache = internal::StatCache::Load(repo.get());
  auto ignored = internal::IgnoredFiles::Load(repo.get(), internal::Protection());
  if (!cache || !ignored) std::abort();
  size_t watches = 0;
  for (auto _ : state) {
    auto watcher = internal::TreeWatcher::Start(repo.get(), root.string() + "/", cache->get(),
                                                ignored->get());
    if (!watcher) {
      state.SkipWithError(watcher.error().ToString().c_str());
      break;
    }
    watches = (*watcher)->watch_count();
  }
  state.counters["watches"] = static_cast<double>(watches);
}

// One operation per repetition: the median aggregate is the median operation.
#define TANDEM_CHECKPOINT_BENCH(fn, reps)                                                   \
  BENCHMARK(fn)->Arg(10000)->Arg(100000)->Iterations(1)->Repetitions(reps)                  \
      ->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond)

TANDEM_CHECKPOINT_BENCH(BM_FullBaseSnapshot, 5);
TANDEM_CHECKPOINT_BENCH(BM_IncrementalCheckpoint, 30);
TANDEM_CHECKPOINT_BENCH(BM_Rollback, 30);
TANDEM_CHECKPOINT_BENCH(BM_Diff, 30);
TANDEM_CHECKPOINT_BENCH(BM_UnknownCheckpoint, 30);
TANDEM_CHECKPOINT_BENCH(BM_RescanCheckpoint, 5);
TANDEM_CHECKPOINT_BENCH(BM_WatcherStart, 5);
TANDEM_CHECKPOINT_BENCH(BM_FullBaseSnapshotWithIgnored, 5);
BENCHMARK(BM_FinalCheckpoint)->ArgsProduct({{10000, 100000}, {0, 1}})->Iterations(1)
    ->Repetitions(15)->ReportAggregatesOnly(true)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tandem::workspace

BENCHMARK_MAIN();
