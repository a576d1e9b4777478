#include "tandem/orchestrator/task_commit.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "tandem/base/redact.h"
#include "tandem/base/strings.h"
#include "tandem/ledger/git_dirs.h"
#include "tandem/platform/process.h"

namespace tandem::orchestrator {
namespace {

Result<platform::ProcessResult> Git(const std::string& repo_root, std::vector<std::string> args) {
  platform::ProcessSpec spec;
  spec.argv = {"git", "--literal-pathspecs"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.cwd = repo_root;
  // A hook may run a test suite.
  spec.timeout = std::chrono::minutes(10);
  spec.output_limit = 16 * 1024;
  return platform::RunProcess(spec);
}

}  // namespace

std::string CommitMessage(const CommitSettings& settings, const agent::ReviewResult& review) {
  std::string subject = review.commit_subject.empty() ? "tandem: task " + settings.task_id
                                                      : review.commit_subject;
  return review.commit_body.empty() ? subject + "\n" : subject + "\n\n" + review.commit_body + "\n";
}

agent::CommitOutcome CommitTaskChange(const CommitSettings& settings,
                                      const agent::ReviewResult& review,
                                      const std::vector<std::string>& paths) {
  agent::CommitOutcome out;
  if (paths.empty()) {
    out.output = "nothing to commit";
    return out;
  }
  auto common = ledger::GitCommonDir(settings.repo_root);
  if (!common) {
    out.output = "cannot find the git directory: " + common.error().message();
    return out;
  }
  // In the git directory: no commit can pick it up.
  std::filesystem::path message_file = *common / "tandem" / "COMMIT_MSG";
  std::error_code mkdir_error;
  std::filesystem::create_directories(message_file.parent_path(), mkdir_error);
  {
    std::ofstream file(message_file, std::ios::binary | std::ios::trunc);
    file << CommitMessage(settings, review);
    if (!file) {
      out.output = "cannot write " + message_file.string();
      return out;
    }
  }
  std::vector<std::string> add = {"add", "-A", "--"};
  add.insert(add.end(), paths.begin(), paths.end());
  auto added = Git(settings.repo_root, add);
  if (!added || !added->ok()) {
    out.output = "git add failed: " + (added ? added->output : added.error().message());
  } else {
    std::vector<std::string> commit = {"commit", "--quiet", "--file=" + message_file.string()};
    if (!settings.author.empty()) commit.push_back("--author=" + settings.author);
    commit.push_back("--");
    commit.insert(commit.end(), paths.begin(), paths.end());
    auto committed = Git(settings.repo_root, commit);
    if (!committed) {
      out.output = "git commit could not start: " + committed.error().message();
    } else if (!committed->ok()) {
      out.output = committed->output.empty()
                       ? fmt::format("git commit exited {}", committed->exit_code)
                       : committed->output;
    } else {
      auto head = Git(settings.repo_root, {"rev-parse", "HEAD"});
      out.committed = true;
      out.commit = head && head->ok() ? std::string(TrimSpace(head->output)) : "";
    }
  }
  std::error_code ec;
  std::filesystem::remove(message_file, ec);
  out.output = Redactor::Apply(out.output);
  return out;
}

Status CheckCanCommit(const std::string& repo_root, const std::string& author) {
  for (const char* who : {"GIT_COMMITTER_IDENT", "GIT_AUTHOR_IDENT"}) {
    if (!author.empty() && std::string_view(who) == "GIT_AUTHOR_IDENT") continue;
    auto ident = Git(repo_root, {"var", who});
    if (!ident || !ident->ok()) {
      return FailedPrecondition(
          "--commit: git has no identity to commit with here; set user.name and user.email "
          "(commit.author = \"Name <email>\" sets the author only)");
    }
  }
  auto branch = Git(repo_root, {"symbolic-ref", "--quiet", "HEAD"});
  if (!branch || !branch->ok()) {
    return FailedPrecondition("--commit: HEAD is detached; check out the branch to commit to");
  }
  return Status::Ok();
}

}  // namespace tandem::orchestrator
