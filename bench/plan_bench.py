#!/usr/bin/env python3
"""Plan benchmarks for issue #4 (figures in docs/PERFORMANCE.md).

resume:  per sample, a plan of 103 one-step tasks is run with `tandem run
         --json` in a fresh repository and killed with SIGKILL right after
         the 100th task_finished event, then continued in place with
         `tandem resume --json` (~15 s per sample). Measured: from spawning `tandem resume` to the moment its
         task_started line (the next task) is read from its stdout pipe.
context: a scripted 30-task plan (each task: write_file, edit_file,
         run_command, finish; gate `true` after each step) is run once.
         Reported: context tokens per executor step (model_call_finished
         usage.input_tokens, the model server's count: canonical prompt
         bytes / 4) min/median/p90/max, the server's simulated prefix-cache
         share (sum cached_input_tokens / sum input_tokens), and our own
         computation from the recorded requests: the common prefix of each
         request body (tools + messages, as JSON) with the previous request
         to the same model.

Usage: bench/plan_bench.py --build build-crash [--only resume|context] [--runs 7]
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

CONFIG = """[providers.local]
wire = "openai"
base_url = "http://127.0.0.1:{port}/v1"

[models.scripted]
provider = "local"
id = "scripted-model"

[roles]
executor = "scripted"
planner = "scripted"
reviewer = "scripted"
"""

VERIFY_MD = """# Verify

## ok (each step, timeout 30s)
```sh
true
```
"""


def git(repo, *args):
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost",
                    "-c", "commit.gpgsign=false", *args],
                   cwd=repo, check=True, stdout=subprocess.DEVNULL)


def task_block(tid, title, what, after):
    return "- [ ] %s: %s\n  - do: %s\n  - after: %s\n\n" % (tid, title, what, after)


def make_repo(root, plan, files=None):
    repo = os.path.join(root, "repo")
    os.makedirs(repo)
    for name, text in (files or {}).items():
        path = os.path.join(repo, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    with open(os.path.join(repo, "verify.md"), "w") as f:
        f.write(VERIFY_MD)
    with open(os.path.join(repo, "plan.md"), "w") as f:
        f.write(plan)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "gc.auto", "0")  # no background gc racing the runs
    git(repo, "config", "gc.autoDetach", "false")
    with open(os.path.join(repo, ".git", "info", "exclude"), "a") as f:
        f.write(".tandem/\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "bench repo")
    os.makedirs(os.path.join(repo, ".tandem"), exist_ok=True)
    return repo


class Server:
    """tandem-model-server on a free port, recording requests."""

    def __init__(self, binary, script, root, tps, ttft_ms):
        script_path = os.path.join(root, "script.json")
        with open(script_path, "w") as f:
            json.dump(script, f)
        self.record = os.path.join(root, "requests.jsonl")
        args = [binary, "--script", script_path, "--port", "0", "--tokens-per-second", str(tps),
                "--ttft-ms", str(ttft_ms), "--record", self.record]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        m = re.match(r"listening 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError("model server did not start: %r" % line)
        self.port = int(m.group(1))

    def write_config(self, repo):
        # The extra layer (TANDEM_CONFIG, see env()): a repository's own file
        # may not declare providers until the user trusts it.
        with open(os.path.join(repo, ".tandem", "bench-config.toml"), "w") as f:
            f.write(CONFIG.format(port=self.port))

    def requests(self):
        with open(self.record) as f:
            return [json.loads(l) for l in f if l.strip()]

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def env(repo):
    e = {k: v for k, v in os.environ.items()
         if k != "XDG_CONFIG_HOME" and not k.startswith("TANDEM_")}
    e["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="tandem-bench-xdg-")
    e["TANDEM_CONFIG"] = os.path.join(repo, ".tandem", "bench-config.toml")
    return e


def turn(marker, n, calls, text=""):
    t = {"when": {"assistant_turns": n, "any_message_contains": marker},
         "tool_calls": [{"name": name, "arguments": a} for name, a in calls]}
    if text:
        t["text"] = text
    return t


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


# ---- resume after a kill with 100 finished tasks ----

def resume_once(args, r):
    """One sample: a fresh repository, run to 100 done tasks, kill -9, resume."""
    n_tasks, n_done = 103, 100
    plan = "# Plan: many\n\n"
    turns = []
    for i in range(1, n_tasks + 1):
        marker = "[m%03d]" % i
        plan += task_block("T%d" % i, "Task %d" % i, "Write f%03d.txt %s" % (i, marker),
                           "T%d" % (i - 1) if i > 1 else "—")
        turns.append(turn(marker, 0, [("write_file", {"path": "f%03d.txt" % i,
                                                      "content": "%d\n" % i})]))
        turns.append(turn(marker, 1, [("finish", {"summary": "wrote f%03d.txt" % i})]))
    root = tempfile.mkdtemp(prefix="tandem-plan-bench-")
    repo = make_repo(root, plan)
    server = Server(args.server, {"turns": turns}, root, 100000, 0)
    e = env(repo)
    try:
        server.write_config(repo)
        t0 = time.perf_counter()
        p = subprocess.Popen([args.tandem, "run", "--json"], cwd=repo, env=e,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        finished = 0
        for line in p.stdout:
            ev = json.loads(line) if line.startswith("{") else {}
            if ev.get("type") == "task_finished" and ev.get("state") == "done":
                finished += 1
                if finished == n_done:
                    p.send_signal(signal.SIGKILL)
                    break
        p.wait()
        p.stdout.close()
        run_s = time.perf_counter() - t0
        if finished != n_done:
            raise RuntimeError("the run ended before %d tasks were done" % n_done)
        if args.kill_only:
            print("killed repository kept for inspection: %s" % repo)
            args.keep = True
            return 0.0
        # Resume in place (no copy: a copy would invalidate git's stat caches).
        t0 = time.perf_counter()
        wall0 = time.time() * 1000
        p = subprocess.Popen([args.tandem, "resume", "--json"], cwd=repo, env=e,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ms, task, marks = None, None, []
        for line in p.stdout:
            ev = json.loads(line) if line.startswith("{") else {}
            if "at_ms" in ev:
                marks.append("%s@%d" % (ev.get("type"), ev["at_ms"] - wall0))
            if ev.get("type") == "task_started":
                ms = (time.perf_counter() - t0) * 1000
                task = ev.get("task")
                break
        p.stdout.read()
        err = p.stderr.read()
        p.wait()
        if ms is None or p.returncode != 0:
            raise RuntimeError("resume failed (rc %d): %s" % (p.returncode, err[-2000:]))
        print("  sample %d: %d tasks done in %.1f s, killed; resume -> task_started %s after "
              "%.1f ms (exit %d); events by at_ms after spawn: %s"
              % (r + 1, finished, run_s, task, ms, p.returncode, " ".join(marks)))
        return ms
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def bench_resume(args):
    samples = [resume_once(args, r) for r in range(args.runs)]
    print("resume -> task_started: median %.1f ms, min %.1f, max %.1f (n=%d; target <= 100 ms)"
          % (statistics.median(samples), min(samples), max(samples), len(samples)))
    return {"resume_to_task_started_ms": samples}


# ---- context tokens per executor step on a 30-task plan ----

def common_prefix(a, b):
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def bench_context(args):
    n_tasks = 30
    plan = "# Plan: thirty\n\n"
    turns = []
    files = {}
    for i in range(1, n_tasks + 1):
        marker = "[c%02d]" % i
        src = "src/mod%02d.txt" % i
        files[src] = "".join("line %d of module %d\n" % (k, i) for k in range(40))
        plan += task_block("T%d" % i, "Module %d" % i,
                           "Update %s, add notes/n%02d.txt and run its check %s" % (src, i, marker),
                           "T%d" % (i - 1) if i > 1 else "—")
        turns.append(turn(marker, 0, [("write_file", {"path": "notes/n%02d.txt" % i,
                                                      "content": "note %d\n" % i})],
                          "I will add the note first."))
        turns.append(turn(marker, 1, [("edit_file", {"path": src, "old_text": "line 3 of",
                                                     "new_text": "LINE 3 of"})],
                          "Now the module."))
        turns.append(turn(marker, 2, [("run_command", {"command": "grep -c line %s" % src})],
                          "Checking it."))
        turns.append(turn(marker, 3, [("finish", {"summary": "module %d updated" % i})]))
    root = tempfile.mkdtemp(prefix="tandem-plan-bench-")
    repo = make_repo(root, plan, files)
    server = Server(args.server, {"turns": turns}, root, 100000, 0)
    try:
        server.write_config(repo)
        t0 = time.perf_counter()
        p = subprocess.run([args.tandem, "run", "--json"], cwd=repo, env=env(repo),
                           capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])
            raise RuntimeError("tandem run exited %d" % p.returncode)
        events = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
        calls = [e for e in events if e.get("type") == "model_call_finished"]
        inp = [e["usage"]["input_tokens"] for e in calls]
        cached = [e["usage"].get("cached_input_tokens", 0) for e in calls]
        done = sum(1 for e in events if e.get("type") == "task_finished" and e.get("state") == "done")
        print("context: %d tasks done, %d model calls, %.1f s" % (done, len(calls), wall))
        print("  input tokens per executor step: min %d, median %d, p90 %d, max %d"
              % (min(inp), statistics.median(inp), pct(inp, 90), max(inp)))
        print("  server prefix cache: %d of %d input tokens cached = %.1f%%"
              % (sum(cached), sum(inp), 100.0 * sum(cached) / sum(inp)))
        # Our own computation over the recorded bodies.
        last, shared, total, per_step = {}, 0, 0, []
        for r in server.requests():
            body = r.get("body")
            if not isinstance(body, dict) or "messages" not in body:
                continue
            text = json.dumps(body.get("tools", []), separators=(",", ":")) + \
                json.dumps(body["messages"], separators=(",", ":"))
            model = body.get("model", "")
            prev = last.get(model, "")
            c = common_prefix(prev, text)
            shared += c
            total += len(text)
            per_step.append(c / len(text))
            last[model] = text
        print("  recorded bodies: %d bytes, %d shared with the previous request to the same "
              "model = %.1f%% (median per request %.1f%%)"
              % (total, shared, 100.0 * shared / total, 100 * statistics.median(per_step)))
        return {"input_tokens": inp, "cached_input_tokens": cached,
                "own_prefix_share": shared / total}
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build-bench")
    ap.add_argument("--only", choices=["resume", "context"])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the temp repositories")
    ap.add_argument("--kill-only", action="store_true",
                    help="resume: stop after the kill and keep the repository (for profiling)")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    args.tandem = os.path.abspath(os.path.join(args.build, "tandem"))
    args.server = os.path.abspath(os.path.join(args.build, "tests", "model_server",
                                               "tandem-model-server"))
    out = {}
    if args.only in (None, "resume"):
        out["resume"] = bench_resume(args)
    if args.only in (None, "context"):
        out["context"] = bench_context(args)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
