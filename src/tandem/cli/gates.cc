#include "tandem/cli/gates.h"

#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "tandem/config/loader.h"
#include "tandem/verify/detect.h"
#include "tandem/verify/verify_md.h"
#include "tandem/workspace/workspace.h"

namespace tandem::cli {
namespace {

// One GatedKey per grant, named as verify.md spells it.
std::vector<config::GatedKey> GrantKeys(const std::vector<verify::Gate>& gates,
                                        const std::string& path) {
  std::vector<config::GatedKey> keys;
  for (const verify::Gate& gate : gates) {
    config::Origin origin{path, gate.line};
    if (gate.network) {
      keys.push_back({fmt::format("gate '{}': network", gate.name), origin,
                      "the gate, which runs code a model may write, may reach the network"});
    }
    for (const std::string& var : gate.env) {
      keys.push_back({fmt::format("gate '{}': env {}", gate.name, var), origin,
                      fmt::format("hands ${} of your environment to the gate, which runs code a "
                                  "model may write",
                                  var)});
    }
  }
  return keys;
}

// verify.md's bytes as `checkpoint` recorded them; nullopt when it had none.
Result<std::optional<std::string>> VerifyMdAt(const std::string& repo_root,
                                              const std::string& checkpoint) {
  auto ws = TRY(workspace::Workspace::Open(repo_root));
  auto id = TRY(workspace::CheckpointId::Parse(checkpoint));
  return ws->ReadFileAt(id, verify::kVerifyFileName);
}

}  // namespace

Result<LoadedGates> LoadGates(const std::string& repo_root, const config::Env& env,
                              const GateSource& from) {
  const std::string path = (std::filesystem::path(repo_root) / verify::kVerifyFileName).string();
  // Where the gates come from, as messages name it.
  std::string where = path;
  Result<std::vector<verify::Gate>> parsed = NotFound(path);
  if (from.checkpoint.empty()) {
    parsed = verify::LoadVerifyMd(path);
  } else {
    where = fmt::format("{} (as the run started with it, checkpoint {})", path,
                        from.checkpoint.substr(0, 10));
    if (auto text = TRY(VerifyMdAt(repo_root, from.checkpoint))) {
      parsed = verify::ParseVerifyMd(*text);
      if (!parsed) return parsed.error().WithContext(where);
    }
  }
  LoadedGates loaded;
  if (!parsed) {
    if (parsed.error().code() != StatusCode::kNotFound) return parsed.error();
    verify::Detection detection = verify::DetectGates(repo_root);
    loaded.gates = std::move(detection.gates);
    loaded.source = detection.description + " (no verify.md; `tandem init` writes one)";
    return loaded;
  }
  loaded.gates = std::move(*parsed);
  loaded.source = "verify.md";
  config::ConfigInputs inputs;
  inputs.env = env;
  loaded.trust = TRY(config::CheckGrants(config::TrustStorePath(inputs), repo_root, where,
                                         verify::GrantsFingerprint(loaded.gates),
                                         GrantKeys(loaded.gates, where)));
  if (from.refuse_untrusted) RETURN_IF_ERROR(config::RefuseUntrustedGrants(loaded.trust));
  return loaded;
}

}  // namespace tandem::cli
