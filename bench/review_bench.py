#!/usr/bin/env python3
"""Review before done (issue 11; figures in docs/PERFORMANCE.md).

A plan of 10 sequential tasks, each 2 executor steps (write_file, then
finish; every reply carries 600 tokens of text) on model `fast`, and one
verify.md gate `true`. Every reply streams from tests/model_server at 1,200
tokens/s after a 150 ms time to first token. The reviewer (model `smart`,
dearer) answers each review with 200 tokens of text and a review_verdict
call (approve, with a commit message). Run with `tandem run --json` under
review.policy = never and always; reported per policy, medians of --runs
samples: the run's wall time (spawn to exit), its cost (run_finished
cost_usd: executor + reviews) and tandem's share (run_finished harness_ms /
wall_ms: what is neither model, tools, gates nor a person).

Usage: bench/review_bench.py --build build [--runs 3]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plan_bench  # noqa: E402  (shared repository, server and config helpers)

TASKS = 10
TEXT = " word" * 600
REVIEW_TEXT = " fine" * 200
TPS = 1200
TTFT_MS = 150

CONFIG = """[providers.local]
wire = "openai"
base_url = "http://127.0.0.1:{port}/v1"

[models.fast]
provider = "local"
id = "fast-model"
price_input = 0.60
price_output = 1.20

[models.smart]
provider = "local"
id = "smart-model"
price_input = 3.00
price_output = 15.00

[roles]
executor = "fast"
planner = "smart"
reviewer = "smart"
"""


def sample(args, policy):
    plan = "# Plan: ten files\n\n"
    turns = [{"when": {"system_contains": "You are the reviewer of tandem"},
              "text": REVIEW_TEXT,
              "tool_calls": [{"name": "review_verdict",
                              "arguments": {"verdict": "approve",
                                            "commit_subject": "Add the file",
                                            "commit_body": "The plan asks for it."}}]}]
    for i in range(1, TASKS + 1):
        marker = "[r%d]" % i
        path = "out/T%d.txt" % i
        plan += plan_bench.task_block("T%d" % i, "Write %s" % path,
                                      "Write %s %s" % (path, marker),
                                      "T%d" % (i - 1) if i > 1 else "—")
        turns.append(plan_bench.turn(marker, 0, [("write_file", {"path": path,
                                                                 "content": "%d\n" % i})], TEXT))
        turns.append(plan_bench.turn(marker, 1, [("finish", {"summary": "wrote " + path})], TEXT))
    root = tempfile.mkdtemp(prefix="tandem-review-bench-")
    repo = plan_bench.make_repo(root, plan)
    server = plan_bench.Server(args.server, {"turns": turns}, root, TPS, TTFT_MS)
    e = plan_bench.env(repo)
    try:
        with open(e["TANDEM_CONFIG"], "w") as f:
            f.write(CONFIG.format(port=server.port))
            f.write('\n[review]\npolicy = "%s"\n' % policy)
        t0 = time.perf_counter()
        p = subprocess.run([args.tandem, "run", "--json"], cwd=repo, env=e,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])
            raise RuntimeError("tandem run exited %d" % p.returncode)
        events = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
        done = sum(1 for ev in events
                   if ev.get("type") == "task_finished" and ev.get("state") == "done")
        reviews = sum(1 for ev in events if ev.get("type") == "review_finished")
        fin = [ev for ev in events if ev.get("type") == "run_finished"][-1]
        if done != TASKS:
            raise RuntimeError("%d of %d tasks done" % (done, TASKS))
        return {"wall_s": wall, "cost_usd": fin["cost_usd"], "reviews": reviews,
                "tandem_share": fin["harness_ms"] / fin["wall_ms"],
                "model_ms": fin["model_ms"], "run_wall_ms": fin["wall_ms"]}
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    args.tandem = os.path.abspath(os.path.join(args.build, "tandem"))
    args.server = os.path.abspath(os.path.join(args.build, "tests", "model_server",
                                               "tandem-model-server"))
    out = {}
    for policy in ("never", "always"):
        samples = [sample(args, policy) for _ in range(args.runs)]
        med = {k: statistics.median(s[k] for s in samples)
               for k in ("wall_s", "cost_usd", "tandem_share", "model_ms", "run_wall_ms")}
        med["reviews"] = samples[0]["reviews"]
        out[policy] = {"samples": samples, "median": med}
        print("review.policy=%-6s wall %.2f s · cost $%.5f · tandem %.2f%% · %d reviews "
              "(medians of %d; walls %s)"
              % (policy, med["wall_s"], med["cost_usd"], 100 * med["tandem_share"],
                 med["reviews"], args.runs, " ".join("%.2f" % s["wall_s"] for s in samples)))
    n, a = out["never"]["median"], out["always"]["median"]
    print("always / never: wall x%.2f (+%.2f s, %.2f s per task) · cost x%.2f (+$%.5f per task)"
          % (a["wall_s"] / n["wall_s"], a["wall_s"] - n["wall_s"],
             (a["wall_s"] - n["wall_s"]) / TASKS, a["cost_usd"] / n["cost_usd"],
             (a["cost_usd"] - n["cost_usd"]) / TASKS))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
