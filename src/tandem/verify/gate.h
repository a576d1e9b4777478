// Gate: a named quality check (a shell command with a timeout) that tandem
// runs to decide whether an edit is acceptable, and GateResult, its outcome.
//
// Gates come from verify.md (verify_md.h, format in docs/FORMATS.md) or, when
// that file is missing, from build-system detection (detect.h). They are run
// by RunGates (runner.h). Plain data; no thread-safety concerns.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/protocol/vocabulary.h"

namespace tandem::verify {

// When a gate runs: after every step that edited, or only when the task ends.
// The final check of a task runs every gate, kEachStep ones included.
enum class GateWhen { kEachStep, kFinal };

struct Gate {
  std::string name;     // unique within a verify.md: [A-Za-z0-9][A-Za-z0-9_.-]*
  std::string command;  // a shell script, run by `/bin/sh -e -c`
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};
  GateWhen when = GateWhen::kEachStep;
  std::string cwd;                 // relative to the workspace root; empty = the root
  std::vector<std::string> after;  // gates that must pass first (defined earlier in the file)
  // Grants from the user's verify.md beyond the sandbox's defaults: the
  // network, and variables of tandem's environment passed by name.
  bool network = false;
  std::vector<std::string> env;
  // The heading's line in verify.md; 0 when not read from a file. Where a
  // gate is written is not part of what it is: operator== ignores it.
  int line = 0;

  bool granted() const { return network || !env.empty(); }

  bool operator==(const Gate& other) const;
};

// A gate's verdict (shared vocabulary): kFail = the command ran and said no
// (non-zero exit); kError = tandem could not get an answer from the gate (it
// could not start, timed out, was cancelled, or a gate it runs after did not
// pass). protocol::Name spells it "pass", "fail", "error".
using protocol::Verdict;

// "each step", "final" (the spelling used in verify.md).
std::string_view GateWhenName(GateWhen when);

struct GateResult {
  std::string gate;  // Gate::name
  Verdict verdict = Verdict::kError;
  int exit_code = -1;  // -1 when the command did not exit normally
  double duration_ms = 0;
  std::string excerpt;  // the relevant part of the output (ExcerptFailure); empty on pass
  std::string detail;   // one line for humans: "exit 2", "timed out after 300s", ...
  bool cached = false;  // served from the GateCache without running

  bool passed() const { return verdict == Verdict::kPass; }
};

// The gates to run at a point of a task: kEachStep selects the gates marked
// "each step"; kFinal selects all of them (a task is done only when every
// gate passes). Order is kept.
std::vector<Gate> SelectGates(const std::vector<Gate>& gates, GateWhen phase);

// A gate's grants as verify.md spells them: "network, env AWS_PROFILE"; ""
// when it has none.
std::string GrantText(const Gate& gate);

// What the user trusts when trusting verify.md's grants (config/trust.h):
// each granted gate's name, working directory, grants and command, in file
// order, encoded unambiguously; "" when no gate has a grant. Prose, line
// numbers and the other gates are not part of it, so editing them does not
// ask again, while any change to what runs with a grant does.
std::string GrantsFingerprint(const std::vector<Gate>& gates);

// "3 gates: build (each step), lint (each step), test (final)" or, for an
// empty list, a sentence saying that edits will not be verified.
std::string SummarizeGates(const std::vector<Gate>& gates);

}  // namespace tandem::verify
