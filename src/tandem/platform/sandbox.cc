#include "tandem/platform/sandbox.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <mutex>

#include "tandem/platform/process.h"

namespace tandem::platform {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// Namespaces and mounts shared by the probe and real runs; the workspace
// binds follow.
std::vector<std::string> BaseArgs(const std::string& bwrap) {
  std::vector<std::string> args = {
      bwrap,         "--ro-bind",     "/",           "/",          "--dev",
      "/dev",        "--proc",        "/proc",       "--tmpfs",    "/tmp",
      "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
      "--new-session"};
  // Sockets of daemons (docker, an ssh agent, the session bus) live there.
  if (Exists("/run")) args.insert(args.begin() + 10, {"--tmpfs", "/run"});
  return args;
}

bool IsUnder(const std::string& path, const std::string& dir) {
  return path == dir || (path.starts_with(dir) && path[dir.size()] == '/');
}

std::string RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  return ::realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : std::string();
}

// The credential path of `home` that `path` (absolute) is, or lies in, as
// named or once resolved; "" when none.
std::string CredentialPathHolding(const std::string& path, const std::string& home) {
  if (home.empty() || home == "/" || home[0] != '/') return "";
  const std::string real = RealPath(path);
  for (std::string_view rel : CredentialPaths()) {
    const std::string named = home + "/" + std::string(rel);
    const std::string real_cred = RealPath(named);
    if (IsUnder(path, named) || (!real.empty() && IsUnder(real, named)) ||
        (!real_cred.empty() && !real.empty() && IsUnder(real, real_cred))) {
      return named;
    }
  }
  return "";
}

}  // namespace

std::span<const std::string_view> CredentialPaths() {
  static constexpr std::string_view kPaths[] = {
      ".ssh", ".aws", ".azure", ".config/gcloud", ".config/gh", ".config/hub", ".netrc",
      ".git-credentials", ".config/git/credentials", ".docker/config.json", ".kube", ".gnupg",
      ".password-store", ".local/share/keyrings", ".npmrc", ".yarnrc", ".pypirc", ".pgpass",
      ".my.cnf", ".vault-token", ".terraform.d/credentials.tfrc.json", ".gem/credentials",
      ".cargo/credentials", ".cargo/credentials.toml", ".m2/settings.xml",
      ".m2/settings-security.xml", ".gradle/gradle.properties", ".config/tandem"};
  return kPaths;
}

std::vector<std::string> SandboxArgv(const std::string& bwrap, const std::string& workspace,
                                     const std::string& cwd, const ChildPolicy& policy,
                                     const std::string& home, const std::vector<std::string>& argv) {
  std::vector<std::string> out = BaseArgs(bwrap);
  if (policy.network) {
    out.erase(std::find(out.begin(), out.end(), "--unshare-net"));
    // DNS: resolv.conf often points into /run, which is hidden.
    char resolved[PATH_MAX];
    if (::realpath("/etc/resolv.conf", resolved) != nullptr &&
        std::string_view(resolved).starts_with("/run/")) {
      out.insert(out.end(), {"--ro-bind", resolved, resolved});
    }
  }
  // What stays visible below a hidden home; credential paths under it (and
  // under the workspace) are masked after every bind.
  std::vector<std::string> visible = {workspace};
  const bool hide_home = !home.empty() && home != "/" && home[0] == '/' && Exists(home);
  if (hide_home) {
    out.insert(out.end(), {"--tmpfs", home});
    for (const std::string& dir : policy.home_dirs) {
      if (dir.empty() || dir[0] == '/' || dir.find("..") != std::string::npos) continue;
      std::string path = home + "/" + dir;
      if (!Exists(path)) continue;
      out.insert(out.end(), {"--ro-bind", path, path});
      visible.push_back(path);
    }
  }
  // The program's own files where /tmp, /run or the home hide them, each
  // alone and read-only; never one in a credential path (ProgramFiles
  // refuses those with the reason).
  auto hidden = [&](const std::string& path) {
    if (IsUnder(path, workspace)) return false;
    if (IsUnder(path, "/tmp") || IsUnder(path, "/run")) return true;
    if (!hide_home || !IsUnder(path, home)) return false;
    return !std::any_of(visible.begin(), visible.end(),
                        [&](const std::string& v) { return IsUnder(path, v); });
  };
  std::vector<std::string> bound;
  for (const std::string& file : policy.program_files) {
    const std::string real = RealPath(file);
    if (real.empty() || !CredentialPathHolding(file, home).empty()) continue;
    for (const std::string& seen_as : {file, real}) {
      if (!hidden(seen_as) || std::find(bound.begin(), bound.end(), seen_as) != bound.end()) continue;
      out.insert(out.end(), {"--ro-bind", real, seen_as});
      bound.push_back(seen_as);
    }
  }
  // After --tmpfs /tmp and the home, so a workspace below them is mounted over them.
  out.insert(out.end(), {"--bind", workspace, workspace});
  for (const char* protected_dir : {"/.git", "/.tandem"}) {
    std::string p = workspace + protected_dir;
    if (Exists(p)) out.insert(out.end(), {"--ro-bind", p, p});
  }
  // A credential path is masked where the sandbox can see it: under the
  // workspace or a toolchain directory, or outside the home through a link.
  if (hide_home) {
    char home_buf[PATH_MAX];
    const std::string real_home = ::realpath(home.c_str(), home_buf) ? home_buf : home;
    for (std::string_view rel : CredentialPaths()) {
      char resolved[PATH_MAX];
      if (::realpath((home + "/" + std::string(rel)).c_str(), resolved) == nullptr) continue;
      const std::string target = resolved;
      bool seen = !IsUnder(target, real_home) ||
                  std::any_of(visible.begin(), visible.end(),
                              [&](const std::string& v) { return IsUnder(target, v); });
      struct stat st;
      if (!seen || ::stat(target.c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        out.insert(out.end(), {"--tmpfs", target});
      } else {
        out.insert(out.end(), {"--ro-bind", "/dev/null", target});
      }
    }
  }
  out.insert(out.end(), {"--chdir", cwd.empty() ? workspace : cwd, "--"});
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

Result<std::vector<std::string>> ProgramFiles(const std::vector<std::string>& argv,
                                              const std::string& path_var,
                                              const std::string& home) {
  std::vector<std::string> files;
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string file;
    if (i == 0) {
      file = FindExecutable(argv[0], path_var);
    } else if (argv[i].starts_with("/")) {
      struct stat st;
      if (::stat(argv[i].c_str(), &st) == 0 && S_ISREG(st.st_mode)) file = argv[i];
    }
    if (file.empty() || file[0] != '/') continue;  // not found, or relative to its cwd
    if (std::string cred = CredentialPathHolding(file, home); !cred.empty()) {
      return PermissionDenied(file + " is in " + cred +
                              ", a credential path the sandbox never shows");
    }
    files.push_back(file);
  }
  return files;
}

void ConfineProcess(const std::string& bwrap, const ChildPolicy& policy,
                    const std::string& workspace, const std::string& cwd,
                    const std::vector<std::string>& argv, const EnvMap& extra_env,
                    ProcessSpec* spec) {
  EnvMap parent = ProcessEnvironment();
  ChildEnv child = BuildChildEnv(parent, policy.env);
  for (const auto& [key, value] : extra_env) child.vars[key] = value;
  spec->env = std::move(child.vars);
  spec->inherit_env = false;
  spec->cwd = cwd.empty() ? workspace : cwd;
  if (bwrap.empty()) {
    spec->argv = argv;
    return;
  }
  auto home = parent.find("HOME");
  spec->argv = SandboxArgv(bwrap, workspace, cwd, policy,
                           home == parent.end() ? std::string() : home->second, argv);
}

SandboxProbe ProbeSandboxWith(const std::string& bwrap) {
  SandboxProbe probe;
  probe.bwrap = bwrap;
  ProcessSpec spec;
  spec.argv = BaseArgs(bwrap);
  spec.argv.insert(spec.argv.end(), {"--", "true"});
  spec.timeout = std::chrono::milliseconds(10000);
  spec.output_limit = 2048;
  auto result = RunProcess(spec);
  if (!result) {
    probe.reason = "bubblewrap is not installed (" + result.error().message() +
                   "); install the 'bubblewrap' package";
    return probe;
  }
  if (!result->ok()) {
    std::string out = result->output;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    probe.reason = "bubblewrap cannot start here (" +
                   (out.empty() ? "exit code " + std::to_string(result->exit_code) : out) +
                   "); user namespaces are probably disabled in this container";
    return probe;
  }
  probe.available = true;
  return probe;
}

const SandboxProbe& ProbeSandbox() {
  static const SandboxProbe probe = [] {
    std::string bwrap = FindExecutable("bwrap", "/usr/bin:/usr/local/bin:/bin");
    if (bwrap.empty()) {
      return SandboxProbe{false, "bwrap",
                          "bubblewrap (bwrap) is not installed; install the 'bubblewrap' package"};
    }
    return ProbeSandboxWith(bwrap);
  }();
  return probe;
}

}  // namespace tandem::platform
