#include "tandem/platform/fs_watch.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tandem/platform/process.h"

namespace tandem::platform {
namespace {

namespace fs = std::filesystem;
using Change = FsWatch::Change;

class FsWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "tandem_fs_watch_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    fs::create_directories(root_ / "sub");
    std::ofstream(root_ / "old.txt") << "old\n";
    std::ofstream(root_ / "sub/keep.txt") << "keep\n";
    auto watch = FsWatch::Create(root_.string());
    ASSERT_TRUE(watch.has_value()) << watch.error().ToString();
    watch_ = std::move(*watch);
  }
  void TearDown() override {
    watch_.reset();
    fs::remove_all(root_);
  }

  // Runs `script` in a real child process inside the root; once it has
  // exited, its events are queued.
  void Run(const std::string& script) {
    ProcessSpec spec;
    spec.argv = {"sh", "-c", script};
    spec.cwd = root_.string();
    auto result = RunProcess(spec);
    ASSERT_TRUE(result.has_value()) << result.error().ToString();
    ASSERT_EQ(result->exit_code, 0) << result->output;
  }

  bool Has(const FsWatch::Batch& batch, const std::string& path, Change change,
           bool is_dir = false) {
    return std::any_of(batch.events.begin(), batch.events.end(), [&](const FsWatch::Event& e) {
      return e.path == path && e.change == change && e.is_dir == is_dir;
    });
  }

  fs::path root_;
  std::unique_ptr<FsWatch> watch_;
};

TEST_F(FsWatchTest, ReportsWhatAChildProcessChanged) {
  ASSERT_TRUE(watch_->Add("").ok());
  ASSERT_TRUE(watch_->Add("sub").ok());
  Run("echo new > new.txt && echo more >> sub/keep.txt && rm old.txt && chmod +x new.txt && "
      "ln -s new.txt link && mv sub/keep.txt sub/moved.txt");
  auto batch = watch_->Drain();
  ASSERT_TRUE(batch.has_value());
  EXPECT_FALSE(batch->lost);
  EXPECT_TRUE(Has(*batch, "new.txt", Change::kCreated));
  EXPECT_TRUE(Has(*batch, "sub/keep.txt", Change::kContent));
  EXPECT_TRUE(Has(*batch, "old.txt", Change::kRemoved));
  EXPECT_TRUE(Has(*batch, "link", Change::kCreated));
  EXPECT_TRUE(Has(*batch, "sub/keep.txt", Change::kMovedOut));
  EXPECT_TRUE(Has(*batch, "sub/moved.txt", Change::kMovedIn));
  // Drained means empty until something else happens.
  auto again = watch_->Drain();
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->events.empty());
}

TEST_F(FsWatchTest, DirectoriesAreMarkedAndNotWatchedUntilAdded) {
  ASSERT_TRUE(watch_->Add("").ok());
  Run("mkdir fresh && echo x > fresh/inside.txt && mv sub sub2");
  auto batch = watch_->Drain();
  ASSERT_TRUE(batch.has_value());
  EXPECT_TRUE(Has(*batch, "fresh", Change::kCreated, /*is_dir=*/true));
  EXPECT_TRUE(Has(*batch, "sub", Change::kMovedOut, true));
  EXPECT_TRUE(Has(*batch, "sub2", Change::kMovedIn, true));
  EXPECT_FALSE(Has(*batch, "fresh/inside.txt", Change::kCreated));

  ASSERT_TRUE(watch_->Add("fresh").ok());
  Run("echo y > fresh/later.txt");
  batch = watch_->Drain();
  ASSERT_TRUE(batch.has_value());
  EXPECT_TRUE(Has(*batch, "fresh/later.txt", Change::kCreated));
}

TEST_F(FsWatchTest, QueueOverflowIsReportedAsLost) {
  ASSERT_TRUE(watch_->Add("").ok());
  // Three events per file (create, modify, close-write): past the kernel's
  // default limit of 16,384 queued events.
  for (int i = 0; i < 7000; ++i) std::ofstream(root_ / ("f" + std::to_string(i))) << i;
  auto batch = watch_->Drain();
  ASSERT_TRUE(batch.has_value());
  EXPECT_TRUE(batch->lost);
}

TEST_F(FsWatchTest, RemovingTheRootIsReportedAsLost) {
  ASSERT_TRUE(watch_->Add("").ok());
  fs::remove_all(root_);
  auto batch = watch_->Drain();
  ASSERT_TRUE(batch.has_value());
  EXPECT_TRUE(batch->lost);
}

TEST_F(FsWatchTest, ADirectoryWatchedWithoutItsParentReportsThatItWent) {
  // Watched alone (its parent, the root, is not): only its own watch can
  // tell that it went, even when a new directory takes its name at once.
  ASSERT_TRUE(watch_->Add("sub").ok());
  Run("mv sub moved && mkdir sub");
  auto batch = watch_->Drain();
  ASSERT_TRUE(batch.has_value());
  EXPECT_FALSE(batch->lost);
  EXPECT_EQ(batch->gone, std::vector<std::string>{"sub"});

  Run("rm -r moved && rmdir sub && mkdir sub");
  batch = watch_->Drain();
  ASSERT_TRUE(batch.has_value());
  EXPECT_FALSE(batch->lost);
  EXPECT_EQ(batch->gone, std::vector<std::string>{"sub"});  // the moved one, deleted
  EXPECT_EQ(watch_->watch_count(), 0u);
}

TEST_F(FsWatchTest, AddingAMissingDirectoryIsNotFound) {
  Status s = watch_->Add("no-such-dir");
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  std::ofstream(root_ / "file") << "x";
  EXPECT_EQ(watch_->Add("file").code(), StatusCode::kNotFound);  // only directories
  EXPECT_EQ(watch_->watch_count(), 0u);
}

}  // namespace
}  // namespace tandem::platform
