#!/usr/bin/env python3
"""Fan-out benchmarks (issue 10; figures in docs/PERFORMANCE.md).

ratio: the same 3-step task (write_file a.txt, write_file b.txt, then
       finish; every reply carries 600 tokens of text streamed by
       tests/model_server at 1,200 tokens/s after a 150 ms time to first
       token; one verify.md gate `true` each step) with `tandem do
       --variants 1` and `--variants 8` (all 8 at once). Reported: wall time
       from spawn to exit, median of --runs, and the ratio (goal <= 1.5).

big:   a repository of 10,000 files (100 directories x 100 files) and 75
       variants of a 2-step task (write_file, finish; 100 tokens of text per
       reply at 1,200 tokens/s), default --parallel (8 at once), once under
       GNU time. Reported: wall time, peak RSS of the tandem process, its CPU
       time (user + system) as a share of the wall time, time to the first
       passing variant (first task_finished state done, from spawn), the
       object database's growth per variant (du of .git/objects before and
       after) and the pool's worktrees at their largest (du of
       .git/tandem/worktrees sampled every 0.5 s while the run goes on).

tournament: the reviewer's tournament over 8 and 75 distinct passing
       variants (variant i runs on model m<i>, which writes i+1 lines, so
       every tree differs). Executors at 1,200 tokens/s after 150 ms; the
       judge on a second server as a slow model: --judge-tps (default 100)
       tokens/s after --judge-ttft-ms (default 500), answering
       compare_verdict with a one-sentence reason. Each size runs with
       the tournament and with --no-tournament, --runs times. Reported: the judge's
       model calls (its server's record), the tournament's wall time (its
       closing notice), the fan-out's wall with and without it, medians,
       and the critical path (rounds x one call's latency) as the ideal.

Usage: bench/fanout_bench.py --build build [--only ratio|big|tournament] [--runs 3]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plan_bench  # noqa: E402  (repository, server and config helpers)

TPS = 1200
TTFT_MS = 150


def du_kb(path):
    if not os.path.exists(path):
        return 0
    out = subprocess.run(["du", "-sk", path], stdout=subprocess.PIPE, text=True).stdout
    return int(out.split()[0]) if out else 0


def script(steps, text):
    turns = []
    for i in range(steps - 1):
        turns.append({"when": {"assistant_turns": i},
                      "tool_calls": [{"name": "write_file",
                                      "arguments": {"path": "out/f%d.txt" % i,
                                                    "content": "%d\n" % i}}],
                      "text": text})
    turns.append({"when": {"assistant_turns": steps - 1},
                  "tool_calls": [{"name": "finish", "arguments": {"summary": "done"}}],
                  "text": text})
    return {"turns": turns}


def run_fanout(args, variants, steps, text, files=None, timed=False, parallel=None):
    root = tempfile.mkdtemp(prefix="tandem-fanout-bench-")
    repo = plan_bench.make_repo(root, "# Plan\n", files)
    os.remove(os.path.join(repo, "plan.md"))
    plan_bench.git(repo, "commit", "-q", "-am", "no plan")
    server = plan_bench.Server(args.server, script(steps, text), root, TPS, TTFT_MS)
    e = plan_bench.env(repo)
    sampler_stop = threading.Event()
    peak_pool = [0]

    def sample_pool():
        pool = os.path.join(repo, ".git", "tandem", "worktrees")
        while not sampler_stop.wait(0.5):
            peak_pool[0] = max(peak_pool[0], du_kb(pool))

    try:
        server.write_config(repo)
        objects_before = du_kb(os.path.join(repo, ".git", "objects"))
        argv = [args.tandem, "do", "--variants", str(variants), "--json", "write the files"]
        if parallel:
            argv[3:3] = ["--parallel", str(parallel)]
        if timed:
            argv = ["/usr/bin/time", "-f", "TIME %M %U %S"] + argv
        sampler = threading.Thread(target=sample_pool)
        if timed:
            sampler.start()
        t0 = time.time()
        p = subprocess.Popen(argv, cwd=repo, env=e, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        first_pass = None
        passed = 0
        for line in p.stdout:
            if not line.startswith("{"):
                continue
            ev = json.loads(line)
            if ev.get("type") == "task_finished" and ev.get("state") == "done":
                passed += 1
                if first_pass is None:
                    first_pass = ev["at_ms"] / 1000.0 - t0
        err = p.stderr.read()
        p.wait()
        wall = time.time() - t0
        sampler_stop.set()
        if timed:
            sampler.join()
        if p.returncode != 0:
            raise RuntimeError("tandem do exited %d: %s" % (p.returncode, err[-2000:]))
        if passed != variants:
            raise RuntimeError("%d of %d variants passed" % (passed, variants))
        result = {"wall": wall, "first_pass": first_pass,
                  "objects_kb": du_kb(os.path.join(repo, ".git", "objects")) - objects_before,
                  "pool_peak_kb": peak_pool[0],
                  "checkout_kb": du_kb(repo) - du_kb(os.path.join(repo, ".git"))}
        if timed:
            t = [l for l in err.splitlines() if l.startswith("TIME ")][-1].split()
            result["rss_kb"] = int(t[1])
            result["cpu_s"] = float(t[2]) + float(t[3])
        return result
    finally:
        sampler_stop.set()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(e["XDG_CONFIG_HOME"], ignore_errors=True)


JUDGE_CONFIG = """
[providers.judge]
wire = "openai"
base_url = "http://127.0.0.1:{port}/v1"

[models.m-judge]
provider = "judge"
id = "m-judge"
"""


def tournament_once(args, n, mode):
    root = tempfile.mkdtemp(prefix="tandem-tournament-bench-")
    repo = plan_bench.make_repo(root, "# Plan\n")
    os.remove(os.path.join(repo, "plan.md"))
    plan_bench.git(repo, "commit", "-q", "-am", "no plan")
    text = " word" * 20
    turns = []
    for i in range(n):
        content = "".join("line %d\n" % k for k in range(i + 1))
        turns.append({"when": {"assistant_turns": 0, "model": "m%d" % i},
                      "tool_calls": [{"name": "write_file",
                                      "arguments": {"path": "out.txt", "content": content}}],
                      "text": text})
        turns.append({"when": {"assistant_turns": 1, "model": "m%d" % i},
                      "tool_calls": [{"name": "finish", "arguments": {"summary": "done"}}],
                      "text": text})
    server = plan_bench.Server(args.server, {"turns": turns}, root, TPS, TTFT_MS)
    judge_root = os.path.join(root, "judge")
    os.makedirs(judge_root)
    reason = "A handles the task more completely and changes nothing it did not ask for."
    judge = plan_bench.Server(args.server, {"turns": [{"tool_calls": [
        {"name": "compare_verdict", "arguments": {"better": "A", "reason": reason}}]}]},
        judge_root, args.judge_tps, args.judge_ttft_ms)
    e = plan_bench.env(repo)
    try:
        server.write_config(repo)
        with open(os.path.join(repo, ".tandem", "bench-config.toml"), "a") as f:
            f.write(JUDGE_CONFIG.format(port=judge.port))
            for i in range(n):
                f.write('\n[models.m%d]\nprovider = "local"\nid = "m%d"\n' % (i, i))
        argv = [args.tandem, "do", "--variants", str(n), "--set", "roles.reviewer=m-judge",
                "--json"]
        if mode == "off":
            argv.append("--no-tournament")
        for i in range(n):
            argv += ["-m", "m%d" % i]
        argv.append("write out.txt")
        t0 = time.time()
        p = subprocess.run(argv, cwd=repo, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        wall = time.time() - t0
        if p.returncode != 0:
            raise RuntimeError("tandem do exited %d: %s" % (p.returncode, p.stderr[-2000:]))
        t_wall = None
        passed = 0
        for line in p.stdout.splitlines():
            if not line.startswith("{"):
                continue
            ev = json.loads(line)
            if ev.get("type") == "task_finished" and ev.get("state") == "done":
                passed += 1
            if ev.get("type") == "notice":
                m = re.match(r"tournament: v\d+ won \((\d+) reviewer calls?, \$[0-9.]+, "
                             r"([0-9.]+) s\)", ev.get("text", ""))
                if m:
                    t_wall = float(m.group(2))
        if passed != n:
            raise RuntimeError("%d of %d variants passed" % (passed, n))
        calls = len([r for r in judge.requests() if r.get("path", "").endswith("completions")])
        return {"wall": wall, "tournament": t_wall, "calls": calls}
    finally:
        server.stop()
        judge.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(e["XDG_CONFIG_HOME"], ignore_errors=True)


def bench_tournament(args):
    # One judge call: TTFT, then the tool call's tokens (about 30 at the
    # server's count: one per argument fragment) at --judge-tps.
    for n in (8, 75):
        on = [tournament_once(args, n, "auto") for _ in range(args.runs)]
        off = [tournament_once(args, n, "off") for _ in range(args.runs)]
        rounds = (n - 1).bit_length()
        med = lambda rows, k: statistics.median(r[k] for r in rows)
        print("%d candidates: judge calls %s (expected %d), tournament %.2f s median (%s), "
              "%d rounds; fan-out wall %.2f s with vs %.2f s without (+%.2f s)"
              % (n, sorted(set(r["calls"] for r in on)), n - 1, med(on, "tournament"),
                 ", ".join("%.2f" % r["tournament"] for r in on), rounds, med(on, "wall"),
                 med(off, "wall"), med(on, "wall") - med(off, "wall")))
        if any(r["calls"] for r in off):
            print("  (off still called the judge: %s)" % [r["calls"] for r in off])
        sys.stdout.flush()


def bench_ratio(args):
    text = " word" * 600
    rows = {}
    for n in (1, 8):
        walls = [run_fanout(args, n, 3, text)["wall"] for _ in range(args.runs)]
        rows[n] = statistics.median(walls)
        print("variants %d: median wall %.2f s (%s)" % (n, rows[n], ", ".join("%.2f" % w for w in walls)))
        sys.stdout.flush()
    print("ratio 8 / 1: %.2f (goal <= 1.5)" % (rows[8] / rows[1]))


def bench_big(args):
    files = {}
    for d in range(100):
        for f in range(100):
            files["src/d%02d/f%03d.txt" % (d, f)] = "file %d %d\n" % (d, f)
    r = run_fanout(args, 75, 2, " word" * 100, files=files, timed=True)
    print("75 variants, 10,000 files: wall %.1f s, first passing variant at %.1f s"
          % (r["wall"], r["first_pass"]))
    print("tandem peak RSS %.1f MB, CPU %.1f s = %.0f%% of wall"
          % (r["rss_kb"] / 1024.0, r["cpu_s"], 100.0 * r["cpu_s"] / r["wall"]))
    print("disk: objects +%d KB (%.1f KB per variant); pool of worktrees at most %.1f MB "
          "(checkout %.1f MB); per variant at the peak: %.1f MB"
          % (r["objects_kb"], r["objects_kb"] / 75.0, r["pool_peak_kb"] / 1024.0,
             r["checkout_kb"] / 1024.0, r["pool_peak_kb"] / 1024.0 / 8))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=["ratio", "big", "tournament"])
    ap.add_argument("--judge-tps", type=int, default=100)
    ap.add_argument("--judge-ttft-ms", type=int, default=500)
    args = ap.parse_args()
    args.tandem = os.path.abspath(os.path.join(args.build, "tandem"))
    args.server = os.path.abspath(os.path.join(args.build, "tests", "model_server",
                                               "tandem-model-server"))
    if args.only in (None, "ratio"):
        bench_ratio(args)
    if args.only in (None, "big"):
        bench_big(args)
    if args.only in (None, "tournament"):
        bench_tournament(args)


if __name__ == "__main__":
    main()
