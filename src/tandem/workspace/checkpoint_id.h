// CheckpointId: names one checkpoint, a commit object on a private ref
// (refs/tandem/...). It is plain data, cheap to copy, and survives the process:
// the hex id stored in the ledger is enough to restore from a later run.
#pragma once

#include <string>
#include <string_view>

#include "tandem/base/status.h"

namespace tandem::workspace {

struct CheckpointId {
  std::string hex;  // 40 lowercase hex digits of the checkpoint's commit

  // Validates `hex` (40 hex digits, any case; stored lowercase).
  static Result<CheckpointId> Parse(std::string_view hex);

  // The first 10 digits, for messages and labels.
  std::string Short() const { return hex.substr(0, 10); }

  bool operator==(const CheckpointId&) const = default;
};

}  // namespace tandem::workspace
