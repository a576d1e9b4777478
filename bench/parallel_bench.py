#!/usr/bin/env python3
"""Parallel plan tasks (issue 9; figures in docs/PERFORMANCE.md).

A plan of 8 independent tasks (scopes out/T<i>.txt), each 2 model steps
(write_file, then finish; every reply carries 600 tokens of text, streamed
by tests/model_server at 1,200 tokens/s after a 150 ms time to first token)
and one verify.md gate `sleep 1` (each step; the finish round hits the gate
cache). Run with `tandem run --json` at limits.parallel_tasks = 1, 2, 4, 8;
reported: the run's wall time (spawn to exit), median of --runs samples.

Ideal for N: the issue's "critical path of model time plus gate time
divided over the job budget", as a schedule: N slots, J job tokens (the
process's job budget, limits.jobs; default the machine's hardware threads),
each task 1.3 s of model time (2 x (0.15 + 0.5 s), no token) then its 1 s
gate holding a token, tokens taken first come first served; at N > 1 one
more 1 s gate on the final merged tree. The merged-tree gates of earlier
batches are not counted: they are the design's cost, part of what the ratio
measures. --jobs J sets limits.jobs (the gates are `sleep`, so more tokens
than cores costs no CPU here).

rss: the same plan with 64 tasks (gate `true`) at parallel_tasks = 64, and
with 1 task, each run once under GNU time: peak RSS of the tandem process,
and (RSS(64) - RSS(1)) / 63 per agent beyond the first; CPU seconds (user +
system) per agent-step.

Usage: bench/parallel_bench.py --build build [--runs 3] [--levels 1,2,4,8] [--jobs J] [--rss]
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plan_bench  # noqa: E402  (shared repository, server and config helpers)

TASKS = 8
TEXT = " word" * 600
TPS = 1200
TTFT_MS = 150
GATE_S = 1.0

VERIFY_MD = """# Verify

## slow (each step, timeout 30s)
```sh
sleep 1
```
"""


def sample(args, parallel, tasks=TASKS, gate="sleep 1", timed=False):
    plan = "# Plan: many files\n\n"
    turns = []
    for i in range(1, tasks + 1):
        marker = "[p%d]" % i
        path = "out/T%d.txt" % i
        plan += ("- [ ] T%d: Write %s\n  - do: Write %s %s\n  - scope: %s\n  - after: —\n\n"
                 % (i, path, path, marker, path))
        turns.append(plan_bench.turn(marker, 0, [("write_file", {"path": path,
                                                                 "content": "%d\n" % i})], TEXT))
        turns.append(plan_bench.turn(marker, 1, [("finish", {"summary": "wrote " + path})], TEXT))
    root = tempfile.mkdtemp(prefix="tandem-parallel-bench-")
    repo = plan_bench.make_repo(root, plan)
    with open(os.path.join(repo, "verify.md"), "w") as f:
        f.write(VERIFY_MD.replace("sleep 1", gate))
    plan_bench.git(repo, "commit", "-q", "-am", "slow gate")
    server = plan_bench.Server(args.server, {"turns": turns}, root, TPS, TTFT_MS)
    e = plan_bench.env(repo)
    try:
        server.write_config(repo)
        with open(e["TANDEM_CONFIG"], "a") as f:
            f.write("\n[limits]\nparallel_tasks = %d\n" % parallel)
            if args.jobs:
                f.write("jobs = %d\n" % args.jobs)
        t0 = time.perf_counter()
        argv = [args.tandem, "run", "--json"]
        if timed:
            argv = ["/usr/bin/time", "-f", "TIME %M %U %S"] + argv
        p = subprocess.run(argv, cwd=repo, env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise RuntimeError("tandem run exited %d: %s" % (p.returncode, p.stderr[-2000:]))
        done = sum(1 for l in p.stdout.splitlines() if l.startswith("{")
                   and json.loads(l).get("type") == "task_finished"
                   and json.loads(l).get("state") == "done")
        if done != tasks:
            raise RuntimeError("%d of %d tasks done" % (done, tasks))
        if timed:
            line = [l for l in p.stderr.splitlines() if l.startswith("TIME ")][-1].split()
            return wall, int(line[1]), float(line[2]) + float(line[3])
        return wall
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(e["XDG_CONFIG_HOME"], ignore_errors=True)


def ideal(parallel, jobs):
    """The schedule above, simulated: when each slot's next task ends."""
    model = 2 * (TTFT_MS / 1000.0 + len(TEXT.split()) / float(TPS))
    slots = [0.0] * parallel   # when each slot is free again
    tokens = [0.0] * jobs      # when each job token is free again
    for _ in range(TASKS):
        s = slots.index(min(slots))
        gate_ready = slots[s] + model
        t = tokens.index(min(tokens))
        gate_start = max(gate_ready, tokens[t])
        tokens[t] = slots[s] = gate_start + GATE_S
    end = max(slots)
    if parallel > 1:
        end = max(end, min(tokens)) + GATE_S
    return end


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--levels", default="1,2,4,8")
    ap.add_argument("--rss", action="store_true")
    ap.add_argument("--jobs", type=int, default=0,
                    help="limits.jobs (0: tandem's default, the hardware threads)")
    args = ap.parse_args()
    args.tandem = os.path.abspath(os.path.join(args.build, "tandem"))
    args.server = os.path.abspath(os.path.join(args.build, "tests", "model_server",
                                               "tandem-model-server"))
    if args.rss:
        _, rss1, cpu1 = sample(args, 1, tasks=1, gate="true", timed=True)
        wall, rss64, cpu64 = sample(args, 64, tasks=64, gate="true", timed=True)
        print("1 task: peak RSS %d KB, CPU %.2f s" % (rss1, cpu1))
        print("64 tasks at once: wall %.2f s, peak RSS %d KB, CPU %.2f s" % (wall, rss64, cpu64))
        print("per agent beyond the first: %.0f KB; CPU per agent-step: %.1f ms"
              % ((rss64 - rss1) / 63.0, cpu64 / (64 * 2) * 1000))
        return
    jobs = args.jobs or os.cpu_count()
    print("job budget %d; load %s" % (jobs, open("/proc/loadavg").read().split()[:3]))
    print("parallel_tasks  median wall s  (samples)          ideal s  ratio")
    for level in [int(x) for x in args.levels.split(",")]:
        walls = [sample(args, level) for _ in range(args.runs)]
        med = statistics.median(walls)
        print("%14d  %13.2f  (%s)  %7.2f  %5.2f" % (
            level, med, ", ".join("%.2f" % w for w in walls), ideal(level, jobs), med / ideal(level, jobs)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
