#include "tandem/config/doctor.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "tandem/base/redact.h"
#include "tandem/config/resolve.h"

namespace tandem::config {

DoctorReport BuildDoctorReport(const LoadedConfig& loaded, const DiscoveryReport& discovery,
                               const Env& env) {
  const Config& config = loaded.config;
  DoctorReport report;
  report.files = loaded.files;
  report.repo_trust = loaded.repo_trust;
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

  // One `missing` line per distinct problem, naming the roles it stops: three
  // unset roles share one hint instead of repeating it.
  std::vector<std::pair<std::string, std::string>> problems;  // problem, roles
  auto add_problem = [&](std::string problem, Role role) {
    auto it = std::find_if(problems.begin(), problems.end(),
                           [&](const auto& p) { return p.first == problem; });
    if (it == problems.end()) {
      problems.emplace_back(std::move(problem), RoleName(role));
    } else {
      it->second += ", " + std::string(RoleName(role));
    }
  };
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
    if (status.ok && status.provider.empty()) {  // a pool: its first member
      status.provider = resolved->provider.name;
      status.model_id = resolved->model.id;
      status.base_url = resolved->provider.base_url;
    }
    if (!status.ok) {
      std::string context = "role " + std::string(RoleName(role)) + ": ";
      if (status.model_name.empty()) {
        status.problem = context + "no model is configured (roles." +
                         std::string(RoleName(role)) + " is unset)";
        add_problem("no model is configured; set roles.<role> in a config file, or " +
                        std::string(kNoModelHint),
                    role);
      } else {
        // Redacted anyway: a message must never be the way a key leaks.
        status.problem = Redactor::Apply(resolved.error().message());
        add_problem(status.problem.starts_with(context) ? status.problem.substr(context.size())
                                                        : status.problem,
                    role);
      }
      report.all_roles_served = false;
    }
    report.roles.push_back(std::move(status));
  }
  for (const auto& [problem, roles] : problems) report.missing.push_back(roles + ": " + problem);
  return report;
}

}  // namespace tandem::config
