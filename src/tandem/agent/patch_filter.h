// What a reviewer is shown of a change: a unified diff without tandem's own
// files, capped. Used by review before done (verified_step.cc) and the
// fan-out's tournament (orchestrator/tournament.h).
//
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace tandem::agent {

// The sections of unified diff `patch` whose path is not in `skip` (split at
// "\ndiff --git "), capped at `max_bytes` without splitting a UTF-8
// sequence (the cut is said in the text). Not redacted: the caller applies
// Redactor.
std::string FilterPatch(const std::string& patch, const std::vector<std::string>& skip,
                        size_t max_bytes);

}  // namespace tandem::agent
