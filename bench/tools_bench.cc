// Costs of the agent's tools on this machine: spawning a process (plain and
// under bubblewrap), classifying a command, listing and searching a
// 10,000-file git repository, and a read/edit of one file.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tandem/platform/process.h"
#include "tandem/platform/sandbox.h"
#include "tandem/tools/command_policy.h"
#include "tandem/tools/toolbox.h"

namespace {

namespace fs = std::filesystem;
using tandem::tools::ToolBox;

tandem::protocol::ToolCall Call(std::string name, nlohmann::json args) {
  tandem::protocol::ToolCall c;
  c.name = std::move(name);
  c.arguments = std::move(args);
  return c;
}

// A git repository with `n` small committed files, made once per process.
const fs::path& Repo(int n) {
  static fs::path root = [n] {
    fs::path dir = fs::temp_directory_path() / ("tandem_tools_bench_" + std::to_string(::getpid()));
    for (int i = 0; i < n; ++i) {
      fs::path p = dir / ("d" + std::to_string(i % 100)) / ("f" + std::to_string(i) + ".txt");
      fs::create_directories(p.parent_path());
      std::ofstream(p) << "line one\nvalue = " << i << "\nline three\n";
    }
    tandem::platform::ProcessSpec spec;
    spec.argv = {"sh", "-c",
                 "git init -q && git config gc.auto 0 && git config gc.autoDetach false && "
                 "git add -A && git -c user.email=b@b -c user.name=b commit -qm init"};
    spec.cwd = dir.string();
    (void)tandem::platform::RunProcess(spec);
    return dir;
  }();
  return root;
}

void BM_RunProcessTrue(benchmark::State& state) {
  tandem::platform::ProcessSpec spec;
  spec.argv = {"true"};
  for (auto _ : state) benchmark::DoNotOptimize(tandem::platform::RunProcess(spec));
}
BENCHMARK(BM_RunProcessTrue)->Unit(benchmark::kMillisecond);

void BM_RunProcessSandboxedTrue(benchmark::State& state) {
  const auto& probe = tandem::platform::ProbeSandbox();
  if (!probe.available) {
    state.SkipWithError(probe.reason.c_str());
    return;
  }
  tandem::platform::ProcessSpec spec;
  spec.argv = tandem::platform::SandboxArgv(probe.bwrap, Repo(10000).string(), "", {}, "", {"true"});
  for (auto _ : state) benchmark::DoNotOptimize(tandem::platform::RunProcess(spec));
}
BENCHMARK(BM_RunProcessSandboxedTrue)->Unit(benchmark::kMillisecond);

void BM_ClassifyCommand(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(tandem::tools::ClassifyCommand(
        "cd build && cmake .. -G Ninja && ninja -j2 2>&1 | tail -50 && ctest --output-on-failure"));
  }
}
BENCHMARK(BM_ClassifyCommand)->Unit(benchmark::kMicrosecond);

void BM_ListFiles10k(benchmark::State& state) {
  auto box = ToolBox::Create(Repo(10000));
  for (auto _ : state) benchmark::DoNotOptimize(box->Execute(Call("list_files", {{"glob", "f99*.txt"}})));
}
BENCHMARK(BM_ListFiles10k)->Unit(benchmark::kMillisecond);

void BM_Search10k(benchmark::State& state) {
  auto box = ToolBox::Create(Repo(10000));
  for (auto _ : state) benchmark::DoNotOptimize(box->Execute(Call("search", {{"regex", "value = 4242$"}})));
}
BENCHMARK(BM_Search10k)->Unit(benchmark::kMillisecond);

void BM_ReadThenEditFile(benchmark::State& state) {
  auto box = ToolBox::Create(Repo(10000));
  bool flip = false;
  for (auto _ : state) {
    benchmark::DoNotOptimize(box->Execute(Call("read_file", {{"path", "d7/f7.txt"}})));
    std::string from = flip ? "line 3" : "line three";
    std::string to = flip ? "line three" : "line 3";
    flip = !flip;
    benchmark::DoNotOptimize(
        box->Execute(Call("edit_file", {{"path", "d7/f7.txt"}, {"old_text", from}, {"new_text", to}})));
  }
}
BENCHMARK(BM_ReadThenEditFile)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  std::error_code ec;
  fs::remove_all(fs::temp_directory_path() / ("tandem_tools_bench_" + std::to_string(::getpid())), ec);
  return 0;
}
