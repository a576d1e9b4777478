#!/usr/bin/env python3
"""Routing by measured speed on a mixed workload (issue 11; figures in docs/PERFORMANCE.md).

Two scripted model servers (tests/model_server) stand for two providers of
different hardware:
  prefill-box  ttft 100 ms, prefill 50,000 tokens/s, decode   300 tokens/s
  decode-box   ttft 100 ms, prefill  3,000 tokens/s, decode 1,500 tokens/s
The workload is mixed: `tandem plan` (the planner writes a 10-task plan with
~900 tokens of text: generation-heavy), then `tandem run` (10 tasks; each
reads a 24 KiB file, ~6,000 prompt tokens: context-heavy, then writes a small
file and finishes). Every role names one configuration:
  routed      the pool [prefill-box, decode-box] (routing by measured speed)
  prefill     prefill-box alone
  decode      decode-box alone
Each sample is a fresh repository and ledger running the workload twice:
round 1 starts with no measurements (the pool tries each member first),
round 2 has round 1's figures. Reported per configuration and round,
medians of --runs samples: wall time (plan + run, spawn to exit), cost
(run_finished cost_usd of both; prefill-box is priced 2x decode-box) and
which member served the planner and the executor calls.

Usage: bench/routing_bench.py --build build [--runs 3]
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
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plan_bench  # noqa: E402  (shared repository and environment helpers)

TASKS = 10
PLAN_TEXT = " word" * 900
BIG = "".join("line %d of the big file, with some padding words.\n" % i for i in range(480))
BOXES = {
    "prefill-box": {"ttft": 100, "prefill": 50000, "tps": 300, "in": 1.00, "out": 4.00},
    "decode-box": {"ttft": 100, "prefill": 3000, "tps": 1500, "in": 0.50, "out": 2.00},
}
CONFIGS = {"routed": ["prefill-box", "decode-box"], "prefill": ["prefill-box"],
           "decode": ["decode-box"]}


class Box(plan_bench.Server):
    """One provider's server: plan_bench.Server plus a prefill rate."""

    def __init__(self, binary, script, root, name, spec):
        d = os.path.join(root, name)
        os.makedirs(d)
        script_path = os.path.join(d, "script.json")
        with open(script_path, "w") as f:
            json.dump(script, f)
        self.record = os.path.join(d, "requests.jsonl")
        args = [binary, "--script", script_path, "--port", "0",
                "--tokens-per-second", str(spec["tps"]), "--ttft-ms", str(spec["ttft"]),
                "--prefill-tokens-per-second", str(spec["prefill"]), "--record", self.record]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        m = re.match(r"listening 127\.0\.0\.1:(\d+)", self.proc.stdout.readline().strip())
        if not m:
            self.stop()
            raise RuntimeError("model server %s did not start" % name)
        self.port = int(m.group(1))

    def requests(self):
        if not os.path.exists(self.record):
            return []
        return super().requests()


def script():
    turns = []
    for r in (1, 2):
        plan = "```markdown\n# Plan: round %d\n\n" % r
        for i in range(1, TASKS + 1):
            marker = "[r%dt%d]" % (r, i)
            path = "out/r%d-T%d.txt" % (r, i)
            plan += plan_bench.task_block("T%d" % i, "Write %s" % path,
                                          "Read big.txt, then write %s %s" % (path, marker),
                                          "T%d" % (i - 1) if i > 1 else "—")
            turns.append(plan_bench.turn(marker, 0, [("read_file", {"path": "big.txt"})]))
            turns.append(plan_bench.turn(marker, 1, [("write_file", {"path": path,
                                                                     "content": "%d\n" % i})]))
            turns.append(plan_bench.turn(marker, 2, [("finish", {"summary": "wrote " + path})]))
        plan += "```\n"
        turns.insert(0, {"when": {"system_contains": "Write plan.md for the goal",
                                  "any_message_contains": "round %d" % r},
                         "text": PLAN_TEXT + "\n\n" + plan})
    return {"turns": turns}


def config(boxes, members):
    out = ""
    for name, box in boxes.items():
        spec = BOXES[name]
        out += ('[providers.%s]\nwire = "openai"\nbase_url = "http://127.0.0.1:%d/v1"\n\n'
                '[models.%s]\nprovider = "%s"\nid = "%s-model"\nprice_input = %.2f\n'
                'price_output = %.2f\n\n' % (name, box.port, name, name, name, spec["in"],
                                             spec["out"]))
    if len(members) > 1:
        out += "[pools.duo]\nmodels = [%s]\n\n" % ", ".join('"%s"' % m for m in members)
        role = "duo"
    else:
        role = members[0]
    out += ('[roles]\nexecutor = "%s"\nplanner = "%s"\nreviewer = "%s"\n\n'
            '[review]\npolicy = "never"\n\n[limits]\nparallel_tasks = 1\n' % (role, role, role))
    return out


def run(args, cmd, repo, e):
    t0 = time.perf_counter()
    p = subprocess.run([args.tandem] + cmd, cwd=repo, env=e, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])
        raise RuntimeError("tandem %s exited %d" % (cmd[0], p.returncode))
    events = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    return wall, events


def sample(args, name):
    root = tempfile.mkdtemp(prefix="tandem-routing-bench-")
    repo = plan_bench.make_repo(root, "# Plan\n", {"big.txt": BIG})
    boxes = {n: Box(args.server, script(), root, n, BOXES[n]) for n in BOXES}
    e = plan_bench.env(repo)
    rounds = []
    try:
        with open(e["TANDEM_CONFIG"], "w") as f:
            f.write(config(boxes, CONFIGS[name]))
        for r in (1, 2):
            before = {n: len(b.requests()) for n, b in boxes.items()}
            w1, ev1 = run(args, ["plan", "--force", "--json", "Write the files, round %d" % r],
                          repo, e)
            after_plan = {n: len(b.requests()) for n, b in boxes.items()}
            w2, ev2 = run(args, ["run", "--json"], repo, e)
            after = {n: len(b.requests()) for n, b in boxes.items()}
            done = sum(1 for ev in ev2
                       if ev.get("type") == "task_finished" and ev.get("state") == "done")
            if done != TASKS:
                raise RuntimeError("%d of %d tasks done" % (done, TASKS))
            cost = sum(ev.get("cost_usd", 0) for ev in ev1 + ev2
                       if ev.get("type") == "model_call_finished")
            rounds.append({
                "wall_s": w1 + w2, "plan_s": w1, "run_s": w2, "cost_usd": cost,
                "planner_calls": {n: after_plan[n] - before[n] for n in boxes},
                "executor_calls": {n: after[n] - after_plan[n] for n in boxes}})
        return rounds
    finally:
        for b in boxes.values():
            b.stop()
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
    for name in CONFIGS:
        samples = [sample(args, name) for _ in range(args.runs)]
        out[name] = {"samples": samples}
        for r in (0, 1):
            med = {k: statistics.median(s[r][k] for s in samples)
                   for k in ("wall_s", "plan_s", "run_s", "cost_usd")}
            out[name]["round%d" % (r + 1)] = med
            first = samples[0][r]
            print("%-8s round %d: wall %.2f s (plan %.2f + run %.2f) · cost $%.5f · planner %s · "
                  "executor %s (medians of %d; walls %s)"
                  % (name, r + 1, med["wall_s"], med["plan_s"], med["run_s"], med["cost_usd"],
                     first["planner_calls"], first["executor_calls"], args.runs,
                     " ".join("%.2f" % s[r]["wall_s"] for s in samples)))
    for r in ("round1", "round2"):
        routed = out["routed"][r]["wall_s"]
        print("%s: routed / prefill-box alone x%.2f · routed / decode-box alone x%.2f"
              % (r, routed / out["prefill"][r]["wall_s"], routed / out["decode"][r]["wall_s"]))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
