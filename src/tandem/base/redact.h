// Secret redaction. API keys must never reach a log line, an error message,
// the ledger, a prompt or the dashboard. Every component that formats text
// which may contain a key (HTTP errors, config dumps, command output) passes
// it through Redactor::Apply.
//
// Thread-safety: Register and Apply may be called from any thread.
#pragma once

#include <string>
#include <string_view>

namespace tandem {

class Redactor {
 public:
  // Remembers `secret` (ignored when shorter than 8 bytes, to avoid
  // redacting common words) so later Apply calls replace it.
  static void Register(std::string_view secret);

  // Returns `text` with every registered secret, and every token that looks
  // like a well-known API key shape (sk-..., sk-ant-..., gsk_..., csk-...),
  // replaced by "[REDACTED]".
  static std::string Apply(std::string_view text);
};

}  // namespace tandem
