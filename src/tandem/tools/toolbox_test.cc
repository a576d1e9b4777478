#include "tandem/tools/toolbox.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "tandem/platform/sandbox.h"
#include "tandem/tools/test_util.h"
#include "tandem/tools/text.h"
#include "tandem/tools/tool_args.h"

namespace tandem::tools {
namespace {

namespace fs = std::filesystem;
using testing::GitInit;
using testing::ReadFile;
using testing::Sh;
using testing::TempDir;
using testing::WriteFile;

protocol::ToolCall Call(std::string name, nlohmann::json args) {
  protocol::ToolCall c;
  c.id = "call_1";
  c.name = std::move(name);
  c.arguments_json = args.dump();
  c.arguments = std::move(args);
  return c;
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class ToolBoxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GitInit(dir_.path());
    WriteFile(dir_ / "src/main.cc", "#include <cstdio>\nint main() {\n  printf(\"hi\\n\");\n  return 0;\n}\n");
    WriteFile(dir_ / "README.md", "# demo\n");
    WriteFile(dir_ / ".gitignore", "build/\n*.log\n");
    WriteFile(dir_ / "build/out.o", "obj");
    WriteFile(dir_ / "debug.log", "log");
    Sh(dir_.path(), "git add -A && git commit -qm init");
    WriteFile(dir_ / "notes/untracked.txt", "todo: search me\n");
    Make(ToolOptions{});
  }
  void Make(ToolOptions options) {
    auto box = ToolBox::Create(dir_.path(), options);
    ASSERT_TRUE(box.has_value());
    box_.emplace(std::move(*box));
  }
  ToolOutcome Exec(std::string name, nlohmann::json args) { return box_->Execute(Call(std::move(name), std::move(args))); }

  TempDir dir_;
  TempDir outside_;
  std::optional<ToolBox> box_;
};

// --- specs ---

TEST_F(ToolBoxTest, SpecsAreStableAndByteIdentical) {
  std::vector<std::string> names;
  for (const auto& s : box_->Specs()) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"read_file", "list_files", "search", "edit_file", "write_file",
                                             "run_command", "finish"}));
  auto other = ToolBox::Create(dir_.path());
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(box_->SpecsJson(), other->SpecsJson());
  EXPECT_EQ(box_->SpecsJson(), box_->SpecsJson());
  EXPECT_LT(box_->SpecsJson().size(), 2400u) << "tool definitions are prefill: keep them short";
  for (const auto& s : box_->Specs()) {
    EXPECT_EQ(s.parameters["type"], "object");
  }
}

// --- argument validation ---

TEST_F(ToolBoxTest, MissingArgumentIsNamed) {
  ToolOutcome o = Exec("edit_file", {{"path", "a"}, {"new_text", "x"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kError);
  EXPECT_EQ(o.content, "edit_file: missing required argument 'old_text'");
}

TEST_F(ToolBoxTest, WrongTypeAndUnknownArgumentsAreExplained) {
  ToolOutcome o = Exec("read_file", {{"path", 3}});
  EXPECT_EQ(o.content, "read_file: argument 'path' must be a string");
  o = Exec("read_file", {{"path", "README.md"}, {"start_line", "x"}});
  EXPECT_EQ(o.content, "read_file: argument 'start_line' must be an integer");
  o = Exec("read_file", {{"path", "README.md"}, {"lines", 3}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kError);
  EXPECT_TRUE(Contains(o.content, "unknown argument 'lines' (arguments: end_line, path, start_line)"))
      << o.content;
}

TEST(ToolArgs, ArraysNumbersAndBooleansAreCheckedByTheirSchemaType) {
  protocol::ToolSpec spec{"t", "",
                          {{"type", "object"},
                           {"properties",
                            {{"scope", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                             {"cost", {{"type", "number"}}},
                             {"force", {{"type", "boolean"}}}}}}};
  EXPECT_TRUE(ValidateArgs(spec, {{"scope", {"src/**"}}, {"cost", 2.5}, {"force", true}}).ok());
  EXPECT_EQ(ValidateArgs(spec, {{"scope", "src/**"}}).message(), "t: argument 'scope' must be an array");
  EXPECT_EQ(ValidateArgs(spec, {{"scope", {"a", 1}}}).message(),
            "t: argument 'scope' must be an array of strings");
  EXPECT_EQ(ValidateArgs(spec, {{"cost", "2"}}).message(), "t: argument 'cost' must be a number");
  EXPECT_EQ(ValidateArgs(spec, {{"force", "yes"}}).message(), "t: argument 'force' must be true or false");
}

TEST_F(ToolBoxTest, IntegerGivenAsStringIsAccepted) {
  ToolOutcome o = Exec("read_file", {{"path", "src/main.cc"}, {"start_line", "2"}, {"end_line", 2.0}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kOk) << o.content;
  EXPECT_EQ(o.content, "2\tint main() {\n[lines 2-2 of 5]\n");
}

TEST_F(ToolBoxTest, UnknownToolListsTheTools) {
  ToolOutcome o = Exec("delete_file", nlohmann::json::object());
  EXPECT_EQ(o.kind, ToolOutcomeKind::kError);
  EXPECT_TRUE(Contains(o.content, "unknown tool 'delete_file'"));
  EXPECT_TRUE(Contains(o.content, "edit_file"));
}

// --- read_file ---

TEST_F(ToolBoxTest, ReadFileNumbersLines) {
  ToolOutcome o = Exec("read_file", {{"path", "src/main.cc"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kOk);
  EXPECT_EQ(o.content,
            "1\t#include <cstdio>\n2\tint main() {\n3\t  printf(\"hi\\n\");\n4\t  return 0;\n5\t}\n");
}

TEST_F(ToolBoxTest, ReadFileRangeAndPastTheEnd) {
  ToolOutcome o = Exec("read_file", {{"path", "src/main.cc"}, {"start_line", 4}});
  EXPECT_EQ(o.content, "4\t  return 0;\n5\t}\n[lines 4-5 of 5]\n");
  o = Exec("read_file", {{"path", "src/main.cc"}, {"start_line", 40}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kError);
  EXPECT_TRUE(Contains(o.content, "past the end")) << o.content;
}

TEST_F(ToolBoxTest, ReadFileWithoutTrailingNewlineAndEmptyFile) {
  WriteFile(dir_ / "n.txt", "a\nb");
  EXPECT_EQ(Exec("read_file", {{"path", "n.txt"}}).content, "1\ta\n2\tb\n");
  WriteFile(dir_ / "e.txt", "");
  EXPECT_EQ(Exec("read_file", {{"path", "e.txt"}}).content, "(empty file)");
}

TEST_F(ToolBoxTest, ReadFileMissingAndDirectory) {
  EXPECT_EQ(Exec("read_file", {{"path", "nope.txt"}}).content, "read_file: no such file: 'nope.txt'");
  EXPECT_TRUE(Contains(Exec("read_file", {{"path", "src"}}).content, "is a directory"));
}

TEST_F(ToolBoxTest, ReadFileDescribesBinaryFiles) {
  std::string bin("\x7f" "ELF\0\0\0binary", 13);
  WriteFile(dir_ / "prog", bin);
  ToolOutcome o = Exec("read_file", {{"path", "prog"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kOk);
  EXPECT_EQ(o.content, "binary file (contains NUL bytes), 13 bytes: 'prog' is not shown");
}

TEST_F(ToolBoxTest, ReadFileDescribesNonUtf8Files) {
  WriteFile(dir_ / "latin1.txt", "caf\xE9\n");
  ToolOutcome o = Exec("read_file", {{"path", "latin1.txt"}});
  EXPECT_TRUE(Contains(o.content, "binary file (not UTF-8 text), 5 bytes")) << o.content;
}

TEST_F(ToolBoxTest, ReadFileOfFiftyMegabytesShowsOnlyAWindow) {
  std::string line(99, 'x');
  line += '\n';
  {
    std::ofstream out(dir_ / "huge.txt", std::ios::binary);
    for (int i = 0; i < 500000; ++i) out << line;  // 50 MB
  }
  ToolOutcome o = Exec("read_file", {{"path", "huge.txt"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kOk);
  EXPECT_LE(o.content.size(), box_->options().read_max_bytes + 200);
  EXPECT_TRUE(Contains(o.content, "-byte file; output limit reached")) << o.content.substr(o.content.size() - 200);
  o = Exec("read_file", {{"path", "huge.txt"}, {"start_line", 400000}, {"end_line", 400001}});
  EXPECT_EQ(o.content, "400000\t" + line + "400001\t" + line + "[lines 400000-400001 of a 50000000-byte file]\n");
}

TEST_F(ToolBoxTest, ReadFileCutsVeryLongLines) {
  WriteFile(dir_ / "min.js", std::string(100000, 'a') + "\nb\n");
  ToolOutcome o = Exec("read_file", {{"path", "min.js"}});
  EXPECT_TRUE(Contains(o.content, "[... line cut, 100000 bytes]"));
  EXPECT_TRUE(Contains(o.content, "2\tb\n"));
  EXPECT_LT(o.content.size(), 1200u);
}

TEST_F(ToolBoxTest, ReadFileRefusesEscapesAndGit) {
  EXPECT_EQ(Exec("read_file", {{"path", "../x"}}).kind, ToolOutcomeKind::kRefused);
  EXPECT_EQ(Exec("read_file", {{"path", "/etc/passwd"}}).kind, ToolOutcomeKind::kRefused);
  EXPECT_EQ(Exec("read_file", {{"path", ".git/config"}}).kind, ToolOutcomeKind::kRefused);
  WriteFile(outside_ / "secret", "s");
  fs::create_symlink(outside_ / "secret", dir_ / "link");
  ToolOutcome o = Exec("read_file", {{"path", "link"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kRefused);
  EXPECT_FALSE(Contains(o.content, "\ns"));
}

// --- list_files and search ---

TEST_F(ToolBoxTest, ListFilesRespectsGitignoreAndIncludesUntracked) {
  ToolOutcome o = Exec("list_files", nlohmann::json::object());
  EXPECT_EQ(o.kind, ToolOutcomeKind::kOk);
  EXPECT_EQ(o.content, ".gitignore\nREADME.md\nnotes/untracked.txt\nsrc/main.cc\n");
}

TEST_F(ToolBoxTest, ListFilesFiltersByPathAndGlobAndCaps) {
  EXPECT_EQ(Exec("list_files", {{"path", "src"}}).content, "src/main.cc\n");
  EXPECT_EQ(Exec("list_files", {{"glob", "*.md"}}).content, "README.md\n");
  EXPECT_EQ(Exec("list_files", {{"glob", "*.rs"}}).content, "no files match '*.rs'");
  for (int i = 0; i < 30; ++i) WriteFile(dir_ / ("many/f" + std::to_string(i) + ".txt"), "");
  ToolOptions small;
  small.list_max_entries = 10;
  Make(small);
  ToolOutcome o = Exec("list_files", {{"path", "many"}});
  EXPECT_TRUE(Contains(o.content, "[... 20 more; narrow with path or glob]")) << o.content;
}

TEST_F(ToolBoxTest, ListFilesSkipsDeletedTrackedFiles) {
  fs::remove(dir_ / "README.md");
  EXPECT_FALSE(Contains(Exec("list_files", nlohmann::json::object()).content, "README.md"));
}

TEST_F(ToolBoxTest, ListFilesOutsideAGitRepositoryWalksTheTree) {
  TempDir plain;
  WriteFile(plain / "a/b.txt", "");
  WriteFile(plain / ".git/config", "");
  auto box = ToolBox::Create(plain.path());
  ASSERT_TRUE(box.has_value());
  EXPECT_EQ(box->Execute(Call("list_files", nlohmann::json::object())).content, "a/b.txt\n");
}

TEST_F(ToolBoxTest, SearchFindsTrackedAndUntrackedButNotIgnored) {
  WriteFile(dir_ / "build/gen.cc", "printf in ignored\n");
  ToolOutcome o = Exec("search", {{"regex", "printf|search me"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kOk) << o.content;
  EXPECT_EQ(o.content, "notes/untracked.txt:1:todo: search me\nsrc/main.cc:3:  printf(\"hi\\n\");\n");
}

TEST_F(ToolBoxTest, SearchUsesPcreAndGlobAndPath) {
  EXPECT_EQ(Exec("search", {{"regex", "return \\d;"}, {"glob", "*.cc"}}).content, "src/main.cc:4:  return 0;\n");
  EXPECT_EQ(Exec("search", {{"regex", "return"}, {"glob", "*.md"}}).content, "no matches");
  EXPECT_EQ(Exec("search", {{"regex", "demo"}, {"path", "src"}}).content, "no matches");
}

TEST_F(ToolBoxTest, SearchReportsBadRegex) {
  ToolOutcome o = Exec("search", {{"regex", "a(b"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kError);
  EXPECT_TRUE(Contains(o.content, "search:")) << o.content;
}

TEST_F(ToolBoxTest, SearchCapsMatchesAndSkipsBinaryFiles) {
  std::string many;
  for (int i = 0; i < 500; ++i) many += "needle " + std::to_string(i) + "\n";
  WriteFile(dir_ / "many.txt", many);
  WriteFile(dir_ / "blob.bin", std::string("needle\0\0", 8));
  ToolOutcome o = Exec("search", {{"regex", "needle"}});
  EXPECT_TRUE(Contains(o.content, "more matches not shown"));
  EXPECT_FALSE(Contains(o.content, "blob.bin"));
  EXPECT_LT(o.content.size(), 3000u);
}

// --- edit_file ---

TEST_F(ToolBoxTest, EditFileReplacesExactlyOnce) {
  ToolOutcome o = Exec("edit_file", {{"path", "src/main.cc"}, {"old_text", "return 0;"}, {"new_text", "return 1;"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kOk) << o.content;
  EXPECT_EQ(o.content, "edited 'src/main.cc' at line 4 (-1 +1 lines)");
  EXPECT_EQ(o.paths_written, std::vector<std::string>{"src/main.cc"});
  EXPECT_TRUE(Contains(ReadFile(dir_ / "src/main.cc"), "return 1;"));
}

TEST_F(ToolBoxTest, EditFileWithNoMatchShowsClosestLines) {
  ToolOutcome o = Exec("edit_file", {{"path", "src/main.cc"}, {"old_text", "  printf(\"hello\\n\");\n  return 0;"},
                                     {"new_text", "x"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kError);
  EXPECT_TRUE(Contains(o.content, "closest lines")) << o.content;
  EXPECT_TRUE(Contains(o.content, "3\t  printf(\"hi\\n\");")) << o.content;
  EXPECT_TRUE(Contains(o.content, "4\t  return 0;")) << o.content;
}

TEST_F(ToolBoxTest, EditFileWithIndentationMismatchSaysSo) {
  ToolOutcome o = Exec("edit_file", {{"path", "src/main.cc"}, {"old_text", "    return 0;\n  }"}, {"new_text", "x"}});
  EXPECT_TRUE(Contains(o.content, "lines 4-5 except for indentation")) << o.content;
}

TEST_F(ToolBoxTest, EditFileWithSeveralMatchesSaysWhere) {
  WriteFile(dir_ / "dup.txt", "x = 1\ny = 2\nx = 1\n");
  ToolOutcome o = Exec("edit_file", {{"path", "dup.txt"}, {"old_text", "x = 1"}, {"new_text", "x = 3"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kError);
  EXPECT_EQ(o.content,
            "edit_file: old_text matches 2 times in 'dup.txt' (at lines 1, 3); include more surrounding "
            "lines to make it unique");
  EXPECT_EQ(ReadFile(dir_ / "dup.txt"), "x = 1\ny = 2\nx = 1\n");
}

TEST_F(ToolBoxTest, EditFileKeepsCrlfAndMode) {
  WriteFile(dir_ / "win.txt", "a\r\nb\r\nc\r\n");
  fs::permissions(dir_ / "win.txt", fs::perms(0755));
  ToolOutcome o = Exec("edit_file", {{"path", "win.txt"}, {"old_text", "a\nb"}, {"new_text", "a\nB"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kOk) << o.content;
  EXPECT_EQ(ReadFile(dir_ / "win.txt"), "a\r\nB\r\nc\r\n");
  EXPECT_EQ(fs::status(dir_ / "win.txt").permissions() & fs::perms::all, fs::perms(0755));
}

TEST_F(ToolBoxTest, EditFileRefusesBinaryMissingAndGuardedPaths) {
  WriteFile(dir_ / "b.bin", std::string("a\0b", 3));
  EXPECT_TRUE(Contains(Exec("edit_file", {{"path", "b.bin"}, {"old_text", "a"}, {"new_text", "c"}}).content, "binary"));
  EXPECT_TRUE(Contains(Exec("edit_file", {{"path", "no.txt"}, {"old_text", "a"}, {"new_text", "c"}}).content,
                       "use write_file"));
  EXPECT_EQ(Exec("edit_file", {{"path", ".git/config"}, {"old_text", "a"}, {"new_text", "c"}}).kind,
            ToolOutcomeKind::kRefused);
}

// --- write_file ---

TEST_F(ToolBoxTest, WriteFileCreatesWithParentsAndOverwrites) {
  ToolOutcome o = Exec("write_file", {{"path", "new/dir/a.txt"}, {"content", "one\ntwo\n"}});
  EXPECT_EQ(o.content, "created 'new/dir/a.txt' (2 lines, 8 bytes)");
  EXPECT_EQ(o.paths_written, std::vector<std::string>{"new/dir/a.txt"});
  o = Exec("write_file", {{"path", "new/dir/a.txt"}, {"content", "three"}});
  EXPECT_EQ(o.content, "overwrote 'new/dir/a.txt' (1 lines, 5 bytes)");
  EXPECT_EQ(ReadFile(dir_ / "new/dir/a.txt"), "three");
}

TEST_F(ToolBoxTest, WriteFileRefusesEscapesSymlinksAndGit) {
  WriteFile(outside_ / "target.txt", "original");
  fs::create_symlink(outside_ / "target.txt", dir_ / "evil.txt");
  fs::create_directory_symlink(outside_.path(), dir_ / "evil_dir");
  for (const char* p : {"../escape.txt", "/tmp/abs.txt", "evil.txt", "evil_dir/new.txt", ".git/hooks/pre-commit",
                        ".tandem/x"}) {
    ToolOutcome o = Exec("write_file", {{"path", p}, {"content", "pwned"}});
    EXPECT_EQ(o.kind, ToolOutcomeKind::kRefused) << p << ": " << o.content;
    EXPECT_TRUE(o.paths_written.empty());
  }
  EXPECT_EQ(ReadFile(outside_ / "target.txt"), "original");
  EXPECT_FALSE(fs::exists(outside_ / "new.txt"));
  EXPECT_FALSE(fs::exists(dir_ / ".git/hooks/pre-commit"));
}

// --- predict ---

TEST_F(ToolBoxTest, PredictNamesPathsAndCommandsBeforeRunning) {
  ToolEffects e = box_->Predict(Call("edit_file", {{"path", "./src/../src/main.cc"}, {"old_text", "a"}, {"new_text", "b"}}));
  EXPECT_EQ(e.may_write, std::vector<std::string>{"src/main.cc"});
  EXPECT_FALSE(e.runs_command);
  e = box_->Predict(Call("write_file", {{"path", "../x"}, {"content", ""}}));
  EXPECT_TRUE(e.may_write.empty());
  e = box_->Predict(Call("read_file", {{"path", "README.md"}}));
  EXPECT_TRUE(e.may_write.empty());
  EXPECT_FALSE(e.runs_command);
  ToolOptions off;
  off.sandbox = SandboxMode::kOff;
  Make(off);
  EXPECT_TRUE(box_->Predict(Call("run_command", {{"command", "make"}})).runs_command);
  EXPECT_FALSE(box_->Predict(Call("run_command", {{"command", "git push"}})).runs_command);
  EXPECT_FALSE(fs::exists(dir_ / "x"));
}

// --- run_command ---

class RunCommandTest : public ToolBoxTest {
 protected:
  void SetUp() override {
    ToolBoxTest::SetUp();
    ToolOptions options;
    options.sandbox = SandboxMode::kOff;  // the sandboxed variants check for bwrap themselves
    Make(options);
  }
};

TEST_F(RunCommandTest, ReturnsExitCodeAndOutput) {
  ToolOutcome o = Exec("run_command", {{"command", "echo hello; echo oops >&2; exit 3"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kOk);
  EXPECT_EQ(o.content, "exit code 3\nhello\noops\n");
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_TRUE(o.ran_command);
}

TEST_F(RunCommandTest, HoldsAJobTokenWhileTheCommandRuns) {
  platform::JobBudget jobs(1);
  ToolOptions options;
  options.sandbox = SandboxMode::kOff;
  options.jobs = &jobs;
  Make(options);
  // The command says it started, then waits for the test's go-ahead.
  auto run = std::async(std::launch::async, [&] {
    return Exec("run_command", {{"command", "touch started; i=0; "
                                            "while [ ! -f go ] && [ $i -lt 3000 ]; do "
                                            "sleep 0.01; i=$((i+1)); done; test -f go"}});
  });
  while (!fs::exists(dir_ / "started") &&
         run.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    std::this_thread::yield();
  }
  EXPECT_EQ(jobs.available(), 0);  // held while the command runs
  WriteFile(dir_ / "go", "");
  ToolOutcome o = run.get();
  EXPECT_EQ(o.exit_code, 0) << o.content;
  EXPECT_EQ(jobs.available(), 1);
}

TEST_F(RunCommandTest, CancelWakesACommandWaitingForAJobToken) {
  platform::JobBudget jobs(1);
  std::optional<platform::JobBudget::Token> held = jobs.TryAcquire();  // another agent's gate
  ASSERT_TRUE(held);
  ToolOptions options;
  options.sandbox = SandboxMode::kOff;
  options.jobs = &jobs;
  Make(options);
  std::stop_source stop;
  auto run = std::async(std::launch::async, [&] {
    return box_->Execute(Call("run_command", {{"command", "touch ran"}}), stop.get_token());
  });
  // Until the gate or command waits for the token (or, were it never to, has returned).
  while (jobs.waiting() == 0 &&
         run.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    std::this_thread::yield();
  }
  ASSERT_EQ(jobs.waiting(), 1);
  stop.request_stop();
  ToolOutcome o = run.get();
  EXPECT_FALSE(o.ran_command);
  EXPECT_TRUE(Contains(o.content, "cancelled")) << o.content;
  EXPECT_FALSE(fs::exists(dir_ / "ran"));
  EXPECT_EQ(jobs.available(), 0);
}

TEST_F(RunCommandTest, RunsInTheWorkspaceRoot) {
  EXPECT_EQ(Exec("run_command", {{"command", "pwd"}}).content, "exit code 0\n" + dir_.path().string() + "\n");
}

TEST_F(RunCommandTest, TimesOut) {
  ToolOutcome o = Exec("run_command", {{"command", "echo start; sleep 30"}, {"timeout_s", 1}});
  EXPECT_EQ(o.content, "timed out after 1 s; the command was killed\nstart\n");
}

TEST_F(RunCommandTest, TenMegabytesOfOutputAreCappedHeadAndTail) {
  ToolOutcome o = Exec("run_command", {{"command", "head -c 10485760 /dev/urandom | base64 -w 100; echo LAST-LINE"}});
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_LT(o.content.size(), box_->options().command_output_limit + 100);
  EXPECT_TRUE(Contains(o.content, "bytes omitted ...]"));
  EXPECT_TRUE(Contains(o.content, "LAST-LINE\n"));
}

TEST_F(RunCommandTest, BinaryOutputBecomesValidUtf8) {
  ToolOutcome o = Exec("run_command", {{"command", "printf 'a\\377\\376b'"}});
  EXPECT_TRUE(IsValidUtf8(o.content));
  EXPECT_EQ(o.content, "exit code 0\na\xEF\xBF\xBD\xEF\xBF\xBD" "b");
  EXPECT_NO_THROW((void)nlohmann::json(o.content).dump());
}

TEST_F(RunCommandTest, RiskyCommandIsRefusedWithTheReason) {
  ToolOutcome o = Exec("run_command", {{"command", "git push origin main"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kRefused);
  EXPECT_TRUE(Contains(o.content, "git push: publishes commits to a remote")) << o.content;
  EXPECT_FALSE(o.ran_command);
}

TEST_F(RunCommandTest, AllowAllPolicyRunsRiskyCommands) {
  ToolOptions options;
  options.sandbox = SandboxMode::kOff;
  options.command_policy = CommandPolicy::kAllowAll;
  Make(options);
  ToolOutcome o = Exec("run_command", {{"command", "git push 2>&1; true"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kOk);
  EXPECT_TRUE(o.ran_command);
}

TEST_F(RunCommandTest, OnlyTheAllowlistAndIncludedVariablesReachTheCommand) {
  ::setenv("TANDEM_TEST_API_KEY", "sk-very-secret", 1);
  ::setenv("TANDEM_TEST_PLAIN", "visible", 1);
  ::setenv("TANDEM_TEST_UNLISTED", "unlisted", 1);
  ToolOptions options;
  options.sandbox = SandboxMode::kOff;  // the environment is built either way
  options.child.env.include = {"TANDEM_TEST_*"};
  Make(options);
  ToolOutcome o = Exec("run_command", {{"command", "env"}});
  options.child.env.include.clear();
  Make(options);
  ToolOutcome plain = Exec("run_command", {{"command", "env"}});
  ::unsetenv("TANDEM_TEST_API_KEY");
  ::unsetenv("TANDEM_TEST_PLAIN");
  ::unsetenv("TANDEM_TEST_UNLISTED");
  EXPECT_FALSE(Contains(o.content, "TANDEM_TEST_API_KEY"));
  EXPECT_TRUE(Contains(o.content, "TANDEM_TEST_PLAIN=visible"));
  EXPECT_TRUE(Contains(o.content, "PATH="));
  EXPECT_FALSE(Contains(plain.content, "TANDEM_TEST_UNLISTED"));
  EXPECT_TRUE(Contains(plain.content, "PATH="));
}

TEST_F(RunCommandTest, EmptyCommandIsAnError) {
  EXPECT_EQ(Exec("run_command", {{"command", "  "}}).kind, ToolOutcomeKind::kError);
}

class SandboxedRunCommandTest : public ToolBoxTest {
 protected:
  void SetUp() override {
    if (!platform::ProbeSandbox().available) GTEST_SKIP() << platform::ProbeSandbox().reason;
    ToolBoxTest::SetUp();
  }
};

TEST_F(SandboxedRunCommandTest, WritesInTheWorkspaceButNotInGitOrOutside) {
  ToolOutcome o = Exec("run_command", {{"command", "echo hello > hello.txt"}});
  EXPECT_EQ(o.content, "exit code 0\n(no output)\n");
  EXPECT_EQ(ReadFile(dir_ / "hello.txt"), "hello\n");
  // The classifier lets `touch` of an absolute /tmp path through; the sandbox keeps it private.
  o = Exec("run_command", {{"command", "touch " + (outside_ / "x").string()}});
  EXPECT_FALSE(fs::exists(outside_ / "x")) << o.content;
  // Writing into .git through a path the classifier cannot see.
  o = Exec("run_command", {{"command", "d=.g; d=${d}it; echo x > $d/evil 2>&1; echo done"}});
  EXPECT_FALSE(fs::exists(dir_ / ".git/evil")) << o.content;
}

// A TCP listener on 127.0.0.1 (an ephemeral port); the kernel completes
// connections into its backlog, so no accept loop is needed.
class LoopbackListener {
 public:
  LoopbackListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(fd_, 16) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~LoopbackListener() {
    if (fd_ >= 0) ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(SandboxedRunCommandTest, NetworkIsUnreachable) {
  LoopbackListener listener;
  ASSERT_NE(listener.port(), 0);
  // bash, not sh: /dev/tcp is a bash feature (under dash the redirection
  // fails whatever the network, which is why the control below matters).
  const std::string connect = "bash -c 'exec 3<>/dev/tcp/127.0.0.1/" +
                              std::to_string(listener.port()) +
                              "' 2>/dev/null && echo connected || echo blocked";
  ToolOptions options;
  options.command_policy = CommandPolicy::kAllowAll;  // let curl-like commands reach the sandbox
  options.sandbox = SandboxMode::kOff;
  Make(options);
  ToolOutcome control = Exec("run_command", {{"command", connect}});
  ASSERT_EQ(control.content, "exit code 0\nconnected\n") << "the unsandboxed control must connect";

  options.sandbox = SandboxMode::kRequire;
  Make(options);
  ToolOutcome o = Exec("run_command", {{"command", connect}});
  EXPECT_EQ(o.content, "exit code 0\nblocked\n");
}

TEST(CommandAvailability, OffRunsUnsandboxedAndSaysSo) {
  CommandAvailability a = CheckCommandAvailability(SandboxMode::kOff);
  EXPECT_TRUE(a.available);
  EXPECT_FALSE(a.sandboxed);
}

// The refusal tells the user what to set, in the configuration's own names
// (docs/CONFIG.md [sandbox]: mode auto | bwrap | none, on_unavailable).
TEST(CommandAvailability, UnavailableSandboxNamesTheConfigurationThatWouldRunCommands) {
  platform::SandboxProbe missing{false, "bwrap", "bubblewrap (bwrap) is not installed"};
  CommandAvailability refused = CheckCommandAvailability(SandboxMode::kRequire, missing);
  EXPECT_FALSE(refused.available);
  EXPECT_EQ(refused.note,
            "bubblewrap (bwrap) is not installed (to run commands and gates unsandboxed anyway, "
            "set sandbox.mode = \"auto\" with sandbox.on_unavailable = \"run-unsandboxed\", or "
            "sandbox.mode = \"none\")");
  CommandAvailability unsandboxed = CheckCommandAvailability(SandboxMode::kPrefer, missing);
  EXPECT_TRUE(unsandboxed.available);
  EXPECT_FALSE(unsandboxed.sandboxed);
}

// --- finish ---

TEST_F(ToolBoxTest, FinishReturnsTheSummary) {
  ToolOutcome o = Exec("finish", {{"summary", "fixed the test"}});
  EXPECT_EQ(o.kind, ToolOutcomeKind::kFinish);
  EXPECT_EQ(o.content, "fixed the test");
}

}  // namespace
}  // namespace tandem::tools
