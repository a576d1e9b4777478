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

  // Returns `text` with every registered secret, every token that looks
  // like a well-known key shape (sk-..., sk-ant-..., gsk_..., csk-...,
  // xai-..., ghp_/gho_/ghu_/ghs_/ghr_..., github_pat_..., glpat-..., AKIA...,
  // ASIA..., xoxb-/xoxp-/..., AIza...), and the password of every URL with
  // credentials (scheme://user:PASSWORD@host) replaced by "[REDACTED]".
  static std::string Apply(std::string_view text);

  // True when `text` holds a key shape or URL credentials as above (the
  // registered secrets aside): the environment scrub's value pattern.
  static bool HasSecretShape(std::string_view text);
};

}  // namespace tandem
