#include "tandem/workspace/test_repo.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tandem::workspace::testing {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

TestRepo::TestRepo() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tandem-ws-test-XXXXXX").string();
  char* made = mkdtemp(tmpl.data());
  EXPECT_NE(made, nullptr);
  root_ = std::filesystem::canonical(tmpl);
  Git("init -q -b main .");
  Git("config user.name tandem-test");
  Git("config user.email test@example.com");
  Git("config commit.gpgsign false");
  Git("config gc.auto 0");  // no background gc racing the test or outliving it
  Git("config gc.autoDetach false");
}

TestRepo::~TestRepo() {
  std::error_code ec;
  std::filesystem::remove_all(root_, ec);
}

int TestRepo::Shell(const std::string& command, std::string* output) const {
  std::string full = "cd " + Quote(root_.string()) + " && (" + command + ") 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = pclose(pipe);
  if (output != nullptr) *output = std::move(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string TestRepo::Git(const std::string& args) const {
  std::string out;
  int rc = Shell("GIT_CONFIG_NOSYSTEM=1 git " + args, &out);
  if (rc != 0) ADD_FAILURE() << "git " << args << " failed (" << rc << "): " << out;
  return out;
}

void TestRepo::Write(const std::string& path, const std::string& content) const {
  std::filesystem::path p = root_ / path;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << content;
}

std::string TestRepo::Read(const std::string& path) const {
  std::ifstream f(root_ / path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool TestRepo::Exists(const std::string& path) const {
  struct stat st;
  return lstat((root_ / path).c_str(), &st) == 0;
}

bool TestRepo::IsExecutable(const std::string& path) const {
  struct stat st;
  return lstat((root_ / path).c_str(), &st) == 0 && (st.st_mode & S_IXUSR) != 0;
}

bool TestRepo::IsSymlink(const std::string& path) const {
  struct stat st;
  return lstat((root_ / path).c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

std::string TestRepo::LinkTarget(const std::string& path) const {
  std::error_code ec;
  return std::filesystem::read_symlink(root_ / path, ec).string();
}

void TestRepo::Remove(const std::string& path) const {
  std::error_code ec;
  std::filesystem::remove_all(root_ / path, ec);
}

void TestRepo::Chmod(const std::string& path, unsigned mode) const {
  EXPECT_EQ(chmod((root_ / path).c_str(), mode), 0);
}

void TestRepo::Symlink(const std::string& target, const std::string& path) const {
  std::filesystem::create_directories((root_ / path).parent_path());
  EXPECT_EQ(symlink(target.c_str(), (root_ / path).c_str()), 0);
}

void TestRepo::CommitAll(const std::string& message) const {
  Git("add -A");
  Git("commit -q -m " + Quote(message));
}

}  // namespace tandem::workspace::testing
