// tandem demo: builds a small sample repository with a failing test, starts
// the scripted model server (a real HTTP server speaking the OpenAI wire
// format at 1,200 tokens/s) and runs `tandem do` on it, showing the whole
// loop: reads, a wrong fix that fails its gate and is rolled back, the right
// fix, and a finish that tandem verifies before it believes it.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "tandem/cli/commands_impl.h"
#include "tandem/cli/do_run.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/platform/process.h"

extern char** environ;

namespace tandem::cli {
namespace {
namespace fs = std::filesystem;

constexpr const char* kSlugify = R"(#!/bin/sh
# Turns a title into a URL slug: "Hello  World" -> "hello-world".
echo "$1" | tr ' ' '-'
)";

constexpr const char* kTest = R"(#!/bin/sh
got=$(sh slugify.sh "Hello  World")
if [ "$got" != "hello-world" ]; then
  echo "FAILED: slugify 'Hello  World' gave '$got', want 'hello-world'"
  exit 1
fi
echo "ok: slugify"
)";

constexpr const char* kVerify = R"(# Verify

The checks tandem runs after every step that edits.

## test (each step, timeout 30s)
```sh
sh test.sh
```
)";

constexpr const char* kAgents = R"(# AGENTS.md

- Shell scripts are POSIX sh; keep them small.
- `sh test.sh` must pass.
)";

// The scripted executor: what a fast model would do, turn by turn.
constexpr const char* kScript = R"({
  "models": ["demo-fast"],
  "turns": [
    {"when": {"assistant_turns": 0},
     "text": "I'll read the script and its test first.",
     "tool_calls": [{"name": "read_file", "arguments": {"path": "slugify.sh"}},
                    {"name": "read_file", "arguments": {"path": "test.sh"}}]},
    {"when": {"assistant_turns": 1},
     "text": "The test has two spaces in a row: squeeze them into one dash.",
     "tool_calls": [{"name": "edit_file", "arguments": {"path": "slugify.sh",
        "old_text": "tr ' ' '-'", "new_text": "tr -s ' ' '-'"}}]},
    {"when": {"assistant_turns": 2},
     "text": "Rolled back: the slug must also be lower case. Lowercase first, then squeeze.",
     "tool_calls": [{"name": "edit_file", "arguments": {"path": "slugify.sh",
        "old_text": "tr ' ' '-'",
        "new_text": "tr '[:upper:]' '[:lower:]' | tr -s ' ' '-'"}}]},
    {"when": {"assistant_turns": 3},
     "tool_calls": [{"name": "finish", "arguments": {
        "summary": "slugify.sh now lowercases and squeezes runs of spaces into one dash; sh test.sh passes."}}]}
  ]
})";

Status WriteFile(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) return IoError("cannot write " + path.string());
  return Status::Ok();
}

Status Git(const fs::path& dir, std::vector<std::string> args) {
  platform::ProcessSpec spec;
  spec.argv = {"git", "-c", "user.name=tandem demo", "-c", "user.email=demo@tandem.invalid"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.cwd = dir.string();
  spec.timeout = std::chrono::seconds(30);
  auto run = platform::RunProcess(spec);
  if (!run) return run.error();
  if (!run->ok()) return Internal("git " + args[0] + " failed: " + run->output);
  return Status::Ok();
}

// The scripted model server binary, built next to tandem.
std::string FindModelServer() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  for (const fs::path& candidate :
       {exe.parent_path() / "tests/model_server/tandem-model-server",
        exe.parent_path() / "tandem-model-server"}) {
    if (fs::exists(candidate, ec)) return candidate.string();
  }
  return "";
}

// Starts the server and learns its port from its first line of output.
class ServerProcess {
 public:
  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status;
      ::waitpid(pid_, &status, 0);
    }
  }
  Result<int> Start(const std::string& binary, const std::string& script) {
    int out[2];
    if (::pipe(out) != 0) return IoError("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<std::string> args = {binary, "--script", script, "--port", "0"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
      ::close(out[0]);
      pid_ = -1;
      return IoError("cannot start " + binary);
    }
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    size_t colon = line.rfind(':');
    if (line.rfind("listening ", 0) != 0 || colon == std::string::npos) {
      return Internal("model server did not start: '" + line + "'");
    }
    return std::atoi(line.c_str() + colon + 1);
  }

 private:
  pid_t pid_ = -1;
};

int RunDemo(std::string dir, bool json) {
  std::string server = FindModelServer();
  if (server.empty()) {
    fmt::print(stderr, "tandem: the scripted model server was not built next to tandem\n");
    return kExitInternal;
  }
  if (dir.empty()) {
    char tmpl[] = "/tmp/tandem-demo-XXXXXX";
    if (!::mkdtemp(tmpl)) return kExitInternal;
    dir = tmpl;
  }
  fs::path root = fs::path(dir).lexically_normal();
  std::error_code ec;
  if (fs::exists(root / ".git", ec)) {
    fmt::print(stderr, "tandem: {} already holds a repository; pick an empty directory\n",
               root.string());
    return kExitUsage;
  }
  fs::create_directories(root / ".tandem", ec);
  Status written = Status::Ok();
  for (auto [name, text] : std::initializer_list<std::pair<const char*, const char*>>{
           {"slugify.sh", kSlugify},
           {"test.sh", kTest},
           {"verify.md", kVerify},
           {"AGENTS.md", kAgents},
           {".gitignore", ".tandem/\n"},
           {".tandem/demo-script.json", kScript}}) {
    if (written.ok()) written = WriteFile(root / name, text);
  }
  if (written.ok()) written = Git(root, {"init", "-q"});
  if (written.ok()) written = Git(root, {"add", "-A"});
  if (written.ok()) written = Git(root, {"commit", "-q", "-m", "sample project"});
  if (!written.ok()) {
    fmt::print(stderr, "tandem: {}\n", written.ToString());
    return kExitInternal;
  }

  ServerProcess process;
  auto port = process.Start(server, (root / ".tandem/demo-script.json").string());
  if (!port) {
    fmt::print(stderr, "tandem: {}\n", port.error().ToString());
    return kExitInternal;
  }
  // The demo's own configuration, passed as the extra layer: a repository's
  // .tandem/config.toml may not declare providers until the user trusts it.
  fs::path config_file = root / ".tandem/demo-config.toml";
  Status config = WriteFile(config_file, fmt::format(R"(# Written by tandem demo.
[providers.scripted]
wire = "openai"
base_url = "http://127.0.0.1:{}/v1"

[models.demo-fast]
provider = "scripted"
id = "demo-fast"
price_input = 0.35
price_output = 0.75

[roles]
executor = "demo-fast"
planner = "demo-fast"
reviewer = "demo-fast"
)",
                                                     *port));
  if (!config.ok()) return kExitInternal;
  if (!json) {
    fmt::print("tandem demo: sample repository at {}\n", root.string());
    fmt::print("  slugify.sh has a bug; verify.md runs `sh test.sh` after every edit.\n");
    fmt::print("  The executor is the scripted model server on 127.0.0.1:{} (1,200 tokens/s).\n\n",
               *port);
  }
  DoOptions options;
  options.task = "Make `sh test.sh` pass: fix slugify.sh.";
  options.repo_root = root.string();
  options.json = json;
  options.kind = "demo";
  options.config_file = config_file.string();
  int code = RunDo(options);
  if (!json) {
    fmt::print("\nTry: cd {} && git diff && {} undo\n", root.string(),
               fs::read_symlink("/proc/self/exe", ec).string());
  }
  return code;
}

}  // namespace

CommandRun SetupDemo(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  app.add_option("--dir", *dir, "Where to create the sample repository (default: a new temp dir)");
  app.add_flag("--json", *json, "Print events as JSONL");
  return [dir, json](const Invocation& in) {
    // A relative --dir is taken from the start directory (-C), not the cwd.
    return RunDemo(dir->empty() ? "" : (std::filesystem::path(in.start_dir) / *dir).string(), *json);
  };
}

}  // namespace tandem::cli
