#include "tandem/platform/sandbox.h"

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tandem/platform/process.h"

namespace tandem::platform {
namespace {

namespace fs = std::filesystem;

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const SandboxProbe& probe = ProbeSandbox();
    if (!probe.available) GTEST_SKIP() << "no sandbox here: " << probe.reason;
    workspace_ = MakeDir("ws");
    outside_ = MakeDir("outside");
    fs::create_directories(workspace_ / ".git");
    std::ofstream(workspace_ / ".git/HEAD") << "ref: refs/heads/main\n";
  }
  void TearDown() override {
    std::error_code ec;
    if (!workspace_.empty()) fs::remove_all(workspace_, ec);
    if (!outside_.empty()) fs::remove_all(outside_, ec);
  }
  static fs::path MakeDir(const std::string& tag) {
    std::string tmpl = (fs::temp_directory_path() / ("tandem_sandbox_" + tag + "_XXXXXX")).string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    return fs::canonical(tmpl);
  }
  ProcessResult RunInside(const std::string& script) { return RunIn(workspace_, script); }
  ProcessResult RunIn(const fs::path& workspace, const std::string& script) {
    ProcessSpec spec;
    spec.argv = SandboxArgv(ProbeSandbox().bwrap, workspace.string(), "", policy_, home_,
                            {"bash", "-c", script});
    spec.timeout = std::chrono::milliseconds(20000);
    auto r = RunProcess(spec);
    EXPECT_TRUE(r.has_value());
    return r.has_value() ? *r : ProcessResult{};
  }
  static void Write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  fs::path workspace_;
  fs::path outside_;
  ChildPolicy policy_;
  std::string home_;  // hidden in the sandbox when set
};

TEST_F(SandboxTest, CanWriteInTheWorkspaceAndRunsThere) {
  ProcessResult r = RunInside("pwd && echo hello > made.txt && mkdir -p d && echo x > d/y");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, workspace_.string() + "\n");
  EXPECT_TRUE(fs::exists(workspace_ / "made.txt"));
  EXPECT_TRUE(fs::exists(workspace_ / "d/y"));
}

TEST_F(SandboxTest, CannotWriteOutsideTheWorkspace) {
  ProcessResult r = RunInside("echo x > " + (outside_ / "escaped.txt").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(fs::exists(outside_ / "escaped.txt"));
  // Next to the workspace (here in the private /tmp): never reaches the host.
  RunInside("touch " + (workspace_.parent_path() / "sibling_escape.txt").string());
  EXPECT_FALSE(fs::exists(workspace_.parent_path() / "sibling_escape.txt"));
  r = RunInside("touch /usr/local/tandem_sandbox_escape");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(fs::exists("/usr/local/tandem_sandbox_escape"));
}

TEST_F(SandboxTest, CannotWriteIntoGit) {
  ProcessResult r = RunInside("echo evil > .git/HEAD");
  EXPECT_NE(r.exit_code, 0);
  r = RunInside("touch .git/new-file");
  EXPECT_NE(r.exit_code, 0);
  std::ifstream in(workspace_ / ".git/HEAD");
  std::string head;
  std::getline(in, head);
  EXPECT_EQ(head, "ref: refs/heads/main");
  EXPECT_FALSE(fs::exists(workspace_ / ".git/new-file"));
}

TEST_F(SandboxTest, CannotWriteIntoTandem) {
  fs::create_directories(workspace_ / ".tandem");
  ProcessResult r = RunInside("echo x > .tandem/ledger.db");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(fs::exists(workspace_ / ".tandem/ledger.db"));
}

TEST_F(SandboxTest, TmpIsPrivate) {
  std::string name = "tandem_sandbox_private_" + std::to_string(::getpid());
  ProcessResult r = RunInside("echo x > /tmp/" + name + " && cat /tmp/" + name);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(fs::exists(fs::path("/tmp") / name));
}

TEST_F(SandboxTest, BlocksNetworkToALoopbackListener) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::string port = std::to_string(ntohs(addr.sin_port));
  std::string connect = "exec 3<>/dev/tcp/127.0.0.1/" + port + " && echo connected";

  // Control: the same connect works outside the sandbox.
  ProcessSpec outside;
  outside.argv = {"bash", "-c", connect};
  auto control = RunProcess(outside);
  ASSERT_TRUE(control.has_value());
  EXPECT_EQ(control->output, "connected\n");

  ProcessResult inside = RunInside(connect);
  EXPECT_NE(inside.exit_code, 0);
  EXPECT_EQ(inside.output.find("connected\n"), std::string::npos);
  ::close(fd);
}

// Pids of the processes whose argv[0] is `name` and that still run (a
// zombie's cmdline is empty, so the dead are not counted).
std::vector<pid_t> RunningAs(const std::string& name) {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::string argv0;
    if (in && std::getline(in, argv0, '\0') && argv0 == name) {
      pids.push_back(static_cast<pid_t>(std::atoi(entry.path().filename().c_str())));
    }
  }
  return pids;
}

// Waits (10 s at most) until `want` processes run as `name`.
bool WaitForCount(const std::string& name, size_t want) {
  for (int i = 0; i < 1000; ++i) {
    if (RunningAs(name).size() == want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST_F(SandboxTest, TimeoutKillsEverythingInside) {
  // Both sleeps run under a name no other process has (bash's exec -a).
  const std::string name = "tandem-sandbox-test-" + std::to_string(::getpid());
  const std::string script = "(exec -a " + name + " sleep 300) & exec -a " + name + " sleep 300";

  // Control: the name is seen while such processes run, and gone once they
  // are killed.
  ProcessSpec control;
  control.argv = {"bash", "-c", script};
  control.timeout = std::chrono::seconds(60);
  std::thread control_thread([&] { (void)RunProcess(control); });
  bool seen = WaitForCount(name, 2);
  for (pid_t pid : RunningAs(name)) ::kill(pid, SIGKILL);
  control_thread.join();
  ASSERT_TRUE(seen) << "the control's two processes were not found under their name";
  ASSERT_TRUE(WaitForCount(name, 0));

  // Inside: the script touches a marker once both sleeps run under the
  // name (their /proc cmdline), so "none left" below follows a kill, not a
  // script that never got that far.
  const fs::path marker = workspace_ / "both-running";
  const std::string inside = "(exec -a " + name + " sleep 300) & a=$!; (exec -a " + name +
                             " sleep 300) & b=$!; until grep -qa " + name + " /proc/$a/cmdline && "
                             "grep -qa " + name + " /proc/$b/cmdline; do :; done; touch " +
                             marker.string() + "; wait";
  ProcessSpec spec;
  spec.argv = SandboxArgv(ProbeSandbox().bwrap, workspace_.string(), "", {}, "",
                          {"bash", "-c", inside});
  spec.timeout = std::chrono::milliseconds(2000);
  auto r = RunProcess(spec);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->timed_out);
  ASSERT_TRUE(fs::exists(marker)) << "the sandboxed sleeps never both ran: " << r->output;
  EXPECT_TRUE(WaitForCount(name, 0))
      << RunningAs(name).size() << " process(es) outlived the timeout";
}

TEST_F(SandboxTest, HomeIsHiddenButToolchainDirsStayReadable) {
  home_ = outside_.string();
  Write(outside_ / "notes.txt", "home-canary-notes");
  Write(outside_ / ".cargo/bin/tool", "toolchain-visible");
  policy_.home_dirs = {".cargo"};
  ProcessResult r = RunInside("cat " + home_ + "/.cargo/bin/tool; cat " + home_ + "/notes.txt");
  EXPECT_NE(r.output.find("toolchain-visible"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("home-canary-notes"), std::string::npos) << r.output;
  // The toolchain directory is read-only.
  r = RunInside("touch " + home_ + "/.cargo/new");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(fs::exists(outside_ / ".cargo/new"));
}

TEST_F(SandboxTest, CredentialPathsStayHiddenInsideAllowedDirsAndTheWorkspace) {
  // The workspace lies under the home, and a toolchain dir holds a credential.
  home_ = outside_.string();
  const fs::path repo = outside_ / "src/repo";
  fs::create_directories(repo);
  Write(outside_ / ".cargo/credentials.toml", "cargo-canary-token");
  Write(outside_ / ".cargo/env", "cargo-env-visible");
  Write(outside_ / ".aws/credentials", "aws-canary-secret");
  policy_.home_dirs = {".cargo", ".aws"};  // even when named: credentials stay hidden
  ProcessResult r = RunIn(repo, "echo x > made; cat " + home_ + "/.cargo/env " + home_ +
                                    "/.cargo/credentials.toml " + home_ + "/.aws/credentials");
  EXPECT_NE(r.output.find("cargo-env-visible"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("cargo-canary-token"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("aws-canary-secret"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(repo / "made"));

  // A repository that is the home itself: its ~/.ssh is still masked.
  home_ = workspace_.string();
  Write(workspace_ / ".ssh/id_ed25519", "ssh-canary-key");
  Write(workspace_ / ".netrc", "machine x password netrc-canary");
  r = RunInside("cat .ssh/id_ed25519 .netrc; ls -a .ssh");
  EXPECT_EQ(r.output.find("ssh-canary-key"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("netrc-canary"), std::string::npos) << r.output;
  // Masked, not destroyed.
  EXPECT_TRUE(fs::exists(workspace_ / ".ssh/id_ed25519"));
}

// A program its user configured (an MCP server) may live where the sandbox
// hides the rest: under /tmp (a clone of tandem there, say) or in the home.
// Its own files are shown, read-only; what lies next to them is not.
TEST_F(SandboxTest, AProgramsOwnFilesUnderTmpAndTheHomeAreShownReadOnlyAndNothingNextToThem) {
  std::string tmpl = "/tmp/tandem_program_XXXXXX";  // /tmp itself, whatever TMPDIR says
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  const fs::path server = dir / "server.sh";
  Write(server, "echo server-under-tmp-ran\n");
  Write(dir / "neighbour.txt", "tmp-neighbour-canary");
  home_ = outside_.string();
  const fs::path helper = outside_ / "tools/helper.sh";
  Write(helper, "echo helper-in-home-ran\n");
  Write(outside_ / "tools/other.txt", "home-neighbour-canary");
  auto files = ProgramFiles({"bash", server.string(), "--mode", helper.string()},
                            "/usr/bin:/bin", home_);
  ASSERT_TRUE(files.has_value()) << files.error().message();
  policy_.program_files = *files;

  ProcessResult r = RunInside("bash " + server.string() + "; bash " + helper.string() + "; cat " +
                              (dir / "neighbour.txt").string() + " " +
                              (outside_ / "tools/other.txt").string() + "; echo x >> " +
                              server.string() + " || echo write-refused");
  EXPECT_NE(r.output.find("server-under-tmp-ran"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("helper-in-home-ran"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("tmp-neighbour-canary"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("home-neighbour-canary"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("write-refused"), std::string::npos) << r.output;
  std::ifstream in(server);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "echo server-under-tmp-ran\n");
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(ProgramFiles, AreTheProgramOnThePathAndTheFilesItsArgumentsName) {
  std::string tmpl = (fs::temp_directory_path() / "tandem_program_files_XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path dir = tmpl;
  std::ofstream(dir / "server.js") << "// a server\n";
  auto files = ProgramFiles({"sh", (dir / "server.js").string(), "relative.js", "/no/such/file",
                             dir.string()},
                            "/usr/bin:/bin", "");
  ASSERT_TRUE(files.has_value()) << files.error().message();
  EXPECT_EQ(*files, (std::vector<std::string>{FindExecutable("sh", "/usr/bin:/bin"),
                                              (dir / "server.js").string()}));
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(ProgramFiles, AFileInACredentialPathIsRefusedByNameEvenThroughALink) {
  std::string tmpl = (fs::temp_directory_path() / "tandem_program_home_XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const fs::path home = tmpl;
  fs::create_directories(home / ".ssh");
  std::ofstream(home / ".ssh/server.js") << "// not a server\n";
  fs::create_symlink(home / ".ssh/server.js", home / "innocent.js");

  for (const fs::path& named : {home / ".ssh/server.js", home / "innocent.js"}) {
    auto files = ProgramFiles({"node", named.string()}, "/usr/bin:/bin", home.string());
    ASSERT_FALSE(files.has_value()) << named;
    EXPECT_EQ(files.error().code(), StatusCode::kPermissionDenied);
    EXPECT_NE(files.error().message().find(named.string() + " is in " + (home / ".ssh").string() +
                                           ", a credential path the sandbox never shows"),
              std::string::npos)
        << files.error().message();
  }
  std::error_code ec;
  fs::remove_all(home, ec);
}

TEST_F(SandboxTest, ProcOneEnvironShowsOnlyTheChildEnvironment) {
  ::setenv("TANDEM_TEST_CANARY_TOKEN", "proc-environ-canary-5b1e", 1);
  ProcessSpec spec;
  ConfineProcess(ProbeSandbox().bwrap, {}, workspace_.string(), "",
                 {"bash", "-c", "tr '\\0' '\\n' < /proc/1/environ; echo; env"}, {{"EXTRA", "1"}},
                 &spec);
  spec.timeout = std::chrono::milliseconds(20000);
  auto r = RunProcess(spec);
  ::unsetenv("TANDEM_TEST_CANARY_TOKEN");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->exit_code, 0) << r->output;
  EXPECT_NE(r->output.find("PATH="), std::string::npos) << r->output;
  EXPECT_NE(r->output.find("EXTRA=1"), std::string::npos) << r->output;
  EXPECT_EQ(r->output.find("proc-environ-canary-5b1e"), std::string::npos) << r->output;
  EXPECT_EQ(r->output.find("TANDEM_TEST_CANARY_TOKEN"), std::string::npos) << r->output;
}

TEST_F(SandboxTest, NetworkIsReachableOnlyWhenGranted) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string connect =
      "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(ntohs(addr.sin_port)) + " && echo connected";
  EXPECT_EQ(RunInside(connect).output.find("connected\n"), std::string::npos);
  policy_.network = true;
  EXPECT_NE(RunInside(connect).output.find("connected\n"), std::string::npos);
  ::close(fd);
}

TEST(SandboxProbe, MissingBinaryIsReportedWithAReason) {
  SandboxProbe p = ProbeSandboxWith("/nonexistent/bwrap");
  EXPECT_FALSE(p.available);
  EXPECT_NE(p.reason.find("not installed"), std::string::npos) << p.reason;
}

TEST(SandboxProbe, FailingBinaryIsReportedWithItsOutput) {
  SandboxProbe p = ProbeSandboxWith("/bin/false");
  EXPECT_FALSE(p.available);
  EXPECT_NE(p.reason.find("cannot start"), std::string::npos) << p.reason;
}

}  // namespace
}  // namespace tandem::platform
