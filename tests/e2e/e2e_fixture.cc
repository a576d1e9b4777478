#include "tests/e2e/e2e_fixture.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tandem/ledger/git_dirs.h"

extern char** environ;

namespace tandem::e2e {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr auto kRunTimeout = std::chrono::seconds(60);

std::string TandemBinary() { return std::string(TANDEM_BINARY_DIR) + "/tandem"; }

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Runs `sh -c command` in `cwd`, capturing stdout; returns the exit status.
int Shell(const std::string& cwd, const std::string& command, std::string* out) {
  std::string full = "cd '" + cwd + "' && " + command + " 2>/dev/null";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) text.append(buf, n);
  int status = ::pclose(pipe);
  if (out) *out = std::move(text);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<json> ParseEvents(const std::string& out) {
  std::vector<json> events;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    auto j = json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object()) events.push_back(std::move(j));
  }
  return events;
}

std::string MessageText(const json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string text;
  if (content.is_array()) {
    for (const auto& part : content) {
      if (part.is_object() && part.contains("text") && part["text"].is_string()) {
        text += part["text"].get<std::string>();
      }
    }
  }
  return text;
}

}  // namespace

// ---- TandemRun ----

std::vector<json> TandemRun::Events(std::string_view type) const {
  std::vector<json> found;
  for (const auto& e : events) {
    if (e.value("type", "") == type) found.push_back(e);
  }
  return found;
}

json TandemRun::Finished() const {
  auto finished = Events("run_finished");
  return finished.empty() ? json::object() : finished.back();
}

std::string TandemRun::RunId() const {
  auto started = Events("run_started");
  return started.empty() ? "" : started.front().value("run", "");
}

bool TandemRun::HasNotice(std::string_view text) const {
  for (const auto& e : Events("notice")) {
    if (e.value("text", "").find(text) != std::string::npos) return true;
  }
  return false;
}

std::string TandemRun::Describe() const {
  std::string out_tail = out.size() > 6000 ? "..." + out.substr(out.size() - 6000) : out;
  return "exit " + std::to_string(exit_code) + " signal " + std::to_string(term_signal) +
         "\n--- stdout ---\n" + out_tail + "\n--- stderr ---\n" + err.substr(0, 4000);
}

// ---- builders ----

json Call(const std::string& name, json arguments) {
  return {{"name", name}, {"arguments", std::move(arguments)}};
}

json Turn(int assistant_turns, std::vector<json> calls, const std::string& text) {
  json turn = json::object();
  if (assistant_turns >= 0) turn["when"] = {{"assistant_turns", assistant_turns}};
  if (!text.empty()) turn["text"] = text;
  if (!calls.empty()) turn["tool_calls"] = json(calls);
  return turn;
}

json Finish(int assistant_turns, const std::string& summary) {
  return Turn(assistant_turns, {Call("finish", {{"summary", summary}})});
}

json Script(std::vector<json> turns) {
  json script = json::object();
  script["turns"] = json(std::move(turns));
  return script;
}

json KeptThenSlowCommandScript() {
  return Script({
      Turn(0, {Call("write_file", {{"path", "kept.txt"}, {"content", "kept\n"}})}),
      Turn(1, {Call("write_file", {{"path", "partial.txt"}, {"content", "half\n"}}),
               Call("run_command", {{"command", "touch started.marker && sleep 30"}})}),
      Finish(2),
  });
}

// ---- E2eTest ----

E2eTest::E2eTest() {
  root_ = dir_.path() + "/repo";
  config_home_ = dir_.path() + "/xdg-config";
  fs::create_directories(root_);
  fs::create_directories(config_home_);
  std::string out;
  if (Shell(root_,
            "git init -q -b main . && git config user.name e2e && git config user.email "
            "e2e@example.com && git config commit.gpgsign false && "
            // No background auto-gc racing the test's git commands and
            // outliving the test (it would count as a leftover process).
            "git config gc.auto 0 && git config gc.autoDetach false && "
            "echo .tandem/ >> .git/info/exclude",
            &out) != 0) {
    ADD_FAILURE() << "git init failed in " << root_;
  }
}

E2eTest::~E2eTest() = default;

std::string E2eTest::OutsidePath(const std::string& name) const { return dir_.path() + "/" + name; }

void E2eTest::WriteFile(const std::string& rel, const std::string& content, bool executable) {
  fs::path path = fs::path(root_) / rel;
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  if (executable) ::chmod(path.c_str(), 0755);
}

std::string E2eTest::ReadFile(const std::string& rel) const {
  return Slurp((fs::path(root_) / rel).string());
}

bool E2eTest::Exists(const std::string& rel) const {
  struct stat st;
  return ::lstat((fs::path(root_) / rel).c_str(), &st) == 0;
}

std::string E2eTest::Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string E2eTest::Git(const std::string& args, bool* ok) const {
  std::string out;
  int rc = Shell(root_, "git " + args, &out);
  if (ok) {
    *ok = rc == 0;
  } else if (rc != 0) {
    ADD_FAILURE() << "git " << args << " exited " << rc;
  }
  return out;
}

void E2eTest::CommitAll(const std::string& message) {
  Git("add -A");
  Git("commit -q -m '" + message + "'");
}

void E2eTest::WriteVerifyMd(const std::vector<GateSpec>& gates) {
  std::string text = "# Verify\n";
  for (const auto& g : gates) {
    text += "\n## " + g.name + " (" + g.options + ")\n```sh\n" + g.command + "\n```\n";
  }
  WriteFile("verify.md", text);
}

void E2eTest::MakeSlugifyRepo() {
  WriteFile("slugify.sh",
            "#!/bin/sh\n# Turns a title into a URL slug: \"Hello World\" -> \"hello-world\".\n"
            "echo \"$1\" | tr ' ' '-'\n");
  WriteFile("test.sh",
            "#!/bin/sh\ngot=$(sh slugify.sh \"Hello  World\")\n"
            "if [ \"$got\" != \"hello-world\" ]; then echo \"FAILED: slugify 'Hello  World' gave "
            "'$got', want 'hello-world'\"; exit 1; fi\necho ok\n");
  WriteVerifyMd({{"test", "sh test.sh"}});
  CommitAll();
}

void E2eTest::MakePassingRepo() {
  WriteFile("README.md", "# sample\n");
  WriteFile("tracked.txt", "keep me\n");
  WriteFile("check.sh", "#!/bin/sh\necho checks pass\n");
  WriteVerifyMd({{"check", "sh check.sh"}});
  CommitAll();
}

void E2eTest::StartServer(const json& script, const std::string& extra_toml,
                          const std::string& api_key, std::vector<std::string> server_args) {
  testing::ModelServerOptions options;
  options.script_json = script.dump();
  options.tokens_per_second = 100000;
  options.ttft_ms = 5;
  options.api_key = api_key;
  options.extra_args = std::move(server_args);
  server_.reset();
  auto started = testing::ModelServerProcess::Start(options);
  ASSERT_TRUE(started.has_value()) << started.error().ToString();
  server_ = std::move(*started);
  api_key_ = api_key;
  WriteConfig(extra_toml);
}

void E2eTest::WriteConfig(const std::string& extra_toml) {
  extra_toml_ = extra_toml;
  std::string toml = "[providers.local]\nwire = \"openai\"\nbase_url = \"" +
                     (server_ ? server_->base_url() : std::string("http://127.0.0.1:9/v1")) +
                     "\"\n" + extra_toml +
                     "\n[models.scripted]\nprovider = \"local\"\nid = \"scripted-model\"\n"
                     "\n[roles]\nexecutor = \"scripted\"\nplanner = \"scripted\"\n"
                     "reviewer = \"scripted\"\n";
  if (!review_policy_.empty()) toml += "\n[review]\npolicy = \"" + review_policy_ + "\"\n";
  WriteUserConfig(toml);
}

void E2eTest::WriteUserConfig(const std::string& toml) {
  fs::create_directories(config_home_ + "/tandem");
  std::ofstream(config_home_ + "/tandem/config.toml", std::ios::binary | std::ios::trunc) << toml;
}

std::vector<json> E2eTest::Requests() const {
  return server_ ? server_->Requests() : std::vector<json>{};
}

std::vector<std::string> E2eTest::LastRequestToolResults() const {
  std::vector<std::string> results;
  auto requests = Requests();
  if (requests.empty()) return results;
  const json& body = requests.back()["body"];
  if (!body.is_object() || !body.contains("messages")) return results;
  for (const auto& m : body["messages"]) {
    if (m.value("role", "") == "tool") results.push_back(MessageText(m["content"]));
  }
  return results;
}

TandemProcess E2eTest::SpawnTandem(const std::vector<std::string>& args,
                                   const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv = {TandemBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return SpawnProgram(argv, env);
}

TandemRun E2eTest::RunProgram(const std::vector<std::string>& argv,
                              const std::map<std::string, std::string>& env) {
  return WaitTandem(SpawnProgram(argv, env));
}

TandemProcess E2eTest::SpawnProgram(const std::vector<std::string>& argv_in,
                                    const std::map<std::string, std::string>& env) {
  TandemProcess process;
  int n = ++spawn_count_;
  process.out_path = dir_.path() + "/tandem-" + std::to_string(n) + ".out";
  process.err_path = dir_.path() + "/tandem-" + std::to_string(n) + ".err";

  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> argv_storage = argv_in;
  std::vector<std::string> env_storage;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string name(entry.substr(0, entry.find('=')));
    if (name == "XDG_CONFIG_HOME" || name.rfind("TANDEM_", 0) == 0 || env.count(name)) continue;
    env_storage.emplace_back(entry);
  }
  env_storage.push_back("XDG_CONFIG_HOME=" + config_home_);
  for (const auto& [k, v] : env) env_storage.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& s : argv_storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (auto& s : env_storage) envp.push_back(s.data());
  envp.push_back(nullptr);

  const std::string cwd = tandem_cwd_.empty() ? root_ : tandem_cwd_;
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = ::open(process.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(process.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || in < 0 || ::chdir(cwd.c_str()) != 0) _exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    // Default signal dispositions, as from a shell.
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  if (pid < 0) ADD_FAILURE() << "fork failed: " << std::strerror(errno);
  process.pid = pid;
  return process;
}

TandemRun E2eTest::WaitTandem(const TandemProcess& process) {
  TandemRun run;
  auto deadline = std::chrono::steady_clock::now() + kRunTimeout;
  int status = 0;
  for (;;) {
    pid_t done = ::waitpid(process.pid, &status, WNOHANG);
    if (done == process.pid) break;
    if (done < 0) {
      ADD_FAILURE() << "waitpid: " << std::strerror(errno);
      return run;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(process.pid, SIGKILL);
      ::waitpid(process.pid, &status, 0);
      ADD_FAILURE() << "tandem did not finish within " << kRunTimeout.count() << " s";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.term_signal = WTERMSIG(status);
  run.out = Slurp(process.out_path);
  run.err = Slurp(process.err_path);
  run.events = ParseEvents(run.out);
  return run;
}

bool E2eTest::WaitForEvent(const TandemProcess& process,
                           const std::function<bool(const json&)>& match,
                           std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& e : ParseEvents(Slurp(process.out_path))) {
      if (match(e)) return true;
    }
    // Stop early when the process already exited (without reaping it).
    siginfo_t info{};
    if (::waitid(P_PID, process.pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == process.pid) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

bool WaitForInotify(const std::string& watched, uint32_t mask, const std::function<bool()>& done,
                    std::chrono::milliseconds timeout) {
  int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0 || ::inotify_add_watch(fd, watched.c_str(), mask) < 0) {
    if (fd >= 0) ::close(fd);
    ADD_FAILURE() << "cannot watch " << watched << ": " << std::strerror(errno);
    return done();
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool ok = done();  // after the watch is in place: no change is missed
  while (!ok) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) > 0) {
      char buf[4096];
      while (::read(fd, buf, sizeof buf) > 0) {
      }
    }
    ok = done();
  }
  ::close(fd);
  return ok;
}

bool E2eTest::WaitForFile(const std::string& rel, std::chrono::milliseconds timeout) const {
  std::string dir = (std::filesystem::path(root_) / rel).parent_path().string();
  return WaitForInotify(dir, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE,
                        [&] { return Exists(rel); }, timeout);
}

TandemRun E2eTest::RunTandem(const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env) {
  return WaitTandem(SpawnTandem(args, env));
}

TandemRun E2eTest::Do(const std::string& task, const std::vector<std::string>& extra,
                      const std::map<std::string, std::string>& env) {
  std::vector<std::string> args = {"do", "--json", task};
  args.insert(args.end(), extra.begin(), extra.end());
  return RunTandem(args, env);
}

std::string E2eTest::LedgerPath() const {
  auto path = ledger::LedgerPathFor(root_);
  if (!path) ADD_FAILURE() << "ledger: " << path.error().ToString();
  return path ? path->string() : std::string();
}

std::unique_ptr<ledger::Ledger> E2eTest::OpenLedger() {
  auto opened = ledger::Ledger::Open({LedgerPath(), WallMs});
  if (!opened) {
    ADD_FAILURE() << "ledger: " << opened.error().ToString();
    return nullptr;
  }
  return std::move(*opened);
}

std::string E2eTest::LedgerValue(const std::string& sql) {
  auto ledger = OpenLedger();
  if (!ledger) return "";
  auto result = ledger->Query(sql);
  if (!result) {
    ADD_FAILURE() << sql << ": " << result.error().ToString();
    return "";
  }
  if (result->rows.empty() || result->rows[0].empty()) return "";
  const auto& v = result->rows[0][0];
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  return "";
}

}  // namespace tandem::e2e
