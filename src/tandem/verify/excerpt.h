// ExcerptFailure: the part of a failing gate's output worth a model's tokens.
//
// A failing build or test run can print 10,000 lines; the model needs the
// few that say what broke. The excerpt keeps, in their original order:
//   - windows of lines around error markers (compiler "error:", "FAILED",
//     "Traceback", "panicked at", pytest "E   ", jest "●", "npm ERR!", ...),
//     earliest first, since later errors are often cascades of the first;
//   - the tail (summaries such as "1 failed, 3 passed" live there);
// with ANSI colour codes and carriage-return progress redraws removed,
// repeated lines dropped, over-long lines shortened, and "[... N lines
// omitted ...]" where lines were skipped. Output that already fits the budget
// is returned whole (cleaned). The result never exceeds the byte budget and
// ends with a note of what was cut, when anything was.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tandem::verify {

struct ExcerptOptions {
  size_t budget_bytes = 4096;  // hard cap on the returned text; at least 256
  size_t context_before = 2;   // lines kept before an error marker
  size_t context_after = 4;    // lines kept after an error marker
  size_t tail_lines = 15;      // last lines always wanted
  size_t max_line_bytes = 400; // longer lines are shortened
};

std::string ExcerptFailure(std::string_view output, const ExcerptOptions& options = {});

// True when `line` carries an error marker (exposed for tests).
bool IsErrorLine(std::string_view line);

}  // namespace tandem::verify
