#include "tandem/platform/atomic_file.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace tandem::platform {
namespace {
namespace fs = std::filesystem;

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("atomic_file_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "plan.md";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Read() { return ReadWholeFile(path_).value_or("<missing>"); }
  size_t EntryCount() {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }
  fs::path dir_, path_;
};

TEST_F(AtomicFileTest, ReplacesContentKeepsModeAndLeavesNoTempFile) {
  ASSERT_TRUE(WriteFileAtomically(path_, "old\n").ok());
  ASSERT_EQ(::chmod(path_.c_str(), 0600), 0);
  ASSERT_TRUE(WriteFileAtomically(path_, "new\n").ok());
  EXPECT_EQ(Read(), "new\n");
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(EntryCount(), 1u);
}

TEST_F(AtomicFileTest, FailingWriteKeepsTheOriginalAndRemovesTheTempFile) {
  ASSERT_TRUE(WriteFileAtomically(path_, "original\n").ok());
  // A real failure: the file size limit makes write(2) fail with EFBIG
  // half-way through the temporary file (as a full disk would).
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &previous), 0);
  struct rlimit old_limit;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct rlimit small = old_limit;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  Status s = WriteFileAtomically(path_, std::string(100000, 'x'));
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  ASSERT_EQ(::sigaction(SIGXFSZ, &previous, nullptr), 0);

  EXPECT_EQ(s.code(), StatusCode::kIo) << s.ToString();
  EXPECT_EQ(Read(), "original\n");
  EXPECT_EQ(EntryCount(), 1u);
}

TEST_F(AtomicFileTest, CreateOnlyNeverOverwrites) {
  WriteOptions create = WriteOptions::CreateOnly();
  ASSERT_TRUE(WriteFileAtomically(path_, "first\n", create).ok());
  EXPECT_EQ(WriteFileAtomically(path_, "second\n", create).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Read(), "first\n");
  EXPECT_EQ(EntryCount(), 1u);
}

TEST_F(AtomicFileTest, ExpectedContentGuardsAgainstAConcurrentEdit) {
  ASSERT_TRUE(WriteFileAtomically(path_, "a person's save\n").ok());
  Status s = WriteFileAtomically(path_, "tandem's update\n", WriteOptions::IfUnchanged("what tandem read\n"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Read(), "a person's save\n");
  EXPECT_TRUE(WriteFileAtomically(path_, "tandem's update\n", WriteOptions::IfUnchanged("a person's save\n")).ok());
  EXPECT_EQ(Read(), "tandem's update\n");
}

TEST_F(AtomicFileTest, KillNineDuringWritesLeavesTheOldOrTheNewFile) {
  const std::string a(1 << 20, 'a'), b(1 << 20, 'b');
  ASSERT_TRUE(WriteFileAtomically(path_, a).ok());
  for (int round = 0; round < 12; ++round) {
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int i = 0;; ++i) (void)WriteFileAtomically(path_, i % 2 ? a : b);
    }
    ::usleep(static_cast<useconds_t>(2000 + round * 1500));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    std::string now = Read();
    EXPECT_TRUE(now == a || now == b) << "torn file of " << now.size() << " bytes in round " << round;
  }
}

// A pid no process has: a child that has exited and been reaped.
pid_t DeadPid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

// A name is no proof: a repository can commit `.x.tandem-tmp.<pid>.<n>`.
// Only a dead writer's temp that the repository does not track, a regular
// file of this user, named exactly so, is removed.
TEST_F(AtomicFileTest, StaleTempCleanupRemovesOnlyADeadWritersUntrackedTemps) {
  const std::string dead = std::to_string(DeadPid());
  const std::string live = std::to_string(::getppid());
  auto make = [&](const std::string& name) { std::ofstream(dir_ / name) << "keep me\n"; };
  make(".plan.md.tandem-tmp." + dead + ".0");         // tandem's leftover: removed
  make(".notes.tandem-tmp." + dead + ".3");           // tracked: kept
  make(".plan.md.tandem-tmp." + live + ".0");         // its writer lives: kept
  make(".plan.md.tandem-tmp." + dead + ".0x");        // not the shape: kept
  make(".plan.md.tandem-tmp." + dead);                // not the shape: kept
  fs::create_directories(dir_ / (".d.tandem-tmp." + dead + ".1"));  // a directory: kept
  fs::create_symlink(dir_ / "plan.md", dir_ / (".l.tandem-tmp." + dead + ".2"));  // a link: kept

  RemoveStaleTempFiles(dir_, [&](const std::string& name) {
    return name == ".notes.tandem-tmp." + dead + ".3";
  });

  EXPECT_FALSE(fs::exists(dir_ / (".plan.md.tandem-tmp." + dead + ".0")));
  for (const std::string& kept :
       {".notes.tandem-tmp." + dead + ".3", ".plan.md.tandem-tmp." + live + ".0",
        ".plan.md.tandem-tmp." + dead + ".0x", ".plan.md.tandem-tmp." + dead,
        ".d.tandem-tmp." + dead + ".1", ".l.tandem-tmp." + dead + ".2"}) {
    EXPECT_TRUE(fs::exists(fs::symlink_status(dir_ / kept))) << kept << " was removed";
  }
}

TEST_F(AtomicFileTest, ReadWholeFileReportsMissingFiles) {
  EXPECT_EQ(ReadWholeFile(dir_ / "nope").error().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace tandem::platform
