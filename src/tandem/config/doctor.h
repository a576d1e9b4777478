// The data behind `tandem doctor`: what configuration was found, what each
// role resolves to, and what is missing. The CLI renders it.
//
// The report never holds an API key's value: only which variables are set.
#pragma once

#include <string>
#include <vector>

#include "tandem/config/config.h"
#include "tandem/config/discovery.h"
#include "tandem/config/loader.h"

namespace tandem::config {

struct DoctorReport {
  struct KeyVar {
    std::string name;                    // "CEREBRAS_API_KEY"
    bool present = false;                // set and non-empty
    std::vector<std::string> providers;  // providers that read it
  };
  struct RoleStatus {
    Role role = Role::kExecutor;
    std::string model_name;  // "" when unset
    std::string set_by;      // Origin::ToString() of roles.<role>
    bool ok = false;         // ResolveRole succeeded
    std::string provider;    // when the model is known
    std::string model_id;
    std::string base_url;
    std::string problem;  // why it cannot be served, when !ok
  };

  std::vector<ConfigFile> files;  // every config file looked for
  RepoTrust repo_trust;           // whether the repository's own file is trusted
  std::vector<KeyVar> key_vars;   // every api_key_env of every provider
  bool probed = false;            // local servers were looked for
  std::vector<ProbeResult> servers;
  std::vector<RoleStatus> roles;     // planner, executor, reviewer
  std::vector<std::string> missing;  // one line per distinct problem: "<roles>: <problem>"
  bool all_roles_served = false;
};

// `loaded` must have been through Discover (which produced `discovery`).
DoctorReport BuildDoctorReport(const LoadedConfig& loaded, const DiscoveryReport& discovery,
                               const Env& env);

}  // namespace tandem::config
