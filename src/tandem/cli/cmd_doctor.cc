// tandem doctor: what configuration and providers tandem found, what each
// role resolves to, whether the repository's own configuration is trusted,
// and what is missing. Exits non-zero when a role cannot be served or the
// repository's configuration would be refused.
#include <fmt/format.h>

#include "tandem/cli/command.h"
#include "tandem/cli/commands_impl.h"
#include "tandem/cli/exit_codes.h"
#include "tandem/cli/gates.h"
#include "tandem/cli/runtime.h"
#include "tandem/config/doctor.h"

namespace tandem::cli {
namespace {

int RunDoctor(const std::string& repo_root, const std::vector<std::string>& overrides) {
  auto runtime =
      LoadRuntime(repo_root, {overrides, /*always_probe=*/true, /*refuse_untrusted=*/false});
  if (!runtime) {
    fmt::print(stderr, "tandem: {}\n", runtime.error().message());
    return kExitUsage;
  }
  Runtime& rt = **runtime;
  config::DoctorReport report = config::BuildDoctorReport(rt.loaded, rt.discovery, rt.env);
  bool color = UseColor();
  const char* ok_mark = color ? "\033[32m✓\033[0m" : "ok ";
  const char* bad_mark = color ? "\033[31m✗\033[0m" : "-- ";

  fmt::print("repository: {}\n", rt.repo_root.empty() ? "(not in a git repository)" : rt.repo_root);
  fmt::print("\nconfiguration files:\n");
  for (const auto& file : report.files) {
    fmt::print("  {} {:<6} {}\n", file.loaded ? ok_mark : bad_mark, config::ToString(file.layer),
               file.loaded ? file.path : file.path + " (not present)");
  }
  const config::RepoTrust& trust = report.repo_trust;
  bool refused = trust.state == config::RepoTrust::State::kUntrusted ||
                 trust.state == config::RepoTrust::State::kChanged;
  std::string gated;
  for (const auto& key : trust.gated) {
    gated += fmt::format("{}{} (line {})", gated.empty() ? "" : ", ", key.key, key.origin.line);
  }
  fmt::print("  {} repository configuration: {}{}\n", refused ? bad_mark : ok_mark,
             config::ToString(trust.state),
             refused ? fmt::format(": sets {}; review it, then `tandem trust` (until then tandem "
                                   "refuses to run)",
                                   gated)
             : trust.state == config::RepoTrust::State::kTrusted
                 ? fmt::format(" (sha256 {}; sets {})", trust.sha256.substr(0, 12), gated)
                 : std::string());
  // verify.md's grants: refused like the file above until trusted.
  if (!rt.repo_root.empty()) {
    auto gates = LoadGates(rt.repo_root, rt.env, {.refuse_untrusted = false});
    if (!gates) {
      refused = true;
      fmt::print("  {} verify.md: {}\n", bad_mark, gates.error().message());
    } else if (!gates->trust.grants.empty()) {
      const config::GrantsTrust& grants = gates->trust;
      bool untrusted = grants.state != config::RepoTrust::State::kTrusted;
      refused = refused || untrusted;
      std::string list;
      for (const auto& grant : grants.grants) {
        list += fmt::format("{}{} (line {})", list.empty() ? "" : ", ", grant.key,
                            grant.origin.line);
      }
      fmt::print("  {} verify.md grants: {}{}\n", untrusted ? bad_mark : ok_mark,
                 config::ToString(grants.state),
                 untrusted ? fmt::format(": {}; review them, then `tandem trust` (until then "
                                         "tandem refuses to run gates)",
                                         list)
                           : fmt::format(" (sha256 {}; {})", grants.sha256.substr(0, 12), list));
    }
  }
  fmt::print("\nAPI keys (values are never shown):\n");
  for (const auto& key : report.key_vars) {
    fmt::print("  {} {:<20} {}\n", key.present ? ok_mark : bad_mark, key.name,
               key.present ? "set" : "not set");
  }
  if (report.probed) {
    fmt::print("\nlocal servers:\n");
    for (const auto& server : report.servers) {
      if (server.found) {
        fmt::print("  {} {:<18} {} ({} models)\n", ok_mark, server.label, server.base_url,
                   server.model_ids.size());
      } else {
        fmt::print("  {} {:<18} {} ({})\n", bad_mark, server.label, server.base_url, server.error);
      }
    }
  }
  fmt::print("\nroles:\n");
  for (const auto& role : report.roles) {
    if (role.ok) {
      fmt::print("  {} {:<9} {} = {} on {} ({}){}\n", ok_mark, config::RoleName(role.role),
                 role.model_name, role.model_id, role.provider, role.base_url,
                 role.set_by.empty() ? "" : " · set by " + role.set_by);
    } else {
      fmt::print("  {} {:<9} {}\n", bad_mark, config::RoleName(role.role), role.problem);
    }
  }
  if (!report.missing.empty()) {
    fmt::print("\nmissing:\n");
    for (const auto& line : report.missing) fmt::print("  - {}\n", line);
  }
  fmt::print("\n{}\n", report.all_roles_served ? "every role can be served"
                                               : "some roles cannot be served (see above)");
  return report.all_roles_served && !refused ? kExitSuccess : kExitUsage;
}

}  // namespace

CommandRun SetupDoctor(CLI::App& app) {
  auto overrides = std::make_shared<std::vector<std::string>>();
  app.add_option("--set", *overrides, "Override a config key: --set roles.executor=NAME");
  return [overrides](const Invocation& in) { return RunDoctor(in.repo_root, *overrides); };
}


}  // namespace tandem::cli
