#include "tandem/tools/path_guard.h"

#include <gtest/gtest.h>

#include "tandem/tools/test_util.h"

namespace tandem::tools {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::WriteFile;

class PathGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_ / "src/a.cc", "a");
    WriteFile(outside_ / "secret.txt", "s");
    fs::create_directories(dir_ / ".git");
    auto g = PathGuard::Create(dir_.path());
    ASSERT_TRUE(g.has_value());
    guard_.emplace(*g);
  }
  StatusCode Code(std::string_view p, Access a) {
    auto r = guard_->Resolve(p, a);
    return r ? StatusCode::kOk : r.error().code();
  }
  TempDir dir_;
  TempDir outside_;
  std::optional<PathGuard> guard_;
};

TEST_F(PathGuardTest, ResolvesPlainRelativePath) {
  auto r = guard_->Resolve("src/a.cc", Access::kRead);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->absolute, dir_ / "src/a.cc");
  EXPECT_EQ(r->relative, "src/a.cc");
}

TEST_F(PathGuardTest, NormalizesDotsAndSlashesInside) {
  auto r = guard_->Resolve("./src//../src/./a.cc", Access::kWrite);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->relative, "src/a.cc");
  auto root = guard_->Resolve(".", Access::kRead);
  ASSERT_TRUE(root.has_value());
  EXPECT_EQ(root->relative, ".");
}

TEST_F(PathGuardTest, AllowsNewFilesInNewDirectories) {
  auto r = guard_->Resolve("new/dir/file.txt", Access::kWrite);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->relative, "new/dir/file.txt");
}

TEST_F(PathGuardTest, RefusesAbsolutePathAndSuggestsRelativeForm) {
  auto r = guard_->Resolve((dir_ / "src/a.cc").string(), Access::kRead);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.error().message().find("use 'src/a.cc'"), std::string::npos) << r.error().message();
  EXPECT_EQ(Code("/etc/passwd", Access::kRead), StatusCode::kPermissionDenied);
}

TEST_F(PathGuardTest, RefusesDotDotEscape) {
  EXPECT_EQ(Code("../x", Access::kRead), StatusCode::kPermissionDenied);
  EXPECT_EQ(Code("src/../../x", Access::kWrite), StatusCode::kPermissionDenied);
  auto r = guard_->Resolve("src/../../x", Access::kWrite);
  EXPECT_NE(r.error().message().find("outside the workspace"), std::string::npos);
}

TEST_F(PathGuardTest, RefusesDotDotOutOfMissingDirectory) {
  fs::create_symlink(outside_.path(), dir_ / "out");
  // "nope/../out/secret.txt" must not sneak past the symlink check.
  EXPECT_NE(Code("nope/../out/secret.txt", Access::kWrite), StatusCode::kOk);
}

TEST_F(PathGuardTest, RefusesSymlinkedDirectoryPointingOutside) {
  fs::create_directory_symlink(outside_.path(), dir_ / "link");
  auto r = guard_->Resolve("link/secret.txt", Access::kRead);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.error().message().find("symlink 'link'"), std::string::npos) << r.error().message();
}

TEST_F(PathGuardTest, RefusesFinalSymlinkPointingOutsideForWrites) {
  fs::create_symlink(outside_ / "secret.txt", dir_ / "innocent.txt");
  EXPECT_EQ(Code("innocent.txt", Access::kWrite), StatusCode::kPermissionDenied);
  EXPECT_EQ(Code("innocent.txt", Access::kRead), StatusCode::kPermissionDenied);
}

TEST_F(PathGuardTest, RefusesRelativeSymlinkClimbingOut) {
  fs::create_symlink("../../../../../../../../etc/passwd", dir_ / "src/p");
  EXPECT_EQ(Code("src/p", Access::kRead), StatusCode::kPermissionDenied);
}

TEST_F(PathGuardTest, RefusesDanglingSymlinkPointingOutside) {
  fs::create_symlink(outside_ / "not-yet.txt", dir_ / "dangling");
  EXPECT_EQ(Code("dangling", Access::kWrite), StatusCode::kPermissionDenied);
}

TEST_F(PathGuardTest, FollowsSymlinksThatStayInside) {
  fs::create_directory_symlink(dir_ / "src", dir_ / "alias");
  fs::create_symlink("a.cc", dir_ / "src/b.cc");
  auto r = guard_->Resolve("alias/b.cc", Access::kWrite);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->relative, "src/a.cc");  // the real file: writing never follows a link
}

TEST_F(PathGuardTest, SymlinkThenDotDotFollowsTheKernelsMeaning) {
  fs::create_directories(dir_ / "deep/er");
  fs::create_directory_symlink(dir_ / "deep/er", dir_ / "shortcut");
  auto r = guard_->Resolve("shortcut/../x", Access::kWrite);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->relative, "deep/x");
}

TEST_F(PathGuardTest, RefusesWritesIntoGitAndTandem) {
  EXPECT_EQ(Code(".git/config", Access::kWrite), StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(".git", Access::kWrite), StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(".tandem/ledger.db", Access::kWrite), StatusCode::kPermissionDenied);
  EXPECT_EQ(Code("sub/.git/hooks/pre-commit", Access::kWrite), StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(".GIT/config", Access::kWrite), StatusCode::kPermissionDenied);
}

TEST_F(PathGuardTest, RefusesReadsOfGitButAllowsTandem) {
  EXPECT_EQ(Code(".git/config", Access::kRead), StatusCode::kPermissionDenied);
  EXPECT_EQ(Code(".tandem/progress.md", Access::kRead), StatusCode::kOk);
}

TEST_F(PathGuardTest, RefusesSymlinkIntoGit) {
  fs::create_directory_symlink(dir_ / ".git", dir_ / "g");
  EXPECT_EQ(Code("g/config", Access::kWrite), StatusCode::kPermissionDenied);
}

TEST_F(PathGuardTest, GitignoreAndSimilarNamesAreOrdinaryFiles) {
  EXPECT_EQ(Code(".gitignore", Access::kWrite), StatusCode::kOk);
  EXPECT_EQ(Code(".github/workflows/ci.yml", Access::kWrite), StatusCode::kOk);
}

TEST_F(PathGuardTest, RefusesEmptyAndNulPaths) {
  EXPECT_EQ(Code("", Access::kRead), StatusCode::kInvalidArgument);
  EXPECT_EQ(Code(std::string_view("a\0b", 3), Access::kRead), StatusCode::kPermissionDenied);
}

TEST_F(PathGuardTest, SymlinkLoopIsRefusedNotHung) {
  fs::create_symlink("loop2", dir_ / "loop1");
  fs::create_symlink("loop1", dir_ / "loop2");
  EXPECT_EQ(Code("loop1/x", Access::kRead), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace tandem::tools
