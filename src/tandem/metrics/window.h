// The time window of `tandem stats`: which runs count, by runs.started_at.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "tandem/base/status.h"

namespace tandem::metrics {

struct Window {
  int64_t since_ms = 0;                                    // inclusive
  int64_t until_ms = std::numeric_limits<int64_t>::max();  // exclusive
  std::string label = "all time";                          // for the report
};

// The whole ledger.
Window AllTime();

// Parses a --since value relative to `now_ms`:
//   "<N>m", "<N>h", "<N>d", "<N>w"   minutes, hours, days, weeks before now
//   "YYYY-MM-DD"                      that day's 00:00 UTC
//   "YYYY-MM-DDTHH:MM"                that minute, UTC
// InvalidArgument (naming the accepted forms) for anything else.
Result<Window> ParseSince(std::string_view text, int64_t now_ms);

}  // namespace tandem::metrics
