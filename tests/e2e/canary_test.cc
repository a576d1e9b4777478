// Canaries: secrets planted in tandem's environment and in a fake home, then
// hunted for by the model's commands and by gates (docs/GUARDRAILS.md, the
// roads a secret could take). Each test names the road it closes. Skipped,
// with the reason, where bubblewrap cannot start.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "tests/e2e/canary_helpers.h"
#include "tests/e2e/e2e_fixture.h"
#include "tests/e2e/orchestrator_helpers.h"

namespace tandem::e2e {
namespace {

// Names and values a careless orchestrator would hand over. Values that a
// key pattern would catch, and ones no pattern can (only the scrub can).
constexpr char kGithubToken[] = "ghp_CanaryGithub0123456789abcdefABCDEF01";
constexpr char kAwsSecret[] = "aws-canary-9f8e7d6c5b4a";
constexpr char kDatabaseUrl[] = "postgres://app:db-canary-pw-4471@db.internal:5432/app";
constexpr char kPlain[] = "plain-canary-value-0c1d";
constexpr char kSshKey[] = "ssh-canary-private-key-77aa";
constexpr char kAwsFile[] = "aws-file-canary-51bb";
constexpr char kCargoCred[] = "cargo-canary-token-e3f0";

bool ConnectsFromHere(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

class CanaryTest : public E2eTest {
 protected:
  void SetUp() override {
    if (std::system("bwrap --ro-bind / / --dev /dev --proc /proc --unshare-net true "
                    ">/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "bubblewrap cannot start on this machine";
    }
    home_ = OutsidePath("home");
    Plant(".ssh/id_ed25519", kSshKey);
    Plant(".aws/credentials", std::string("[default]\naws_secret_access_key = ") + kAwsFile);
    Plant(".cargo/credentials.toml", std::string("token = \"") + kCargoCred + "\"");
    Plant(".cargo/bin/cargo-tool", "toolchain-visible");
  }
  void Plant(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(home_ + "/" + rel).parent_path());
    std::string path = home_ + "/" + rel;
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(text.c_str(), f);
    std::fclose(f);
  }
  // tandem's environment: the canaries and the fake home.
  std::map<std::string, std::string> Env() const {
    return {{"HOME", home_},           {"GITHUB_TOKEN", kGithubToken},
            {"AWS_SECRET_ACCESS_KEY", kAwsSecret}, {"DATABASE_URL", kDatabaseUrl},
            {"PLAIN_CANARY", kPlain}};
  }
  // No canary value anywhere tandem writes or sends text.
  void ExpectNoCanaryLeft(const TandemRun& run) {
    std::string requests;
    for (const auto& r : Requests()) requests += r["body"].dump();
    const std::string ledger = DirBytes(std::filesystem::path(LedgerPath()).parent_path());
    const std::string progress = ReadFile("progress.md");
    for (const char* canary : {kGithubToken, kAwsSecret, "db-canary-pw-4471", kPlain, kSshKey,
                               kAwsFile, kCargoCred}) {
      EXPECT_EQ(requests.find(canary), std::string::npos) << canary << " reached the model";
      EXPECT_EQ(run.out.find(canary), std::string::npos) << canary << " in events";
      EXPECT_EQ(run.err.find(canary), std::string::npos) << canary << " on stderr";
      EXPECT_EQ(ledger.find(canary), std::string::npos) << canary << " in tandem's state (the ledger)";
      EXPECT_EQ(progress.find(canary), std::string::npos) << canary << " in progress.md";
    }
  }
  // A repository whose verify.md has a plain gate 'unit' and, on line 8, the
  // gate 'it' (GrantedGate) with both grants (kGrants).
  void MakeGrantedRepo(int port);
  std::string home_;
};

// A gate that uses both grants: it connects to `port`, prints the granted
// secret, checks its value (by a part, so the gate's text holds no canary),
// and fails while bad.txt exists.
std::string GrantedGate(int port) {
  return "bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) +
         "' && echo \"secret is $AWS_SECRET_ACCESS_KEY\" && "
         "[ \"${AWS_SECRET_ACCESS_KEY%-*}\" = aws-canary ] && echo 'value matches' && "
         "[ ! -f bad.txt ]";
}
constexpr char kGrants[] = "each step, timeout 30s, network, env AWS_SECRET_ACCESS_KEY";

void CanaryTest::MakeGrantedRepo(int port) {
  WriteFile("README.md", "# sample\n");
  WriteVerifyMd({{"unit", "true"}, {"it", GrantedGate(port), kGrants}});
  CommitAll();
}

// Roads: the command's environment, /proc/*/environ (bwrap is PID 1 inside).
// Written to workspace files, so redaction cannot hide a leak.
TEST_F(CanaryTest, CommandsAndProcEnvironSeeNoCanary) {
  MakePassingRepo();
  StartServer(Script({
      Turn(0, {Call("run_command",
                    {{"command",
                      "env > env.txt; for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $f; "
                      "done > proc.txt; echo written"}})}),
      Finish(1),
  }));

  TandemRun run = Do("look around", {}, Env());

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  const std::string env = ReadFile("env.txt");
  const std::string proc = ReadFile("proc.txt");
  EXPECT_NE(env.find("PATH="), std::string::npos) << env;
  EXPECT_NE(proc.find("PATH="), std::string::npos) << proc;
  for (const std::string& text : {env, proc}) {
    for (const char* leak : {"GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "DATABASE_URL",
                             "PLAIN_CANARY", kGithubToken, kAwsSecret, kPlain}) {
      EXPECT_EQ(text.find(leak), std::string::npos) << leak << " in\n" << text;
    }
  }
}

// Road: command output. A command that finds a removed value some other way
// (here a file) prints it; the model, events, the ledger and progress.md get
// it redacted.
TEST_F(CanaryTest, ARemovedValueACommandPrintsIsRedactedEverywhere) {
  MakePassingRepo();
  WriteFile("found.txt", std::string("found ") + kPlain + " and " + kAwsSecret + " and " +
                             kDatabaseUrl + "\n");
  StartServer(Script({
      Turn(0, {Call("run_command", {{"command", "cat found.txt; exit 3"}})}),
      Finish(1),
  }));

  TandemRun run = Do("print it", {}, Env());

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  auto results = LastRequestToolResults();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_NE(results[0].find("found [REDACTED] and [REDACTED] and [REDACTED]"), std::string::npos)
      << results[0];
  ExpectNoCanaryLeft(run);
}

// Road: command output, encoded. A command (or a model) that has a removed
// value prints it as base64 (wrapped at 76 columns, as `base64` does; one and
// two bytes in, the other two alignments; URL-safe) or as hex: the model,
// events, the ledger and progress.md get none of those encodings.
TEST_F(CanaryTest, ARemovedValueACommandPrintsEncodedIsRedactedEverywhere) {
  MakePassingRepo();
  WriteFile("found.txt",
            std::string("found ") + kPlain + " and " + kAwsSecret + " in the old config\n");
  const std::string command =
      "base64 found.txt; printf x | cat - found.txt | base64 -w0; echo; "
      "printf xy | cat - found.txt | base64 -w0 | tr '+/' '-_'; echo; "
      "od -An -tx1 found.txt | tr -d ' \\n'; echo";
  StartServer(Script({
      Turn(0, {Call("run_command", {{"command", command}})}),
      Finish(1),
  }));

  TandemRun run = Do("print it encoded", {}, Env());

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  // What the command printed, produced here the same way.
  std::string printed;
  {
    FILE* p = ::popen(("cd '" + root() + "' && { " + command + "; }").c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) printed.append(buf, n);
    ::pclose(p);
  }
  std::vector<std::string> lines;
  for (size_t at = 0, end; at < printed.size(); at = end + 1) {
    end = printed.find('\n', at);
    if (end == std::string::npos) end = printed.size();
    if (end - at >= 16) lines.push_back(printed.substr(at, end - at));
  }
  ASSERT_EQ(lines.size(), 5u) << "two wrapped base64 lines, two unwrapped, one of hex:\n" << printed;
  auto results = LastRequestToolResults();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_NE(results[0].find("[REDACTED]"), std::string::npos) << results[0];
  std::string requests;
  for (const auto& r : Requests()) requests += r["body"].dump();
  const std::string ledger = DirBytes(std::filesystem::path(LedgerPath()).parent_path());
  for (const std::string& line : lines) {
    EXPECT_EQ(results[0].find(line), std::string::npos) << line << " reached the model";
    EXPECT_EQ(requests.find(line), std::string::npos) << line << " reached the model";
    EXPECT_EQ(run.out.find(line), std::string::npos) << line << " in events";
    EXPECT_EQ(ledger.find(line), std::string::npos) << line << " in the ledger";
    EXPECT_EQ(ReadFile("progress.md").find(line), std::string::npos) << line << " in progress.md";
  }
  ExpectNoCanaryLeft(run);
}

// Roads: the terminal (no --json), progress.md, the ledger and every request
// (the planner's re-plan prompt holds the failed attempt's diff) of a
// `tandem run` whose command copies a file that holds removed values into
// the tree, and whose gate prints them and fails.
TEST_F(CanaryTest, AFailedPlanTaskLeavesNoCanaryInTheTerminalProgressLedgerOrReplan) {
  MakePassingRepo();
  WriteFile("found.txt", std::string("found ") + kPlain + " and " + kAwsSecret + "\n");
  WriteVerifyMd({{"check", "cat found.txt; exit 1"}});
  WriteFile("plan.md", "# Plan: leak\n\n- [ ] T1: Leak\n  - do: Copy found.txt\n");
  CommitAll();
  StartServer(Script({
      ReplanTurn("ESCALATE: needs the slow tier"),
      Turn(0, {Call("run_command", {{"command", "cp found.txt leak.txt && cat found.txt"}})}),
      Finish(kAnyTurn),
  }), "\n[limits]\nstep_retries = 0\n");

  TandemRun run = RunTandem({"run"}, Env());

  EXPECT_NE(run.exit_code, 0) << run.Describe();
  EXPECT_NE(ReadFile("progress.md").find("T1"), std::string::npos) << ReadFile("progress.md");
  bool replanned = false;
  for (const auto& r : Requests()) {
    std::string body = r["body"].dump();
    if (body.find("Its best attempt (diff)") == std::string::npos) continue;
    replanned = true;
    EXPECT_NE(body.find("+found [REDACTED] and [REDACTED]"), std::string::npos) << body;
  }
  EXPECT_TRUE(replanned) << "positive control: the planner saw the failed attempt's diff";
  ExpectNoCanaryLeft(run);
}

// Road: credential files. The home is hidden but for toolchain directories,
// and credentials inside those stay hidden.
TEST_F(CanaryTest, CommandsCannotReadCredentialFilesInTheHome) {
  MakePassingRepo();
  std::string command = "cat ~/.ssh/id_ed25519 ~/.aws/credentials ~/.cargo/credentials.toml "
                        "~/.cargo/bin/cargo-tool > creds.txt 2>&1; echo ok";
  StartServer(Script({Turn(0, {Call("run_command", {{"command", command}})}), Finish(1)}));

  TandemRun run = Do("read credentials", {}, Env());

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  const std::string creds = ReadFile("creds.txt");
  EXPECT_NE(creds.find("toolchain-visible"), std::string::npos) << creds;
  for (const char* canary : {kSshKey, kAwsFile, kCargoCred}) {
    EXPECT_EQ(creds.find(canary), std::string::npos) << canary << " in\n" << creds;
  }
}

// Roads: a gate's environment, its network, its reach into the home, its
// output. The gate is the user's, but runs what the model wrote (check.sh).
TEST_F(CanaryTest, AGateIsContainedAndItsOutputRedacted) {
  LoopbackListener listener;
  ASSERT_TRUE(listener.ok());
  ASSERT_TRUE(ConnectsFromHere(listener.port())) << "positive control: the listener is reachable";
  ASSERT_TRUE(listener.Accepted());
  MakePassingRepo();
  StartServer(Script({
      Turn(0, {Call("write_file",
                    {{"path", "check.sh"},
                     {"content", "#!/bin/sh\nenv\ncat \"$HOME/.aws/credentials\" "
                                 "\"$HOME/.ssh/id_ed25519\"\nbash -c 'exec 3<>/dev/tcp/127.0.0.1/" +
                                     std::to_string(listener.port()) +
                                     "' && echo NET-CONNECTED\ncat found.txt\nexit 1\n"}})}),
      Finish(kAnyTurn),
  }));
  WriteFile("found.txt", std::string("gate found ") + kPlain + "\n");

  TandemRun run = Do("break the gate", {"--set", "limits.step_retries=1"}, Env());

  // The step failed its gate and was rolled back (the retry then finishes).
  ASSERT_FALSE(run.Events("step_rolled_back").empty()) << run.Describe();
  EXPECT_FALSE(listener.Accepted()) << "the gate reached the network";
  std::string excerpts;
  for (const auto& g : run.Events("gate_finished")) excerpts += g.value("excerpt", "");
  EXPECT_NE(excerpts.find("PATH="), std::string::npos) << excerpts;
  EXPECT_NE(excerpts.find("gate found [REDACTED]"), std::string::npos) << excerpts;
  for (const char* leak : {"GITHUB_TOKEN", "DATABASE_URL", "PLAIN_CANARY", "NET-CONNECTED"}) {
    EXPECT_EQ(excerpts.find(leak), std::string::npos) << leak << " in\n" << excerpts;
  }
  ExpectNoCanaryLeft(run);
}

// A repository's verify.md that grants its gate the network and a secret is
// refused before anything runs, naming the grant, the file and line, and the
// command that trusts it; `tandem doctor` says so too.
TEST_F(CanaryTest, AnUntrustedGrantInVerifyMdIsRefusedBeforeAnythingRuns) {
  LoopbackListener listener;
  ASSERT_TRUE(listener.ok());
  MakeGrantedRepo(listener.port());
  StartServer(Script({Turn(0, {Call("write_file", {{"path", "out.txt"}, {"content", "x\n"}})}),
                      Finish(1)}));

  TandemRun run = Do("use the grant", {}, Env());

  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  const std::string at = root() + "/verify.md:8: gate 'it': ";
  EXPECT_NE(run.err.find(at + "network: "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(at + "env AWS_SECRET_ACCESS_KEY: "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("run `tandem trust`"), std::string::npos) << run.err;
  EXPECT_TRUE(run.Events("run_started").empty()) << run.Describe();
  EXPECT_TRUE(Requests().empty()) << "tandem called the model before refusing";
  EXPECT_FALSE(listener.Accepted()) << "the untrusted gate reached the network";
  EXPECT_FALSE(Exists("out.txt"));
  EXPECT_FALSE(std::filesystem::exists(LedgerPath())) << "refused, yet something was written";
  ExpectNoCanaryLeft(run);

  TandemRun doctor = RunTandem({"doctor"}, Env());
  EXPECT_EQ(doctor.exit_code, 2) << doctor.Describe();
  EXPECT_NE(doctor.out.find("verify.md grants: not trusted: gate 'it': network (line 8), gate "
                            "'it': env AWS_SECRET_ACCESS_KEY (line 8)"),
            std::string::npos)
      << doctor.out;
}

// Trusted, the grant widens the gate (the network, the variable's value), and
// tandem says so; the value the gate prints still reaches nobody.
TEST_F(CanaryTest, ATrustedGrantWidensTheGateIsAnnouncedAndItsValueStaysRedacted) {
  LoopbackListener listener;
  ASSERT_TRUE(listener.ok());
  MakeGrantedRepo(listener.port());
  StartServer(Script({
      Turn(0, {Call("write_file", {{"path", "bad.txt"}, {"content", "x\n"}})}),
      Finish(kAnyTurn),
  }));

  TandemRun trust = RunTandem({"trust"}, Env());
  ASSERT_EQ(trust.exit_code, 0) << trust.Describe();
  EXPECT_NE(trust.out.find(root() + "/verify.md:8: gate 'it': network, env AWS_SECRET_ACCESS_KEY"),
            std::string::npos)
      << trust.out;
  EXPECT_NE(trust.out.find("echo \"secret is $AWS_SECRET_ACCESS_KEY\""), std::string::npos)
      << "trust shows the command that runs with the grant:\n" << trust.out;
  EXPECT_NE(RunTandem({"doctor"}, Env()).out.find("verify.md grants: trusted"), std::string::npos);

  TandemRun run = Do("use the grant", {"--set", "limits.step_retries=1"}, Env());

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_TRUE(listener.Accepted()) << "the trusted network grant did not take effect";
  EXPECT_TRUE(run.HasNotice(
      "gate 'it' runs with the network, $AWS_SECRET_ACCESS_KEY (granted in verify.md)"))
      << run.Describe();
  // The first step failed the gate (bad.txt), whose output printed the value.
  std::string excerpts;
  for (const auto& g : run.Events("gate_finished")) excerpts += g.value("excerpt", "");
  EXPECT_NE(excerpts.find("secret is [REDACTED]"), std::string::npos) << excerpts;
  EXPECT_NE(excerpts.find("value matches"), std::string::npos) << excerpts;
  ExpectNoCanaryLeft(run);
}

// Trust covers what runs with a grant: a new grant, or a changed command of
// a granted gate, asks again.
TEST_F(CanaryTest, AChangedGrantOrGrantedCommandAsksAgain) {
  LoopbackListener listener;
  ASSERT_TRUE(listener.ok());
  MakeGrantedRepo(listener.port());
  StartServer(Script({Turn(0, {Call("write_file", {{"path", "out.txt"}, {"content", "x\n"}})}),
                      Finish(kAnyTurn)}));
  ASSERT_EQ(RunTandem({"trust"}, Env()).exit_code, 0);

  WriteVerifyMd({{"unit", "true"},
                 {"it", GrantedGate(listener.port()), kGrants + std::string(", env GITHUB_TOKEN")}});
  TandemRun granted_more = Do("more", {}, Env());
  EXPECT_EQ(granted_more.exit_code, 2) << granted_more.Describe();
  EXPECT_NE(granted_more.err.find("changed since you trusted them"), std::string::npos)
      << granted_more.err;
  EXPECT_NE(granted_more.err.find("verify.md:8: gate 'it': env GITHUB_TOKEN: "), std::string::npos)
      << granted_more.err;

  WriteVerifyMd({{"unit", "true"},
                 {"it", GrantedGate(listener.port()) + " && cat /dev/null", kGrants}});
  TandemRun other_command = Do("other", {}, Env());
  EXPECT_EQ(other_command.exit_code, 2) << other_command.Describe();
  EXPECT_TRUE(Requests().empty()) << "tandem called the model with a changed grant";
  EXPECT_FALSE(listener.Accepted());

  // A change to a gate without grants needs no new trust.
  WriteVerifyMd({{"unit", "true && true"}, {"it", GrantedGate(listener.port()), kGrants}});
  TandemRun unchanged = Do("same grants", {}, Env());
  EXPECT_EQ(unchanged.exit_code, 0) << unchanged.Describe();
  ExpectNoCanaryLeft(unchanged);
}

// A model's edit to verify.md never takes effect in the run that made it.
TEST_F(CanaryTest, AModelsEditToVerifyMdDoesNotGrantTheNetworkInItsRun) {
  LoopbackListener listener;
  ASSERT_TRUE(listener.ok());
  WriteFile("README.md", "# sample\n");
  const std::string gate =
      "bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(listener.port()) + "' && echo NET-CONNECTED";
  WriteVerifyMd({{"net", gate}});
  CommitAll();
  const std::string granted = "# Verify\n\n## net (each step, timeout 30s, network)\n```sh\n" +
                              gate + "\n```\n";
  StartServer(Script({
      Turn(0, {Call("write_file", {{"path", "verify.md"}, {"content", granted}})}),
      Finish(kAnyTurn),
  }));

  TandemRun run = Do("grant myself the network", {"--set", "limits.step_retries=1"}, Env());

  EXPECT_EQ(run.exit_code, 1) << run.Describe();
  EXPECT_FALSE(listener.Accepted()) << "the model's own grant took effect";
  EXPECT_FALSE(run.HasNotice("runs with the network")) << run.Describe();
}

}  // namespace
}  // namespace tandem::e2e
