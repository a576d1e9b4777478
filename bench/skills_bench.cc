// Skill retrieval over 1,000 skills (issue 12; goal: under 1 ms per task).
// A synthetic catalog: each skill's name, description and paths drawn from
// a vocabulary of 600 words, like a repository's task kinds. Measures the
// ranking alone (BM25 Search over a built index), building the index,
// Select (ranking + the <skills> block within the budget), parsing one
// SKILL.md, what ExecuteTask did per task before the catalog cache
// (discover 1,000 SKILL.md files on disk (tmpfs), index and select), and
// what it does with the cache: its check (watched or signed), a hit and
// select; and a miss.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <benchmark/benchmark.h>

#include "tandem/skills/catalog.h"
#include "tandem/skills/catalog_cache.h"
#include "tandem/skills/index.h"
#include "tandem/skills/skill.h"

namespace {
using namespace tandem::skills;
namespace fs = std::filesystem;

std::vector<std::string> Vocabulary() {
  static const char* kRoots[] = {"date", "parse", "route", "handler", "test", "cache", "lint",
                                 "format", "release", "config", "schema", "migrate", "slug",
                                 "auth", "token", "session", "query", "index", "render", "build",
                                 "deploy", "log", "metric", "retry", "timeout", "stream", "json",
                                 "yaml", "toml", "http", "grpc", "socket", "thread", "lock",
                                 "queue", "worker", "batch", "report", "export", "import"};
  std::vector<std::string> words;
  for (const char* r : kRoots) {
    for (int i = 0; i < 15; ++i) words.push_back(std::string(r) + (i ? std::to_string(i) : ""));
  }
  return words;  // 600
}

Skill MakeSkill(int i, std::mt19937& rng) {
  static const std::vector<std::string> vocab = Vocabulary();
  std::uniform_int_distribution<size_t> pick(0, vocab.size() - 1);
  Skill s;
  s.name = vocab[pick(rng)] + "-" + vocab[pick(rng)] + "-" + std::to_string(i);
  for (int w = 0; w < 30; ++w) s.description += vocab[pick(rng)] + (w % 7 == 6 ? ". " : " ");
  s.SetMeta("tandem-paths", "src/" + vocab[pick(rng)] + ".cc src/" + vocab[pick(rng)] + "_test.cc");
  for (int l = 0; l < 40; ++l) s.body += "Step " + std::to_string(l) + ": " + vocab[pick(rng)] + " the " + vocab[pick(rng)] + ".\n";
  return s;
}

Catalog MakeCatalog(int n) {
  std::mt19937 rng(42);
  Catalog c;
  for (int i = 0; i < n; ++i) {
    FoundSkill f;
    f.skill = MakeSkill(i, rng);
    f.shown = ".agents/skills/" + f.skill.name + "/SKILL.md";
    c.skills.push_back(std::move(f));
  }
  return c;
}

const std::string kTask =
    "Make the date parse test pass: parse2 rejects 2024-02-30 in src/date3.cc and the retry "
    "timeout of the http handler4 logs twice; keep the cache and json format as they are";

void BM_Search1000(benchmark::State& state) {
  Catalog c = MakeCatalog(1000);
  SkillIndex index = SkillIndex::Build(c);
  for (auto _ : state) benchmark::DoNotOptimize(index.Search(kTask, 3));
}
BENCHMARK(BM_Search1000);

void BM_BuildIndex1000(benchmark::State& state) {
  Catalog c = MakeCatalog(1000);
  for (auto _ : state) benchmark::DoNotOptimize(SkillIndex::Build(c));
}
BENCHMARK(BM_BuildIndex1000)->Unit(benchmark::kMicrosecond);

void BM_IndexAndSelect1000(benchmark::State& state) {
  Catalog c = MakeCatalog(1000);
  SelectOptions options;
  options.min_score = 0;
  for (auto _ : state) {
    SkillIndex index = SkillIndex::Build(c);
    benchmark::DoNotOptimize(Select(c, index, kTask, options));
  }
}
BENCHMARK(BM_IndexAndSelect1000)->Unit(benchmark::kMicrosecond);

void BM_ParseSkill(benchmark::State& state) {
  std::mt19937 rng(7);
  std::string text = RenderSkill(MakeSkill(1, rng));
  for (auto _ : state) benchmark::DoNotOptimize(ParseSkill(text, ""));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseSkill);

// 1,000 SKILL.md files on tmpfs (removed by the caller).
fs::path WriteSkills() {
  fs::path root = fs::path(fs::is_directory("/dev/shm") ? "/dev/shm" : fs::temp_directory_path()) /
                  ("skills-bench-" + std::to_string(::getpid()));
  Catalog c = MakeCatalog(1000);
  for (const FoundSkill& f : c.skills) {
    fs::create_directories(root / ".agents/skills" / f.skill.name);
    std::ofstream(root / ".agents/skills" / f.skill.name / "SKILL.md") << RenderSkill(f.skill);
  }
  return root;
}

// Discovery + index + select from 1,000 SKILL.md files: the per-task cost
// without the cache (every task read and indexed the catalog anew).
void BM_DiscoverIndexSelect1000(benchmark::State& state) {
  fs::path root = WriteSkills();
  SelectOptions options;
  options.min_score = 0;
  for (auto _ : state) {
    Catalog found = DiscoverSkills({root.string(), ".agents/skills", ""});
    SkillIndex index = SkillIndex::Build(found);
    benchmark::DoNotOptimize(Select(found, index, kTask, options));
  }
  fs::remove_all(root);
}
BENCHMARK(BM_DiscoverIndexSelect1000)->Unit(benchmark::kMillisecond);

// What agent::PickSkills does per task with the per-process cache: the
// cache's check, a hit, and select. Arg 1: watched (the default: one read
// of the inotify queue and a stat per root); arg 0: signed (max_watches 0:
// the listing and 1,000 stats of the signature, as before the watches, and
// what every check costs when watches cannot be had).
void BM_CachedSelect1000(benchmark::State& state) {
  fs::path root = WriteSkills();
  const bool watched = state.range(0) != 0;
  // The files were just written: a clock 10 s ahead keeps the first read
  // from being judged racily clean, so every iteration is a hit.
  CatalogCache cache(2'000'000'000, [] { return CatalogCache::RealtimeNs() + 10'000'000'000; },
                     16, watched ? 8192 : 0);
  SkillRoots roots{root.string(), ".agents/skills", ""};
  cache.Get(roots);
  SelectOptions options;
  options.min_score = 0;
  for (auto _ : state) {
    auto snapshot = cache.Get(roots);
    benchmark::DoNotOptimize(Select(snapshot->catalog, snapshot->index, kTask, options));
  }
  state.counters["misses"] = static_cast<double>(cache.counters().misses);
  state.counters["signature_checks"] = static_cast<double>(cache.counters().signature_checks);
  fs::remove_all(root);
}
BENCHMARK(BM_CachedSelect1000)->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond);

// The cache's check alone (a hit, no select): what finding out that
// nothing changed costs, watched (1) or signed (0).
void BM_CacheHit1000(benchmark::State& state) {
  fs::path root = WriteSkills();
  CatalogCache cache(2'000'000'000, [] { return CatalogCache::RealtimeNs() + 10'000'000'000; },
                     16, state.range(0) != 0 ? 8192 : 0);
  SkillRoots roots{root.string(), ".agents/skills", ""};
  cache.Get(roots);
  for (auto _ : state) benchmark::DoNotOptimize(cache.Get(roots));
  state.counters["misses"] = static_cast<double>(cache.counters().misses);
  fs::remove_all(root);
}
BENCHMARK(BM_CacheHit1000)->Arg(1)->Arg(0)->Unit(benchmark::kMicrosecond);

// Select alone over a cached snapshot (ranking + the <skills> block).
void BM_Select1000(benchmark::State& state) {
  Catalog c = MakeCatalog(1000);
  SkillIndex index = SkillIndex::Build(c);
  SelectOptions options;
  options.min_score = 0;
  for (auto _ : state) benchmark::DoNotOptimize(Select(c, index, kTask, options));
}
BENCHMARK(BM_Select1000)->Unit(benchmark::kMicrosecond);

// A miss: the catalog changed, so the watches are put back, the signature
// taken, 1,000 SKILL.md read and the index built (a plan's first task, or
// the first after an edit). Each iteration touches one SKILL.md.
void BM_CacheMiss1000(benchmark::State& state) {
  fs::path root = WriteSkills();
  CatalogCache cache(2'000'000'000, [] { return CatalogCache::RealtimeNs() + 10'000'000'000; });
  SkillRoots roots{root.string(), ".agents/skills", ""};
  auto first = cache.Get(roots);
  fs::path touched = root / ".agents/skills" / first->catalog.skills[0].skill.name / "SKILL.md";
  std::string text = RenderSkill(first->catalog.skills[0].skill);
  for (auto _ : state) {
    std::ofstream(touched, std::ios::binary) << text;
    benchmark::DoNotOptimize(cache.Get(roots));
  }
  state.counters["misses"] = static_cast<double>(cache.counters().misses);
  fs::remove_all(root);
}
BENCHMARK(BM_CacheMiss1000)->Unit(benchmark::kMillisecond);

// The signature alone (the cost of finding out that nothing changed).
void BM_SignFolders1000(benchmark::State& state) {
  fs::path root = WriteSkills();
  SkillRoots roots{root.string(), ".agents/skills", ""};
  for (auto _ : state) benchmark::DoNotOptimize(SignSkillFolders(roots));
  fs::remove_all(root);
}
BENCHMARK(BM_SignFolders1000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
