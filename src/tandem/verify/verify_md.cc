#include "tandem/verify/verify_md.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <system_error>

#include "tandem/base/strings.h"
#include "tandem/platform/atomic_file.h"

namespace tandem::verify {
namespace {

constexpr std::string_view kHeadingShape = "'## <name> (each step|final, timeout <N>s)'";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Quote(std::string_view s) { return "'" + std::string(s) + "'"; }

Status LineError(int line, std::string_view message) {
  return InvalidArgument("line " + std::to_string(line) + ": " + std::string(message));
}

bool IsValidName(std::string_view name) {
  if (name.empty() || !std::isalnum(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

// Longer gate timeouts are refused: a day is already "never", and the cap
// keeps FormatTimeout's spelling within what ParseDuration reads back.
constexpr long long kMaxTimeoutMs = 24LL * 60 * 60 * 1000;

// "300", "300s", "1500ms", "10m", "1h" -> milliseconds; nullopt when
// malformed, zero or over kMaxTimeoutMs.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;
  long long n = std::stoll(std::string(text.substr(0, digits)));
  std::string unit = Lower(Trim(text.substr(digits)));
  long long scale = 0;
  if (unit == "ms") scale = 1;
  else if (unit.empty() || unit == "s") scale = 1000;
  else if (unit == "m" || unit == "min") scale = 60 * 1000;
  else if (unit == "h") scale = 60 * 60 * 1000;
  if (scale == 0 || n == 0 || n > kMaxTimeoutMs / scale) return std::nullopt;
  return std::chrono::milliseconds(n * scale);
}

// A working directory must stay inside the workspace and name what it says
// (the kernel reads a path only up to a NUL byte).
bool IsSafeRelativeDir(std::string_view dir) {
  if (dir.empty() || dir.front() == '/' || dir.front() == '~') return false;
  if (dir.find('\0') != std::string_view::npos) return false;
  for (const auto& part : std::filesystem::path(std::string(dir))) {
    if (part == "..") return false;
  }
  return true;
}

bool IsEnvName(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

class Parser {
 public:
  Result<std::vector<Gate>> Parse(std::string_view text) {
    text = StripUtf8Bom(text);
    int line_no = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      // Every trailing '\r', not one: a command line keeping a '\r' would not
      // survive RenderVerifyMd (its line end would read back as CRLF).
      while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      ++line_no;
      RETURN_IF_ERROR(Line(line_no, line));
      if (end == text.size()) break;
      pos = end + 1;
    }
    if (in_fence_) {
      return LineError(fence_line_, "code block opened here is never closed; expected a closing "
                                    "``` line, found the end of the file");
    }
    RETURN_IF_ERROR(FinishGate());
    return std::move(gates_);
  }

 private:
  Status Line(int n, std::string_view line) {
    std::string_view trimmed = Trim(line);
    if (in_fence_) {
      if (trimmed == "```") {
        in_fence_ = false;
        if (Trim(block_).empty()) {
          return LineError(fence_line_, "empty code block for gate " + Quote(current_->name) +
                                            "; expected the command to run");
        }
        // Trailing blank lines are not part of the command (RenderVerifyMd
        // could not write them back).
        while (block_.ends_with('\n')) block_.pop_back();
        current_->command = block_;
        has_command_ = true;
        return Status::Ok();
      }
      if (block_started_) block_ += '\n';
      block_ += line;
      block_started_ = true;
      return Status::Ok();
    }
    if (trimmed.starts_with("```")) return OpenFence(n, Trim(trimmed.substr(3)));
    if (line.starts_with("## ") || line == "##") {
      RETURN_IF_ERROR(FinishGate());
      return Heading(n, Trim(line.substr(2)));
    }
    if (line.starts_with("# ") || line == "#") return FinishGate();  // a title ends a gate
    return Status::Ok();  // prose, `###` headings, lists: ignored
  }

  Status OpenFence(int n, std::string_view info) {
    if (!current_) {
      return LineError(n, "code block outside a gate; expected a " + std::string(kHeadingShape) +
                              " heading above it");
    }
    if (has_command_) {
      return LineError(n, "second code block in gate " + Quote(current_->name) +
                              " (its command is the block on line " +
                              std::to_string(command_line_) + "); expected one block per gate");
    }
    std::string lang = Lower(info);
    if (!lang.empty() && lang != "sh" && lang != "bash" && lang != "shell") {
      return LineError(n, "code block language " + Quote(info) +
                              "; expected ```sh (gates run in /bin/sh)");
    }
    in_fence_ = true;
    fence_line_ = command_line_ = n;
    block_.clear();
    block_started_ = false;
    return Status::Ok();
  }

  Status Heading(int n, std::string_view text) {
    size_t paren = text.find('(');
    std::string_view name = Trim(text.substr(0, paren));
    if (name.empty()) {
      return LineError(n, "gate heading has no name; expected " + std::string(kHeadingShape));
    }
    if (!IsValidName(name)) {
      return LineError(n, "gate name " + Quote(name) +
                              " is not valid; expected letters, digits, '_', '.' or '-' (options "
                              "go in parentheses: " + std::string(kHeadingShape) + ")");
    }
    if (auto it = name_lines_.find(std::string(name)); it != name_lines_.end()) {
      return LineError(n, "duplicate gate name " + Quote(name) + "; first defined on line " +
                              std::to_string(it->second));
    }
    Gate gate;
    gate.name = std::string(name);
    gate.line = n;
    if (paren != std::string_view::npos) {
      std::string_view rest = Trim(text.substr(paren));
      if (rest.back() != ')') {
        return LineError(n, "expected the options to end with ')', found " + Quote(rest));
      }
      RETURN_IF_ERROR(Options(n, rest.substr(1, rest.size() - 2), gate));
    }
    name_lines_[gate.name] = n;
    current_ = std::move(gate);
    heading_line_ = n;
    has_command_ = false;
    return Status::Ok();
  }

  Status Options(int n, std::string_view text, Gate& gate) {
    bool seen_when = false, seen_timeout = false, seen_cwd = false, seen_network = false;
    size_t pos = 0;
    while (pos <= text.size()) {
      size_t comma = text.find(',', pos);
      if (comma == std::string_view::npos) comma = text.size();
      std::string_view raw = Trim(text.substr(pos, comma - pos));
      pos = comma + 1;
      std::string opt = Lower(raw);
      if (opt.empty()) {
        if (comma == text.size() && pos == 1) break;  // "()"
        return LineError(n, "empty gate option; expected a comma-separated list such as "
                            "'each step, timeout 300s'");
      }
      auto duplicate = [&](bool& seen, std::string_view what) -> Status {
        if (seen) return LineError(n, "gate option " + Quote(raw) + " repeats the " +
                                          std::string(what) + " given earlier on this line");
        seen = true;
        return Status::Ok();
      };
      if (opt == "each step" || opt == "each") {
        RETURN_IF_ERROR(duplicate(seen_when, "each step/final choice"));
        gate.when = GateWhen::kEachStep;
      } else if (opt == "final") {
        RETURN_IF_ERROR(duplicate(seen_when, "each step/final choice"));
        gate.when = GateWhen::kFinal;
      } else if (opt.starts_with("timeout ")) {
        RETURN_IF_ERROR(duplicate(seen_timeout, "timeout"));
        std::string_view value = Trim(raw.substr(8));
        auto timeout = ParseDuration(value);
        if (!timeout) {
          return LineError(n, "timeout " + Quote(value) +
                                  " is not valid; expected a positive number with a unit, at "
                                  "most 24h, e.g. 'timeout 300s', '10m', '1500ms'");
        }
        gate.timeout = *timeout;
      } else if (opt.starts_with("in ")) {
        RETURN_IF_ERROR(duplicate(seen_cwd, "working directory"));
        std::string_view dir = Trim(raw.substr(3));
        if (!IsSafeRelativeDir(dir)) {
          return LineError(n, "working directory " + Quote(dir) +
                                  " is not valid; expected a path relative to the repository "
                                  "root without '..'");
        }
        gate.cwd = std::string(dir);
      } else if (opt.starts_with("after ")) {
        std::string dep(Trim(raw.substr(6)));
        auto it = std::find_if(gates_.begin(), gates_.end(),
                               [&](const Gate& g) { return g.name == dep; });
        if (it == gates_.end()) {
          return LineError(n, "'after " + dep +
                                  "' names no gate defined above; expected the name of an "
                                  "earlier gate");
        }
        gate.after.push_back(dep);
      } else if (opt == "network") {
        RETURN_IF_ERROR(duplicate(seen_network, "network grant"));
        gate.network = true;
      } else if (opt.starts_with("env ")) {
        std::string var(Trim(raw.substr(4)));
        if (!IsEnvName(var)) {
          return LineError(n, "'env " + var +
                                  "' is not valid; expected the name of an environment variable, "
                                  "e.g. 'env DATABASE_URL'");
        }
        gate.env.push_back(var);
      } else {
        return LineError(n, "unknown gate option " + Quote(raw) +
                                "; expected 'each step', 'final', 'timeout <N>s', 'in <dir>', "
                                "'after <gate>', 'network' or 'env <VAR>'");
      }
      if (comma == text.size()) break;
    }
    // An each-step gate cannot wait for a gate that only runs at the end.
    if (gate.when == GateWhen::kEachStep) {
      for (const std::string& dep : gate.after) {
        for (const Gate& g : gates_) {
          if (g.name == dep && g.when == GateWhen::kFinal) {
            return LineError(n, "gate " + Quote(gate.name) + " runs each step but is after " +
                                    Quote(dep) + ", which is final; expected 'final' or an "
                                    "each-step gate");
          }
        }
      }
    }
    return Status::Ok();
  }

  Status FinishGate() {
    if (!current_) return Status::Ok();
    if (!has_command_) {
      return LineError(heading_line_, "gate " + Quote(current_->name) +
                                          " has no command; expected a ```sh code block under "
                                          "its heading");
    }
    gates_.push_back(std::move(*current_));
    current_.reset();
    return Status::Ok();
  }

  std::vector<Gate> gates_;
  std::map<std::string, int> name_lines_;
  std::optional<Gate> current_;
  int heading_line_ = 0;
  bool has_command_ = false;
  int command_line_ = 0;
  bool in_fence_ = false;
  int fence_line_ = 0;
  std::string block_;
  bool block_started_ = false;
};

}  // namespace

Result<std::vector<Gate>> ParseVerifyMd(std::string_view text) { return Parser().Parse(text); }

Result<std::vector<Gate>> LoadVerifyMd(const std::filesystem::path& path) {
  // Its gate commands go into prompts: a link leading out of the repository
  // (or into .git) is refused, not read.
  const std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
  std::string text = TRY(platform::ReadFileWithin(dir, path.filename(), std::string::npos));
  auto gates = ParseVerifyMd(text);
  if (!gates) return gates.error().WithContext(path.string());
  return gates;
}

std::string FormatTimeout(std::chrono::milliseconds timeout) {
  long long ms = timeout.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string RenderVerifyMd(const std::vector<Gate>& gates, std::string_view intro) {
  std::string out = "# Verify\n\n";
  if (!intro.empty()) {
    out += intro;
    if (out.back() != '\n') out += '\n';
    out += '\n';
  }
  for (const Gate& gate : gates) {
    out += "## " + gate.name + " (" + std::string(GateWhenName(gate.when)) + ", timeout " +
           FormatTimeout(gate.timeout);
    if (!gate.cwd.empty()) out += ", in " + gate.cwd;
    for (const std::string& dep : gate.after) out += ", after " + dep;
    if (gate.network) out += ", network";
    for (const std::string& var : gate.env) out += ", env " + var;
    out += ")\n```sh\n" + gate.command;
    if (gate.command.empty() || gate.command.back() != '\n') out += '\n';
    out += "```\n\n";
  }
  return out;
}

}  // namespace tandem::verify
