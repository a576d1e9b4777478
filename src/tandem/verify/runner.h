// RunGates: runs a list of gates against a workspace, in parallel, with a
// result cache.
//
// Each gate's command runs as `/bin/sh -e -c <command>` in
// `workspace/<gate.cwd>` through platform::RunProcess, in its own process
// group, killed at its timeout; confined like a model's command
// (platform::ConfineProcess: the sandbox when `bwrap` is set, the child
// environment always), widened only by the gate's own grants (`network`,
// `env VAR`). Output and excerpts are redacted (base/redact.h). Every ready
// gate gets a thread, and its command runs only while it holds a token of
// the job budget (platform/job_budget.h): the process's one budget, shared
// with every other agent's gates and commands, so concurrent calls never run
// more gates at once than it has tokens. A gate with `after` entries starts
// only once those gates (when they are part of this run) have passed, and is
// reported kError without running when one of them did not pass.
//
// With a cache and a tree hash, a gate whose (tree, name, command, cwd) is
// already cached is not run again: its stored result comes back with
// `cached = true`.
//
// Thread-safety: RunGates blocks until every gate has finished. It starts
// its own threads, but calls `on_result` and the cache only from the calling
// thread. Independent calls may run concurrently (e.g. one per variant).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <stop_token>
#include <string>
#include <vector>

#include "tandem/platform/job_budget.h"
#include "tandem/platform/sandbox.h"
#include "tandem/verify/excerpt.h"
#include "tandem/verify/gate.h"
#include "tandem/verify/gate_cache.h"

namespace tandem::verify {

struct GateRunOptions {
  std::filesystem::path workspace;  // the root gates run in (gate.cwd is relative to it)
  std::string tree_hash;            // the workspace's tree; empty disables the cache
  GateCache* cache = nullptr;       // not owned; may be null
  // The process's job budget; not owned. Null: a budget of
  // JobBudget::DefaultCapacity() for this call alone (tests, benchmarks).
  platform::JobBudget* jobs = nullptr;
  // Once stop is requested, running gates are killed and waiting ones are
  // not started (kError, "cancelled").
  std::stop_token cancel;
  // The sandbox binary; empty: gates run without the sandbox (configured off,
  // or unavailable and allowed), still with the child environment.
  std::string bwrap;
  // Non-empty: gates may not run here (the sandbox is required but cannot
  // start); each comes back kError with this detail.
  std::string refused;
  platform::ChildPolicy child;  // the gate's grants are added to it
  // Set last in the child environment (NO_COLOR=1 and TERM=dumb are set by
  // default to keep colour codes and progress bars out of the output).
  std::map<std::string, std::string> env;
  size_t output_limit = 1 << 20;  // bytes of output kept per gate before excerpting
  ExcerptOptions excerpt;
  // Called on the calling thread as each gate finishes, in finishing order.
  std::function<void(const GateResult&)> on_result;
};

// Returns one result per gate, in the order of `gates`.
// REQUIRES: gate names are unique.
std::vector<GateResult> RunGates(const std::vector<Gate>& gates, const GateRunOptions& options);

// True when every result passed (an empty list passes).
bool AllPassed(const std::vector<GateResult>& results);

}  // namespace tandem::verify
