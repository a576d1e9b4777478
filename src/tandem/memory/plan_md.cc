#include "tandem/memory/plan_md.h"

#include <algorithm>
#include <map>
#include <utility>

#include "tandem/base/scope_glob.h"
#include "tandem/base/strings.h"
#include "tandem/memory/memory_file.h"
#include "tandem/platform/atomic_file.h"

namespace tandem::memory {
namespace {

constexpr std::string_view kWhitespace = " \t\r\f\v";
constexpr std::string_view kFields[] = {"do",       "scope",  "accept",  "risk", "after",
                                        "overlaps", "review", "variants"};
constexpr std::string_view kNoneValues[] = {"", "—", "-", "none"};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsAlpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '_' || c == '.' || c == '-'; }

bool IsTaskId(std::string_view s) {
  return !s.empty() && IsAlpha(s[0]) && std::all_of(s.begin(), s.end(), IsNameChar);
}
bool IsGateName(std::string_view s) {
  return !s.empty() && (IsAlpha(s[0]) || IsDigit(s[0])) &&
         std::all_of(s.begin(), s.end(), IsNameChar);
}

bool IsNone(std::string_view s) {
  return std::find(std::begin(kNoneValues), std::end(kNoneValues), s) != std::end(kNoneValues);
}

// Shortens what a person wrote for an error message.
std::string Found(std::string_view s) {
  std::string out(TrimAsciiSpace(s).substr(0, 60));
  std::replace(out.begin(), out.end(), '\0', '?');  // no NUL byte in a message
  if (TrimAsciiSpace(s).size() > 60) out += "...";
  return "'" + out + "'";
}

Status LineError(int line, std::string_view message) {
  return InvalidArgument("line " + std::to_string(line) + ": " + std::string(message));
}

// Splits on `seps`, trimming items and dropping empty ones.
std::vector<std::string> SplitList(std::string_view s, std::string_view seps) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find_first_of(seps, pos);
    if (end == std::string_view::npos) end = s.size();
    std::string_view item = TrimAsciiSpace(s.substr(pos, end - pos));
    if (!item.empty()) out.emplace_back(item);
    pos = end + 1;
  }
  return out;
}

// A list, or empty when its only item is "—", "-" or "none".
std::vector<std::string> ListOrNone(std::string_view s, std::string_view seps) {
  std::vector<std::string> items = SplitList(s, seps);
  if (items.size() == 1 && IsNone(items[0])) items.clear();
  return items;
}

std::optional<TaskState> StateFromMark(char c) {
  switch (c) {
    case ' ': return TaskState::kPending;
    case '~': return TaskState::kRunning;
    case 'x':
    case 'X': return TaskState::kDone;
    case '!': return TaskState::kFailed;
    case '-': return TaskState::kSkipped;
    case '?': return TaskState::kWaiting;
    default: return std::nullopt;
  }
}

// "- [c] ..." (or "*", "+") at the start of a line: the shape of a task line.
// "- [text](url)" is a Markdown link, not a checkbox.
bool LooksLikeTask(std::string_view line) {
  return line.size() >= 5 && (line[0] == '-' || line[0] == '*' || line[0] == '+') &&
         line[1] == ' ' && line[2] == '[' && line[4] == ']' &&
         (line.size() == 5 || line[5] != '(');
}

// A line meant as a task whose checkbox is misspelled: "-[ ] T1: ...",
// "-  [x] T1: ...", "- [] T1: ...". Read as prose it would drop the task.
bool LooksLikeMisspelledTask(std::string_view line) {
  if (line.empty() || (line[0] != '-' && line[0] != '*' && line[0] != '+')) return false;
  std::string_view rest = line.substr(1);
  size_t box = rest.find_first_not_of(" \t");
  if (box == std::string_view::npos || rest[box] != '[') return false;
  size_t close = rest.find(']', box);
  if (close == std::string_view::npos || close - box > 2) return false;
  return close + 1 == rest.size() || rest[close + 1] == ' ';
}

// Why text with no task has none, for the error.
Status NoTaskError(std::string_view text) {
  constexpr std::string_view kExpected =
      "expected at least one task line '- [ ] <id>: <title>' at the start of a line, followed by "
      "'  - do: <what to do>'";
  if (TrimSpace(text).empty()) return InvalidArgument("the file is empty; " + std::string(kExpected));
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return InvalidArgument("not a text file (a NUL byte at offset " + std::to_string(nul) +
                           "); " + std::string(kExpected));
  }
  return InvalidArgument("no task found (`tandem plan \"<goal>\"` writes them); " +
                         std::string(kExpected));
}

// Reads a Markdown code span at the start of `s`: N backticks, the content,
// N backticks. Returns the trimmed content and advances `s`, or nullopt.
std::optional<std::string> ReadCodeSpan(std::string_view& s) {
  size_t n = s.find_first_not_of('`');
  if (n == 0 || n == std::string_view::npos) return std::nullopt;
  size_t pos = n;
  while (true) {
    size_t open = s.find('`', pos);
    if (open == std::string_view::npos) return std::nullopt;
    size_t close = s.find_first_not_of('`', open);
    if (close == std::string_view::npos) close = s.size();
    if (close - open == n) {
      std::string content(TrimAsciiSpace(s.substr(n, open - n)));
      s.remove_prefix(close);
      return content;
    }
    pos = close;
  }
}

struct RawField {
  std::string value;
  int line = 0;
};

class Parser {
 public:
  Result<Plan> Parse(std::string_view text) {
    text = StripUtf8Bom(text);
    int n = 0;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      RETURN_IF_ERROR(Line(++n, text.substr(pos, end - pos)));
      pos = end + 1;
    }
    if (fence_line_) {
      return LineError(fence_line_, "code block opened here is never closed; expected a closing " +
                                        fence_ + " line, found the end of the file");
    }
    RETURN_IF_ERROR(FinishTask());
    if (plan_.tasks.empty()) return NoTaskError(text);
    RETURN_IF_ERROR(CheckDependencies());
    return std::move(plan_);
  }

 private:
  Status Line(int n, std::string_view raw) {
    std::string_view line = raw;
    while (!line.empty() && kWhitespace.find(line.back()) != std::string_view::npos) {
      line.remove_suffix(1);
    }
    if (fence_line_) {
      if (TrimAsciiSpace(line).starts_with(fence_)) fence_line_ = 0;
      return Status::Ok();
    }
    if (line.empty()) {
      if (in_task_) ++blank_lines_;
      return Status::Ok();
    }
    if (line[0] != ' ' && line[0] != '\t') return TopLevelLine(n, line);
    if (!in_task_) return Status::Ok();  // indented prose
    return TaskBodyLine(n, TrimAsciiSpace(line));
  }

  Status TopLevelLine(int n, std::string_view line) {
    RETURN_IF_ERROR(FinishTask());
    if (line.starts_with("```") || line.starts_with("~~~")) {
      fence_ = std::string(line.substr(0, 3));
      fence_line_ = n;
      return Status::Ok();
    }
    if (line == "# Plan" || line.starts_with("# Plan:")) {
      if (goal_line_) {
        return LineError(n, "a second '# Plan' title; expected one per file (the first is on line " +
                                std::to_string(goal_line_) + ")");
      }
      goal_line_ = n;
      plan_.goal = std::string(TrimAsciiSpace(line.substr(6)));
      if (!plan_.goal.empty()) plan_.goal = std::string(TrimAsciiSpace(plan_.goal.substr(1)));
      return Status::Ok();
    }
    if (LooksLikeTask(line)) return StartTask(n, line);
    if (LooksLikeMisspelledTask(line)) {
      return LineError(n, "expected a task line '- [ ] <id>: <title>' (a dash, one space, then "
                          "the checkbox), found " + Found(line));
    }
    return Status::Ok();  // prose
  }

  Status StartTask(int n, std::string_view line) {
    std::optional<TaskState> state = StateFromMark(line[3]);
    if (!state) {
      return LineError(n, "unknown checkbox " + Found(line.substr(2, 3)) +
                              "; expected '[ ]' pending, '[~]' running, '[x]' done, '[!]' "
                              "failed, '[-]' skipped or '[?]' waiting");
    }
    std::string_view rest = line.substr(5);
    size_t colon = rest.find(':');
    std::string_view id = colon == std::string_view::npos ? std::string_view() : TrimAsciiSpace(rest.substr(0, colon));
    if (rest.empty() || rest[0] != ' ' || !IsTaskId(id)) {
      return LineError(n, "expected a task line '- [ ] <id>: <title>' with an id such as T1, found " +
                              Found(line));
    }
    if (id.find("..") != std::string_view::npos || id.back() == '.') {
      // <run>.<task>.<attempt> names the task's checkpoint refs (and a
      // fan-out's run and worktrees): git refuses ".." in a ref name.
      return LineError(n, "task id '" + std::string(id) +
                              "' holds '..' or ends with '.', which tandem cannot name its "
                              "checkpoint refs after; use ids such as T3 or T3.1");
    }
    std::string_view title = TrimAsciiSpace(rest.substr(colon + 1));
    if (title.empty()) return LineError(n, "task " + std::string(id) + " has no title after '" +
                                               std::string(id) + ":'");
    auto [it, inserted] = id_lines_.emplace(std::string(id), n);
    if (!inserted) {
      return LineError(n, "duplicate task id '" + std::string(id) + "'; first defined on line " +
                              std::to_string(it->second));
    }
    task_ = PlanTask();
    task_.id = std::string(id);
    task_.title = std::string(title);
    task_.state = *state;
    task_.line = n;
    fields_.clear();
    field_.clear();
    in_task_ = true;
    blank_lines_ = 0;
    return Status::Ok();
  }

  Status TaskBodyLine(int n, std::string_view content) {
    int blanks = std::exchange(blank_lines_, 0);
    if (content.starts_with("- ")) {
      std::string_view item = content.substr(2);
      if (LooksLikeTask(content)) {
        return LineError(n, "expected a field of task " + task_.id + ", found a nested task " +
                                Found(content) + "; tasks start at the beginning of a line");
      }
      size_t colon = item.find(':');
      if (colon == std::string_view::npos) {
        return LineError(n, "expected a field '- <name>: <value>' of task " + task_.id +
                                ", found " + Found(content));
      }
      std::string key = Lower(TrimAsciiSpace(item.substr(0, colon)));
      if (std::find(std::begin(kFields), std::end(kFields), key) == std::end(kFields)) {
        return LineError(n, "unknown field '" + key + "' in task " + task_.id +
                                "; expected do, scope, accept, risk, after, overlaps, review or "
                                "variants");
      }
      auto [it, inserted] = fields_.emplace(key, RawField{std::string(TrimAsciiSpace(item.substr(colon + 1))), n});
      if (!inserted) {
        return LineError(n, "duplicate field '" + key + "' in task " + task_.id +
                                "; first given on line " + std::to_string(it->second.line));
      }
      field_ = key;
      return Status::Ok();
    }
    if (field_.empty()) {
      return LineError(n, "expected a field such as '- do: <what to do>' under task " + task_.id +
                              ", found " + Found(content));
    }
    std::string& value = fields_[field_].value;
    if (field_ != "do") {
      value += (value.empty() ? "" : " ") + std::string(content);
      return Status::Ok();
    }
    // `do` keeps its lines (and blank lines between them). A leading "\-"
    // escapes a line that would otherwise read as a field.
    size_t b = content.find_first_not_of('\\');
    if (b > 0 && b != std::string_view::npos && content[b] == '-') content.remove_prefix(1);
    if (!value.empty()) value += std::string(static_cast<size_t>(blanks) + 1, '\n');
    value += content;
    return Status::Ok();
  }

  Status FinishTask() {
    if (!in_task_) return Status::Ok();
    in_task_ = false;
    blank_lines_ = 0;
    auto do_it = fields_.find("do");
    if (do_it == fields_.end() || do_it->second.value.empty()) {
      return LineError(task_.line, "task " + task_.id +
                                       " has no 'do' field; expected '- do: <what to do>' under it");
    }
    task_.what = do_it->second.value;
    if (auto it = fields_.find("scope"); it != fields_.end()) {
      if (it->second.value.empty()) {
        return LineError(it->second.line, "empty scope in task " + task_.id +
                                              "; expected path globs relative to the repository "
                                              "root such as 'src/**', or 'none'");
      }
      task_.scope = ListOrNone(it->second.value, ",");
      for (const std::string& glob : task_.scope) {
        if (auto problem = ScopeGlobProblem(glob)) {
          return LineError(it->second.line, "scope " + Found(glob) + " of task " + task_.id +
                                                ": " + *problem +
                                                "; expected a path glob relative to the "
                                                "repository root such as 'src/**'");
        }
      }
    }
    if (auto it = fields_.find("accept"); it != fields_.end()) {
      RETURN_IF_ERROR(ParseAccept(it->second));
      task_.accept_line = it->second.line;
    }
    if (auto it = fields_.find("risk"); it != fields_.end()) {
      std::string risk = Lower(it->second.value);
      if (risk == "reversible") {
        task_.risk = Risk::kReversible;
      } else if (risk == "irreversible") {
        task_.risk = Risk::kIrreversible;
      } else {
        return LineError(it->second.line, "bad risk " + Found(it->second.value) + " in task " +
                                              task_.id + "; expected 'reversible' or 'irreversible'");
      }
    }
    if (auto it = fields_.find("review"); it != fields_.end()) {
      auto policy = protocol::ParseReviewPolicy(Lower(it->second.value));
      if (!policy) {
        return LineError(it->second.line, "bad review in task " + task_.id + ": " +
                                              policy.error().message());
      }
      task_.review = *policy;
    }
    if (auto it = fields_.find("variants"); it != fields_.end()) {
      const std::string& v = it->second.value;
      int n = 0;
      bool number = !v.empty() && v.size() <= 3 && std::all_of(v.begin(), v.end(), IsDigit);
      if (number) n = std::stoi(v);
      if (!number || n < 1 || n > kMaxPlanVariants) {
        return LineError(it->second.line, "bad variants " + Found(v) + " in task " + task_.id +
                                              "; expected a whole number from 1 to " +
                                              std::to_string(kMaxPlanVariants));
      }
      task_.variants = n;
    }
    if (auto it = fields_.find("after"); it != fields_.end()) {
      for (std::string& id : ListOrNone(it->second.value, ", \t")) {
        if (!IsTaskId(id)) {
          return LineError(it->second.line, "expected task ids after 'after:', found " + Found(id));
        }
        task_.after.push_back(std::move(id));
      }
      after_lines_.emplace(task_.id, it->second.line);
    }
    if (auto it = fields_.find("overlaps"); it != fields_.end()) {
      for (std::string& id : ListOrNone(it->second.value, ", \t")) {
        if (!IsTaskId(id)) {
          return LineError(it->second.line,
                           "expected task ids after 'overlaps:', found " + Found(id));
        }
        task_.may_overlap_with.push_back(std::move(id));
      }
    }
    plan_.tasks.push_back(std::move(task_));
    return Status::Ok();
  }

  // accept: [gates <name>, ... | gates all | gates none] ; check `<command>` ; ...
  Status ParseAccept(const RawField& field) {
    std::string_view s = field.value;
    if (IsNone(s)) return Status::Ok();
    bool have_gates = false;
    auto error = [&](std::string_view found) {
      return LineError(field.line, "expected 'gates <name>, ...' or 'check `<command>`' in the "
                                   "acceptance of task " + task_.id + ", found " + Found(found));
    };
    while (true) {
      while (!s.empty() && (s[0] == ';' || kWhitespace.find(s[0]) != std::string_view::npos)) {
        s.remove_prefix(1);
      }
      if (s.empty()) return Status::Ok();
      std::string word = Lower(s.substr(0, s.find_first_of(" \t`;")));
      if (word == "gates" || word == "gate") {
        if (have_gates) return LineError(field.line, "a second 'gates' list in task " + task_.id);
        have_gates = true;
        s.remove_prefix(word.size());
        size_t end = std::min(s.find(';'), s.size());
        std::vector<std::string> names = SplitList(s.substr(0, end), ", \t");
        s.remove_prefix(end);
        if (names.size() == 1 && (names[0] == "all" || names[0] == "none")) {
          if (names[0] == "none") task_.gates.emplace();
          continue;
        }
        if (names.empty()) return error("gates");
        for (const std::string& name : names) {
          if (!IsGateName(name) || name == "all" || name == "none") {
            return LineError(field.line, "expected gate names (as in verify.md) after 'gates', found " +
                                             Found(name));
          }
        }
        task_.gates = std::move(names);
      } else if (word == "check") {
        s.remove_prefix(word.size());
        s = TrimAsciiSpace(s);
        std::optional<std::string> command = ReadCodeSpan(s);
        if (!command || command->empty()) {
          return LineError(field.line, "expected a command in backticks after 'check', found " +
                                           Found(s));
        }
        task_.checks.push_back(std::move(*command));
        if (!s.empty() && s[0] != ';' && kWhitespace.find(s[0]) == std::string_view::npos) {
          return error(s);
        }
      } else {
        return error(s);
      }
    }
  }

  Status CheckDependencies() {
    std::map<std::string_view, size_t> index;
    for (size_t i = 0; i < plan_.tasks.size(); ++i) index.emplace(plan_.tasks[i].id, i);
    std::vector<std::vector<size_t>> edges(plan_.tasks.size());
    for (size_t i = 0; i < plan_.tasks.size(); ++i) {
      for (const std::string& dep : plan_.tasks[i].after) {
        auto it = index.find(dep);
        if (it == index.end()) {
          return LineError(after_lines_[plan_.tasks[i].id],
                           "task " + plan_.tasks[i].id + " depends on unknown task '" + dep +
                               "'; expected the id of a task in this plan");
        }
        edges[i].push_back(it->second);
      }
    }
    // Iterative depth-first search (a fuzzed plan may chain thousands of tasks).
    enum Color { kWhite, kGray, kBlack };
    std::vector<Color> color(plan_.tasks.size(), kWhite);
    for (size_t root = 0; root < plan_.tasks.size(); ++root) {
      if (color[root] != kWhite) continue;
      std::vector<std::pair<size_t, size_t>> stack{{root, 0}};
      color[root] = kGray;
      while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next == edges[node].size()) {
          color[node] = kBlack;
          stack.pop_back();
          continue;
        }
        size_t dep = edges[node][next++];
        if (color[dep] == kGray) return CycleError(stack, dep);
        if (color[dep] == kWhite) {
          color[dep] = kGray;
          stack.emplace_back(dep, 0);
        }
      }
    }
    return Status::Ok();
  }

  Status CycleError(const std::vector<std::pair<size_t, size_t>>& stack, size_t start) {
    std::string cycle;
    bool in_cycle = false;
    for (const auto& [node, next] : stack) {
      in_cycle = in_cycle || node == start;
      if (in_cycle) cycle += plan_.tasks[node].id + " -> ";
    }
    cycle += plan_.tasks[start].id;
    return LineError(plan_.tasks[start].line,
                     "dependency cycle " + cycle + "; expected 'after' to name earlier work only");
  }

  Plan plan_;
  int goal_line_ = 0;
  std::string fence_;
  int fence_line_ = 0;
  std::map<std::string, int> id_lines_;
  std::map<std::string, int> after_lines_;
  // The task being read.
  bool in_task_ = false;
  PlanTask task_;
  std::map<std::string, RawField> fields_;
  std::string field_;  // the field that continuation lines extend
  int blank_lines_ = 0;
};

// One line: newlines become spaces, outer whitespace goes.
std::string OneLine(std::string_view s) {
  std::string out(TrimAsciiSpace(s));
  std::replace(out.begin(), out.end(), '\n', ' ');
  return std::string(TrimAsciiSpace(out));
}

void RenderWhat(std::string_view what, std::string& out) {
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= what.size()) {
    size_t end = std::min(what.find('\n', pos), what.size());
    lines.push_back(TrimAsciiSpace(what.substr(pos, end - pos)));
    pos = end + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  size_t first = 0;
  while (first < lines.size() && lines[first].empty()) ++first;
  out += "  - do:";
  for (size_t i = first; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (i == first) {
      out += " ";
    } else if (line.empty()) {
      out += "\n";
      continue;
    } else {
      out += "\n    ";
      // A continuation line that starts like a field ("- ...") is escaped.
      size_t b = line.find_first_not_of('\\');
      if (b != std::string_view::npos && line[b] == '-') out += "\\";
    }
    out += line;
  }
  out += "\n";
}

std::string CodeSpan(std::string_view command) {
  size_t longest = 0, run = 0;
  for (char c : command) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string ticks(longest + 1, '`');
  bool pad = !command.empty() && (command.front() == '`' || command.back() == '`');
  return ticks + (pad ? " " : "") + std::string(command) + (pad ? " " : "") + ticks;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + OneLine(item);
  return out;
}

}  // namespace

char TaskStateMark(TaskState state) {
  switch (state) {
    case TaskState::kPending: return ' ';
    case TaskState::kRunning: return '~';
    case TaskState::kDone: return 'x';
    case TaskState::kFailed: return '!';
    case TaskState::kSkipped: return '-';
    case TaskState::kWaiting: return '?';
  }
  return ' ';
}

const PlanTask* Plan::Find(std::string_view id) const {
  for (const PlanTask& task : tasks) {
    if (task.id == id) return &task;
  }
  return nullptr;
}

Result<Plan> ParsePlan(std::string_view text) { return Parser().Parse(text); }

Result<Plan> LoadPlan(const std::filesystem::path& path) {
  std::string text = TRY(ReadMemoryFile(path));
  auto plan = ParsePlan(text);
  if (!plan) return plan.error().WithContext(path.string());
  return plan;
}

std::string RenderPlan(const Plan& plan) {
  std::string goal = OneLine(plan.goal);
  std::string out = goal.empty() ? "# Plan\n" : "# Plan: " + goal + "\n";
  for (const PlanTask& task : plan.tasks) {
    out += "\n- [";
    out += TaskStateMark(task.state);
    out += "] " + task.id + ": " + OneLine(task.title) + "\n";
    RenderWhat(task.what, out);
    if (!task.scope.empty()) out += "  - scope: " + Join(task.scope) + "\n";
    if (task.gates || !task.checks.empty()) {
      std::string accept;
      if (task.gates) accept = "gates " + (task.gates->empty() ? "none" : Join(*task.gates));
      for (const std::string& check : task.checks) {
        accept += (accept.empty() ? "check " : "; check ") + CodeSpan(OneLine(check));
      }
      out += "  - accept: " + accept + "\n";
    }
    out += "  - risk: " + std::string(protocol::Name(task.risk)) + "\n";
    if (task.review) out += "  - review: " + protocol::Name(*task.review) + "\n";
    if (task.variants > 1) out += "  - variants: " + std::to_string(task.variants) + "\n";
    out += "  - after: " + (task.after.empty() ? std::string("—") : Join(task.after)) + "\n";
  }
  return out;
}

size_t TaskMarkOffset(std::string_view text, const PlanTask& task) {
  size_t start = text.size() - StripUtf8Bom(text).size();
  for (int n = 1; n < task.line; ++n) start = text.find('\n', start) + 1;
  return start + 3;  // "- [c]": the mark is the 4th byte of the line
}

Status SetTaskState(const std::filesystem::path& path, std::string_view id, TaskState state) {
  std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
  platform::DirectoryLock lock = TRY(platform::DirectoryLock::Acquire(dir));
  Status written;
  // A person's save between our read and our rename is detected and retried.
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::string text = TRY(ReadMemoryFile(path));
    auto plan = ParsePlan(text);
    if (!plan) return plan.error().WithContext(path.string());
    const PlanTask* task = plan->Find(id);
    if (!task) return NotFound(path.string() + ": no task '" + std::string(id) + "'");
    if (task->state == state) return Status::Ok();
    std::string updated = text;
    updated[TaskMarkOffset(text, *task)] = TaskStateMark(state);
    written = platform::WriteFileAtomically(path, updated, platform::WriteOptions::IfUnchanged(text));
    if (written.code() != StatusCode::kFailedPrecondition) return written;
  }
  return written;
}

std::vector<const PlanTask*> ReadyTasks(const Plan& plan) {
  std::vector<const PlanTask*> ready;
  for (const PlanTask& task : plan.tasks) {
    if (task.state != TaskState::kPending) continue;
    bool deps_done = std::all_of(task.after.begin(), task.after.end(), [&](const std::string& dep) {
      const PlanTask* d = plan.Find(dep);
      return d && d->state == TaskState::kDone;
    });
    if (deps_done) ready.push_back(&task);
  }
  return ready;
}

}  // namespace tandem::memory
