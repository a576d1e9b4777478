// The body of `tandem do`, shared with `tandem demo`: one task in one
// repository with the executor role, rendered live or as JSONL.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tandem/cli/command_io.h"
#include "tandem/ledger/ledger.h"
#include "tandem/protocol/event.h"
#include "tandem/protocol/vocabulary.h"

namespace tandem::cli {

struct DoOptions {
  std::string task;
  std::string repo_root;  // the working tree (Invocation::repo_root); empty: not in a repository
  std::string model;      // a model name; empty: the executor role
  // Fan-out (orchestrator/fanout.h): variants > 0 runs that many variants;
  // `models` is the executor pool they spread over (empty: `model`, else
  // the executor role).
  int variants = 0;
  int stop_after = 0;
  int parallel = 0;
  bool approaches = false;
  // --no-tournament: the score alone ranks the passing variants, whatever
  // fanout.tournament says; otherwise that key decides whether the reviewer
  // role (when it has a model) judges them pairwise.
  bool no_tournament = false;
  std::vector<std::string> models;
  std::vector<std::string> overrides;
  std::vector<std::string> scope;
  std::vector<std::string> skills;  // --skill NAME: forced into the first request
  // `tandem skills eval` (agent::TaskSpec): its own run id, no ranked skills
  // besides the forced one, the skill a run without skills is compared with.
  std::string run_id;
  bool skills_eval = false;
  std::string skill_compared;
  std::string config_file;  // an extra configuration file (tandem demo's own); see RuntimeOptions
  bool json = false;
  std::string kind = "do";
};

// What a finished `tandem do` did, for callers other than the terminal
// (`tandem mcp serve`). Empty run_id: it did not start a run. A fan-out
// (variants > 0): the fan-out's run (its variants are in the ledger's
// variants table, `tandem variants RUN`), no final checkpoint (the
// checkout is not changed).
struct DoReport {
  std::string run_id;
  std::optional<protocol::Outcome> outcome;
  std::string summary;
  std::string final_checkpoint;  // hex; empty when none was recorded
};

// Returns the process exit code (docs/EVENTS.md). `report` (may be null)
// receives what the run did.
int RunDo(const DoOptions& options, const CommandIo& io = {}, DoReport* report = nullptr);

struct Runtime;
struct LoadedGates;
// The fan-out branch of RunDo (cli/fanout_run.cc), once the runtime, the
// writer lock, the ledger and the gates are in hand; writes and is
// interrupted as `io` says (the variants' irreversible commands are
// refused: io.ops is not used).
int RunFanoutDo(const DoOptions& options, Runtime& rt, ledger::Ledger& ledger,
                LoadedGates gates, protocol::EventSink* sink, const CommandIo& io,
                DoReport* report);

}  // namespace tandem::cli
