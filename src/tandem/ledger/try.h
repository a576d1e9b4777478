// LEDGER_TRY(expr): like TRY from tandem/base/status.h, but also usable in
// functions that return a plain Status (base's TRY returns Unexpected, which
// only converts to Result). Private to the ledger module.
// TODO(lead): consider making base's TRY return `.error()` so this can go.
#pragma once

#include <utility>

#define LEDGER_TRY(expr)                                \
  ({                                                    \
    auto&& _ledger_result = (expr);                     \
    if (!_ledger_result) return _ledger_result.error(); \
    std::move(*_ledger_result);                         \
  })
