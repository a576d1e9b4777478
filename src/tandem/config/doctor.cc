#include "tandem/config/doctor.h"

#include <algorithm>

#include "tandem/base/redact.h"
#include "tandem/config/resolve.h"

namespace tandem::config {

DoctorReport BuildDoctorReport(const LoadedConfig& loaded, const DiscoveryReport& discovery,
                               const Env& env) {
  const Config& config = loaded.config;
  DoctorReport report;
  report.files = loaded.files;
  report.probed = discovery.probed;
  report.servers = discovery.probes;

  for (const auto& [name, provider] : config.providers) {
    const std::string& key_env = provider.api_key_env;
    if (key_env.empty()) continue;
    auto it = std::find_if(report.key_vars.begin(), report.key_vars.end(),
                           [&](const DoctorReport::KeyVar& v) { return v.name == key_env; });
    if (it == report.key_vars.end()) {
      report.key_vars.push_back({key_env, !EnvValue(env, key_env).empty(), {}});
      it = report.key_vars.end() - 1;
    }
    it->providers.push_back(name);
  }

  report.all_roles_served = true;
  for (Role role : kAllRoles) {
    DoctorReport::RoleStatus status;
    status.role = role;
    status.model_name = config.roles.Get(role);
    status.set_by = loaded.OriginOf("roles." + std::string(RoleName(role))).ToString();
    if (auto model = config.models.find(status.model_name); model != config.models.end()) {
      status.provider = model->second.provider;
      status.model_id = model->second.id;
      if (auto p = config.providers.find(model->second.provider); p != config.providers.end()) {
        status.base_url = p->second.settings.base_url;
      }
    }
    Result<ResolvedModel> resolved = ResolveRole(config, env, role);
    status.ok = resolved.has_value();
    if (!status.ok) {
      // Redacted anyway: a message must never be the way a key leaks.
      status.problem = Redactor::Apply(resolved.error().message());
      report.missing.push_back(status.problem);
      report.all_roles_served = false;
    }
    report.roles.push_back(std::move(status));
  }
  return report;
}

}  // namespace tandem::config
