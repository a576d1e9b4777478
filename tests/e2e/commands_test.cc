// Commands and wires through the real binary against the model server:
// `tandem ask` (a streamed reply and its timing/cost line), `tandem doctor`'s
// discovery of a local OpenAI-compatible server on its default port, the
// gate cache across runs, and `tandem do` over the Anthropic wire.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <regex>

#include "tests/e2e/e2e_fixture.h"

namespace tandem::e2e {
namespace {

using nlohmann::json;

class CommandsTest : public E2eTest {
 protected:
  // A config with one provider on the running server, its model priced so
  // a cost shows; `wire` is "openai" or "anthropic".
  void WriteProviderConfig(const std::string& wire, const std::string& key_env = "") {
    std::string toml = "[providers.local]\nwire = \"" + wire + "\"\nbase_url = \"" +
                       server().base_url() + "\"\n";
    if (!key_env.empty()) toml += "api_key_env = \"" + key_env + "\"\n";
    toml +=
        "\n[models.scripted]\nprovider = \"local\"\nid = \"scripted-model\"\n"
        "price_input = 10\nprice_output = 20\n"
        "\n[roles]\nexecutor = \"scripted\"\nplanner = \"scripted\"\nreviewer = \"scripted\"\n";
    WriteUserConfig(toml);
  }

  bool Exited(pid_t pid) {
    siginfo_t info{};
    return ::waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
  }

  // The process's stdout once it contains `text` (inotify on the file's
  // directory: woken by its creation, each write and its closing when the
  // process exits), or what it holds when the process exited first or
  // `timeout` passed.
  std::string WaitForOutput(const TandemProcess& process, const std::string& text,
                            std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::string out;
    std::string dir = process.out_path.substr(0, process.out_path.rfind('/'));
    WaitForInotify(dir, IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE, [&] {
      out = Slurp(process.out_path);
      return out.find(text) != std::string::npos || Exited(process.pid);
    }, timeout);
    return out;
  }
};

TEST_F(CommandsTest, AskStreamsTheReplyThenATimingAndCostLine) {
  MakePassingRepo();
  std::string text = "First words arrive early.";
  for (int i = 0; i < 60; ++i) text += " more" + std::to_string(i);
  text += " LAST-WORD";
  json script = Script({Turn(kAnyTurn, {}, text)});
  script["tokens_per_second"] = 40;  // a stream of about four seconds
  StartServer(script);
  WriteProviderConfig("openai");

  TandemProcess process = SpawnTandem({"ask", "say something"});
  // The first words are on stdout while the reply still streams.
  std::string early = WaitForOutput(process, "First words");
  TandemRun run = WaitTandem(process);
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(early.find("First words"), std::string::npos) << run.out;
  EXPECT_EQ(early.find("LAST-WORD"), std::string::npos) << "the reply was not streamed: " << early;

  ASSERT_EQ(run.out.rfind(text, 0), 0u) << run.out;
  std::smatch m;
  const std::regex line(
      "\n(\\S+) · ttft [0-9.]+ m?s · ([0-9]+) tok/s · ([0-9]+) in / ([0-9]+) out / ([0-9]+) "
      "cached · \\$([0-9.]+)\n$");
  ASSERT_TRUE(std::regex_search(run.out, m, line)) << run.out;
  EXPECT_EQ(m[1], "scripted");
  EXPECT_GT(std::stoi(m[2]), 0);
  const int in = std::stoi(m[3]), out = std::stoi(m[4]);
  EXPECT_GT(in, 0);
  EXPECT_GT(out, 60);
  // $10 and $20 per million tokens in and out, shown to 4 decimals.
  EXPECT_NEAR(std::stod(m[6]), in * 10e-6 + out * 20e-6, 0.00006) << run.out;
  ASSERT_EQ(Requests().size(), 1u);
  EXPECT_NE(Requests()[0]["body"].dump().find("say something"), std::string::npos);
}

TEST_F(CommandsTest, DoctorDiscoversALocalServerOnItsDefaultPort) {
  // llama.cpp's default port, 127.0.0.1:8080, in a network namespace of its
  // own (bubblewrap) so no other server on the machine is seen or disturbed.
  std::string bwrap = "/usr/bin/bwrap";
  if (::access(bwrap.c_str(), X_OK) != 0) GTEST_SKIP() << "no bubblewrap";
  WriteFile(OutsidePath("script.json"), json(Script({Turn(kAnyTurn, {}, "hi")})).dump());
  const std::string bin = TANDEM_BINARY_DIR;
  WriteFile(OutsidePath("doctor.sh"),
            "'" + bin + "/tests/model_server/tandem-model-server' --script '" +
                OutsidePath("script.json") + "' --port 8080 > '" + OutsidePath("server.out") +
                "' 2>&1 &\n"
                "for i in $(seq 1000); do grep -q listening '" + OutsidePath("server.out") +
                "' && break; sleep 0.01; done\n"
                "'" + bin + "/tandem' doctor\necho \"exit=$?\"\nkill $!\n");
  const std::string command = "cd '" + root() + "' && env -i PATH=/usr/bin:/bin HOME='" +
                              OutsidePath("home") + "' XDG_CONFIG_HOME='" + OutsidePath("xdg") +
                              "' " + bwrap +
                              " --unshare-net --die-with-parent --dev-bind / / sh '" +
                              OutsidePath("doctor.sh") + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  ::pclose(pipe);

  EXPECT_NE(out.find("exit=0"), std::string::npos) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("ok +llama.cpp server +http://127.0.0.1:8080/v1 "
                                                "\\(1 models\\)")))
      << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("-- +Ollama +http://127.0.0.1:11434/v1")))
      << out;
  // With no key and no configuration, every role runs on the model found.
  EXPECT_TRUE(std::regex_search(out, std::regex("ok +executor +llamacpp/scripted-model")))
      << out;
}

TEST_F(CommandsTest, GateVerdictIsReusedForTheSameTreeInALaterRun) {
  MakePassingRepo();
  auto script = [](const std::string& content) {
    return Script({Turn(0, {Call("write_file", {{"path", "a.txt"}, {"content", content}})}),
                   Finish(1)});
  };
  auto gates = [](const TandemRun& run, bool cached) {
    int n = 0;
    for (const json& g : run.Events("gate_finished")) n += g.value("cached", !cached) == cached;
    return n;
  };
  StartServer(script("same\n"));
  TandemRun first = Do("write a.txt");
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  // Run at the write; the end-of-task gate, on the same tree, is cached.
  ASSERT_GT(gates(first, false), 0) << first.Describe();
  TandemRun undo = RunTandem({"undo"});
  ASSERT_EQ(undo.exit_code, 0) << undo.Describe();
  ASSERT_FALSE(Exists("a.txt"));

  // The same change again: the same tree, so the verdict comes from the
  // ledger and the gate does not run.
  StartServer(script("same\n"));
  TandemRun second = Do("write a.txt");
  ASSERT_EQ(second.exit_code, 0) << second.Describe();
  EXPECT_EQ(gates(second, false), 0) << second.Describe();
  EXPECT_EQ(gates(second, true), gates(first, false) + gates(first, true)) << second.Describe();
  EXPECT_EQ(LedgerValue("SELECT group_concat(DISTINCT verdict) FROM gate_runs WHERE run_id = '" +
                        second.RunId() + "'"),
            "cached");
  EXPECT_EQ(LedgerValue("SELECT count(*) FROM gate_runs WHERE run_id = '" + first.RunId() +
                        "' AND verdict = 'pass'"),
            std::to_string(gates(first, false)));
  ASSERT_EQ(RunTandem({"undo"}).exit_code, 0);

  // A different tree runs the gate again.
  StartServer(script("different\n"));
  TandemRun third = Do("write a.txt");
  ASSERT_EQ(third.exit_code, 0) << third.Describe();
  EXPECT_EQ(gates(third, false), gates(first, false)) << third.Describe();
}

TEST_F(CommandsTest, DoOverTheAnthropicWire) {
  MakePassingRepo();
  const std::string key = "sk-ant-e2e-0123456789abcdef";
  json write = Call("write_file", {{"path", "a.txt"}, {"content", "via claude\n"}});
  StartServer(Script({Turn(0, {write}, "Writing it."), Finish(1, "wrote a.txt")}), "", key);
  WriteProviderConfig("anthropic", "E2E_ANTHROPIC_KEY");

  TandemRun run = Do("write a.txt", {}, {{"E2E_ANTHROPIC_KEY", key}});

  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(ReadFile("a.txt"), "via claude\n");
  EXPECT_EQ(run.Finished().value("summary", ""), "wrote a.txt");
  auto requests = Requests();
  ASSERT_EQ(requests.size(), 2u);
  for (const json& r : requests) {
    EXPECT_EQ(r.value("path", ""), "/v1/messages");
    EXPECT_TRUE(r["headers"].contains("anthropic-version")) << r.dump();
  }
  // The second request carries the tool result as an Anthropic tool_result
  // block answering the first reply's tool_use.
  EXPECT_NE(requests[1]["body"].dump().find("\"tool_result\""), std::string::npos);
  // Usage from the Anthropic stream reached the ledger.
  EXPECT_NE(LedgerValue("SELECT SUM(tokens_out) FROM model_calls"), "0");
}

}  // namespace
}  // namespace tandem::e2e
