#include "tandem/tools/command_policy.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "tandem/tools/shell_parser.h"

namespace tandem::tools {
namespace {

using Words = std::vector<ShellWord>;
using Problem = std::optional<std::string>;  // a reason to refuse, or nothing

constexpr int kMaxDepth = 8;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Basename(const std::string& s) {
  auto slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

bool IsOption(const ShellWord& w) { return !w.dynamic && w.text.size() > 1 && w.text[0] == '-'; }

bool Has(const Words& args, std::initializer_list<std::string_view> flags) {
  for (const ShellWord& w : args) {
    for (std::string_view f : flags) {
      if (w.text == f) return true;
      // --flag=value
      if (f.starts_with("--") && w.text.starts_with(std::string(f) + "=")) return true;
    }
  }
  return false;
}

// True when a short-option cluster such as -fdx contains `letter`.
bool HasShortFlag(const Words& args, char letter) {
  for (const ShellWord& w : args) {
    if (w.text.size() >= 2 && w.text[0] == '-' && w.text[1] != '-' &&
        w.text.find(letter) != std::string::npos) {
      return true;
    }
  }
  return false;
}

Words NonOptions(const Words& args) {
  Words out;
  bool options_done = false;
  for (const ShellWord& w : args) {
    if (!options_done && w.text == "--" && !w.quoted) {
      options_done = true;
      continue;
    }
    if (!options_done && IsOption(w)) continue;
    out.push_back(w);
  }
  return out;
}

std::string FirstWord(const Words& args) {
  for (const ShellWord& w : args) {
    if (!IsOption(w)) return w.text;
  }
  return "";
}

// Refusal reasons by command name: these reach beyond the workspace whatever
// their arguments.
const std::map<std::string, std::string>& FixedRefusals() {
  static const std::map<std::string, std::string> m = [] {
    std::map<std::string, std::string> r;
    for (const char* n : {"sudo", "su", "doas", "pkexec", "runuser"}) r[n] = "runs with elevated privileges";
    for (const char* n : {"curl", "wget", "ssh", "scp", "sftp", "ftp", "lftp", "nc", "ncat", "netcat",
                          "telnet", "socat", "ping", "aria2c", "http", "https", "mosh", "rclone"}) {
      r[n] = "reaches the network";
    }
    for (const char* n : {"apt", "apt-get", "aptitude", "yum", "dnf", "apk", "pacman", "zypper",
                          "brew", "snap", "flatpak", "port", "nix-env", "pipx"}) {
      r[n] = "installs or removes system packages (outside the workspace, needs the network)";
    }
    for (const char* n : {"shutdown", "reboot", "halt", "poweroff", "systemctl", "service", "mount",
                          "umount", "fdisk", "parted", "crontab", "useradd", "userdel", "usermod",
                          "passwd", "chroot", "iptables", "nft", "ip", "modprobe", "insmod", "sysctl",
                          "launchctl", "mkfs", "mkswap", "swapon", "swapoff"}) {
      r[n] = "changes the system outside the workspace";
    }
    for (const char* n : {"kill", "pkill", "killall"}) r[n] = "signals processes outside this command";
    for (const char* n : {"docker", "podman", "kubectl", "gh", "glab", "aws", "gcloud", "az", "heroku",
                          "fly", "flyctl", "vercel", "netlify", "firebase", "ansible",
                          "ansible-playbook", "pulumi", "serverless", "sls", "twine"}) {
      r[n] = "acts on remote services or a daemon outside the workspace";
    }
    r["eval"] = "eval runs a command built at run time, which cannot be checked";
    return r;
  }();
  return m;
}

// Subcommands of package managers that publish or reach the network.
Problem PackageManager(const std::string& name, const Words& args) {
  std::string sub = FirstWord(args);
  static const std::map<std::string, std::set<std::string>> kPublish = {
      {"npm", {"publish", "unpublish", "deprecate", "dist-tag", "login", "adduser", "owner", "access"}},
      {"yarn", {"publish", "npm"}},
      {"pnpm", {"publish"}},
      {"bun", {"publish"}},
      {"cargo", {"publish", "yank", "login", "owner"}},
      {"gem", {"push", "yank", "owner"}},
      {"poetry", {"publish"}},
      {"uv", {"publish"}},
      {"flit", {"publish"}},
      {"hatch", {"publish"}},
      {"mvn", {"deploy"}},
      {"dotnet", {"nuget"}},
      {"helm", {"install", "upgrade", "uninstall", "delete", "push", "rollback", "repo", "registry"}},
      {"terraform", {"apply", "destroy", "import", "state", "taint", "untaint", "force-unlock"}},
      {"tofu", {"apply", "destroy", "import", "state"}},
  };
  static const std::map<std::string, std::set<std::string>> kInstall = {
      {"pip", {"install", "download", "uninstall"}},
      {"npm", {"install", "i", "ci", "add", "update", "up", "upgrade", "uninstall", "remove", "rm",
               "link", "exec", "x", "create", "init"}},
      {"yarn", {"", "install", "add", "upgrade", "up", "remove", "dlx", "create"}},
      {"pnpm", {"install", "i", "add", "update", "up", "remove", "rm", "dlx", "create"}},
      {"bun", {"install", "i", "add", "update", "remove", "rm", "x", "create"}},
      {"cargo", {"install", "fetch", "update", "add", "uninstall"}},
      {"go", {"get", "install"}},
      {"gem", {"install", "update", "uninstall"}},
      {"bundle", {"install", "update", "add"}},
      {"composer", {"install", "require", "update", "remove"}},
      {"poetry", {"install", "add", "update", "remove", "lock"}},
      {"uv", {"add", "sync", "lock", "remove", "tool"}},
      {"conda", {"install", "create", "remove", "update"}},
      {"mamba", {"install", "create", "remove", "update"}},
      {"deno", {"install"}},
      {"terraform", {"init", "plan", "refresh"}},
  };
  std::string key = name;
  if (key == "pip3") key = "pip";
  if (auto it = kPublish.find(key); it != kPublish.end() && it->second.count(sub) > 0) {
    return name + " " + sub + ": publishes or changes something outside the workspace";
  }
  if (key == "gradle" || key == "gradlew") {
    for (const ShellWord& w : NonOptions(args)) {
      if (w.text.starts_with("publish")) return name + " " + w.text + ": publishes artifacts";
    }
  }
  if (key == "go" && sub == "mod" && Has(args, {"download"})) {
    return "go mod download: fetches modules from the network";
  }
  if (key == "uv" && sub == "pip" && Has(args, {"install", "uninstall", "sync"})) {
    return "uv pip: installs packages from the network";
  }
  if (auto it = kInstall.find(key); it != kInstall.end() && it->second.count(sub) > 0) {
    return name + (sub.empty() ? "" : " " + sub) +
           ": installs packages from the network (unavailable in the sandbox; ask the user)";
  }
  return std::nullopt;
}

class Classifier {
 public:
  Problem Script(std::string_view script, int depth) {
    if (depth > kMaxDepth) return "commands nested too deeply to check";
    auto parsed = ParseShell(script);
    if (!parsed) return "could not be parsed (" + parsed.error().message() + "), so it cannot be checked";
    for (const ShellCommand& cmd : *parsed) {
      if (Problem p = Command(cmd, depth)) return p;
    }
    return std::nullopt;
  }

 private:
  Problem Command(const ShellCommand& cmd, int depth) {
    for (const ShellRedirect& r : cmd.redirects) {
      if (Problem p = Redirect(r)) return p;
    }
    for (const ShellWord& a : cmd.assignments) {
      if (a.text.starts_with("GIT_DIR=") || a.text.starts_with("GIT_WORK_TREE=") ||
          a.text.starts_with("GIT_INDEX_FILE=")) {
        return a.text.substr(0, a.text.find('=')) + ": points git at another repository";
      }
    }
    if (cmd.words.empty()) return std::nullopt;
    return Check(cmd.words, cmd.piped_input, /*args_unknown=*/false, depth);
  }

  Problem Redirect(const ShellRedirect& r) {
    static const std::set<std::string> kWrites = {">", ">>", ">|", "&>", "&>>", "<>", ">&"};
    if (kWrites.count(r.op) == 0) return std::nullopt;
    const ShellWord& t = r.target;
    if (r.op == ">&" && !t.dynamic &&
        (t.text == "-" || t.text.find_first_not_of("0123456789") == std::string::npos)) {
      return std::nullopt;  // a descriptor duplication such as >&2
    }
    if (Problem p = PathProblem(t)) return "redirection to '" + t.text + "' " + *p;
    return std::nullopt;
  }

  // Why writing or deleting `w` would reach beyond the workspace.
  Problem PathProblem(const ShellWord& w) {
    if (w.dynamic || w.brace) return "names a path known only at run time";
    const std::string& p = w.text;
    if (p.empty()) return std::nullopt;
    if (p[0] == '~') return "is in a home directory, outside the workspace";
    std::vector<std::string> parts;
    if (p[0] == '/') {
      if (p == "/dev/null" || p.starts_with("/dev/std") || p.starts_with("/dev/fd/")) return std::nullopt;
      if (!p.starts_with("/tmp/")) return "is outside the workspace";
    } else {
      if (cwd_outside_) return "is relative to a directory outside the workspace (after cd)";
      parts = cwd_;
    }
    size_t begin = p[0] == '/' ? 1 : 0;
    while (begin <= p.size()) {
      size_t end = p.find('/', begin);
      if (end == std::string::npos) end = p.size();
      std::string part = p.substr(begin, end - begin);
      begin = end + 1;
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        if (parts.empty()) return "is outside the workspace";
        parts.pop_back();
        continue;
      }
      if (Lower(part) == ".git") return "is inside .git";
      if (w.glob && part.starts_with(".*")) return "may match .git";
      parts.push_back(part);
    }
    if (p[0] == '/' && parts.size() < 2) return "is outside the workspace";  // /tmp itself
    return std::nullopt;
  }

  Problem CheckPaths(const std::string& name, const Words& paths) {
    for (const ShellWord& w : paths) {
      if (Problem p = PathProblem(w)) return name + ": '" + w.text + "' " + *p;
    }
    return std::nullopt;
  }

  void ChangeDirectory(const Words& args) {
    Words targets = NonOptions(args);
    if (targets.empty() || PathProblem(targets[0])) {
      cwd_outside_ = true;  // `cd` alone goes home; `cd -` is unknown
      return;
    }
    const std::string& p = targets[0].text;
    if (p[0] == '/') {  // only /tmp/... passes PathProblem: outside the workspace
      cwd_outside_ = true;
      return;
    }
    size_t begin = 0;
    while (begin <= p.size()) {
      size_t end = p.find('/', begin);
      if (end == std::string::npos) end = p.size();
      std::string part = p.substr(begin, end - begin);
      begin = end + 1;
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        cwd_.pop_back();  // PathProblem guaranteed it stays inside
      } else {
        cwd_.push_back(part);
      }
    }
  }

  // Checks one simple command given as words.
  Problem Check(Words words, bool piped_input, bool args_unknown, int depth) {
    if (depth > kMaxDepth) return "commands nested too deeply to check";
    if (words.empty()) return std::nullopt;
    const ShellWord& head = words[0];
    if (head.dynamic) return "'" + head.text + "': the command name is known only at run time";
    if ((head.glob && head.text != "[" && head.text != "[[") || head.brace) return "'" + head.text + "': the command name is a pattern";
    std::string name = Basename(head.text);
    Words args(words.begin() + 1, words.end());

    if (auto it = FixedRefusals().find(name); it != FixedRefusals().end()) {
      return name + ": " + it->second;
    }
    if (name.starts_with("mkfs.")) return name + ": changes the system outside the workspace";

    // Wrappers: the command they run is what counts.
    if (name == "env") return Wrapped(args, depth, args_unknown, EnvOptions());
    if (name == "nice" || name == "ionice" || name == "stdbuf" || name == "nohup" ||
        name == "setsid" || name == "time" || name == "command" || name == "builtin" ||
        name == "exec" || name == "unbuffer" || name == "chronic") {
      if (name == "command" && (Has(args, {"-v", "-V"}))) return std::nullopt;
      return Wrapped(args, depth, args_unknown,
                     {"-n", "-c", "-p", "-o", "-e", "-i", "-a", "--adjustment", "--class"});
    }
    if (name == "timeout") {
      Words rest = SkipOptions(args, {"-s", "-k", "--signal", "--kill-after"});
      if (!rest.empty()) rest.erase(rest.begin());  // the duration
      return Check(rest, piped_input, args_unknown, depth + 1);
    }
    if (name == "xargs") {
      Words rest = SkipOptions(args, {"-I", "-n", "-P", "-d", "-L", "-s", "-E", "-a", "--max-args",
                                      "--max-procs", "--delimiter", "--arg-file"});
      if (rest.empty()) return std::nullopt;  // xargs alone runs echo
      return Check(rest, false, /*args_unknown=*/true, depth + 1);
    }
    if (name == "sh" || name == "bash" || name == "zsh" || name == "dash" || name == "ksh" ||
        name == "fish") {
      return ShellInvocation(name, args, piped_input, depth);
    }
    if (name == "cd" || name == "pushd") {
      ChangeDirectory(args);
      return std::nullopt;
    }
    if (name == "popd") {
      cwd_outside_ = true;
      return std::nullopt;
    }

    if (args_unknown) {
      // Arguments arrive at run time (xargs): file-changing commands cannot be checked.
      static const std::set<std::string> kNeedsArgs = {"rm", "rmdir", "shred", "truncate", "unlink",
                                                       "mv", "cp", "dd", "chmod", "chown", "chgrp",
                                                       "ln", "install", "tee", "touch", "mkdir", "git"};
      if (kNeedsArgs.count(name) > 0) {
        return name + ": its arguments come from input at run time, so its targets cannot be checked";
      }
    }

    if (name == "git") return Git(args);
    if (name == "rm") return Rm(args);
    if (name == "rmdir" || name == "shred" || name == "truncate" || name == "unlink" ||
        name == "touch" || name == "mkdir" || name == "chmod" || name == "chown" ||
        name == "chgrp" || name == "mv" || name == "tee") {
      return CheckPaths(name, NonOptions(args));
    }
    if (name == "cp" || name == "ln" || name == "install") {
      Words dests;
      Words plain = NonOptions(args);
      if (!plain.empty()) dests.push_back(plain.back());
      for (size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i].text == "-t") dests.push_back(args[i + 1]);
      }
      for (const ShellWord& w : args) {
        if (w.text.starts_with("--target-directory=")) {
          ShellWord d = w;
          d.text = w.text.substr(std::string("--target-directory=").size());
          dests.push_back(d);
        }
      }
      return CheckPaths(name, dests);
    }
    if (name == "dd") {
      for (const ShellWord& w : args) {
        if (w.text.starts_with("of=")) {
          ShellWord d = w;
          d.text = w.text.substr(3);
          if (Problem p = PathProblem(d)) return "dd: output '" + d.text + "' " + *p;
        }
      }
      return std::nullopt;
    }
    if ((name == "sed" || name == "perl") && (Has(args, {"-i", "--in-place"}) ||
                                              std::any_of(args.begin(), args.end(), [](const ShellWord& w) {
                                                return w.text.starts_with("-i") || w.text.starts_with("-pi");
                                              }))) {
      return InPlaceEditor(name, args);
    }
    if (name == "find") return Find(args, depth);
    if (name == "rsync") {
      Words plain = NonOptions(args);
      for (const ShellWord& w : plain) {
        auto colon = w.text.find(':');
        if (w.text.starts_with("rsync://") ||
            (colon != std::string::npos && w.text.substr(0, colon).find('/') == std::string::npos)) {
          return "rsync: '" + w.text + "' is on another host (reaches the network)";
        }
      }
      if (!plain.empty()) return CheckPaths(name, {plain.back()});
      return std::nullopt;
    }
    if (name == "python" || name == "python3") {
      for (size_t i = 0; i + 1 < args.size(); ++i) {
        if (args[i].text == "-m") {
          std::string module = args[i + 1].text;
          if (module == "pip") return PackageManager("pip", Words(args.begin() + i + 2, args.end()));
          if (module == "twine") return "python -m twine: publishes packages";
          break;
        }
      }
      return std::nullopt;
    }
    if (name == "dpkg" || name == "rpm") {
      if (Has(args, {"-i", "--install", "-r", "--remove", "-P", "--purge", "-e", "--erase", "-U",
                     "--configure", "--unpack"})) {
        return name + ": installs or removes system packages";
      }
      return std::nullopt;
    }
    return PackageManager(name, args);
  }

  std::vector<std::string> EnvOptions() { return {"-u", "--unset", "-C", "--chdir", "-S", "--split-string"}; }

  // Drops leading options (and the values of those in `with_value`) and
  // NAME=value words.
  Words SkipOptions(const Words& args, const std::vector<std::string>& with_value) {
    size_t i = 0;
    while (i < args.size()) {
      const std::string& t = args[i].text;
      if (t == "--") {
        ++i;
        break;
      }
      if (!IsOption(args[i])) break;
      bool takes_value = std::find(with_value.begin(), with_value.end(), t) != with_value.end();
      i += takes_value ? 2 : 1;
    }
    return Words(args.begin() + std::min(i, args.size()), args.end());
  }

  Problem Wrapped(const Words& args, int depth, bool args_unknown,
                  const std::vector<std::string>& with_value) {
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      const std::string& t = args[i].text;
      if (t == "-S" || t == "--split-string") return "env -S: splits a command string at run time";
      if (t == "-C" || t == "--chdir") {
        if (PathProblem(args[i + 1])) return "env -C: '" + args[i + 1].text + "' is outside the workspace";
      }
      if (!IsOption(args[i])) break;
    }
    Words rest = SkipOptions(args, with_value);
    while (!rest.empty() && !rest[0].dynamic && rest[0].text.find('=') != std::string::npos &&
           rest[0].text[0] != '=' && rest[0].text[0] != '/') {
      if (rest[0].text.starts_with("GIT_DIR=") || rest[0].text.starts_with("GIT_WORK_TREE=")) {
        return "env " + rest[0].text.substr(0, rest[0].text.find('=')) +
               ": points git at another repository";
      }
      rest.erase(rest.begin());
    }
    return Check(rest, false, args_unknown, depth + 1);
  }

  Problem ShellInvocation(const std::string& name, const Words& args, bool piped_input, int depth) {
    for (size_t i = 0; i < args.size(); ++i) {
      const ShellWord& w = args[i];
      if (IsOption(w) && w.text.find('c') != std::string::npos && w.text[1] != '-') {
        if (i + 1 >= args.size()) return name + " -c: no command given";
        const ShellWord& script = args[i + 1];
        if (script.dynamic) return name + " -c: the script is built at run time, so it cannot be checked";
        if (Problem p = Script(script.text, depth + 1)) return *p;
        return std::nullopt;
      }
      if (w.text == "-o" || w.text == "+o" || w.text == "--rcfile" || w.text == "--init-file") {
        ++i;
        continue;
      }
      if (IsOption(w) || w.text.starts_with("+")) continue;
      return std::nullopt;  // runs a script file from the workspace
    }
    return name + ": reads commands from its input, which cannot be checked";
  }

  Problem Rm(const Words& args) {
    for (const ShellWord& w : NonOptions(args)) {
      if (!w.dynamic) {
        std::string t = w.text;
        while (t.size() > 1 && t.back() == '/') t.pop_back();
        if (t == "." || t == ".." || t == "/" || t == "./" || (t == "*" && !cwd_outside_ && cwd_.empty())) {
          return "rm: '" + w.text + "' would delete the whole workspace";
        }
      }
      if (Problem p = PathProblem(w)) return "rm: '" + w.text + "' " + *p;
    }
    return std::nullopt;
  }

  Problem InPlaceEditor(const std::string& name, const Words& args) {
    Words files;
    bool script_given = false;
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& t = args[i].text;
      if (t == "-e" || t == "-f" || t == "-E" || t == "--expression" || t == "--file") {
        script_given = true;
        ++i;
        continue;
      }
      if (IsOption(args[i])) {
        if (name == "perl" && (t.find('e') != std::string::npos || t.find('E') != std::string::npos)) {
          script_given = true;
          ++i;  // -pe 'script'
        }
        continue;
      }
      if (!script_given) {
        script_given = true;  // the first operand is the script
        continue;
      }
      files.push_back(args[i]);
    }
    return CheckPaths(name + " -i", files);
  }

  Problem Find(const Words& args, int depth) {
    Words starts;
    size_t i = 0;
    for (; i < args.size(); ++i) {
      const std::string& t = args[i].text;
      if (!args[i].quoted && (t.starts_with("-") || t == "(" || t == "!" || t == "\\(")) break;
      starts.push_back(args[i]);
    }
    if (starts.empty()) starts.push_back(ShellWord{".", false, false, false, false});
    for (; i < args.size(); ++i) {
      const std::string& t = args[i].text;
      if (t == "-delete") {
        if (Problem p = CheckPaths("find -delete", starts)) return p;
      } else if (t == "-fprint" || t == "-fprint0" || t == "-fprintf" || t == "-fls") {
        if (i + 1 < args.size()) {
          if (Problem p = CheckPaths("find " + t, {args[i + 1]})) return p;
        }
      } else if (t == "-exec" || t == "-execdir" || t == "-ok" || t == "-okdir") {
        Words inner;
        for (++i; i < args.size() && args[i].text != ";" && args[i].text != "+"; ++i) {
          if (args[i].text == "{}") {
            inner.push_back(starts[0]);  // every match lies below the start paths
          } else {
            inner.push_back(args[i]);
          }
        }
        for (const ShellWord& s : starts) {
          if (Problem p = PathProblem(s)) {
            return "find " + t + ": runs a command on '" + s.text + "', which " + *p;
          }
        }
        if (Problem p = Check(inner, false, false, depth + 1)) return p;
      }
    }
    return std::nullopt;
  }

  Problem Git(const Words& all) {
    size_t i = 0;
    for (; i < all.size(); ++i) {
      const std::string& t = all[i].text;
      if (t == "-C") {
        if (i + 1 < all.size() && PathProblem(all[i + 1])) {
          return "git -C '" + all[i + 1].text + "': operates on a repository outside the workspace";
        }
        ++i;
        continue;
      }
      if (t == "-c") {
        // Some settings run programs: aliases starting with '!', hooks, helpers.
        if (i + 1 < all.size()) {
          std::string key = Lower(all[i + 1].text.substr(0, all[i + 1].text.find('=')));
          for (const char* risky : {"alias.", "command", "fsmonitor", "hookspath", "helper", "editor",
                                    "pager", "askpass", "proxy", "url."}) {
            if (key.find(risky) != std::string::npos || all[i + 1].dynamic) {
              return "git -c " + key + ": this setting can run programs or reach the network";
            }
          }
        }
        ++i;
        continue;
      }
      if (t.starts_with("--git-dir") || t.starts_with("--work-tree") || t.starts_with("--namespace")) {
        return "git " + t + ": points git at another repository";
      }
      if (!IsOption(all[i])) break;
    }
    if (i >= all.size()) return std::nullopt;
    if (all[i].dynamic) return "git: the subcommand is known only at run time";
    const std::string sub = all[i].text;
    Words args(all.begin() + i + 1, all.end());
    std::string g = "git " + sub;
    static const std::set<std::string> kNetwork = {"push",   "fetch", "pull",       "clone",
                                                   "ls-remote", "send-email", "request-pull",
                                                   "svn",    "p4",    "daemon",     "archive"};
    if (sub == "archive" && !Has(args, {"--remote"})) return std::nullopt;
    if (sub == "push") return g + ": publishes commits to a remote";
    if (kNetwork.count(sub) > 0) return g + ": reaches the network";
    if (sub == "remote") {
      std::string action = FirstWord(args);
      if (action == "update" || action == "prune" || action == "show" || action == "set-head") {
        return g + " " + action + ": reaches the network";
      }
      return std::nullopt;
    }
    if (sub == "submodule") {
      std::string action = FirstWord(args);
      if (action.empty() || action == "status" || action == "summary") return std::nullopt;
      return g + " " + action + ": reaches the network or changes submodules";
    }
    if (sub == "lfs") {
      std::string action = FirstWord(args);
      if (action == "fetch" || action == "pull" || action == "push") return g + " " + action + ": reaches the network";
      return std::nullopt;
    }
    if (sub == "reset" && Has(args, {"--hard", "--merge", "--keep"})) {
      return g + " --hard: discards uncommitted changes";
    }
    if (sub == "clean" && !Has(args, {"--dry-run"}) && !HasShortFlag(args, 'n')) {
      return g + ": deletes untracked files, which cannot be undone";
    }
    if (sub == "checkout") return GitCheckout(args);
    if (sub == "switch" && (Has(args, {"--force", "--discard-changes", "-C", "--force-create"}) ||
                            HasShortFlag(args, 'f'))) {
      return g + " --force: discards uncommitted changes";
    }
    if (sub == "restore") {
      bool staged = Has(args, {"--staged"}) || HasShortFlag(args, 'S');
      bool worktree = Has(args, {"--worktree"}) || HasShortFlag(args, 'W');
      if (!staged || worktree) return g + ": overwrites uncommitted changes in the working tree";
      return std::nullopt;
    }
    if (sub == "rebase") return g + ": rewrites history";
    if (sub == "commit" && Has(args, {"--amend"})) return g + " --amend: rewrites the last commit";
    if (sub == "branch") {
      bool del = Has(args, {"-D", "--delete"}) || HasShortFlag(args, 'd') || HasShortFlag(args, 'D');
      bool force = Has(args, {"--force", "-M", "-C"}) || HasShortFlag(args, 'f') || HasShortFlag(args, 'D') ||
                   HasShortFlag(args, 'M');
      if (force || (del && Has(args, {"--force"}))) return g + ": force-deletes or overwrites a branch";
      if (del) return std::nullopt;  // -d refuses unmerged branches
      return std::nullopt;
    }
    if (sub == "tag" && (Has(args, {"-d", "--delete", "-f", "--force"}) || HasShortFlag(args, 'd'))) {
      return g + ": deletes or overwrites a tag";
    }
    if (sub == "stash") {
      std::string action = FirstWord(args);
      if (action == "drop" || action == "clear") return g + " " + action + ": discards stashed changes";
      return std::nullopt;
    }
    if (sub == "filter-branch" || sub == "filter-repo" || sub == "update-ref" || sub == "prune" ||
        sub == "replace" || sub == "symbolic-ref") {
      return g + ": rewrites refs or history";
    }
    if (sub == "reflog" && (Has(args, {"expire", "delete"}))) return g + ": deletes reflog entries";
    if (sub == "gc" && std::any_of(args.begin(), args.end(), [](const ShellWord& w) {
          return w.text.starts_with("--prune");
        })) {
      return g + " --prune: deletes unreachable objects";
    }
    if (sub == "config" && Has(args, {"--global", "--system"})) {
      return g + ": changes configuration outside the workspace";
    }
    if (sub == "worktree" && FirstWord(args) == "remove" && Has(args, {"--force", "-f"})) {
      return g + " remove --force: discards a worktree's changes";
    }
    return std::nullopt;
  }

  Problem GitCheckout(const Words& args) {
    // Creating a branch is safe; switching to one ref refuses to overwrite
    // local changes by itself. Anything naming paths (or forcing) can
    // silently discard uncommitted work.
    if (Has(args, {"-b", "-B", "--orphan"})) {
      if (Has(args, {"-f", "--force", "--"})) return "git checkout -f: discards uncommitted changes";
      return std::nullopt;
    }
    if (Has(args, {"-f", "--force", "-p", "--patch", "--", "--theirs", "--ours", "-m", "--merge"})) {
      return "git checkout: overwrites uncommitted changes";
    }
    Words plain = NonOptions(args);
    if (plain.size() == 1 && plain[0].text != "." && !plain[0].glob && !plain[0].dynamic) return std::nullopt;
    if (plain.empty()) return std::nullopt;
    return "git checkout " + plain[0].text + ": may overwrite uncommitted changes in those paths";
  }

  std::vector<std::string> cwd_;  // the current directory, relative to the workspace root
  bool cwd_outside_ = false;      // after `cd` somewhere outside or unknown
};

}  // namespace

CommandVerdict ClassifyCommand(std::string_view command) {
  Classifier classifier;
  if (Problem p = classifier.Script(command, 0)) return {CommandRisk::kIrreversible, *p};
  return {CommandRisk::kAllowed, ""};
}

std::optional<CommandPolicy> ParseCommandPolicy(std::string_view name) {
  if (name == "refuse-risky") return CommandPolicy::kRefuseRisky;
  if (name == "allow-all") return CommandPolicy::kAllowAll;
  return std::nullopt;
}

const char* CommandPolicyName(CommandPolicy policy) {
  return policy == CommandPolicy::kAllowAll ? "allow-all" : "refuse-risky";
}

}  // namespace tandem::tools
