#include "tandem/verify/runner.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <sstream>

#include <gtest/gtest.h>

#include "tandem/base/redact.h"

namespace tandem::verify {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

Gate MakeGate(std::string name, std::string command, milliseconds timeout = seconds(20)) {
  Gate gate;
  gate.name = std::move(name);
  gate.command = std::move(command);
  gate.timeout = timeout;
  return gate;
}

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tandem_runner_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    options_.workspace = root_;
  }
  void TearDown() override { fs::remove_all(root_); }

  int LinesIn(const std::string& rel) {
    std::ifstream in(root_ / rel);
    int n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }

  fs::path root_;
  GateRunOptions options_;
};

TEST_F(RunnerTest, PassingGatesReportPassInTheOrderGiven) {
  auto results = RunGates({MakeGate("a", "true"), MakeGate("b", "echo hi")}, options_);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].gate, "a");
  EXPECT_EQ(results[1].gate, "b");
  EXPECT_EQ(results[0].verdict, Verdict::kPass);
  EXPECT_EQ(results[1].exit_code, 0);
  EXPECT_TRUE(results[1].excerpt.empty());
  EXPECT_FALSE(results[1].cached);
  EXPECT_TRUE(AllPassed(results));
  EXPECT_TRUE(AllPassed({}));
}

// Gate "waiter" can only pass if gate "maker" runs while it is still running.
std::vector<Gate> WaiterAndMaker(milliseconds waiter_timeout) {
  return {MakeGate("waiter",
                   "i=0\nwhile [ ! -f made.flag ]; do sleep 0.05; i=$((i+1)); "
                   "[ $i -lt 400 ] || exit 3; done",
                   waiter_timeout),
          MakeGate("maker", "touch made.flag")};
}

TEST_F(RunnerTest, GatesRunInParallelWithinTheJobBudget) {
  platform::JobBudget jobs(2);
  options_.jobs = &jobs;
  auto results = RunGates(WaiterAndMaker(seconds(30)), options_);
  EXPECT_EQ(results[0].verdict, Verdict::kPass) << results[0].detail << results[0].excerpt;
  EXPECT_EQ(results[1].verdict, Verdict::kPass);
  EXPECT_EQ(jobs.available(), 2);
}

// A gate that appends "start NAME", then "end NAME" to `log` and, in
// between, waits (at most ~1 s) for a second "start" line: two such gates
// that run at the same time both log their start before either ends, so the
// log shows any overlap whatever the timing.
Gate Logger(const std::string& name, const fs::path& log) {
  const std::string file = log.string();
  return MakeGate(name, "echo 'start " + name + "' >> '" + file +
                            "'\ni=0\nwhile [ \"$(grep -c start '" + file +
                            "')\" -lt 2 ] && [ $i -lt 20 ]; do sleep 0.05; i=$((i+1)); done\n" +
                            "echo 'end " + name + "' >> '" + file + "'");
}

std::vector<std::string> Lines(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_F(RunnerTest, ABudgetOfOneRunsOneGateAtATimeWithinACall) {
  platform::JobBudget jobs(1);
  options_.jobs = &jobs;
  auto results = RunGates({Logger("a", root_ / "log"), Logger("b", root_ / "log")}, options_);
  EXPECT_TRUE(AllPassed(results));
  std::vector<std::string> log = Lines(root_ / "log");
  ASSERT_EQ(log.size(), 4u);
  for (size_t i = 0; i < log.size(); i += 2) {  // each start followed by its own end
    EXPECT_EQ(log[i].substr(0, 6), "start ") << log[i];
    EXPECT_EQ(log[i + 1], "end " + log[i].substr(6));
  }
}

TEST_F(RunnerTest, TwoAgentsGateRunsSharingABudgetOfOneNeverOverlap) {
  platform::JobBudget jobs(1);
  const fs::path log = root_ / "log";
  auto run = [&](const std::string& agent) {
    GateRunOptions options = options_;
    options.jobs = &jobs;
    return RunGates({Logger(agent + "-build", log), Logger(agent + "-test", log)}, options);
  };
  auto first = std::async(std::launch::async, run, "one");
  auto second = std::async(std::launch::async, run, "two");
  EXPECT_TRUE(AllPassed(first.get()));
  EXPECT_TRUE(AllPassed(second.get()));
  std::vector<std::string> lines = Lines(log);
  ASSERT_EQ(lines.size(), 8u);
  for (size_t i = 0; i < lines.size(); i += 2) {
    EXPECT_EQ(lines[i].substr(0, 6), "start ") << lines[i];
    EXPECT_EQ(lines[i + 1], "end " + lines[i].substr(6)) << "gates overlapped";
  }
  EXPECT_EQ(jobs.available(), 1);
}

TEST_F(RunnerTest, CancelWakesAGateWaitingForAJobToken) {
  platform::JobBudget jobs(1);
  std::optional<platform::JobBudget::Token> held = jobs.TryAcquire();  // another agent's job
  ASSERT_TRUE(held);
  std::stop_source stop;
  options_.jobs = &jobs;
  options_.cancel = stop.get_token();
  auto results = std::async(std::launch::async, [&] {
    return RunGates({MakeGate("a", "touch ran.txt")}, options_);
  });
  // Until the gate or command waits for the token (or, were it never to, has returned).
  while (jobs.waiting() == 0 &&
         results.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    std::this_thread::yield();
  }
  ASSERT_EQ(jobs.waiting(), 1);
  stop.request_stop();
  std::vector<GateResult> out = results.get();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].verdict, Verdict::kError);
  EXPECT_EQ(out[0].detail, "cancelled");
  EXPECT_FALSE(fs::exists(root_ / "ran.txt"));
  EXPECT_EQ(jobs.available(), 0);  // the held token is still the only one out
}

TEST_F(RunnerTest, FailingGateGivesFailVerdictExitCodeAndExcerpt) {
  auto results = RunGates(
      {MakeGate("build", "echo 'compiling'\necho 'src/x.c:3:1: error: boom' >&2\nexit 2")},
      options_);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].verdict, Verdict::kFail);
  EXPECT_EQ(results[0].exit_code, 2);
  EXPECT_EQ(results[0].detail, "exit 2");
  EXPECT_EQ(results[0].excerpt, "compiling\nsrc/x.c:3:1: error: boom\n");
  EXPECT_FALSE(AllPassed(results));
}

TEST_F(RunnerTest, FirstFailingLineOfAMultiLineCommandFailsTheGate) {
  auto results = RunGates({MakeGate("g", "false\ntouch reached.txt")}, options_);
  EXPECT_EQ(results[0].verdict, Verdict::kFail);
  EXPECT_FALSE(fs::exists(root_ / "reached.txt"));
}

TEST_F(RunnerTest, TimedOutGateIsAnError) {
  auto results = RunGates({MakeGate("slow", "echo started; sleep 30", milliseconds(300))}, options_);
  EXPECT_EQ(results[0].verdict, Verdict::kError);
  EXPECT_EQ(results[0].detail, "timed out after 300ms");
  EXPECT_NE(results[0].excerpt.find("started"), std::string::npos);
}

TEST_F(RunnerTest, MissingCommandAndMissingDirectoryAreErrors) {
  Gate in_missing = MakeGate("indir", "true");
  in_missing.cwd = "nope";
  auto results =
      RunGates({MakeGate("nocmd", "definitely-not-a-command-tandem"), in_missing}, options_);
  EXPECT_EQ(results[0].verdict, Verdict::kError);
  EXPECT_EQ(results[0].detail, "command not found (exit 127)");
  EXPECT_EQ(results[1].verdict, Verdict::kError);
  EXPECT_EQ(results[1].detail, "working directory 'nope' does not exist");
}

TEST_F(RunnerTest, GateRunsInItsWorkingDirectory) {
  fs::create_directories(root_ / "sub");
  std::ofstream(root_ / "sub" / "here.txt") << "x";
  Gate gate = MakeGate("sub", "test -f here.txt");
  gate.cwd = "sub";
  EXPECT_EQ(RunGates({gate}, options_)[0].verdict, Verdict::kPass);
}

TEST_F(RunnerTest, CacheHitSkipsRunningForTheSameTree) {
  InMemoryGateCache cache;
  options_.cache = &cache;
  options_.tree_hash = "tree-1";
  std::vector<Gate> gates = {MakeGate("count", "echo run >> counter.txt"),
                             MakeGate("fails", "echo run >> fail_counter.txt; exit 1")};

  auto first = RunGates(gates, options_);
  auto second = RunGates(gates, options_);
  EXPECT_EQ(LinesIn("counter.txt"), 1);
  EXPECT_EQ(LinesIn("fail_counter.txt"), 1);
  EXPECT_FALSE(first[0].cached);
  EXPECT_TRUE(second[0].cached);
  EXPECT_EQ(second[0].verdict, Verdict::kPass);
  EXPECT_TRUE(second[1].cached);
  EXPECT_EQ(second[1].verdict, Verdict::kFail);
  EXPECT_EQ(second[1].excerpt, first[1].excerpt);

  options_.tree_hash = "tree-2";  // a changed tree runs again
  RunGates(gates, options_);
  EXPECT_EQ(LinesIn("counter.txt"), 2);

  gates[0].command = "echo run >> counter.txt; true";  // an edited gate runs again
  RunGates(gates, options_);
  EXPECT_EQ(LinesIn("counter.txt"), 3);
}

TEST_F(RunnerTest, ErrorsAreNotCachedAndEmptyTreeHashDisablesTheCache) {
  InMemoryGateCache cache;
  options_.cache = &cache;
  options_.tree_hash = "tree-1";
  std::vector<Gate> gates = {MakeGate("slow", "echo run >> c.txt; sleep 30", milliseconds(200))};
  RunGates(gates, options_);
  RunGates(gates, options_);
  EXPECT_EQ(LinesIn("c.txt"), 2);
  EXPECT_EQ(cache.size(), 0u);

  options_.tree_hash.clear();
  std::vector<Gate> quick = {MakeGate("quick", "echo run >> q.txt")};
  RunGates(quick, options_);
  RunGates(quick, options_);
  EXPECT_EQ(LinesIn("q.txt"), 2);
}

TEST_F(RunnerTest, AfterWaitsForItsGateAndIsSkippedWhenItFails) {
  Gate build = MakeGate("build", "sleep 0.2; touch built.txt");
  Gate test = MakeGate("test", "test -f built.txt");
  test.after = {"build"};
  auto results = RunGates({build, test}, options_);
  EXPECT_EQ(results[1].verdict, Verdict::kPass) << results[1].detail;

  Gate broken = MakeGate("build", "exit 1");
  Gate dependent = MakeGate("test", "touch should_not_exist.txt");
  dependent.after = {"build"};
  results = RunGates({broken, dependent}, options_);
  EXPECT_EQ(results[0].verdict, Verdict::kFail);
  EXPECT_EQ(results[1].verdict, Verdict::kError);
  EXPECT_EQ(results[1].detail, "not run: gate 'build' did not pass");
  EXPECT_FALSE(fs::exists(root_ / "should_not_exist.txt"));
}

TEST_F(RunnerTest, AfterNamingAGateOutsideTheRunIsIgnored) {
  Gate test = MakeGate("test", "true");
  test.after = {"not-in-this-run"};
  EXPECT_EQ(RunGates({test}, options_)[0].verdict, Verdict::kPass);
}

TEST_F(RunnerTest, CancelledRunReportsErrorsWithoutRunning) {
  std::stop_source cancel;
  cancel.request_stop();
  options_.cancel = cancel.get_token();
  auto results = RunGates({MakeGate("a", "touch ran.txt")}, options_);
  EXPECT_EQ(results[0].verdict, Verdict::kError);
  EXPECT_EQ(results[0].detail, "cancelled");
  EXPECT_FALSE(fs::exists(root_ / "ran.txt"));
}

TEST_F(RunnerTest, OnResultIsCalledOncePerGateOnTheCallingThread) {
  std::vector<std::string> seen;
  const auto caller = std::this_thread::get_id();
  bool same_thread = true;
  options_.on_result = [&](const GateResult& r) {
    seen.push_back(r.gate);
    same_thread = same_thread && std::this_thread::get_id() == caller;
  };
  RunGates({MakeGate("a", "true"), MakeGate("b", "false"), MakeGate("c", "true")}, options_);
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(same_thread);
}

TEST_F(RunnerTest, EnvironmentIsPassedToGates) {
  options_.env["TANDEM_GATE_TEST"] = "value42";
  auto results = RunGates({MakeGate("env", "[ \"$TANDEM_GATE_TEST\" = value42 ] && [ \"$NO_COLOR\" = 1 ]")},
                          options_);
  EXPECT_EQ(results[0].verdict, Verdict::kPass);
}

TEST_F(RunnerTest, GatesGetTheChildEnvironmentNotTandemsOwn) {
  ::setenv("TANDEM_GATE_CANARY_TOKEN", "gate-env-canary-91c2", 1);
  ::setenv("TANDEM_GATE_GRANTED", "granted-value-77", 1);
  Gate plain = MakeGate("plain", "env; exit 1");
  Gate granted =
      MakeGate("granted", "[ \"$TANDEM_GATE_GRANTED\" = granted-value-77 ] && echo MATCHED; exit 1");
  granted.env = {"TANDEM_GATE_GRANTED"};
  auto results = RunGates({plain, granted}, options_);
  ::unsetenv("TANDEM_GATE_CANARY_TOKEN");
  ::unsetenv("TANDEM_GATE_GRANTED");
  EXPECT_NE(results[0].excerpt.find("PATH="), std::string::npos) << results[0].excerpt;
  EXPECT_EQ(results[0].excerpt.find("TANDEM_GATE_CANARY_TOKEN"), std::string::npos);
  EXPECT_EQ(results[0].excerpt.find("gate-env-canary-91c2"), std::string::npos);
  // Passed to the granted gate (and, removed from the other, redacted from output).
  EXPECT_NE(results[1].excerpt.find("MATCHED"), std::string::npos) << results[1].excerpt;
}

TEST_F(RunnerTest, SecretsAGatePrintsAreRedactedFromItsExcerpt) {
  Redactor::Register("gate-output-canary-3f9d");
  auto results = RunGates(
      {MakeGate("leak", "echo 'printing gate-output-canary-3f9d and ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123'; "
                        "exit 1")},
      options_);
  EXPECT_EQ(results[0].verdict, Verdict::kFail);
  EXPECT_NE(results[0].excerpt.find("printing [REDACTED] and [REDACTED]"), std::string::npos)
      << results[0].excerpt;
}

TEST_F(RunnerTest, ARefusedSandboxRunsNoGate) {
  options_.refused = "bubblewrap cannot start here";
  auto results = RunGates({MakeGate("a", "touch ran")}, options_);
  EXPECT_EQ(results[0].verdict, Verdict::kError);
  EXPECT_EQ(results[0].detail, "not run: bubblewrap cannot start here");
  EXPECT_FALSE(fs::exists(root_ / "ran"));
}

TEST_F(RunnerTest, SandboxedGatesWriteTheWorkspaceButNotGitNorTheNetwork) {
  const platform::SandboxProbe& probe = platform::ProbeSandbox();
  if (!probe.available) GTEST_SKIP() << probe.reason;
  fs::create_directories(root_ / ".git");
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const Gate net = MakeGate("net", "bash -c 'exec 3<>/dev/tcp/127.0.0.1/" +
                                       std::to_string(ntohs(addr.sin_port)) + "'");
  // Positive control: unsandboxed, the gate reaches the listener.
  EXPECT_EQ(RunGates({net}, options_)[0].verdict, Verdict::kPass);
  options_.bwrap = probe.bwrap;
  auto results = RunGates({MakeGate("build", "mkdir -p out && echo ok > out/bin"),
                           MakeGate("git", "touch .git/evil"), net},
                          options_);
  ::close(listener);
  EXPECT_EQ(results[0].verdict, Verdict::kPass) << results[0].excerpt;
  EXPECT_TRUE(fs::exists(root_ / "out/bin"));
  EXPECT_EQ(results[1].verdict, Verdict::kFail);
  EXPECT_FALSE(fs::exists(root_ / ".git/evil"));
  EXPECT_EQ(results[2].verdict, Verdict::kFail) << results[2].excerpt;
}

}  // namespace
}  // namespace tandem::verify
