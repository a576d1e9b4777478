// For mcp/ test binaries: a test writes to servers that may have exited, so
// SIGPIPE is ignored for the whole binary, as cli::Main does for tandem.
#pragma once

#include <signal.h>

namespace tandem::mcp::testing {

inline const bool kSigpipeIgnored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

}  // namespace tandem::mcp::testing
