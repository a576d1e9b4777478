#include "tandem/skills/catalog_cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <sys/stat.h>

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
  // A clock 10 s ahead: nothing written by the test is within the racy margin.
  static CatalogCache::Clock Later() {
    return [] { return CatalogCache::RealtimeNs() + 10 * kSecond; };
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
  EXPECT_EQ(cache.counters().signature_checks, 0) << "the watches did not decide";
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

TEST_F(CatalogCacheTest, SignedAFolderChangedJustBeforeTheReadIsReadAgainUntilItSettles) {
  WriteSkill("slug-fix", "Fixes slugs");
  int64_t newest = SignSkillFolders(Roots()).newest_change_ns;
  std::atomic<int64_t> now{newest + kSecond / 2};  // within the 2 s margin
  CatalogCache cache(2 * kSecond, [&now] { return now.load(); }, 16, /*max_watches=*/0);

  auto first = cache.Get(Roots());
  auto second = cache.Get(Roots());
  EXPECT_NE(first.get(), second.get()) << "a racily clean read was kept";
  EXPECT_EQ(cache.counters().hits, 0);

  now = newest + 3 * kSecond;
  auto settled = cache.Get(Roots());
  EXPECT_EQ(cache.Get(Roots()).get(), settled.get());
  EXPECT_EQ(cache.counters().hits, 1);
}

TEST_F(CatalogCacheTest, WatchedASkillWrittenAMomentAgoIsKeptAndItsNextEditSeen) {
  // Watches exist before the read, so no timestamp decides: a skill written
  // just now is cached at once, and an edit in the same clock tick is seen.
  WriteSkill("slug-fix", "Fixes slugs AAAA");
  int64_t newest = SignSkillFolders(Roots()).newest_change_ns;
  CatalogCache cache(2 * kSecond, [newest] { return newest; });

  auto first = cache.Get(Roots());
  EXPECT_EQ(cache.Get(Roots()).get(), first.get()) << "a watched read was not kept";

  WriteSkill("slug-fix", "Fixes slugs BBBB");  // same size
  EXPECT_EQ(cache.Get(Roots())->catalog.skills[0].skill.description, "Fixes slugs BBBB");
}

TEST_F(CatalogCacheTest, ASkillsFolderCreatedAfterTheFirstReadIsSeen) {
  CatalogCache cache(2 * kSecond, Later());
  EXPECT_TRUE(cache.Get(Roots())->catalog.skills.empty());
  EXPECT_TRUE(cache.Get(Roots())->catalog.skills.empty());

  WriteSkill("slug-fix", "Fixes slugs");  // creates .agents/ and .agents/skills/
  ASSERT_EQ(cache.Get(Roots())->catalog.skills.size(), 1u);
  fs::create_directories(root_ / "repo/.claude/skills/other");
  std::ofstream(root_ / "repo/.claude/skills/other/SKILL.md")
      << "---\nname: other\ndescription: claude's\n---\n";
  EXPECT_EQ(cache.Get(Roots())->catalog.skills.size(), 2u);
  EXPECT_EQ(cache.counters().signature_checks, 0);
}

TEST_F(CatalogCacheTest, RenamesInAndOutOfTheSkillsFolderAreSeen) {
  WriteSkill("one", "first");
  CatalogCache cache(2 * kSecond, Later());
  ASSERT_EQ(cache.Get(Roots())->catalog.skills.size(), 1u);

  // Installed the usual way: written elsewhere, renamed in.
  fs::path staging = root_ / "staging/two";
  fs::create_directories(staging);
  std::ofstream(staging / "SKILL.md") << "---\nname: two\ndescription: second\n---\n";
  fs::rename(staging, root_ / "repo/.agents/skills/two");
  EXPECT_EQ(cache.Get(Roots())->catalog.skills.size(), 2u);

  // Renamed to a hidden name: no longer a skill.
  fs::rename(root_ / "repo/.agents/skills/one", root_ / "repo/.agents/skills/.one-old");
  auto now = cache.Get(Roots());
  ASSERT_EQ(now->catalog.skills.size(), 1u);
  EXPECT_EQ(now->catalog.skills[0].skill.name, "two");

  // Renamed to a name its SKILL.md does not carry: a problem, not a skill.
  fs::rename(root_ / "repo/.agents/skills/two", root_ / "repo/.agents/skills/zwei");
  now = cache.Get(Roots());
  EXPECT_TRUE(now->catalog.skills.empty());
  ASSERT_EQ(now->catalog.problems.size(), 1u);
  EXPECT_NE(now->catalog.problems[0].find("zwei"), std::string::npos) << now->catalog.problems[0];
  EXPECT_EQ(cache.counters().signature_checks, 0);
}

TEST_F(CatalogCacheTest, AnEditThroughASymlinkedSkillsFolderIsSeen) {
  // .agents/skills is a link to a folder elsewhere in the repository.
  fs::create_directories(root_ / "repo/shared/slug-fix");
  std::ofstream(root_ / "repo/shared/slug-fix/SKILL.md")
      << "---\nname: slug-fix\ndescription: Fixes slugs\n---\n";
  fs::create_directories(root_ / "repo/.agents");
  fs::create_directory_symlink("../shared", root_ / "repo/.agents/skills");
  CatalogCache cache(2 * kSecond, Later());
  ASSERT_EQ(cache.Get(Roots())->catalog.skills.size(), 1u);
  ASSERT_EQ(cache.Get(Roots())->catalog.skills.size(), 1u);
  EXPECT_EQ(cache.counters().hits, 1);

  // Written through the link.
  WriteSkill("slug-fix", "Fixes slugs through the link");
  EXPECT_EQ(cache.Get(Roots())->catalog.skills[0].skill.description, "Fixes slugs through the link");
  // Written where the link leads.
  std::ofstream(root_ / "repo/shared/slug-fix/SKILL.md")
      << "---\nname: slug-fix\ndescription: Fixes slugs at the target\n---\n";
  EXPECT_EQ(cache.Get(Roots())->catalog.skills[0].skill.description, "Fixes slugs at the target");
  // The link pointed elsewhere.
  fs::create_directories(root_ / "repo/shared2/date-fix");
  std::ofstream(root_ / "repo/shared2/date-fix/SKILL.md")
      << "---\nname: date-fix\ndescription: Fixes dates\n---\n";
  fs::remove(root_ / "repo/.agents/skills");
  fs::create_directory_symlink("../shared2", root_ / "repo/.agents/skills");
  auto now = cache.Get(Roots());
  ASSERT_EQ(now->catalog.skills.size(), 1u);
  EXPECT_EQ(now->catalog.skills[0].skill.name, "date-fix");
  EXPECT_EQ(cache.counters().signature_checks, 0);
}

TEST_F(CatalogCacheTest, ASkillFileEditedThroughAnotherNameIsSeen) {
  // A SKILL.md that is a symlink, and one with a second hard link: an edit
  // through the other name raises no event in the skill's folder.
  fs::create_directories(root_ / "repo/docs");
  std::ofstream(root_ / "repo/docs/linked.md") << "---\nname: linked\ndescription: version 1\n---\n";
  fs::create_directories(root_ / "repo/.agents/skills/linked");
  fs::create_symlink("../../../docs/linked.md", root_ / "repo/.agents/skills/linked/SKILL.md");
  WriteSkill("hard", "version 1");
  fs::create_hard_link(root_ / "repo/.agents/skills/hard/SKILL.md", root_ / "repo/docs/hard.md");
  CatalogCache cache(2 * kSecond, Later());
  auto first = cache.Get(Roots());
  ASSERT_EQ(first->catalog.skills.size(), 2u) << (first->catalog.problems.empty() ? "" : first->catalog.problems[0]);
  EXPECT_EQ(cache.Get(Roots()).get(), first.get());

  std::ofstream(root_ / "repo/docs/linked.md") << "---\nname: linked\ndescription: the second version\n---\n";
  auto now = cache.Get(Roots());
  EXPECT_EQ(now->catalog.Find("linked")->skill.description, "the second version");

  std::ofstream(root_ / "repo/docs/hard.md") << "---\nname: hard\ndescription: the second version\n---\n";
  now = cache.Get(Roots());
  EXPECT_EQ(now->catalog.Find("hard")->skill.description, "the second version");
  EXPECT_EQ(cache.counters().signature_checks, 0);
}

TEST_F(CatalogCacheTest, PastTheWatchLimitTheSignatureDecidesAndStaysCorrect) {
  WriteSkill("one", "first");
  WriteSkill("two", "second");
  // Room for one watch: fewer than the folders, as when the kernel's
  // fs.inotify.max_user_watches is reached.
  CatalogCache cache(2 * kSecond, Later(), 16, /*max_watches=*/1);
  auto first = cache.Get(Roots());
  ASSERT_EQ(first->catalog.skills.size(), 2u);
  EXPECT_EQ(cache.Get(Roots()).get(), first.get());
  EXPECT_EQ(cache.counters().signature_checks, 1);

  WriteSkill("one", "first, edited");
  EXPECT_EQ(cache.Get(Roots())->catalog.Find("one")->skill.description, "first, edited");
  WriteSkill("three", "third");
  EXPECT_EQ(cache.Get(Roots())->catalog.skills.size(), 3u);
  fs::remove_all(root_ / "repo/.agents/skills/two");
  EXPECT_EQ(cache.Get(Roots())->catalog.skills.size(), 2u);
  EXPECT_EQ(cache.counters().signature_checks, 4);
}

// More events than the kernel queues for one inotify descriptor.
size_t QueueLimit() {
  std::ifstream in("/proc/sys/fs/inotify/max_queued_events");
  size_t n = 16384;
  in >> n;
  return n;
}

// Fills the queue with events no catalog depends on: mode changes of two
// files beside a SKILL.md (alternating, so the kernel cannot merge them).
void Overflow(const fs::path& skill_dir) {
  std::ofstream(skill_dir / "a.sh") << "a";
  std::ofstream(skill_dir / "b.sh") << "b";
  std::string a = (skill_dir / "a.sh").string(), b = (skill_dir / "b.sh").string();
  for (size_t i = 0; i <= QueueLimit() / 2 + 8; ++i) {
    ASSERT_EQ(::chmod(a.c_str(), i % 4 < 2 ? 0644 : 0755), 0);
    ASSERT_EQ(::chmod(b.c_str(), i % 4 < 2 ? 0644 : 0755), 0);
  }
}

TEST_F(CatalogCacheTest, AnOverflowedQueueFallsBackToTheSignatureAndStaysCorrect) {
  if (QueueLimit() > 1'000'000) GTEST_SKIP() << "fs.inotify.max_queued_events is too large to fill";
  WriteSkill("slug-fix", "Fixes slugs");
  fs::path dir = root_ / "repo/.agents/skills/slug-fix";
  CatalogCache cache(2 * kSecond, Later());
  auto first = cache.Get(Roots());

  // Events lost, nothing the catalog reads changed: the signature says so.
  Overflow(dir);
  EXPECT_EQ(cache.Get(Roots()).get(), first.get());
  EXPECT_EQ(cache.counters().signature_checks, 1);
  EXPECT_EQ(cache.counters().misses, 1);
  // The watches are back: the next check is theirs again.
  EXPECT_EQ(cache.Get(Roots()).get(), first.get());
  EXPECT_EQ(cache.counters().signature_checks, 1);

  // Events lost, a skill edited among them: read again.
  Overflow(dir);
  WriteSkill("slug-fix", "Fixes slugs, edited in the flood");
  EXPECT_EQ(cache.Get(Roots())->catalog.skills[0].skill.description,
            "Fixes slugs, edited in the flood");
  EXPECT_EQ(cache.counters().signature_checks, 2);
  // And watched again afterwards.
  WriteSkill("slug-fix", "Fixes slugs, edited after");
  EXPECT_EQ(cache.Get(Roots())->catalog.skills[0].skill.description, "Fixes slugs, edited after");
  EXPECT_EQ(cache.counters().signature_checks, 2);
}

TEST_F(CatalogCacheTest, WorktreesPinnedToOneCheckpointShareOneCatalog) {
  WriteSkill("slug-fix", "Fixes slugs", "slot-1");
  WriteSkill("slug-fix", "Fixes slugs", "slot-2");
  CatalogCache cache(2 * kSecond, Later());

  auto a = cache.GetPinned(Roots("slot-1"), "c0ffee");
  auto b = cache.GetPinned(Roots("slot-2"), "c0ffee");
  EXPECT_EQ(a.get(), b.get()) << "each worktree read the catalog again";
  EXPECT_EQ(cache.counters().misses, 1);
  // Another checkpoint is another catalog.
  EXPECT_NE(cache.GetPinned(Roots("slot-2"), "beef").get(), a.get());
}

TEST_F(CatalogCacheTest, AWorktreeEditingItsOwnSkillsChangesNothingForTheOthers) {
  WriteSkill("slug-fix", "Fixes slugs", "slot-1");
  WriteSkill("slug-fix", "Fixes slugs", "slot-2");
  CatalogCache cache(2 * kSecond, Later());
  auto base = cache.GetPinned(Roots("slot-1"), "c0ffee");

  // The variant in slot 1, after its pick, rewrites the skill and adds one.
  WriteSkill("slug-fix", "variant 1's version", "slot-1");
  WriteSkill("evil", "variant 1's own skill", "slot-1");
  auto b = cache.GetPinned(Roots("slot-2"), "c0ffee");
  EXPECT_EQ(b.get(), base.get());
  ASSERT_EQ(b->catalog.skills.size(), 1u);
  EXPECT_EQ(b->catalog.skills[0].skill.description, "Fixes slugs");

  // The user's own skills changed: read again, from the folders of the
  // worktree that asks (still at the checkpoint), not slot 1's.
  fs::create_directories(root_ / "home/.agents/skills/mine");
  std::ofstream(root_ / "home/.agents/skills/mine/SKILL.md")
      << "---\nname: mine\ndescription: the user's\n---\n";
  b = cache.GetPinned(Roots("slot-2"), "c0ffee");
  ASSERT_EQ(b->catalog.skills.size(), 2u);
  EXPECT_EQ(b->catalog.Find("slug-fix")->skill.description, "Fixes slugs");
  EXPECT_EQ(b->catalog.Find("evil"), nullptr);
  EXPECT_NE(b->catalog.Find("mine"), nullptr);
  // The checkout itself (not pinned) is its own entry, read as it is.
  EXPECT_EQ(cache.Get(Roots("slot-1"))->catalog.Find("slug-fix")->skill.description,
            "variant 1's version");
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
