#include "tandem/skills/trajectory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "tandem/base/redact.h"
#include "tandem/ledger/git_dirs.h"
#include "tandem/platform/atomic_file.h"
#include "tandem/tools/text.h"

namespace tandem::skills {
namespace {

using nlohmann::json;

constexpr size_t kMaxFileBytes = 64u << 20;

bool SafeId(std::string_view id) {
  if (id.empty() || id.front() == '.' || id.size() > 200) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Clean(std::string_view text) { return RedactAndCap(text); }

json Strings(const std::vector<std::string>& values) {
  json out = json::array();
  for (const std::string& v : values) out.push_back(Clean(v));
  return out;
}

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

json EntryJson(const TrajectoryEntry& e) {
  json j = {{"type", EntryKindName(e.kind)}, {"step", e.step}};
  switch (e.kind) {
    case EntryKind::kAssistant: {
      j["text"] = Clean(e.text);
      json calls = json::array();
      for (const TrajectoryToolCall& c : e.calls) {
        calls.push_back({{"id", Clean(c.id)}, {"name", Clean(c.name)}, {"arguments", Clean(c.arguments)}});
      }
      j["tool_calls"] = std::move(calls);
      break;
    }
    case EntryKind::kToolResult:
      j["id"] = Clean(e.id);
      j["name"] = Clean(e.name);
      j["error"] = e.error;
      j["text"] = Clean(e.text);
      break;
    case EntryKind::kGate:
      j["gate"] = Clean(e.name);
      j["verdict"] = protocol::Name(e.verdict);
      j["cached"] = e.cached;
      j["excerpt"] = Clean(e.text);
      break;
    case EntryKind::kFeedback:
    case EntryKind::kRollback:
    case EntryKind::kDiff:
      j[e.kind == EntryKind::kRollback ? "reason" : "text"] = Clean(e.text);
      break;
  }
  return j;
}

// Typed reads of one line's fields: a wrong type is an error naming the key.
class Fields {
 public:
  Fields(const json& j, size_t line) : j_(j), line_(line) {}
  Result<std::string> Str(const char* key) const {
    if (!j_.contains(key)) return std::string();
    if (!j_[key].is_string()) return Bad(key, "a string");
    return j_[key].get<std::string>();
  }
  Result<int64_t> Int(const char* key) const {
    if (!j_.contains(key)) return int64_t{0};
    if (!j_[key].is_number_integer()) return Bad(key, "an integer");
    return j_[key].get<int64_t>();
  }
  Result<double> Num(const char* key) const {
    if (!j_.contains(key)) return 0.0;
    if (!j_[key].is_number()) return Bad(key, "a number");
    return j_[key].get<double>();
  }
  Result<bool> Bool(const char* key) const {
    if (!j_.contains(key)) return false;
    if (!j_[key].is_boolean()) return Bad(key, "true or false");
    return j_[key].get<bool>();
  }
  Result<std::vector<std::string>> StrList(const char* key) const {
    std::vector<std::string> out;
    if (!j_.contains(key)) return out;
    if (!j_[key].is_array()) return Bad(key, "a list of strings");
    for (const json& v : j_[key]) {
      if (!v.is_string()) return Bad(key, "a list of strings");
      out.push_back(v.get<std::string>());
    }
    return out;
  }
  Status Error(std::string_view what) const {
    return InvalidArgument(fmt::format("trajectory line {}: {}", line_, what));
  }

 private:
  Status Bad(const char* key, const char* expected) const {
    return Error(fmt::format("'{}' must be {}", key, expected));
  }
  const json& j_;
  size_t line_;
};

Result<protocol::Outcome> ParseOutcome(std::string_view s, const Fields& f) {
  for (protocol::Outcome o : {protocol::Outcome::kSucceeded, protocol::Outcome::kFailed,
                              protocol::Outcome::kLimit, protocol::Outcome::kInterrupted,
                              protocol::Outcome::kProviderError, protocol::Outcome::kError}) {
    if (protocol::Name(o) == s) return o;
  }
  return f.Error(fmt::format("unknown outcome '{}'", s));
}

Result<TrajectoryEntry> ParseEntry(EntryKind kind, const json& j, const Fields& f) {
  TrajectoryEntry e;
  e.kind = kind;
  e.step = static_cast<int>(TRY(f.Int("step")));
  switch (kind) {
    case EntryKind::kAssistant:
      e.text = TRY(f.Str("text"));
      if (j.contains("tool_calls")) {
        if (!j["tool_calls"].is_array()) return f.Error("'tool_calls' must be a list");
        for (const json& c : j["tool_calls"]) {
          if (!c.is_object()) return f.Error("a tool call must be an object");
          Fields cf(c, 0);
          TrajectoryToolCall call;
          auto id = cf.Str("id"), name = cf.Str("name"), args = cf.Str("arguments");
          if (!id || !name || !args) return f.Error("a tool call's id, name and arguments must be strings");
          call.id = *id;
          call.name = *name;
          call.arguments = *args;
          e.calls.push_back(std::move(call));
        }
      }
      break;
    case EntryKind::kToolResult:
      e.id = TRY(f.Str("id"));
      e.name = TRY(f.Str("name"));
      e.error = TRY(f.Bool("error"));
      e.text = TRY(f.Str("text"));
      break;
    case EntryKind::kGate: {
      e.name = TRY(f.Str("gate"));
      auto verdict = protocol::ParseVerdict(TRY(f.Str("verdict")));
      if (!verdict) return f.Error(verdict.error().message());
      e.verdict = *verdict;
      e.cached = TRY(f.Bool("cached"));
      e.text = TRY(f.Str("excerpt"));
      break;
    }
    case EntryKind::kRollback: e.text = TRY(f.Str("reason")); break;
    case EntryKind::kFeedback:
    case EntryKind::kDiff: e.text = TRY(f.Str("text")); break;
  }
  return e;
}

}  // namespace

std::string_view EntryKindName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kAssistant: return "assistant";
    case EntryKind::kToolResult: return "tool_result";
    case EntryKind::kFeedback: return "feedback";
    case EntryKind::kGate: return "gate";
    case EntryKind::kRollback: return "rollback";
    case EntryKind::kDiff: return "diff";
  }
  return "assistant";
}

std::string RedactAndCap(std::string_view text, size_t max_bytes) {
  std::string clean = Redactor::Apply(tools::IsValidUtf8(text) ? std::string(text)
                                                               : tools::SanitizeUtf8(text));
  if (clean.size() <= max_bytes) return clean;
  std::string marker = fmt::format("\n[... {} bytes left out ...]\n", clean.size() - max_bytes);
  size_t half = max_bytes / 2;
  std::string out(tools::Utf8Truncate(clean, half));
  size_t tail = clean.size() - half;
  // The tail starts on a character, not inside one.
  while (tail < clean.size() && (static_cast<unsigned char>(clean[tail]) & 0xC0) == 0x80) ++tail;
  out += marker;
  out.append(clean, tail, std::string::npos);
  return out;
}

Result<std::filesystem::path> TrajectoryPath(const std::filesystem::path& repo_root,
                                             std::string_view run_id, std::string_view task_id) {
  if (!SafeId(run_id)) return InvalidArgument(fmt::format("'{}' is not a run id", run_id));
  if (!task_id.empty() && !SafeId(task_id)) {
    return InvalidArgument(fmt::format("'{}' is not a task id", task_id));
  }
  std::filesystem::path common = TRY(ledger::GitCommonDir(repo_root));
  std::string file = task_id.empty() ? std::string("run.jsonl") : fmt::format("task-{}.jsonl", task_id);
  return common / "tandem" / "trajectories" / std::string(run_id) / file;
}

std::string RenderAttempt(const Attempt& a) {
  json gates = json::array();
  for (const TrajectoryGate& g : a.gates) {
    gates.push_back({{"name", Clean(g.name)}, {"when", Clean(g.when)}, {"command", Clean(g.command)}});
  }
  std::string out = Dump({{"type", "attempt"},
                          {"run", Clean(a.run_id)},
                          {"task", Clean(a.task_id)},
                          {"kind", Clean(a.kind)},
                          {"goal", Clean(a.goal)},
                          {"scope", Strings(a.scope)},
                          {"model", Clean(a.model)},
                          {"skills", Strings(a.skills)},
                          {"gates", std::move(gates)},
                          {"base_checkpoint", Clean(a.base_checkpoint)},
                          {"started_ms", a.started_ms}});
  bool truncated = a.truncated;
  for (const TrajectoryEntry& e : a.entries) {
    std::string line = Dump(EntryJson(e));
    if (out.size() + line.size() > kMaxAttemptBytes) {
      truncated = true;
      break;
    }
    out += line;
  }
  if (truncated) out += Dump({{"type", "truncated"}});
  if (a.ended) {
    out += Dump({{"type", "end"},
                 {"outcome", protocol::Name(a.outcome)},
                 {"summary", Clean(a.summary)},
                 {"steps", a.steps},
                 {"retries", a.retries},
                 {"tokens_in", a.tokens_in},
                 {"tokens_out", a.tokens_out},
                 {"cost_usd", a.cost_usd},
                 {"wall_ms", a.wall_ms},
                 {"final_checkpoint", Clean(a.final_checkpoint)}});
  }
  return out;
}

Status AppendAttempt(const std::filesystem::path& path, const Attempt& attempt) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return IoError(fmt::format("{}: {}", path.parent_path().string(), ec.message()));
  // trajectories/ and trajectories/<run>/: the user's alone.
  std::filesystem::permissions(path.parent_path().parent_path(), std::filesystem::perms::owner_all, ec);
  std::filesystem::permissions(path.parent_path(), std::filesystem::perms::owner_all, ec);
  std::string text = RenderAttempt(attempt);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return IoError(fmt::format("{}: {}", path.string(), std::strerror(errno)));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      return IoError(fmt::format("{}: {}", path.string(), std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return IoError(fmt::format("{}: {}", path.string(), std::strerror(errno)));
  return Status::Ok();
}

Result<std::vector<Attempt>> ParseTrajectory(std::string_view text) {
  std::vector<Attempt> attempts;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    Fields f(j, line_no);
    if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
      return f.Error("not a JSON object with a \"type\"");
    }
    std::string type = j["type"].get<std::string>();
    if (type == "attempt") {
      Attempt a;
      a.run_id = TRY(f.Str("run"));
      a.task_id = TRY(f.Str("task"));
      a.kind = TRY(f.Str("kind"));
      a.goal = TRY(f.Str("goal"));
      a.scope = TRY(f.StrList("scope"));
      a.model = TRY(f.Str("model"));
      a.skills = TRY(f.StrList("skills"));
      a.base_checkpoint = TRY(f.Str("base_checkpoint"));
      a.started_ms = TRY(f.Int("started_ms"));
      if (j.contains("gates")) {
        if (!j["gates"].is_array()) return f.Error("'gates' must be a list");
        for (const json& g : j["gates"]) {
          if (!g.is_object()) return f.Error("a gate must be an object");
          Fields gf(g, line_no);
          TrajectoryGate gate;
          gate.name = TRY(gf.Str("name"));
          gate.when = TRY(gf.Str("when"));
          gate.command = TRY(gf.Str("command"));
          a.gates.push_back(std::move(gate));
        }
      }
      attempts.push_back(std::move(a));
      continue;
    }
    if (attempts.empty()) return f.Error(fmt::format("a '{}' line before any 'attempt' line", type));
    Attempt& a = attempts.back();
    if (type == "end") {
      a.ended = true;
      a.outcome = TRY(ParseOutcome(TRY(f.Str("outcome")), f));
      a.summary = TRY(f.Str("summary"));
      a.steps = static_cast<int>(TRY(f.Int("steps")));
      a.retries = static_cast<int>(TRY(f.Int("retries")));
      a.tokens_in = TRY(f.Int("tokens_in"));
      a.tokens_out = TRY(f.Int("tokens_out"));
      a.cost_usd = TRY(f.Num("cost_usd"));
      a.wall_ms = TRY(f.Int("wall_ms"));
      a.final_checkpoint = TRY(f.Str("final_checkpoint"));
      continue;
    }
    if (type == "truncated") {
      a.truncated = true;
      continue;
    }
    bool known = false;
    for (EntryKind k : {EntryKind::kAssistant, EntryKind::kToolResult, EntryKind::kFeedback,
                        EntryKind::kGate, EntryKind::kRollback, EntryKind::kDiff}) {
      if (EntryKindName(k) != type) continue;
      a.entries.push_back(TRY(ParseEntry(k, j, f)));
      known = true;
      break;
    }
    if (!known) return f.Error(fmt::format("unknown type '{}'", type));
  }
  return attempts;
}

Result<std::vector<Attempt>> ReadTrajectory(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
    return NotFound(fmt::format("no trajectory at {}", path.string()));
  }
  auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxFileBytes) {
    return InvalidArgument(fmt::format("{}: {} bytes, more than a trajectory holds", path.string(), size));
  }
  std::string text = TRY(platform::ReadWholeFile(path));
  auto attempts = ParseTrajectory(text);
  if (!attempts) {
    return Status(attempts.error().code(), path.string() + ": " + attempts.error().message());
  }
  return attempts;
}

}  // namespace tandem::skills
