#!/usr/bin/env python3
"""End-to-end benchmarks of the real `tandem` binary against the scripted
model server (issue #3, docs/PERFORMANCE.md).

  ten-step   A scripted 10-step task (9 edit_file steps + finish) at
             1,200 tokens/s, with one trivial gate (`true`) after each step.
             Reports tandem's own share of the wall time,
             harness_ms / wall_ms from the run_finished event (target <= 5%).
  two-turn   The model calls run_command once (`echo hello > hello.txt`),
             then gives a short final answer; 1,200 tokens/s, 150 ms to first
             token; no gates. Reports wall vs. model_ms (target: wall <=
             model + 40 ms), the first request's size (first_request_tokens
             and the recorded request body bytes / 4; target <= 1,200) and
             peak RSS from /usr/bin/time -v (target <= 20 MB).
  version    `tandem --version` cold start (hyperfine when installed, else
             a timed loop) and peak RSS (aim < 10 ms, < 15 MB).

Usage:
  bench/e2e_bench.py [--build build-bench] [--runs 7] [--only ten-step,two-turn,version]
                     [--sandbox-none] [--callgrind] [--ttft-ms 150] [--json-out FILE]
--callgrind runs tandem under valgrind's callgrind and adds tandem_ir: the
instructions tandem's own process executed (every thread, user space; not its
children, not the kernel), a count the machine's load does not change. Its
times are then valgrind's, not tandem's.
Each run uses a fresh temp git repository and a fresh model server.
Prints medians; --json-out also writes every sample.
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

TPS = 1200

CONFIG = """[providers.scripted]
wire = "openai"
base_url = "http://127.0.0.1:{port}/v1"

[models.bench-fast]
provider = "scripted"
id = "bench-fast"
price_input = 0.35
price_output = 0.75

[roles]
executor = "bench-fast"
planner = "bench-fast"
reviewer = "bench-fast"
"""

VERIFY_TRUE = """# Verify

## ok (each step, timeout 30s)
```sh
true
```
"""


def git(repo, *args):
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", *args],
                   cwd=repo, check=True, stdout=subprocess.DEVNULL)


def make_repo(files, verify_md=None):
    repo = tempfile.mkdtemp(prefix="tandem-e2e-bench-")
    for name, text in files.items():
        path = os.path.join(repo, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    with open(os.path.join(repo, ".gitignore"), "w") as f:
        f.write(".tandem/\n")
    if verify_md is not None:
        with open(os.path.join(repo, "verify.md"), "w") as f:
            f.write(verify_md)
    git(repo, "init", "-q")
    git(repo, "config", "gc.auto", "0")  # no background gc racing the runs
    git(repo, "config", "gc.autoDetach", "false")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "bench repo")
    os.makedirs(os.path.join(repo, ".tandem"), exist_ok=True)
    return repo


class Server:
    """tandem-model-server on a free port, recording requests."""

    def __init__(self, binary, script, record, ttft_ms):
        args = [binary, "--script", script, "--port", "0", "--tokens-per-second", str(TPS),
                "--ttft-ms", str(ttft_ms), "--record", record]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        m = re.match(r"listening 127\.0\.0\.1:(\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError("model server did not start: %r" % line)
        self.port = int(m.group(1))

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def run_tandem(args, repo, server_binary, script, ttft_ms, task, extra_set=()):
    """Runs `tandem do --json` once; returns (events, time -v fields, recorded requests, outer ms)."""
    script_path = os.path.join(repo, ".tandem", "bench-script.json")
    with open(script_path, "w") as f:
        json.dump(script, f)
    record = os.path.join(repo, ".tandem", "requests.jsonl")
    server = Server(server_binary, script_path, record, ttft_ms)
    try:
        # The extra layer: a repository's own file may not declare providers
        # until the user trusts it.
        config = os.path.join(repo, ".tandem", "bench-config.toml")
        with open(config, "w") as f:
            f.write(CONFIG.format(port=server.port))
        cmd = ["/usr/bin/time", "-v", args.tandem, "do", "--json"]
        if args.callgrind:
            cmd[2:2] = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
        for s in extra_set:
            cmd += ["--set", s]
        cmd.append(task)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=repo, capture_output=True, text=True,
                           env=dict(os.environ, TANDEM_CONFIG=config))
        outer_ms = (time.perf_counter() - t0) * 1000
    finally:
        server.stop()
    events = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    tv = parse_time_v(p.stderr)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-3000:] + p.stderr[-3000:])
        raise RuntimeError("tandem do exited %d" % p.returncode)
    with open(record) as f:
        requests = [json.loads(l) for l in f if l.strip()]
    return events, tv, requests, outer_ms


def parse_time_v(stderr):
    out = {}
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    if m:
        out["max_rss_kb"] = int(m.group(1))
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", stderr)
    if m:
        h, mnt, s = m.groups()
        out["elapsed_ms"] = ((int(h or 0) * 60 + int(mnt)) * 60 + float(s)) * 1000
    m = re.search(r"Collected : (\d+)", stderr)
    if m:
        out["tandem_ir"] = int(m.group(1))
    for key, pat in (("user_s", r"User time \(seconds\): ([\d.]+)"),
                     ("sys_s", r"System time \(seconds\): ([\d.]+)")):
        m = re.search(pat, stderr)
        if m:
            out[key] = float(m.group(1))
    return out


def event(events, kind):
    for e in events:
        if e.get("type") == kind:
            return e
    raise RuntimeError("no %s event in %s" % (kind, [e.get("type") for e in events]))


def ten_step(args):
    files = {"src/f%d.txt" % i: "value %d = old\n" % i for i in range(1, 10)}
    turns = []
    for i in range(1, 10):
        turns.append({"when": {"assistant_turns": i - 1},
                      "text": "Updating f%d." % i,
                      "tool_calls": [{"name": "edit_file", "arguments": {
                          "path": "src/f%d.txt" % i, "old_text": "value %d = old" % i,
                          "new_text": "value %d = new" % i}}]})
    turns.append({"when": {"assistant_turns": 9},
                  "tool_calls": [{"name": "finish", "arguments": {
                      "summary": "All nine values updated."}}]})
    script = {"models": ["bench-fast"], "turns": turns}
    samples = []
    for r in range(args.runs):
        repo = make_repo(files, VERIFY_TRUE)
        try:
            events, tv, requests, outer = run_tandem(
                args, repo, args.server, script, args.ttft_ms,
                "Change every 'old' value in src/ to 'new'.", args.extra_set)
        finally:
            shutil.rmtree(repo, ignore_errors=True)
        fin = (event(events, "run_finished"))
        if fin.get("outcome") != "succeeded" or fin.get("steps") != 10:
            raise RuntimeError("ten-step run did not succeed in 10 steps: %s" % fin)
        s = {k: fin[k] for k in ("wall_ms", "model_ms", "tool_ms", "gate_ms", "harness_ms")}
        s["share"] = fin["harness_ms"] / fin["wall_ms"]
        s["process_ms"] = outer
        s["max_rss_kb"] = tv.get("max_rss_kb")
        s["cpu_ms"] = (tv.get("user_s", 0) + tv.get("sys_s", 0)) * 1000
        if "tandem_ir" in tv:
            s["tandem_ir"] = tv["tandem_ir"]
            print("  ten-step run %d: tandem executed %.1f M instructions" % (
                r + 1, tv["tandem_ir"] / 1e6), flush=True)
        samples.append(s)
        print("  ten-step run %d: wall %.1f ms, model %.1f, tools %.1f, gates %.1f, harness %.1f "
              "(%.2f%%), process %.1f ms, rss %s kB" % (
                  r + 1, s["wall_ms"], s["model_ms"], s["tool_ms"], s["gate_ms"], s["harness_ms"],
                  100 * s["share"], outer, s["max_rss_kb"]), flush=True)
    return samples


def two_turn(args):
    script = {"models": ["bench-fast"], "turns": [
        {"when": {"assistant_turns": 0}, "text": "I'll create it.",
         "tool_calls": [{"name": "run_command", "arguments": {"command": "echo hello > hello.txt"}}]},
        {"when": {"assistant_turns": 1}, "text": "Done: hello.txt now contains \"hello\"."}]}
    samples = []
    for r in range(args.runs):
        repo = make_repo({"README.md": "# hello\n\nA tiny repository.\n"})
        try:
            events, tv, requests, outer = run_tandem(
                args, repo, args.server, script, args.ttft_ms,
                "Create hello.txt containing hello (use the shell: echo hello > hello.txt).",
                args.extra_set)
            with open(os.path.join(repo, "hello.txt")) as f:
                if f.read() != "hello\n":
                    raise RuntimeError("hello.txt has the wrong content")
        finally:
            shutil.rmtree(repo, ignore_errors=True)
        start = (event(events, "run_started"))
        fin = (event(events, "run_finished"))
        if fin.get("outcome") != "succeeded":
            raise RuntimeError("two-turn run did not succeed: %s" % fin)
        first = requests[0]["body"]
        first_bytes = len(json.dumps(first, separators=(",", ":"), ensure_ascii=False).encode())
        s = {k: fin[k] for k in ("wall_ms", "model_ms", "tool_ms", "gate_ms", "harness_ms")}
        s["wall_minus_model_ms"] = fin["wall_ms"] - fin["model_ms"]
        s["process_ms"] = outer
        s["process_minus_model_ms"] = outer - fin["model_ms"]
        s["first_request_tokens"] = start["first_request_tokens"]
        s["first_request_body_bytes"] = first_bytes
        s["first_request_bytes_div4"] = first_bytes / 4
        s["max_rss_kb"] = tv.get("max_rss_kb")
        s["cpu_ms"] = (tv.get("user_s", 0) + tv.get("sys_s", 0)) * 1000
        samples.append(s)
        print("  two-turn run %d: wall %.1f ms, model %.1f, tool %.1f, wall-model %.1f ms, "
              "process %.1f ms (process-model %.1f), first request %d tokens est / %d bytes "
              "(%.0f tokens), rss %s kB" % (
                  r + 1, s["wall_ms"], s["model_ms"], s["tool_ms"], s["wall_minus_model_ms"],
                  outer, s["process_minus_model_ms"], s["first_request_tokens"], first_bytes,
                  first_bytes / 4, s["max_rss_kb"]), flush=True)
    return samples


def version(args):
    out = {}
    if shutil.which("hyperfine"):
        export = tempfile.mktemp(suffix=".json")
        subprocess.run(["hyperfine", "-N", "--warmup", "20", "--runs", "300", "--export-json", export,
                        "%s --version" % args.tandem], check=True, stdout=subprocess.DEVNULL)
        with open(export) as f:
            res = json.load(f)["results"][0]
        os.unlink(export)
        out["tool"] = "hyperfine -N --warmup 20 --runs 300"
        out["median_ms"] = res["median"] * 1000
        out["mean_ms"] = res["mean"] * 1000
        out["min_ms"] = res["min"] * 1000
    else:
        times = []
        for _ in range(200):
            t0 = time.perf_counter()
            subprocess.run([args.tandem, "--version"], stdout=subprocess.DEVNULL, check=True)
            times.append((time.perf_counter() - t0) * 1000)
        out["tool"] = "python loop of 200 runs"
        out["median_ms"] = statistics.median(times)
        out["min_ms"] = min(times)
    rss = []
    for _ in range(20):
        p = subprocess.run(["/usr/bin/time", "-v", args.tandem, "--version"], capture_output=True,
                           text=True, check=True)
        rss.append(parse_time_v(p.stderr)["max_rss_kb"])
    out["max_rss_kb_median"] = statistics.median(rss)
    print("  version: median %.2f ms (min %.2f, %s), max RSS %d kB" % (
        out["median_ms"], out["min_ms"], out["tool"], out["max_rss_kb_median"]), flush=True)
    return out


def medians(samples):
    keys = [k for k in samples[0] if isinstance(samples[0][k], (int, float))]
    return {k: statistics.median(s[k] for s in samples if s[k] is not None) for k in keys}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build-bench")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--only", default="ten-step,two-turn,version")
    ap.add_argument("--ttft-ms", type=int, default=150)
    ap.add_argument("--sandbox-none", action="store_true",
                    help="run commands without bubblewrap (--set sandbox.mode=none)")
    ap.add_argument("--callgrind", action="store_true",
                    help="count tandem's own instructions with valgrind --tool=callgrind")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    args.tandem = os.path.abspath(os.path.join(args.build, "tandem"))
    args.server = os.path.abspath(os.path.join(args.build, "tests/model_server/tandem-model-server"))
    args.extra_set = ["sandbox.mode=none"] if args.sandbox_none else []
    for b in (args.tandem, args.server):
        if not os.access(b, os.X_OK):
            sys.exit("missing %s: build the tandem and tandem-model-server targets first" % b)

    print("machine: nproc %d, load %s" % (os.cpu_count(), open("/proc/loadavg").read().split()[:3]))
    report = {"ttft_ms": args.ttft_ms, "tokens_per_second": TPS, "runs": args.runs}
    only = args.only.split(",")
    if "ten-step" in only:
        samples = ten_step(args)
        m = medians(samples)
        report["ten_step"] = {"median": m, "samples": samples}
        print("ten-step median: harness share %.2f%% (target <= 5%%), wall %.1f ms, harness %.1f ms"
              % (100 * m["share"], m["wall_ms"], m["harness_ms"]))
    if "two-turn" in only:
        samples = two_turn(args)
        m = medians(samples)
        report["two_turn"] = {"median": m, "samples": samples}
        print("two-turn median: wall %.1f ms = model %.1f + %.1f ms (target <= +40 ms); process "
              "%.1f ms (+%.1f); first request %d tokens est, %.0f by bytes/4 (target <= 1200); "
              "max RSS %.1f MB (target <= 20)" % (
                  m["wall_ms"], m["model_ms"], m["wall_minus_model_ms"], m["process_ms"],
                  m["process_minus_model_ms"], m["first_request_tokens"],
                  m["first_request_bytes_div4"], m["max_rss_kb"] / 1024))
    if "version" in only:
        report["version"] = version(args)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
