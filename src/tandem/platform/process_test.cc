#include "tandem/platform/process.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

namespace tandem::platform {
namespace {

namespace fs = std::filesystem;

ProcessResult RunOk(const ProcessSpec& spec) {
  auto r = RunProcess(spec);
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  return r.has_value() ? *r : ProcessResult{};
}

ProcessSpec Argv(std::vector<std::string> argv) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  return spec;
}

ProcessSpec Shell(std::string script) { return Argv({"sh", "-c", std::move(script)}); }

fs::path MakeTempDir() {
  std::string tmpl = (fs::temp_directory_path() / "tandem_process_XXXXXX").string();
  char* made = ::mkdtemp(tmpl.data());
  EXPECT_NE(made, nullptr);
  return fs::path(tmpl);
}

// True while `pid` exists and is not a zombie (an orphan's zombie may linger
// when pid 1 of a container does not reap).
bool ProcessAlive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  auto close_paren = line.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < line.size() &&
         line[close_paren + 2] != 'Z';
}

TEST(RunProcess, ReportsExitCodeAndMergedOutput) {
  ProcessResult r = RunOk(Shell("echo out; echo err 1>&2; exit 3"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.output, "out\nerr\n");
  EXPECT_EQ(r.output_bytes, 8u);
  EXPECT_FALSE(r.timed_out);
}

TEST(RunProcess, SuccessIsOk) {
  ProcessResult r = RunOk(Argv({"true"}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.output, "");
}

TEST(RunProcess, StdinIsDevNull) {
  ProcessResult r = RunOk(Shell("cat; echo done"));
  EXPECT_EQ(r.output, "done\n");
}

// A password prompt on /dev/tty must fail at once, not stop the child until
// its timeout: the child has no controlling terminal.
TEST(RunProcess, ChildHasNoControllingTerminal) {
  ProcessResult r = RunOk(Shell("if true 2>/dev/null >/dev/tty; then echo tty; else echo no-tty; fi; "
                                "test \"$(ps -o sid= -p $$)\" -eq $$ && echo own-session"));
  EXPECT_EQ(r.output, "no-tty\nown-session\n");
}

TEST(RunProcess, ReportsSignalDeath) {
  ProcessResult r = RunOk(Shell("kill -9 $$"));
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_EQ(r.term_signal, SIGKILL);
}

TEST(RunProcess, MissingBinaryIsNotFoundWithItsName) {
  auto r = RunProcess(Argv({"definitely-not-a-command-xyz"}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
  EXPECT_NE(r.error().message().find("definitely-not-a-command-xyz"), std::string::npos);
}

TEST(RunProcess, EmptyArgvIsInvalid) {
  auto r = RunProcess(Argv({}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
}

TEST(RunProcess, MissingCwdIsNotFound) {
  ProcessSpec spec = Shell("true");
  spec.cwd = "/nonexistent/dir/for/tandem";
  auto r = RunProcess(spec);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kNotFound);
}

TEST(RunProcess, RunsInCwdWithEnvOverrides) {
  fs::path dir = MakeTempDir();
  ProcessSpec spec = Shell("pwd; echo \"$TANDEM_X\"; echo \"$HOME\"");
  spec.cwd = dir.string();
  spec.env["TANDEM_X"] = "hello";
  spec.env["HOME"] = "/nowhere";
  ProcessResult r = RunOk(spec);
  EXPECT_EQ(r.output, fs::canonical(dir).string() + "\nhello\n/nowhere\n");
  fs::remove_all(dir);
}

TEST(RunProcess, InheritsEnvironmentNotOverridden) {
  ::setenv("TANDEM_INHERITED_VAR", "kept", 1);
  ProcessResult r = RunOk(Shell("echo \"$TANDEM_INHERITED_VAR\""));
  EXPECT_EQ(r.output, "kept\n");
}

TEST(RunProcess, PathFromSpecEnvIsUsedForLookup) {
  fs::path dir = MakeTempDir();
  fs::path tool = dir / "my-tool";
  std::ofstream(tool) << "#!/bin/sh\necho from-my-tool\n";
  fs::permissions(tool, fs::perms::owner_all);
  ProcessSpec spec = Argv({"my-tool"});
  spec.env["PATH"] = dir.string() + ":/usr/bin:/bin";
  EXPECT_EQ(RunOk(spec).output, "from-my-tool\n");
  fs::remove_all(dir);
}

TEST(RunProcess, TimeoutKillsTheWholeGroup) {
  fs::path dir = MakeTempDir();
  fs::path pid_file = dir / "child.pid";
  // The shell starts a background sleep (same group), records its pid, waits.
  ProcessSpec spec = Shell("sleep 300 & echo $! > " + pid_file.string() + "; wait");
  spec.timeout = std::chrono::milliseconds(300);
  ProcessResult r = RunOk(spec);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.exit_code, -1);
  std::ifstream in(pid_file);
  pid_t child = 0;
  in >> child;
  ASSERT_GT(child, 0);
  // The sleep was killed (it may be a zombie of init briefly: give it time).
  for (int i = 0; i < 100 && ProcessAlive(child); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(ProcessAlive(child));
  fs::remove_all(dir);
}

TEST(RunProcess, TimeoutEscalatesToSigkillWhenTermIsIgnored) {
  ProcessSpec spec = Shell("trap '' TERM; echo started; sleep 30 & wait; sleep 30");
  spec.timeout = std::chrono::milliseconds(200);
  ProcessResult r = RunOk(spec);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.term_signal, SIGKILL);
  EXPECT_EQ(r.output, "started\n");
}

TEST(RunProcess, BackgroundLeftoversAreKilledWhenLeaderExits) {
  fs::path dir = MakeTempDir();
  fs::path pid_file = dir / "bg.pid";
  // The background sleep keeps stdout open; RunProcess must not wait for it.
  ProcessResult r = RunOk(Shell("sleep 300 & echo $! > " + pid_file.string() + "; echo leader"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "leader\n");
  pid_t bg = 0;
  std::ifstream(pid_file) >> bg;
  ASSERT_GT(bg, 0);
  for (int i = 0; i < 100 && ProcessAlive(bg); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(ProcessAlive(bg));
  fs::remove_all(dir);
}

TEST(RunProcess, OutputUnderLimitIsKeptWhole) {
  ProcessSpec spec = Shell("head -c 1000 /dev/zero | tr '\\0' a");
  spec.output_limit = 1000;
  ProcessResult r = RunOk(spec);
  EXPECT_EQ(r.output, std::string(1000, 'a'));
  EXPECT_EQ(r.output_bytes, 1000u);
}

TEST(RunProcess, CapsOutputKeepingHeadAndTail) {
  // 'H' * 600, 'M' * 5000, 'T' * 600 with a 1000-byte limit.
  ProcessSpec spec = Shell(
      "head -c 600 /dev/zero | tr '\\0' H; head -c 5000 /dev/zero | tr '\\0' M; "
      "head -c 600 /dev/zero | tr '\\0' T");
  spec.output_limit = 1000;
  ProcessResult r = RunOk(spec);
  EXPECT_EQ(r.output_bytes, 6200u);
  std::string expected =
      std::string(500, 'H') + "\n[... 5200 bytes omitted ...]\n" + std::string(500, 'T');
  EXPECT_EQ(r.output, expected);
}

TEST(RunProcess, TenMegabytesOfOutputStayWithinTheCap) {
  ProcessSpec spec = Shell("head -c 10485760 /dev/urandom; echo; echo THE-END");
  spec.output_limit = 64 * 1024;
  ProcessResult r = RunOk(spec);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output_bytes, 10485760u + 9u);
  EXPECT_LT(r.output.size(), 64u * 1024 + 64);
  EXPECT_NE(r.output.find("bytes omitted"), std::string::npos);
  EXPECT_EQ(r.output.substr(r.output.size() - 8), "THE-END\n");
}

TEST(RunProcess, CancelKillsTheProcess) {
  std::stop_source cancel;
  ProcessSpec spec = Shell("echo begun; sleep 300");
  spec.cancel = cancel.get_token();
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel.request_stop();
  });
  ProcessResult r = RunOk(spec);
  canceller.join();
  EXPECT_TRUE(r.cancelled);
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.output, "begun\n");
}

TEST(RunProcess, ManyConcurrentRunsDoNotShareOutput) {
  std::vector<std::thread> threads;
  std::vector<std::string> outputs(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([i, &outputs] {
      auto r = RunProcess(Argv({"sh", "-c", "echo " + std::to_string(i)}));
      if (r) outputs[i] = r->output;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(outputs[i], std::to_string(i) + "\n");
}

TEST(FindExecutable, SearchesPathInOrder) {
  EXPECT_EQ(FindExecutable("sh", "/nonexistent:/bin"), "/bin/sh");
  EXPECT_EQ(FindExecutable("sh", "/nonexistent"), "");
  EXPECT_EQ(FindExecutable("/bin/sh", ""), "/bin/sh");
}

}  // namespace
}  // namespace tandem::platform
