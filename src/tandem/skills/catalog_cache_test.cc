#include "tandem/skills/catalog_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

namespace tandem::skills {
namespace {
namespace fs = std::filesystem;

constexpr int64_t kSecond = 1'000'000'000;

class CatalogCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("skills_cache_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "repo");
    fs::create_directories(root_ / "home");
  }
  void TearDown() override { fs::remove_all(root_); }
  SkillRoots Roots(const std::string& repo = "repo") const {
    return {(root_ / repo).string(), ".agents/skills", (root_ / "home").string()};
  }
  void WriteSkill(const std::string& name, const std::string& description,
                  const std::string& repo = "repo") {
    fs::path path = root_ / repo / ".agents/skills" / name / "SKILL.md";
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary)
        << "---\nname: " << name << "\ndescription: " << description << "\n---\nbody\n";
  }
  // A clock `offset` after the newest change in the folders: the cache
  // judges everything read older than that (or newer, when negative).
  CatalogCache::Clock After(int64_t offset) const {
    int64_t newest = SignSkillFolders(Roots()).newest_change_ns;
    return [newest, offset] { return newest + offset; };
  }
  fs::path root_;
};

TEST_F(CatalogCacheTest, AnUnchangedFolderIsReadOnce) {
  WriteSkill("slug-fix", "Fixes slugs");
  CatalogCache cache(2 * kSecond, After(10 * kSecond));

  auto first = cache.Get(Roots());
  auto second = cache.Get(Roots());

  ASSERT_EQ(first->catalog.skills.size(), 1u);
  EXPECT_EQ(first.get(), second.get()) << "the catalog was read and indexed again";
  EXPECT_EQ(cache.counters().hits, 1);
  EXPECT_EQ(cache.counters().misses, 1);
  EXPECT_EQ(second->index.size(), 1u);
}

TEST_F(CatalogCacheTest, AnEditedSkillIsReadAgain) {
  WriteSkill("slug-fix", "Fixes slugs");
  CatalogCache cache(2 * kSecond, After(10 * kSecond));
  auto before = cache.Get(Roots());

  WriteSkill("slug-fix", "Fixes slugs and lower-cases them");
  auto after = cache.Get(Roots());

  ASSERT_EQ(after->catalog.skills.size(), 1u);
  EXPECT_EQ(after->catalog.skills[0].skill.description, "Fixes slugs and lower-cases them");
  EXPECT_EQ(before->catalog.skills[0].skill.description, "Fixes slugs") << "a snapshot changed";
}

TEST_F(CatalogCacheTest, ASkillReplacedByOneOfTheSameSizeIsReadAgain) {
  WriteSkill("slug-fix", "Fixes slugs AAAA");
  CatalogCache cache(2 * kSecond, After(10 * kSecond));
  ASSERT_EQ(cache.Get(Roots())->catalog.skills[0].skill.description, "Fixes slugs AAAA");

  // An editor's save: a new file renamed over the old one, same size.
  fs::path dir = root_ / "repo/.agents/skills/slug-fix";
  std::ofstream(dir / "SKILL.md.new", std::ios::binary)
      << "---\nname: slug-fix\ndescription: Fixes slugs BBBB\n---\nbody\n";
  fs::rename(dir / "SKILL.md.new", dir / "SKILL.md");

  EXPECT_EQ(cache.Get(Roots())->catalog.skills[0].skill.description, "Fixes slugs BBBB");
}

TEST_F(CatalogCacheTest, AddedAndRemovedSkillsAreSeen) {
  WriteSkill("one", "first");
  CatalogCache cache(2 * kSecond, After(10 * kSecond));
  ASSERT_EQ(cache.Get(Roots())->catalog.skills.size(), 1u);

  WriteSkill("two", "second");
  EXPECT_EQ(cache.Get(Roots())->catalog.skills.size(), 2u);

  fs::remove_all(root_ / "repo/.agents/skills/one");
  auto now = cache.Get(Roots());
  ASSERT_EQ(now->catalog.skills.size(), 1u);
  EXPECT_EQ(now->catalog.skills[0].skill.name, "two");

  // A skill in the user's home counts too.
  fs::create_directories(root_ / "home/.agents/skills/mine");
  std::ofstream(root_ / "home/.agents/skills/mine/SKILL.md")
      << "---\nname: mine\ndescription: the user's\n---\n";
  EXPECT_EQ(cache.Get(Roots())->catalog.skills.size(), 2u);
}

TEST_F(CatalogCacheTest, AFolderChangedJustBeforeTheReadIsReadAgainUntilItSettles) {
  WriteSkill("slug-fix", "Fixes slugs");
  int64_t newest = SignSkillFolders(Roots()).newest_change_ns;
  std::atomic<int64_t> now{newest + kSecond / 2};  // within the 2 s margin
  CatalogCache cache(2 * kSecond, [&now] { return now.load(); });

  auto first = cache.Get(Roots());
  auto second = cache.Get(Roots());
  EXPECT_NE(first.get(), second.get()) << "a racily clean read was kept";
  EXPECT_EQ(cache.counters().hits, 0);

  now = newest + 3 * kSecond;
  auto settled = cache.Get(Roots());
  EXPECT_EQ(cache.Get(Roots()).get(), settled.get());
  EXPECT_EQ(cache.counters().hits, 1);
}

TEST_F(CatalogCacheTest, EachRepositoryHasItsOwnCatalog) {
  WriteSkill("one", "first", "repo");
  WriteSkill("other", "second", "repo2");
  CatalogCache cache(2 * kSecond, After(10 * kSecond));

  auto a = cache.Get(Roots("repo"));
  auto b = cache.Get(Roots("repo2"));

  ASSERT_EQ(a->catalog.skills.size(), 1u);
  ASSERT_EQ(b->catalog.skills.size(), 1u);
  EXPECT_EQ(a->catalog.skills[0].skill.name, "one");
  EXPECT_EQ(b->catalog.skills[0].skill.name, "other");
  EXPECT_EQ(cache.Get(Roots("repo")).get(), a.get());
}

TEST_F(CatalogCacheTest, TheOldestRepositoryIsDroppedPastTheLimit) {
  WriteSkill("one", "first", "repo");
  WriteSkill("other", "second", "repo2");
  CatalogCache cache(2 * kSecond, After(10 * kSecond), /*max_entries=*/1);

  auto a = cache.Get(Roots("repo"));
  cache.Get(Roots("repo2"));
  EXPECT_NE(cache.Get(Roots("repo")).get(), a.get());
  EXPECT_EQ(cache.counters().misses, 3);
}

TEST_F(CatalogCacheTest, ConcurrentTasksGetTheSameSkills) {
  for (int i = 0; i < 20; ++i) WriteSkill("skill-" + std::to_string(i), "number " + std::to_string(i));
  CatalogCache cache(2 * kSecond, After(10 * kSecond));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto s = cache.Get(Roots());
        if (s->catalog.skills.size() != 20 || s->index.size() != 20) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(cache.counters().hits + cache.counters().misses, 200);
  EXPECT_GE(cache.counters().hits, 196);  // at most one miss per thread, before the first store
}

}  // namespace
}  // namespace tandem::skills
