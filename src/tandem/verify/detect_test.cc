#include "tandem/verify/detect.h"

#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "tandem/verify/verify_md.h"

namespace tandem::verify {
namespace {

namespace fs = std::filesystem;

class DetectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tandem_detect_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << text;
  }
  const Gate* Find(const Detection& d, const std::string& name) {
    for (const Gate& g : d.gates) {
      if (g.name == name) return &g;
    }
    return nullptr;
  }

  fs::path root_;
};

TEST_F(DetectTest, NothingDetectedInEmptyDirectorySaysSo) {
  Detection d = DetectGates(root_);
  EXPECT_TRUE(d.gates.empty());
  EXPECT_NE(d.description.find("No build system detected"), std::string::npos);
}

TEST_F(DetectTest, CMakeWithTestsBuildsEachStepAndRunsCTestAtTheEnd) {
  Write("CMakeLists.txt", "project(x)\nenable_testing()\nadd_test(NAME t COMMAND t)\n");
  Detection d = DetectGates(root_);
  ASSERT_EQ(d.gates.size(), 2u);
  EXPECT_EQ(d.gates[0].name, "build");
  EXPECT_EQ(d.gates[0].when, GateWhen::kEachStep);
  EXPECT_NE(d.gates[0].command.find("cmake -S . -B build"), std::string::npos);
  EXPECT_EQ(d.gates[1].name, "test");
  EXPECT_EQ(d.gates[1].when, GateWhen::kFinal);
  EXPECT_NE(d.gates[1].command.find("ctest --test-dir build --output-on-failure"),
            std::string::npos);
  EXPECT_EQ(d.gates[1].after, std::vector<std::string>{"build"});
  EXPECT_EQ(d.description, "Detected CMake/CTest (CMakeLists.txt): build (each step), test (final).");
}

TEST_F(DetectTest, CMakeWithoutTestsHasOnlyBuildAndIgnoresGeneratedMakefile) {
  Write("CMakeLists.txt", "project(x)\nadd_executable(x x.cc)\n");
  Write("Makefile", "all:\n\tcc x.c\ntest:\n\t./x\n");
  Detection d = DetectGates(root_);
  ASSERT_EQ(d.gates.size(), 1u);
  EXPECT_EQ(d.gates[0].name, "build");
}

TEST_F(DetectTest, MakefileWithCheckTarget) {
  Write("Makefile", "CHECK := yes\nall: prog\n\ncheck: all\n\t./run-tests\n");
  Detection d = DetectGates(root_);
  ASSERT_NE(Find(d, "build"), nullptr);
  EXPECT_NE(Find(d, "build")->command.find("make -j"), std::string::npos);
  ASSERT_NE(Find(d, "test"), nullptr);
  EXPECT_EQ(Find(d, "test")->command, "make check");
}

TEST_F(DetectTest, MakefileWithoutTestTargetHasOnlyBuild) {
  Write("Makefile", "TEST := 1\ntest_var = 2\nall:\n\tcc main.c\n");
  Detection d = DetectGates(root_);
  ASSERT_EQ(d.gates.size(), 1u);
  EXPECT_EQ(d.gates[0].name, "build");
}

TEST_F(DetectTest, NpmScriptsBecomeGatesAndPlaceholderTestIsSkipped) {
  Write("package.json",
        R"({"name":"x","scripts":{"build":"tsc","lint":"eslint .","test":"jest"}})");
  Detection d = DetectGates(root_);
  ASSERT_EQ(d.gates.size(), 3u);
  EXPECT_EQ(Find(d, "build")->command, "npm run build");
  EXPECT_EQ(Find(d, "lint")->command, "npm run lint");
  EXPECT_EQ(Find(d, "test")->command, "npm test");
  EXPECT_EQ(Find(d, "test")->when, GateWhen::kFinal);

  Write("package.json",
        R"({"scripts":{"test":"echo \"Error: no test specified\" && exit 1"}})");
  Write("yarn.lock", "");
  d = DetectGates(root_);
  EXPECT_TRUE(d.gates.empty());
  EXPECT_NE(d.description.find("yarn (package.json)"), std::string::npos);
  EXPECT_NE(d.description.find("no build, lint or test script"), std::string::npos);
}

TEST_F(DetectTest, MalformedPackageJsonIsReportedNotFatal) {
  Write("package.json", "{ not json");
  Detection d = DetectGates(root_);
  EXPECT_TRUE(d.gates.empty());
  EXPECT_NE(d.description.find("package.json could not be parsed"), std::string::npos);
}

TEST_F(DetectTest, PytestFromConfigOrTestsDirectory) {
  Write("pyproject.toml", "[project]\nname='x'\n[tool.pytest.ini_options]\n");
  Detection d = DetectGates(root_);
  ASSERT_EQ(d.gates.size(), 1u);
  EXPECT_EQ(d.gates[0].command, "python3 -m pytest -q -x");
  EXPECT_NE(d.description.find("pytest (pyproject.toml)"), std::string::npos);

  fs::remove(root_ / "pyproject.toml");
  EXPECT_TRUE(DetectGates(root_).gates.empty());
  Write("tests/unit/test_math.py", "def test_one():\n    assert 1\n");
  d = DetectGates(root_);
  ASSERT_EQ(d.gates.size(), 1u);
  EXPECT_NE(d.description.find("pytest (tests/)"), std::string::npos);
}

TEST_F(DetectTest, CargoAndGo) {
  Write("Cargo.toml", "[package]\nname = \"x\"\n");
  Detection d = DetectGates(root_);
  ASSERT_EQ(d.gates.size(), 2u);
  EXPECT_EQ(d.gates[0].command, "cargo build");
  EXPECT_EQ(d.gates[1].command, "cargo test");

  fs::remove(root_ / "Cargo.toml");
  Write("go.mod", "module example.com/x\n\ngo 1.21\n");
  d = DetectGates(root_);
  ASSERT_EQ(d.gates.size(), 2u);
  EXPECT_EQ(d.gates[0].command, "go build ./...");
  EXPECT_EQ(d.gates[1].command, "go test ./...");
  EXPECT_EQ(d.gates[1].after, std::vector<std::string>{"build"});
}

TEST_F(DetectTest, SeveralSystemsGetPrefixedNamesAndStillRoundTrip) {
  Write("go.mod", "module x\n");
  Write("package.json", R"({"scripts":{"build":"vite build","test":"vitest"}})");
  Detection d = DetectGates(root_);
  ASSERT_EQ(d.gates.size(), 4u);
  ASSERT_NE(Find(d, "npm-test"), nullptr);
  EXPECT_EQ(Find(d, "npm-test")->after, std::vector<std::string>{"npm-build"});
  ASSERT_NE(Find(d, "go-test"), nullptr);
  EXPECT_NE(d.description.find("Detected npm (package.json)"), std::string::npos);
  EXPECT_NE(d.description.find("Detected Go (go.mod)"), std::string::npos);

  auto parsed = ParseVerifyMd(RenderVerifyMd(d.gates));
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(*parsed, d.gates);
}

}  // namespace
}  // namespace tandem::verify
