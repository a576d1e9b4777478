// Process exit codes, documented in docs/EVENTS.md ("Exit codes").
#pragma once

namespace tandem::cli {

enum ExitCode : int {
  kExitSuccess = 0,
  kExitTaskFailed = 1,     // the task ended without passing verification (or hit a limit)
  kExitUsage = 2,          // bad command line or configuration
  kExitProvider = 3,       // the model provider failed (auth, network, retries exhausted)
  kExitInternal = 4,       // tandem itself failed (disk, git, ledger)
  kExitBusy = 5,           // another tandem process is writing this repository; nothing ran
  kExitInterrupted = 130,  // Ctrl-C
};

}  // namespace tandem::cli
