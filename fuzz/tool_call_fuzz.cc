// libFuzzer target for tool calls as a model sends them: the streamed
// argument text (providers::MakeToolCall), then the toolbox's validation,
// prediction and execution of every tool against a small temp workspace.
// run_command is validated and its command classified (ClassifyCommand),
// never run.
//
// Input: byte 0 picks the tool; the rest is "<arguments>\0<data.txt content>".
// Properties checked beyond "no crash, no sanitizer report, no exception":
//   - MakeToolCall accepts exactly the JSON objects, keeps their text for
//     replay, and its values serialize (SafeDump) and parse back equal; other
//     text comes back as a malformed call with {} arguments (replayed as
//     "{}"); a rejection (no tool name) is kMalformed and names the tool;
//   - the files a call changed (added, removed, rewritten) are all among its
//     paths_written, and those among what Predict said it may write: the
//     agent checkpoints exactly those paths;
//   - nothing outside the workspace and nothing under .git changes;
//   - the content the model reads is valid UTF-8; errors and refusals are
//     never empty; invalid arguments are kError outcomes naming the tool.
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "tandem/providers/tool_args.h"
#include "tandem/tools/command_policy.h"
#include "tandem/tools/tool_args.h"
#include "tandem/tools/toolbox.h"

namespace {

namespace fs = std::filesystem;
using tandem::tools::ToolOutcomeKind;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  tandem::fuzz::Fail("tool_call_fuzz", what, detail);
}

const char* const kTools[] = {"read_file",   "list_files", "search", "edit_file",
                              "write_file",  "finish",     "run_command", "no_such_tool"};

struct Dirs {
  fs::path top, workspace, outside;
};

void Write(const fs::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The workspace's files (not .git), as path -> content or symlink target.
std::map<std::string, std::string> Snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::string rel = it->path().lexically_relative(root).generic_string();
    if (rel == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_symlink(ec)) {
      out[rel] = "-> " + fs::read_symlink(it->path(), ec).string();
    } else if (it->is_regular_file(ec)) {
      out[rel] = Read(it->path());
    }
  }
  return out;
}

// The pristine workspace: a git repository with a few files, a symlink
// inside and one pointing outside, and a sibling directory it must not touch.
void Reset(const Dirs& d) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(d.workspace, ec)) {
    if (entry.path().filename() != ".git") fs::remove_all(entry.path(), ec);
  }
  fs::create_directories(d.workspace / "src", ec);
  fs::create_directories(d.workspace / ".tandem", ec);
  Write(d.workspace / "README.md", "# Demo\nhello\nworld\n");
  Write(d.workspace / "src/main.cc", "int main() {\n  return 0;\n}\n");
  Write(d.workspace / "src/util.h", "#pragma once\nint Twice(int x);  // x * 2\n");
  Write(d.workspace / "empty.txt", "");
  Write(d.workspace / "bin.dat", std::string("\xff\xfe\0\x80 text\n", 10));
  Write(d.workspace / ".tandem/state", "private\n");
  fs::create_directory_symlink("src", d.workspace / "link_in", ec);
  fs::create_directory_symlink("../outside", d.workspace / "link_out", ec);
}

const Dirs& Setup() {
  static const Dirs dirs = [] {
    Dirs d;
    d.top = tandem::fuzz::MakeTempDir("tandem-tool-fuzz");
    d.workspace = d.top / "workspace";
    d.outside = d.top / "outside";
    fs::create_directories(d.workspace / ".git");
    fs::create_directories(d.outside);
    Write(d.outside / "secret.txt", "outside the workspace\n");
    // Enough of a repository for git to recognise it, without running git.
    fs::create_directories(d.workspace / ".git/objects");
    fs::create_directories(d.workspace / ".git/refs/heads");
    Write(d.workspace / ".git/HEAD", "ref: refs/heads/main\n");
    Write(d.workspace / ".git/config", "[core]\n\trepositoryformatversion = 0\n\tbare = false\n");
    Reset(d);
    return d;
  }();
  return dirs;
}

const tandem::tools::ToolBox& Box() {
  static const tandem::tools::ToolBox box = [] {
    tandem::tools::ToolOptions options;
    options.command_policy = tandem::tools::CommandPolicy::kRefuseRisky;
    auto created = tandem::tools::ToolBox::Create(Setup().workspace, options);
    if (!created) Fail("cannot create the toolbox", created.error().ToString());
    return std::move(*created);
  }();
  return box;
}

bool IsRelativeInside(const std::string& p) {
  if (p.empty() || p[0] == '/') return false;
  for (const auto& part : fs::path(p)) {
    if (part == "..") return false;
  }
  return true;
}

void CheckMakeToolCall(const std::string& name, const std::string& text,
                       const tandem::Result<tandem::protocol::ToolCall, tandem::protocol::ModelError>& call) {
  bool blank = text.find_first_not_of(" \t\r\n") == std::string::npos;
  nlohmann::json parsed = nlohmann::json::parse(blank ? std::string("{}") : text, nullptr, false);
  if (!call) {
    if (call.error().kind != tandem::protocol::ModelErrorKind::kMalformed) Fail("not kMalformed", text);
    if (call.error().message.find("tool call " + name) == std::string::npos) {
      Fail("rejection does not name the tool", call.error().message);
    }
    if (!parsed.is_discarded() && parsed.is_object()) Fail("a JSON object was rejected", text);
    return;
  }
  if (parsed.is_discarded() || !parsed.is_object()) {
    // Delivered for the model to correct: empty arguments, replayed as {}.
    if (call->malformed.empty()) Fail("a non-object was accepted", text);
    if (call->arguments != nlohmann::json::object() ||
        tandem::providers::ArgumentsText(*call) != "{}") {
      Fail("a malformed call keeps arguments", text);
    }
    return;
  }
  if (!call->malformed.empty()) Fail("a JSON object was marked malformed", text);
  if (!call->arguments.is_object() || call->arguments != parsed) Fail("arguments differ", text);
  if (tandem::providers::ArgumentsText(*call) != (blank ? std::string("{}") : text)) {
    Fail("replay text differs from what the model sent", text);
  }
  std::string dumped = tandem::providers::SafeDump(call->arguments);
  nlohmann::json again = nlohmann::json::parse(dumped, nullptr, false);
  if (again != call->arguments) Fail("SafeDump does not parse back equal", dumped);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Dirs& dirs = Setup();
  const tandem::tools::ToolBox& box = Box();
  const std::string name = kTools[data[0] % 8];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t nul = rest.find('\0');
  const std::string text(rest.substr(0, nul));
  if (nul != std::string_view::npos) Write(dirs.workspace / "data.txt", rest.substr(nul + 1));

  auto call = tandem::providers::MakeToolCall("fuzz", "call_1", name, text);
  CheckMakeToolCall(name, text, call);
  if (!call) return 0;

  tandem::Status valid = tandem::Status::Ok();
  for (const auto& spec : box.Specs()) {
    if (spec.name == name) valid = tandem::tools::ValidateArgs(spec, call->arguments);
  }
  if (name == "run_command") {
    // Never run: only what decides whether it would be run.
    if (valid.ok() && call->arguments.contains("command") && call->arguments["command"].is_string()) {
      auto verdict = tandem::tools::ClassifyCommand(call->arguments["command"].get<std::string>());
      if (!verdict.allowed() && verdict.reason.empty()) Fail("refusal without a reason", text);
    }
    return 0;
  }

  const std::map<std::string, std::string> before = Snapshot(dirs.workspace);
  const std::string secret = Read(dirs.outside / "secret.txt");
  const std::string git_head = Read(dirs.workspace / ".git/HEAD");

  tandem::tools::ToolEffects effects = box.Predict(*call);
  tandem::tools::ToolOutcome outcome = box.Execute(*call);

  if (!tandem::fuzz::IsValidUtf8(outcome.content)) Fail("content is not valid UTF-8", outcome.content);
  if ((outcome.kind == ToolOutcomeKind::kError || outcome.kind == ToolOutcomeKind::kRefused) &&
      outcome.content.empty()) {
    Fail("error without a message", text);
  }
  if (!valid.ok()) {
    if (outcome.kind != ToolOutcomeKind::kError) Fail("invalid arguments not an error", text);
    if (!outcome.content.starts_with(name + ":") && name != "no_such_tool") {
      Fail("argument error does not name the tool", outcome.content);
    }
    if (!effects.may_write.empty()) Fail("predicted writes for invalid arguments", text);
  }
  if (outcome.ran_command || effects.runs_command) Fail("a command ran", text);
  for (const std::string& p : outcome.paths_written) {
    if (!IsRelativeInside(p)) Fail("written path not workspace-relative", p);
    if (std::find(effects.may_write.begin(), effects.may_write.end(), p) == effects.may_write.end()) {
      Fail("wrote a path Predict did not name", p + "\nargs: " + text);
    }
  }

  const std::map<std::string, std::string> after = Snapshot(dirs.workspace);
  for (const auto& [path, content] : after) {
    auto it = before.find(path);
    if (it != before.end() && it->second == content) continue;
    if (std::find(outcome.paths_written.begin(), outcome.paths_written.end(), path) ==
        outcome.paths_written.end()) {
      Fail("changed a file not in paths_written", path + "\nargs: " + text);
    }
  }
  for (const auto& [path, content] : before) {
    if (!after.count(path) && std::find(outcome.paths_written.begin(), outcome.paths_written.end(),
                                        path) == outcome.paths_written.end()) {
      Fail("removed a file not in paths_written", path + "\nargs: " + text);
    }
  }
  std::error_code ec;
  size_t outside_entries = 0;
  for (auto it = fs::directory_iterator(dirs.outside, ec); !ec && it != fs::directory_iterator(); ++it) {
    ++outside_entries;
  }
  size_t top_entries = 0;
  for (auto it = fs::directory_iterator(dirs.top, ec); !ec && it != fs::directory_iterator(); ++it) {
    ++top_entries;
  }
  if (outside_entries != 1 || top_entries != 2 || Read(dirs.outside / "secret.txt") != secret) {
    Fail("changed something outside the workspace", text);
  }
  if (Read(dirs.workspace / ".git/HEAD") != git_head) Fail("changed .git", text);
  if (after != before) Reset(dirs);
  return 0;
}
