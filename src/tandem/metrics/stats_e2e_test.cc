// End to end through the real binary: `tandem demo` records one run with
// one rolled-back step, and `tandem stats --json` in that repository reports
// it: 1 run, 1 success, 1 retry.
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct Output {
  int exit_code = -1;
  std::string out;
};

// Runs `command` with /bin/sh and captures its stdout.
Output Shell(const std::string& command) {
  Output result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "stats_e2e_XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

const std::string kTandem = TANDEM_BINARY_DIR "/tandem";

TEST(StatsEndToEnd, DemoRunShowsOneRunOneSuccessOneRetry) {
  TempDir tmp;
  std::string repo = (tmp.path() / "demo").string();
  Output demo = Shell("'" + kTandem + "' demo --json --dir '" + repo + "' 2>&1");
  ASSERT_EQ(demo.exit_code, 0) << demo.out;

  Output stats = Shell("cd '" + repo + "' && '" + kTandem + "' stats --json");
  ASSERT_EQ(stats.exit_code, 0) << stats.out;
  nlohmann::json j = nlohmann::json::parse(stats.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << stats.out;
  EXPECT_EQ(j["schema"], "tandem.stats/1");
  EXPECT_EQ(j["runs"]["total"], 1) << stats.out;
  EXPECT_EQ(j["runs"]["succeeded"], 1) << stats.out;
  EXPECT_EQ(j["runs"]["unassisted"], 1) << stats.out;
  EXPECT_EQ(j["tasks"]["retries"], 1) << stats.out;
  EXPECT_EQ(j["tasks"]["rollbacks"], 1) << stats.out;
  EXPECT_DOUBLE_EQ(j["runs"]["success_rate"].get<double>(), 1.0);
  // The demo's model is priced, so the success cost something.
  EXPECT_GT(j["cost"]["per_success_usd"].get<double>(), 0.0) << stats.out;
  ASSERT_EQ(j["models"].size(), 1u) << stats.out;
  EXPECT_EQ(j["models"][0]["model"], "demo-fast");

  // The text view of the same repository, and an empty window.
  Output text = Shell("cd '" + repo + "' && '" + kTandem + "' stats");
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("1 of 1 finished succeeded (100.0%)"), std::string::npos) << text.out;
  Output later = Shell("cd '" + repo + "' && '" + kTandem + "' stats --since 2999-01-01");
  EXPECT_EQ(later.exit_code, 0);
  EXPECT_NE(later.out.find("no runs yet"), std::string::npos) << later.out;
  Output bad = Shell("cd '" + repo + "' && '" + kTandem + "' stats --since yesterday 2>&1");
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
}

}  // namespace
