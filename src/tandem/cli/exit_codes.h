// Process exit codes: the shared vocabulary's (protocol/vocabulary.h),
// documented in docs/EVENTS.md ("Exit codes").
#pragma once

#include "tandem/protocol/vocabulary.h"

namespace tandem::cli {

using protocol::ExitCode;
using protocol::kExitBusy;
using protocol::kExitInternal;
using protocol::kExitInterrupted;
using protocol::kExitProvider;
using protocol::kExitSuccess;
using protocol::kExitTaskFailed;
using protocol::kExitUsage;

}  // namespace tandem::cli
