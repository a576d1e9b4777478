#include "tandem/memory/init.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tandem/platform/atomic_file.h"
#include "tandem/memory/plan_md.h"
#include "tandem/memory/progress_md.h"
#include "tandem/verify/verify_md.h"

namespace tandem::memory {
namespace {
namespace fs = std::filesystem;

class InitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("memory_init_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text) { std::ofstream(root_ / rel) << text; }
  std::string Read(const std::string& rel) { return platform::ReadWholeFile(root_ / rel).value_or("<missing>"); }
  fs::path root_;
};

TEST_F(InitTest, WritesAllFourFilesAndVerifyMdFromDetection) {
  Write("CMakeLists.txt", "project(x)\nenable_testing()\nadd_test(NAME t COMMAND t)\n");
  verify::Detection detection = verify::DetectGates(root_);
  ASSERT_FALSE(detection.gates.empty());

  auto report = InitRepository(root_, detection);
  ASSERT_TRUE(report) << report.error().ToString();
  ASSERT_EQ(report->files.size(), 4u);
  for (const InitFile& f : report->files) EXPECT_TRUE(f.written) << f.name;

  auto gates = verify::LoadVerifyMd(root_ / "verify.md");
  ASSERT_TRUE(gates) << gates.error().ToString();
  EXPECT_EQ(*gates, detection.gates);

  // The example lives in a code block: until a task is written, reading
  // plan.md says there is none and how to get one.
  auto plan = LoadPlan(root_ / "plan.md");
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().message().find("no task found (`tandem plan \"<goal>\"` writes them)"),
            std::string::npos)
      << plan.error().ToString();
  EXPECT_EQ(Read("progress.md"), EmptyProgress());
  EXPECT_EQ(Read("AGENTS.md"), AgentsTemplate());
  EXPECT_NE(Read("AGENTS.md").find("plan.md"), std::string::npos);

  ASSERT_GE(report->next_steps.size(), 3u);
  EXPECT_NE(report->next_steps[0].find("AGENTS.md"), std::string::npos);
  EXPECT_NE(report->next_steps[1].find(detection.description), std::string::npos);
}

TEST_F(InitTest, NeverOverwritesExistingFiles) {
  Write("AGENTS.md", "mine\n");
  Write("plan.md", "my plan\n");
  auto report = InitRepository(root_, verify::DetectGates(root_));
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(Read("AGENTS.md"), "mine\n");
  EXPECT_EQ(Read("plan.md"), "my plan\n");
  for (const InitFile& f : report->files) {
    EXPECT_EQ(f.written, f.name == "verify.md" || f.name == "progress.md") << f.name;
  }
  // Running it again writes nothing.
  auto again = InitRepository(root_, verify::DetectGates(root_));
  ASSERT_TRUE(again);
  for (const InitFile& f : again->files) EXPECT_FALSE(f.written) << f.name;
  EXPECT_EQ(again->next_steps.size(), 1u);  // only "run tandem plan"
}

TEST_F(InitTest, WithoutABuildSystemVerifyMdIsValidAndSaysToAddGates) {
  auto report = InitRepository(root_, verify::DetectGates(root_));
  ASSERT_TRUE(report);
  auto gates = verify::LoadVerifyMd(root_ / "verify.md");
  ASSERT_TRUE(gates) << gates.error().ToString();
  EXPECT_TRUE(gates->empty());
  EXPECT_NE(report->next_steps[1].find("no build system"), std::string::npos);
}

// The user's repository holds no tandem docs: the files explain themselves.
TEST_F(InitTest, WrittenFilesExplainTheirFormatAndPointAtNoDocsTheUserLacks) {
  for (bool detected : {false, true}) {
    fs::remove_all(root_);
    fs::create_directories(root_);
    if (detected) Write("Makefile", "test:\n\ttrue\n");
    auto report = InitRepository(root_, verify::DetectGates(root_));
    ASSERT_TRUE(report) << report.error().ToString();
    for (const char* name : {"AGENTS.md", "verify.md", "plan.md", "progress.md"}) {
      EXPECT_EQ(Read(name).find("docs/"), std::string::npos) << name << ":\n" << Read(name);
    }
    std::string verify = Read("verify.md");
    for (const char* part : {"## <name> (<options>)", "```sh", "each step", "final", "timeout",
                             "after <gate>", "exit 0 passes"}) {
      EXPECT_NE(verify.find(part), std::string::npos) << part << " in\n" << verify;
    }
    ASSERT_TRUE(verify::LoadVerifyMd(root_ / "verify.md")) << verify;
  }
  std::string plan = Read("plan.md");
  for (const char* part : {"- [ ] T1:", "do      what to do (required)", "scope   ",
                           "accept  `gates all`", "risk    reversible", "irreversible",
                           "after   ids of the tasks", "[x] done"}) {
    EXPECT_NE(plan.find(part), std::string::npos) << part << " in\n" << plan;
  }
  // The examples are fenced: the template holds no task, and reading it says so.
  auto parsed = LoadPlan(root_ / "plan.md");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message().find("no task found"), std::string::npos)
      << parsed.error().ToString();
}

TEST_F(InitTest, MissingRootIsAnError) {
  auto report = InitRepository(root_ / "nope", verify::Detection{});
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code(), StatusCode::kIo);
}

}  // namespace
}  // namespace tandem::memory
