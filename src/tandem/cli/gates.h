// The gates a command runs: verify.md's, or the detected ones when there is
// no verify.md, with the trust of verify.md's grants (config/trust.h). A
// gate's `network` or `env VAR` widens the sandbox of code a model may
// write, so a command that runs gates refuses grants the user has not
// trusted with `tandem trust`, before anything runs.
//
// Thread-safety: free functions; no shared state.
#pragma once

#include <string>
#include <vector>

#include "tandem/base/status.h"
#include "tandem/config/config.h"
#include "tandem/config/trust.h"
#include "tandem/verify/gate.h"

namespace tandem::cli {

struct LoadedGates {
  std::vector<verify::Gate> gates;
  std::string source;         // "verify.md" or the detection sentence
  config::GrantsTrust trust;  // of verify.md's grants; state kNoFile when detected
};

struct GateSource {
  // Non-empty: verify.md as this checkpoint recorded it (a resumed run reads
  // the file it started with, not one a model edited before the kill); when
  // the checkpoint had none, the gates are detected.
  std::string checkpoint{};
  // false (doctor, trust, plan, which run no gate): report the trust only.
  bool refuse_untrusted = true;
};

// Reads the gates of the repository at `repo_root`; `env` locates the
// user's trust store. Errors (kInvalidArgument unless said): a malformed
// verify.md (file:line), grants not trusted (RefuseUntrustedGrants: each
// grant by file:line, and `tandem trust`), an unreadable trust store, a
// checkpoint that cannot be read (its git error).
Result<LoadedGates> LoadGates(const std::string& repo_root, const config::Env& env,
                              const GateSource& from = {});

}  // namespace tandem::cli
