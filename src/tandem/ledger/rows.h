// Internal to the ledger module: column lists and row readers shared by the
// write and query halves of Ledger, and the cleaning applied to free text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "tandem/ledger/records.h"
#include "tandem/ledger/sqlite.h"

namespace tandem::ledger::internal {

// Byte caps for free-text columns (docs/LEDGER.md).
inline constexpr size_t kMaxArgsSummary = 512;
inline constexpr size_t kMaxDetail = 2048;
inline constexpr size_t kMaxExcerpt = 4096;
inline constexpr size_t kMaxText = 4096;  // goal, note, reason, what, ...
inline constexpr size_t kMaxShort = 256;  // title, error_kind, source

// Redacts secrets, then truncates to at most `max_bytes` bytes without
// splitting a UTF-8 sequence, appending "…[truncated]" when it cut. Redaction
// comes first so a cut can never leave a partial, unrecognizable key.
std::string Clean(std::string_view text, size_t max_bytes);

// SELECT lists (qualified with the table name, so they work in joins) and
// the readers for them; `first` is the index of the list's first column.
extern const std::string kRunColumns;
extern const std::string kTaskColumns;
extern const std::string kStepColumns;
RunRow ReadRun(const Statement& stmt, int first = 0);
TaskRow ReadTask(const Statement& stmt, int first = 0);
StepRow ReadStep(const Statement& stmt, int first = 0);

}  // namespace tandem::ledger::internal
