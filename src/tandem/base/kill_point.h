// Kill points for crash testing: the crash matrix (tests/e2e/
// crash_matrix_test.cc) arms one with the environment variable
//   TANDEM_TEST_KILL_POINT=<name>:<n>
// and the process raises SIGKILL on itself the n-th time (1-based) it
// reaches KillPoint(<name>), so a kill lands exactly there rather than
// wherever a signal from outside happens to arrive. Names: every event type
// (reached once the event's --json line is flushed, docs/EVENTS.md) and the
// points listed in docs/PERFORMANCE.md §8 (inside restores, plan edits and
// atomic writes). Unset or malformed: KillPoint does nothing.
// TANDEM_TEST_KILL_POINT_LOG=<file> appends the name of every point reached,
// one a line, so a test can count a reference run's points.
//
// Thread-safe; after the first call an unarmed KillPoint is one atomic load.
#pragma once

#include <string_view>

namespace tandem {

void KillPoint(std::string_view name);

}  // namespace tandem
