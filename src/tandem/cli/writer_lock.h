// The CLI side of one writer per repository (ledger/repo_lock.h): commands
// that write the working tree or the plan (do, run, resume, plan, undo, init;
// demo through do) call LockForWriting first, before they check anything,
// and keep the lock until they return.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "tandem/base/status.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/ledger/repo_lock.h"

namespace tandem::cli {

// Takes the writer lock of the repository at `repo_root` for `tandem
// <subcommand>`. When another process holds it, prints (`err`) which
// command and run hold it, its pid and start time, and how to steer, stop or
// wait for it, and returns kExitBusy; on other failures prints and returns
// kExitInternal. When the lock was taken over from a holder that died
// holding it, says so on stderr.
Result<ledger::RepoLock, ExitCode> LockForWriting(const std::string& repo_root,
                                                  std::string_view subcommand,
                                                  std::FILE* err = stderr);

}  // namespace tandem::cli
