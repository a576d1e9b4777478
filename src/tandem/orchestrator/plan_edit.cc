#include "tandem/orchestrator/plan_edit.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace tandem::orchestrator {
namespace {

struct Edit {
  size_t begin;
  size_t end;
  std::string text;
};

// Byte offset of the start of 1-based line `line`.
size_t LineStart(std::string_view text, int line) {
  size_t pos = 0;
  for (int n = 1; n < line && pos < text.size(); ++n) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) return text.size();
    pos = nl + 1;
  }
  return pos;
}

size_t LineEnd(std::string_view text, size_t start) {
  size_t nl = text.find('\n', start);
  return nl == std::string_view::npos ? text.size() : nl + 1;
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// [begin, end) of a task: its checkbox line and the indented lines after it,
// trailing blank lines excluded.
std::pair<size_t, size_t> TaskBlock(std::string_view text, int line) {
  size_t begin = LineStart(text, line);
  size_t end = LineEnd(text, begin);
  size_t pos = end;
  while (pos < text.size()) {
    size_t next = LineEnd(text, pos);
    std::string_view l = text.substr(pos, next - pos);
    if (!IsBlank(l)) {
      if (l[0] != ' ' && l[0] != '\t') break;  // back at the left margin
      end = next;
    }
    pos = next;
  }
  return {begin, end};
}

// The `after` field of the task whose block is [begin, end): [start, stop)
// of its lines, or nullopt.
std::optional<std::pair<size_t, size_t>> AfterField(std::string_view text, size_t begin,
                                                    size_t end) {
  size_t pos = LineEnd(text, begin);
  while (pos < end) {
    size_t next = LineEnd(text, pos);
    std::string_view l = text.substr(pos, next - pos);
    size_t lead = l.find_first_not_of(" \t");
    if (lead != std::string_view::npos && lead + 1 < l.size() &&
        (l[lead] == '-' || l[lead] == '*' || l[lead] == '+') && l[lead + 1] == ' ') {
      std::string_view rest = l.substr(lead + 2);
      rest.remove_prefix(std::min(rest.find_first_not_of(' '), rest.size()));
      if (rest.substr(0, 6) == "after:") {
        size_t stop = next;
        // Continuation lines: deeper indented, not list items.
        while (stop < end) {
          size_t n2 = LineEnd(text, stop);
          std::string_view c = text.substr(stop, n2 - stop);
          size_t cl = c.find_first_not_of(" \t");
          if (IsBlank(c) || cl <= lead || c[cl] == '-' || c[cl] == '*' || c[cl] == '+') break;
          stop = n2;
        }
        return std::make_pair(pos, stop);
      }
    }
    pos = next;
  }
  return std::nullopt;
}

std::string Apply(std::string_view text, std::vector<Edit> edits) {
  std::sort(edits.begin(), edits.end(),
            [](const Edit& a, const Edit& b) { return a.begin > b.begin; });
  std::string out(text);
  for (const Edit& e : edits) out.replace(e.begin, e.end - e.begin, e.text);
  return out;
}

Result<std::string> Validated(std::string out) {
  auto parsed = memory::ParsePlan(out);
  if (!parsed)
    return InvalidArgument("the edited plan does not parse: " + parsed.error().message());
  return out;
}

}  // namespace

std::string RenderTaskBlocks(const std::vector<memory::PlanTask>& tasks) {
  memory::Plan plan;
  plan.tasks = tasks;
  std::string out = memory::RenderPlan(plan);
  size_t first = out.find("\n- [");
  return first == std::string::npos ? "" : out.substr(first + 1);
}

Result<std::string> SetMarkInText(std::string_view text, std::string_view id,
                                  memory::TaskState state) {
  memory::Plan plan = TRY(memory::ParsePlan(text));
  const memory::PlanTask* task = plan.Find(id);
  if (!task) return NotFound(fmt::format("no task '{}' in plan.md", id));
  std::string out(text);
  out[memory::TaskMarkOffset(text, *task)] = memory::TaskStateMark(state);
  return out;
}

Result<std::string> SplitTaskInText(std::string_view text, std::string_view id,
                                    std::vector<memory::PlanTask> parts) {
  memory::Plan plan = TRY(memory::ParsePlan(text));
  const memory::PlanTask* failed = plan.Find(id);
  if (!failed) return NotFound(fmt::format("no task '{}' in plan.md", id));
  if (parts.empty()) return InvalidArgument("a split needs at least one task");
  std::vector<std::string> part_ids;
  for (memory::PlanTask& part : parts) {
    if (plan.Find(part.id)) {
      return InvalidArgument(fmt::format("task id '{}' is already used in plan.md", part.id));
    }
    part_ids.push_back(part.id);
  }
  for (memory::PlanTask& part : parts) {
    part.state = memory::TaskState::kPending;
    std::vector<std::string> after = failed->after;
    for (const std::string& dep : part.after) {
      if (std::find(part_ids.begin(), part_ids.end(), dep) == part_ids.end()) continue;
      if (std::find(after.begin(), after.end(), dep) == after.end()) after.push_back(dep);
    }
    part.after = std::move(after);
  }

  std::vector<Edit> edits;
  auto [begin, end] = TaskBlock(text, failed->line);
  edits.push_back(
      {begin + 3, begin + 4, std::string(1, memory::TaskStateMark(memory::TaskState::kSkipped))});
  edits.push_back({end, end, "\n" + RenderTaskBlocks(parts)});
  for (const memory::PlanTask& task : plan.tasks) {
    if (std::find(task.after.begin(), task.after.end(), id) == task.after.end()) continue;
    std::vector<std::string> after;
    for (const std::string& dep : task.after) {
      if (dep == id) {
        after.insert(after.end(), part_ids.begin(), part_ids.end());
      } else {
        after.push_back(dep);
      }
    }
    auto [tb, te] = TaskBlock(text, task.line);
    std::string line = fmt::format("  - after: {}\n", fmt::join(after, ", "));
    if (auto field = AfterField(text, tb, te)) {
      edits.push_back({field->first, field->second, line});
    } else {
      edits.push_back({te, te, line});
    }
  }
  return Validated(Apply(text, std::move(edits)));
}

Result<std::string> RewriteTaskInText(std::string_view text, std::string_view id,
                                      memory::PlanTask rewritten) {
  memory::Plan plan = TRY(memory::ParsePlan(text));
  const memory::PlanTask* old = plan.Find(id);
  if (!old) return NotFound(fmt::format("no task '{}' in plan.md", id));
  rewritten.id = std::string(id);
  rewritten.state = memory::TaskState::kPending;
  rewritten.after = old->after;
  auto [begin, end] = TaskBlock(text, old->line);
  return Validated(Apply(text, {{begin, end, RenderTaskBlocks({rewritten})}}));
}

}  // namespace tandem::orchestrator
