#include "tandem/verify/runner.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "tandem/base/redact.h"
#include "tandem/platform/process.h"
#include "tandem/verify/verify_md.h"

namespace tandem::verify {
namespace {

GateResult NotRun(const Gate& gate, std::string detail) {
  GateResult result;
  result.gate = gate.name;
  result.verdict = Verdict::kError;
  result.detail = std::move(detail);
  return result;
}

// Runs one gate to completion. Called on a worker thread.
GateResult RunOne(const Gate& gate, const GateRunOptions& options) {
  if (!options.refused.empty()) return NotRun(gate, "not run: " + options.refused);
  platform::ChildPolicy child = options.child;
  child.network = child.network || gate.network;
  child.env.include.insert(child.env.include.end(), gate.env.begin(), gate.env.end());
  std::map<std::string, std::string> extra = {{"NO_COLOR", "1"}, {"TERM", "dumb"}};
  for (const auto& [key, value] : options.env) extra[key] = value;
  platform::ProcessSpec spec;
  const std::string cwd =
      gate.cwd.empty() ? options.workspace.string() : (options.workspace / gate.cwd).string();
  if (!gate.cwd.empty() && !std::filesystem::is_directory(cwd)) {
    return NotRun(gate, "working directory '" + gate.cwd + "' does not exist");
  }
  platform::ConfineProcess(options.bwrap, child, options.workspace.string(), cwd,
                           {"/bin/sh", "-e", "-c", gate.command}, extra, &spec);
  spec.timeout = gate.timeout;
  spec.output_limit = options.output_limit;
  spec.cancel = options.cancel;

  auto process = platform::RunProcess(spec);
  if (!process) return NotRun(gate, Redactor::Apply("could not start: " + process.error().ToString()));
  GateResult result;
  result.gate = gate.name;
  result.exit_code = process->exit_code;
  result.duration_ms = process->duration_ms;
  if (process->ok()) {
    result.verdict = Verdict::kPass;
    result.detail = "exit 0";
    return result;
  }
  result.excerpt = ExcerptFailure(Redactor::Apply(process->output), options.excerpt);
  if (process->timed_out) {
    result.verdict = Verdict::kError;
    result.detail = "timed out after " + FormatTimeout(gate.timeout);
  } else if (process->cancelled) {
    result.verdict = Verdict::kError;
    result.detail = "cancelled";
  } else if (process->exit_code < 0) {
    // The shell itself was killed from outside (OOM killer, a person).
    result.verdict = Verdict::kError;
    result.detail = "killed by signal " + std::to_string(process->term_signal);
  } else if (process->exit_code == 127) {
    // The shell could not find the command: the environment, not the edit.
    result.verdict = Verdict::kError;
    result.detail = "command not found (exit 127)";
  } else {
    result.verdict = Verdict::kFail;
    result.detail = "exit " + std::to_string(process->exit_code);
  }
  return result;
}

}  // namespace

std::vector<GateResult> RunGates(const std::vector<Gate>& gates, const GateRunOptions& options) {
  enum class State { kPending, kRunning, kDone };
  const size_t n = gates.size();
  std::vector<GateResult> results(n);
  std::vector<State> state(n, State::kPending);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < n; ++i) index[gates[i].name] = i;

  std::optional<platform::JobBudget> own_jobs;
  if (options.jobs == nullptr) own_jobs.emplace(platform::JobBudget::DefaultCapacity());
  platform::JobBudget& jobs = options.jobs != nullptr ? *options.jobs : *own_jobs;
  const bool use_cache = options.cache != nullptr && !options.tree_hash.empty();
  auto key_for = [&](const Gate& gate) {
    return GateCacheKey{options.tree_hash, gate.name, gate.command, gate.cwd};
  };

  std::mutex mutex;
  std::condition_variable finished_cv;
  std::deque<size_t> finished;  // GUARDED_BY(mutex): indices whose worker is done
  std::vector<std::thread> workers;
  size_t running = 0, done = 0;

  auto complete = [&](size_t i, GateResult result) {
    results[i] = std::move(result);
    state[i] = State::kDone;
    ++done;
    if (options.on_result) options.on_result(results[i]);
  };

  while (done < n) {
    bool progress = true;
    while (progress) {
      progress = false;
      for (size_t i = 0; i < n; ++i) {
        if (state[i] != State::kPending) continue;
        const Gate& gate = gates[i];
        bool waiting = false;
        std::string blocked_by;
        for (const std::string& dep : gate.after) {
          auto it = index.find(dep);
          if (it == index.end()) continue;  // not part of this run
          if (state[it->second] != State::kDone) waiting = true;
          else if (!results[it->second].passed()) blocked_by = dep;
        }
        if (!blocked_by.empty()) {
          complete(i, NotRun(gate, "not run: gate '" + blocked_by + "' did not pass"));
        } else if (waiting) {
          continue;
        } else if (options.cancel.stop_requested()) {
          complete(i, NotRun(gate, "cancelled"));
        } else if (auto hit = use_cache ? options.cache->Lookup(key_for(gate)) : std::nullopt) {
          hit->gate = gate.name;
          hit->cached = true;
          complete(i, std::move(*hit));
        } else {
          state[i] = State::kRunning;
          ++running;
          workers.emplace_back([&, i] {
            GateResult result;
            {
              // The gate's command runs only while this token is held.
              Result<platform::JobBudget::Token> job = jobs.Acquire(options.cancel);
              result = job ? RunOne(gates[i], options) : NotRun(gates[i], "cancelled");
            }
            std::lock_guard<std::mutex> lock(mutex);
            results[i] = std::move(result);
            finished.push_back(i);
            finished_cv.notify_one();
          });
        }
        progress = true;
      }
    }
    if (done == n) break;
    if (running == 0) {
      // Nothing runs and nothing can start: the remaining gates wait on each
      // other (only possible for hand-built lists; verify.md forbids it).
      for (size_t i = 0; i < n; ++i) {
        if (state[i] == State::kPending) complete(i, NotRun(gates[i], "not run: circular 'after'"));
      }
      break;
    }
    std::deque<size_t> batch;
    {
      std::unique_lock<std::mutex> lock(mutex);
      finished_cv.wait(lock, [&] { return !finished.empty(); });
      batch.swap(finished);
    }
    for (size_t i : batch) {
      --running;
      GateResult result;
      {
        std::lock_guard<std::mutex> lock(mutex);
        result = results[i];
      }
      if (use_cache && result.verdict != Verdict::kError) options.cache->Store(key_for(gates[i]), result);
      complete(i, std::move(result));
    }
  }
  for (std::thread& worker : workers) worker.join();
  return results;
}

bool AllPassed(const std::vector<GateResult>& results) {
  for (const GateResult& result : results) {
    if (!result.passed()) return false;
  }
  return true;
}

}  // namespace tandem::verify
