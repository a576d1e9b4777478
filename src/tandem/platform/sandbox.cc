#include "tandem/platform/sandbox.h"

#include <sys/stat.h>

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
  return {bwrap,         "--ro-bind",     "/",           "/",          "--dev",
          "/dev",        "--proc",        "/proc",       "--tmpfs",    "/tmp",
          "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
          "--new-session"};
}

}  // namespace

std::vector<std::string> SandboxArgv(const std::string& bwrap, const std::string& workspace,
                                     const std::vector<std::string>& argv) {
  std::vector<std::string> out = BaseArgs(bwrap);
  // After --tmpfs /tmp, so a workspace below /tmp is mounted over it.
  out.insert(out.end(), {"--bind", workspace, workspace});
  for (const char* protected_dir : {"/.git", "/.tandem"}) {
    std::string p = workspace + protected_dir;
    if (Exists(p)) out.insert(out.end(), {"--ro-bind", p, p});
  }
  out.insert(out.end(), {"--chdir", workspace, "--"});
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
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
