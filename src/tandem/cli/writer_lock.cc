#include "tandem/cli/writer_lock.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <thread>
#include <optional>

#include "tandem/base/clock.h"
#include "tandem/ledger/git_dirs.h"
#include "tandem/ledger/ledger.h"
#include "tandem/platform/orphan_guard.h"
#include "tandem/workspace/temp_copies.h"

namespace tandem::cli {
namespace {

std::string LocalTime(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  return fmt::format("{:%Y-%m-%d %H:%M:%S}", fmt::localtime(t));
}

// The `tandem do` / `tandem run` the holder is executing, from the ledger
// ("" when it has not begun one yet).
std::string LiveRunOf(const std::string& repo_root, const ledger::ProcessIdentity& holder) {
  auto path = ledger::LedgerPathFor(repo_root);
  std::error_code ec;
  if (!path || !std::filesystem::exists(*path, ec)) return "";
  auto ledger = ledger::Ledger::Open({*path, WallClockMs});
  if (!ledger) return "";
  auto runs = (*ledger)->ActiveRuns();
  if (!runs) return "";
  for (const ledger::RunRow& run : *runs) {
    if (run.owner == holder) return run.id;
  }
  return "";
}

// Marks the children of a lock holder (platform/orphan_guard.h).
std::string OwnerTag(const ledger::ProcessIdentity& process) {
  return fmt::format("{}.{}", process.pid, process.start_ticks);
}

void PrintBusy(std::FILE* err, const std::string& repo_root, std::string_view subcommand,
               const std::optional<ledger::LockHolder>& holder) {
  // Worktrees share the lock: the holder may write another checkout.
  const std::string holder_root = holder && !holder->root.empty() ? holder->root : repo_root;
  const bool elsewhere = holder_root != repo_root;
  fmt::print(err, "tandem: another tandem process is writing {}{}; `tandem {}` did not start.\n",
             holder_root,
             elsewhere ? ", a worktree of this repository (one writer per repository)" : "",
             subcommand);
  if (!holder) {
    fmt::print(err,
               "  (it is starting up or finishing; `tandem status` shows what runs)\n"
               "  wait for it to finish, then run `tandem {}` again.\n",
               subcommand);
    return;
  }
  std::string run = LiveRunOf(holder_root, holder->process);
  fmt::print(err, "  holder:  {}{}, pid {}, started {}\n", holder->command,
             run.empty() ? "" : " (run " + run + ")", holder->process.pid,
             LocalTime(holder->started_at_ms));
  fmt::print(err,
             "  steer:   {}tandem steer \"<note>\"   (reaches its next step; `tandem status` "
             "shows its progress)\n"
             "  stop:    kill -INT {}   (or Ctrl-C in its terminal: its unfinished step is rolled "
             "back)\n"
             "  or wait for it to finish, then run `tandem {}` again.\n",
             elsewhere ? fmt::format("cd {} && ", holder_root) : "", holder->process.pid,
             subcommand);
}

}  // namespace

Result<ledger::RepoLock, ExitCode> LockForWriting(const std::string& repo_root,
                                                  std::string_view subcommand, std::FILE* err) {
  auto path = ledger::RepoLock::PathForRepo(repo_root);
  if (!path) {
    fmt::print(err, "tandem: {}\n", path.error().message());
    return kExitInternal;
  }
  // The orphan guard is forked before the lock's descriptor exists: forked
  // later (at the first child) it would hold the flock for the instant
  // before it closes what it inherited, and a kill -9 then would leave the
  // next writer refused (crash matrix point 48, "resume exit 5").
  platform::EnsureOrphanGuard();
  std::string command = fmt::format("tandem {}", subcommand);
  auto acquire = [&] {
    return ledger::RepoLock::Acquire(
        *path,
        ledger::LockHolder{ledger::ProcessIdentity::Current(), command, WallClockMs(), repo_root});
  };
  auto lock = acquire();
  if (!lock && lock.error().code() == StatusCode::kAlreadyExists) {
    // A holder writes its record just after it takes the lock: give one
    // that has only just started a moment to say who it is. Meanwhile the
    // lock is tried again: with no live holder, the flock may be kept only
    // by a killed holder's child between its fork and its exec (the
    // close-on-exec descriptor goes at the exec).
    auto holder = ledger::RepoLock::ReadHolder(*path);
    for (int i = 0; i < 50 && !holder; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      lock = acquire();
      if (lock || lock.error().code() != StatusCode::kAlreadyExists) break;
      holder = ledger::RepoLock::ReadHolder(*path);
    }
    if (!lock && lock.error().code() == StatusCode::kAlreadyExists) {
      PrintBusy(err, repo_root, subcommand, holder);
      return kExitBusy;
    }
  }
  if (!lock) {
    fmt::print(err, "tandem: {}\n", lock.error().message());
    return kExitInternal;
  }
  // Index copies of writers killed after their last load (a run killed once
  // it had finished is followed by no load that would remove them).
  if (auto common = ledger::GitCommonDir(repo_root)) {
    workspace::RemoveDeadIndexCopies((*common / "tandem-tmp").string());
  }
  if (const auto& previous = lock->previous()) {
    // What it started should have died with it (platform/orphan_guard.h);
    // whatever still carries its tag did not.
    int leftovers = platform::KillLeftoversOf(OwnerTag(previous->process));
    fmt::print(err,
               "tandem: `{}` (pid {}, started {}) ended without releasing this repository "
               "(killed or crashed); taking over{}.\n",
               previous->command, previous->process.pid, LocalTime(previous->started_at_ms),
               leftovers > 0 ? fmt::format(" (stopped {} process(es) it left running)", leftovers)
                             : "");
  }
  platform::SetOwnerTag(OwnerTag(ledger::ProcessIdentity::Current()));
  return std::move(*lock);
}

}  // namespace tandem::cli
