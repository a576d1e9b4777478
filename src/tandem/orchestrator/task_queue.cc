#include "tandem/orchestrator/task_queue.h"

#include <algorithm>
#include <set>

#include "tandem/tools/glob.h"

namespace tandem::orchestrator {
namespace {

bool HasWildcard(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

std::vector<std::string_view> Segments(std::string_view glob) {
  while (!glob.empty() && glob.back() == '/') glob.remove_suffix(1);
  while (glob.substr(0, 2) == "./") glob.remove_prefix(2);
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= glob.size()) {
    size_t slash = glob.find('/', start);
    if (slash == std::string_view::npos) slash = glob.size();
    if (slash > start) out.push_back(glob.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool EntriesOverlap(std::string_view a, std::string_view b) {
  std::vector<std::string_view> sa = Segments(a);
  std::vector<std::string_view> sb = Segments(b);
  // An entry without '/' matches at any depth (gitignore style), so nothing
  // short of a full glob intersection could prove it apart from another.
  if (sa.size() <= 1 || sb.size() <= 1) return true;
  for (size_t i = 0; i < sa.size() && i < sb.size(); ++i) {
    if (sa[i] == "**" || sb[i] == "**") return true;
    bool wa = HasWildcard(sa[i]);
    bool wb = HasWildcard(sb[i]);
    if (!wa && !wb && sa[i] != sb[i]) return false;
    if (!wa && wb && !tools::GlobMatch(sb[i], sa[i])) return false;
    if (wa && !wb && !tools::GlobMatch(sa[i], sb[i])) return false;
  }
  return true;  // one is a prefix (a directory holding the other) or they may coincide
}

}  // namespace

TaskQueue::TaskQueue(TaskQueueOptions options) : options_(std::move(options)) {
  options_.parallel_tasks = std::max(1, options_.parallel_tasks);
  options_.max_conflict_requeues = std::max(0, options_.max_conflict_requeues);
}

bool TaskQueue::ScopesOverlap(const std::vector<std::string>& a,
                              const std::vector<std::string>& b) {
  if (a.empty() || b.empty()) return true;
  for (const std::string& x : a) {
    for (const std::string& y : b) {
      if (EntriesOverlap(x, y)) return true;
    }
  }
  return false;
}

TaskQueue::Entry* TaskQueue::Find(std::string_view id) {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

const TaskQueue::Entry* TaskQueue::Find(std::string_view id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &entries_[it->second];
}

Status TaskQueue::Validate(const std::vector<QueuedTask>& tasks,
                           const std::function<bool(std::string_view)>& known) {
  std::map<std::string, const QueuedTask*, std::less<>> batch;
  for (const QueuedTask& t : tasks) {
    if (t.id.empty()) return InvalidArgument("task queue: a task has an empty id");
    if (!batch.emplace(t.id, &t).second) {
      return InvalidArgument("task queue: duplicate task id " + t.id);
    }
  }
  for (const QueuedTask& t : tasks) {
    for (const std::string& dep : t.depends_on) {
      if (batch.count(dep) == 0 && !known(dep)) {
        return InvalidArgument("task queue: task " + t.id + " depends on unknown task " + dep);
      }
    }
  }
  // Cycles can only run through `tasks` (the queue's tasks never depend on
  // them): depth-first search over it.
  std::map<std::string_view, int> color;  // 0 new, 1 on the path, 2 finished
  std::vector<std::string_view> path;
  std::function<bool(const QueuedTask&)> visit = [&](const QueuedTask& t) {
    color[t.id] = 1;
    path.push_back(t.id);
    for (const std::string& dep : t.depends_on) {
      auto in_batch = batch.find(dep);
      if (in_batch == batch.end()) continue;
      int c = color[in_batch->first];
      if (c == 1) {
        path.push_back(in_batch->first);
        return true;
      }
      if (c == 0 && visit(*in_batch->second)) return true;
    }
    path.pop_back();
    color[t.id] = 2;
    return false;
  };
  for (const QueuedTask& t : tasks) {
    if (color[t.id] == 0 && visit(t)) {
      std::string cycle;
      for (std::string_view id : path) cycle += (cycle.empty() ? "" : " -> ") + std::string(id);
      return InvalidArgument("task queue: dependency cycle " + cycle);
    }
  }
  return Status::Ok();
}

QueuedTaskState TaskQueue::Initial(const QueuedTask& t) {
  switch (t.recorded) {
    case QueuedTaskState::kDone:
      return QueuedTaskState::kDone;
    case QueuedTaskState::kFailed:
    case QueuedTaskState::kBlocked:
      return QueuedTaskState::kFailed;
    default:
      return QueuedTaskState::kWaiting;
  }
}

Status TaskQueue::Add(const std::vector<QueuedTask>& tasks) {
  for (const QueuedTask& t : tasks) {
    if (Find(t.id) != nullptr) return InvalidArgument("task queue: duplicate task id " + t.id);
  }
  RETURN_IF_ERROR(Validate(tasks, [this](std::string_view id) { return Find(id) != nullptr; }));
  for (const QueuedTask& t : tasks) {
    index_.emplace(t.id, entries_.size());
    entries_.push_back(Entry{t, Initial(t)});
  }
  BlockDependentsOfFailed();
  Promote();
  return Status::Ok();
}

Status TaskQueue::Update(const std::vector<QueuedTask>& tasks) {
  RETURN_IF_ERROR(Validate(tasks, [](std::string_view) { return false; }));
  std::vector<Entry> entries;
  std::vector<bool> kept(entries_.size(), false);
  for (const QueuedTask& t : tasks) {
    auto it = index_.find(t.id);
    if (it == index_.end()) {
      entries.push_back(Entry{t, Initial(t)});
      continue;
    }
    kept[it->second] = true;
    Entry e = std::move(entries_[it->second]);
    if (e.state != QueuedTaskState::kRunning) {
      e.task = t;
      e.state = Initial(t);
    }
    entries.push_back(std::move(e));
  }
  for (size_t i = 0; i < entries_.size(); ++i) {  // running, no longer listed: kept till it ends
    if (!kept[i] && entries_[i].state == QueuedTaskState::kRunning) {
      entries.push_back(std::move(entries_[i]));
    }
  }
  entries_ = std::move(entries);
  index_.clear();
  for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].task.id, i);
  BlockDependentsOfFailed();
  Promote();
  return Status::Ok();
}

bool TaskQueue::DependenciesDone(const Entry& e) const {
  return std::all_of(e.task.depends_on.begin(), e.task.depends_on.end(), [&](const std::string& d) {
    const Entry* dep = Find(d);
    return dep != nullptr && dep->state == QueuedTaskState::kDone;
  });
}

void TaskQueue::Promote() {
  for (Entry& e : entries_) {
    if (e.state == QueuedTaskState::kWaiting && DependenciesDone(e))
      e.state = QueuedTaskState::kReady;
  }
}

bool TaskQueue::MayRunTogether(const QueuedTask& a, const QueuedTask& b) {
  auto lists = [](const QueuedTask& x, const QueuedTask& y) {
    const auto& ok = x.may_overlap_with;
    return std::find(ok.begin(), ok.end(), y.id) != ok.end();
  };
  if (lists(a, b) || lists(b, a)) return true;
  return !ScopesOverlap(a.scope, b.scope);
}

int AutoParallelTasks(const std::vector<QueuedTask>& tasks, unsigned hardware_threads) {
  std::map<std::string, const QueuedTask*> by_id;
  for (const QueuedTask& t : tasks) by_id[t.id] = &t;
  // Every task's dependencies, direct or not (plans are small: a DFS each).
  auto depends = [&](const QueuedTask& t, const std::string& other) {
    std::vector<const QueuedTask*> stack = {&t};
    std::set<std::string> seen;
    while (!stack.empty()) {
      const QueuedTask* cur = stack.back();
      stack.pop_back();
      for (const std::string& dep : cur->depends_on) {
        if (dep == other) return true;
        auto it = by_id.find(dep);
        if (it != by_id.end() && seen.insert(dep).second) stack.push_back(it->second);
      }
    }
    return false;
  };
  bool independent_pair = false;
  for (size_t i = 0; i < tasks.size() && !independent_pair; ++i) {
    for (size_t j = i + 1; j < tasks.size() && !independent_pair; ++j) {
      independent_pair = TaskQueue::MayRunTogether(tasks[i], tasks[j]) &&
                         !depends(tasks[i], tasks[j].id) && !depends(tasks[j], tasks[i].id);
    }
  }
  if (!independent_pair) return 1;
  return static_cast<int>(std::clamp(hardware_threads, 1u, 4u));
}

std::optional<std::string> TaskQueue::FindWork() {
  if (!CanRunMore()) return std::nullopt;
  for (Entry& e : entries_) {
    if (e.state != QueuedTaskState::kReady) continue;
    bool fits = std::all_of(entries_.begin(), entries_.end(), [&](const Entry& other) {
      return other.state != QueuedTaskState::kRunning || MayRunTogether(e.task, other.task);
    });
    if (!fits) continue;
    e.state = QueuedTaskState::kRunning;
    e.holds_slot = true;
    ++e.runs;
    ++running_;
    return e.task.id;
  }
  return std::nullopt;
}

void TaskQueue::BlockDependentsOfFailed() {
  // Repeats until nothing changes: a dependency may come later in plan
  // order than its dependent (a batch may refer forward).
  for (bool changed = true; changed;) {
    changed = false;
    for (Entry& e : entries_) {
      if (e.state != QueuedTaskState::kWaiting && e.state != QueuedTaskState::kReady) continue;
      bool blocked = std::any_of(
          e.task.depends_on.begin(), e.task.depends_on.end(), [&](const std::string& dep) {
            const Entry* d = Find(dep);
            return d != nullptr &&
                   (d->state == QueuedTaskState::kFailed || d->state == QueuedTaskState::kBlocked);
          });
      if (blocked) {
        e.state = QueuedTaskState::kBlocked;
        changed = true;
      }
    }
  }
}

Status TaskQueue::TaskFinished(std::string_view id, TaskOutcome outcome) {
  Entry* e = Find(id);
  if (e == nullptr || e->state != QueuedTaskState::kRunning) {
    return FailedPrecondition("task queue: task " + std::string(id) + " is not running");
  }
  if (e->holds_slot) --running_;
  e->holds_slot = false;
  switch (outcome) {
    case TaskOutcome::kSucceeded:
      e->state = QueuedTaskState::kDone;
      Promote();
      return Status::Ok();
    case TaskOutcome::kConflict:
      if (e->conflicts < options_.max_conflict_requeues) {
        ++e->conflicts;
        e->state = QueuedTaskState::kReady;
        return Status::Ok();
      }
      break;  // too many conflicts: a failure
    case TaskOutcome::kFailed:
      break;
    case TaskOutcome::kStopped:
      e->state = QueuedTaskState::kFailed;
      BlockDependentsOfFailed();
      return Status::Ok();
  }
  FailureDecision decision =
      options_.on_failure ? options_.on_failure(e->task.id, e->runs) : FailureDecision::kGiveUp;
  if (decision == FailureDecision::kRetry) {
    e->state = QueuedTaskState::kReady;
  } else {
    e->state = QueuedTaskState::kFailed;
    BlockDependentsOfFailed();
  }
  return Status::Ok();
}

Status TaskQueue::FreeSlot(std::string_view id) {
  Entry* e = Find(id);
  if (e == nullptr || e->state != QueuedTaskState::kRunning || !e->holds_slot) {
    return FailedPrecondition("task queue: task " + std::string(id) + " holds no slot");
  }
  e->holds_slot = false;
  --running_;
  return Status::Ok();
}

bool TaskQueue::more_to_do() const {
  return std::any_of(entries_.begin(), entries_.end(), [](const Entry& e) {
    return e.state == QueuedTaskState::kReady || e.state == QueuedTaskState::kRunning;
  });
}

std::optional<QueuedTaskState> TaskQueue::state(std::string_view id) const {
  const Entry* e = Find(id);
  if (e == nullptr) return std::nullopt;
  return e->state;
}

int TaskQueue::runs(std::string_view id) const {
  const Entry* e = Find(id);
  return e == nullptr ? 0 : e->runs;
}

std::vector<std::string> TaskQueue::Running() const {
  std::vector<std::string> out;
  for (const Entry& e : entries_) {
    if (e.state == QueuedTaskState::kRunning) out.push_back(e.task.id);
  }
  return out;
}

}  // namespace tandem::orchestrator
