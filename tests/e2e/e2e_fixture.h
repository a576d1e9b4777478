// End-to-end test fixture: drives the real `tandem` binary as a subprocess
// in a temporary git repository, against the scripted model server.
//
// Each test gets a fresh temp directory holding `repo/` (a git repository
// with one commit once the test calls CommitAll) and room for files outside
// it (OutsidePath), which guardrail tests use as targets that must stay
// untouched; `.tandem/` is in .git/info/exclude, as a user would ignore
// it, so `git status` shows only real changes. RunTandem runs the binary to completion with
// `XDG_CONFIG_HOME` pointed at the test's own directory (config_home()) so the real user's
// configuration never leaks in; SpawnTandem starts it without waiting, for the Ctrl-C and kill -9
// scenarios. StartServer starts tandem-model-server with a script and points the user file there,
// config_home()/tandem/config.toml, at it (one provider `local`, one model `scripted`, every role
// on it).
//
// Not thread-safe: one fixture per test, used from the test's thread.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/ledger/ledger.h"
#include "tests/support/model_server_process.h"
#include "tests/support/temp_dir.h"

namespace tandem::e2e {

// What one tandem invocation did.
struct TandemRun {
  int exit_code = -1;                  // -1 when killed by a signal
  int term_signal = 0;                 // the signal that killed it, or 0
  std::string out;                     // stdout (JSONL with --json)
  std::string err;                     // stderr
  std::vector<nlohmann::json> events;  // stdout lines that parse as JSON objects

  // Events of one type ("run_finished", "gate_finished", ...), in order.
  std::vector<nlohmann::json> Events(std::string_view type) const;
  // The run_finished event, or an empty object when there is none.
  nlohmann::json Finished() const;
  // The run id from run_started ("" when there is none).
  std::string RunId() const;
  // True when a notice event's text contains `text`.
  bool HasNotice(std::string_view text) const;
  // Human-readable context for assertion messages.
  std::string Describe() const;
};

// A started, not yet reaped tandem process; SpawnTandem returns it.
struct TandemProcess {
  pid_t pid = -1;
  std::string out_path;
  std::string err_path;
};

// A gate line of verify.md: `## name (each step, timeout 30s)` + command.
struct GateSpec {
  std::string name;
  std::string command;
  std::string options = "each step, timeout 30s";
};

class E2eTest : public ::testing::Test {
 protected:
  E2eTest();
  ~E2eTest() override;

  // ---- the repository ----
  const std::string& root() const { return root_; }
  // A path in the temp directory next to the repository (outside it).
  std::string OutsidePath(const std::string& name) const;
  void WriteFile(const std::string& rel, const std::string& content, bool executable = false);
  std::string ReadFile(const std::string& rel) const;  // "" when missing
  bool Exists(const std::string& rel) const;           // lstat: a dangling link exists
  // Runs `git <args>` in the repository; returns stdout. A non-zero exit is
  // a test failure (ADD_FAILURE) unless `ok` is given, which receives it.
  std::string Git(const std::string& args, bool* ok = nullptr) const;
  void CommitAll(const std::string& message = "initial");
  // Writes verify.md with these gates.
  void WriteVerifyMd(const std::vector<GateSpec>& gates);
  // The small sample project most scenarios share: slugify.sh (its bug: no
  // lower-casing), test.sh and verify.md with one `test` gate; committed.
  void MakeSlugifyRepo();
  // A project whose gate passes from the start (check.sh exits 0) plus
  // tracked.txt and README.md; committed. For guardrail scenarios.
  void MakePassingRepo();

  // ---- the model server ----
  // Starts the server with `script` (a JSON object with "turns") and writes
  // the config pointing at it; `extra_toml` is appended to the config.
  // Fails the test (fatally) when the server does not start.
  void StartServer(const nlohmann::json& script, const std::string& extra_toml = "",
                   const std::string& api_key = "", std::vector<std::string> server_args = {});
  // review.policy in the user's file that StartServer/WriteConfig write
  // ("" leaves the key out: the built-in default). Scenarios written before
  // review before done (issue 11) script no reviewer, so it is "never"
  // unless a test sets it (review_test.cc); --set still wins.
  void SetReviewPolicy(std::string policy) { review_policy_ = std::move(policy); }
  // Rewrites config_home()/tandem/config.toml for the running server.
  void WriteConfig(const std::string& extra_toml = "");
  // Replaces the user's own file, config_home()/tandem/config.toml, with
  // `toml`. Providers go here: a repository's .tandem/config.toml may not
  // declare them until the user trusts it (trust_test.cc).
  void WriteUserConfig(const std::string& toml);
  testing::ModelServerProcess& server() { return *server_; }
  // The child's XDG_CONFIG_HOME: the user's own layer and trust store live here.
  const std::string& config_home() const { return config_home_; }
  std::vector<nlohmann::json> Requests() const;
  // The text of every tool result (OpenAI "tool" message) in the last
  // recorded request, in order.
  std::vector<std::string> LastRequestToolResults() const;

  // ---- tandem ----
  // Runs `tandem <args>` in the repository and waits (60 s at most, then
  // SIGKILL and a test failure).
  TandemRun RunTandem(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {});
  // Later invocations start in `dir` instead of the repository root ("":
  // the root again).
  void SetTandemCwd(std::string dir) { tandem_cwd_ = std::move(dir); }
  // `tandem do --json <task> <extra...>`.
  TandemRun Do(const std::string& task, const std::vector<std::string>& extra = {},
               const std::map<std::string, std::string>& env = {});
  TandemProcess SpawnTandem(const std::vector<std::string>& args,
                            const std::map<std::string, std::string>& env = {});
  // Another program (argv[0] an absolute path) started as SpawnTandem starts
  // tandem: same environment, working directory and output capture.
  TandemProcess SpawnProgram(const std::vector<std::string>& argv,
                             const std::map<std::string, std::string>& env = {});
  TandemRun RunProgram(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env = {});
  // Waits for the process to end (60 s at most) and collects its output.
  TandemRun WaitTandem(const TandemProcess& process);
  // Polls the process's stdout until an event satisfies `match`; false on
  // timeout or when the process exits first.
  bool WaitForEvent(const TandemProcess& process,
                    const std::function<bool(const nlohmann::json&)>& match,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Waits until `rel` exists in the repository (inotify on its directory, so
  // no polling); false after `timeout`.
  bool WaitForFile(const std::string& rel,
                   std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

  // ---- the ledger (<git dir>/tandem/ledger.db) ----
  std::string LedgerPath() const;  // ledger::LedgerPathFor(root())
  std::unique_ptr<ledger::Ledger> OpenLedger();
  // One value of a single-row query, as text ("" when no row / NULL).
  std::string LedgerValue(const std::string& sql);

  // Whole-file read of an arbitrary path.
  static std::string Slurp(const std::string& path);

 private:
  testing::TempDir dir_;
  std::string root_;
  std::string config_home_;  // the child's XDG_CONFIG_HOME
  std::string api_key_;
  std::string extra_toml_;
  std::string review_policy_ = "never";
  std::unique_ptr<testing::ModelServerProcess> server_;
  int spawn_count_ = 0;
  std::string tandem_cwd_;  // empty: root_
};

// Builders for scripted turns. `assistant_turns` < 0 (kAnyTurn) means the
// turn answers any request that reaches it.
inline constexpr int kAnyTurn = -1;
nlohmann::json Call(const std::string& name, nlohmann::json arguments);
nlohmann::json Turn(int assistant_turns, std::vector<nlohmann::json> calls,
                    const std::string& text = "");
nlohmann::json Finish(int assistant_turns, const std::string& summary = "done");
nlohmann::json Script(std::vector<nlohmann::json> turns);
// Stopping scenarios: step 1 writes kept.txt; step 2 writes partial.txt, then
// runs a command that touches started.marker and hangs (sleep 30); then finish.
nlohmann::json KeptThenSlowCommandScript();

// Waits until `done()` holds, testing it once an inotify watch on `watched`
// (a file or directory, events `mask`) is in place and after each event, so
// nothing is missed and nothing polls; false after `timeout`. `watched`
// must exist (watch a file's directory to see the file appear).
bool WaitForInotify(const std::string& watched, uint32_t mask, const std::function<bool()>& done,
                    std::chrono::milliseconds timeout);

}  // namespace tandem::e2e
