#!/usr/bin/env python3
"""Skills A/B on a scripted suite of repeated task kinds (issue 12; figures
in docs/PERFORMANCE.md section 15).

Three task kinds (a changelog entry, a config key, a renamed constant), each
repeated --repeats times, every task a `tandem do --json` in a fresh copy of
the same small repository whose gate (`sh check.sh`, each step) checks the
kind's file. The scripted executor (tests/model_server) plays a model that
follows a skill when one is in its context and explores when none is:

  without a skill: read_file, a wrong write the gate rejects (rolled back),
                   the right write, finish          -> 4 model calls, 1 retry
  with its skill:  the right write, finish          -> 2 model calls

Arm "without": every task with skills.enabled = false.
Arm "with":    the first task of each kind runs without a skill, then
               `tandem skills capture RUN` (the scripted planner answers with
               a SKILL.md) and the kind's later tasks run in repositories
               holding all three captured skills; BM25 must pick the right
               one (the executor's script keys on its <skill name=...> tag).

Reported per arm: model calls (steps) per task, retries per task, the first
request's estimated size (run_started first_request_tokens), tokens per
task (input + output, the model server's counts: canonical prompt bytes / 4,
one per streamed event) from each run_finished event, medians and means;
the capture's own planner tokens, and tokens per task with the capture
amortised over the kind's repeats. What this measures is tandem's side:
that capture, retrieval and injection work end to end through the CLI and
what injection costs in prompt tokens against the steps a model that uses
the skill saves. How many steps a real model saves is not measured here.

Usage: bench/skills_ab_bench.py --build build [--repeats 4]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plan_bench  # noqa: E402  (server, config and environment helpers)

TPS = 20000
TTFT_MS = 5
DISTILL = "Distill the run into a skill"

KINDS = {
    "changelog-entry": {
        "task": "Add a changelog entry for the release to CHANGELOG.md under Unreleased",
        "file": "CHANGELOG.md",
        "good": "# Changelog\n\n## Unreleased\n- entry\n",
        "bad": "# Changelog\n- entry\n",
        "check": "grep -q '^## Unreleased' CHANGELOG.md",
        "description": "Adds a changelog entry to CHANGELOG.md under the Unreleased heading; use for "
                       "release changelog entries",
    },
    "config-timeout-key": {
        "task": "Set the request timeout key in config/app.toml to 30 seconds",
        "file": "config/app.toml",
        "good": "[http]\ntimeout_s = 30\n",
        "bad": "timeout = 30\n",
        "check": "grep -q '^timeout_s = 30' config/app.toml",
        "description": "Sets the request timeout key timeout_s in config/app.toml under [http]; use "
                       "for timeout settings of the app config",
    },
    "rename-limit-constant": {
        "task": "Rename the MAX_ITEMS constant in src/limits.h to ITEM_LIMIT",
        "file": "src/limits.h",
        "good": "#define ITEM_LIMIT 100\n",
        "bad": "#define ITEMLIMIT 100\n",
        "check": "grep -q 'ITEM_LIMIT' src/limits.h",
        "description": "Renames the MAX_ITEMS limit constant in src/limits.h to ITEM_LIMIT; use when "
                       "renaming limit constants",
    },
}

FILES = {
    "CHANGELOG.md": "# Changelog\n",
    "config/app.toml": "[http]\n",
    "src/limits.h": "#define MAX_ITEMS 100\n",
}


def check_sh():
    lines = ["#!/bin/sh", "# Each kind's file is checked once it differs from the original."]
    for kind in KINDS.values():
        original = FILES[kind["file"]].replace("\n", "\\n")
        lines.append("if [ \"$(cat %s)\" != \"$(printf '%s')\" ]; then %s || { echo 'FAILED: %s'; exit 1; }; fi"
                     % (kind["file"], original, kind["check"], kind["file"]))
    return "\n".join(lines) + "\n"


VERIFY_MD = """# Verify

## check (each step, timeout 30s)
```sh
sh check.sh
```
"""


def write_call(kind, content):
    return {"name": "write_file", "arguments": {"path": kind["file"], "content": content}}


def script():
    turns = []
    for name, kind in KINDS.items():
        skill_md = ("---\nname: %s\ndescription: %s\n---\n# %s\n\n## Steps that worked\n1. Write %s "
                    "as the gate expects (%s).\n2. Finish.\n\n## Pitfalls\nA near-miss format fails "
                    "the gate.\n" % (name, kind["description"], name, kind["file"], kind["check"]))
        turns.append({"when": {"system_contains": DISTILL, "any_message_contains": kind["task"]},
                      "text": skill_md})
        tag = '<skill name="%s"' % name
        turns.append({"when": {"assistant_turns": 0, "any_message_contains": tag},
                      "tool_calls": [write_call(kind, kind["good"])]})
        turns.append({"when": {"assistant_turns": 1, "any_message_contains": tag},
                      "tool_calls": [{"name": "finish", "arguments": {"summary": "done"}}]})
    for name, kind in KINDS.items():
        steps = [
            [{"name": "read_file", "arguments": {"path": kind["file"]}}],
            [write_call(kind, kind["bad"])],
            [write_call(kind, kind["good"])],
            [{"name": "finish", "arguments": {"summary": "done"}}],
        ]
        for n, calls in enumerate(steps):
            turns.append({"when": {"assistant_turns": n, "any_message_contains": kind["task"]},
                          "tool_calls": calls})
    return {"turns": turns}


def make_repo(root, name, skills_from=None):
    repo = os.path.join(root, name)
    os.makedirs(repo)
    for rel, text in list(FILES.items()) + [("check.sh", check_sh()), ("verify.md", VERIFY_MD)]:
        path = os.path.join(repo, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    if skills_from:
        shutil.copytree(skills_from, os.path.join(repo, ".agents", "skills"))
    plan_bench.git(repo, "init", "-q", "-b", "main")
    plan_bench.git(repo, "config", "gc.auto", "0")
    with open(os.path.join(repo, ".git", "info", "exclude"), "a") as f:
        f.write(".tandem/\n")
    plan_bench.git(repo, "add", "-A")
    plan_bench.git(repo, "commit", "-q", "-m", "bench repo")
    os.makedirs(os.path.join(repo, ".tandem"), exist_ok=True)
    return repo


def run(args, server, repo, argv, extra_config=""):
    server.write_config(repo)
    if extra_config:
        with open(os.path.join(repo, ".tandem", "bench-config.toml"), "a") as f:
            f.write(extra_config)
    p = subprocess.run([args.tandem] + argv, cwd=repo, env=plan_bench.env(repo),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    return p


def do(args, server, repo, task, skills_enabled):
    p = run(args, server, repo, ["do", "--json", task],
            "" if skills_enabled else "\n[skills]\nenabled = false\n")
    events = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    finished = [e for e in events if e.get("type") == "run_finished"]
    started = [e for e in events if e.get("type") == "run_started"]
    if p.returncode != 0 or not finished:
        raise RuntimeError("tandem do failed (%d): %s\n%s" % (p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
    f = finished[-1]
    usage = f.get("usage", {})
    notices = [e.get("text", "") for e in events if e.get("type") == "notice"]
    return {"run": started[0].get("run", "") if started else "", "steps": f["steps"],
            "retries": f["retries"],
            "first_request_tokens": started[0].get("first_request_tokens", 0) if started else 0,
            "tokens": usage.get("input_tokens", 0) + usage.get("output_tokens", 0),
            "skills": [n for n in notices if n.startswith("skills:")]}


def summary(rows):
    def stat(key):
        values = [r[key] for r in rows]
        return statistics.median(values), statistics.mean(values)
    return {k: stat(k) for k in ("steps", "retries", "tokens", "first_request_tokens")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeats", type=int, default=4)
    args = ap.parse_args()
    args.tandem = os.path.join(args.build, "tandem")
    args.server = os.path.join(args.build, "tests", "model_server", "tandem-model-server")
    root = tempfile.mkdtemp(prefix="tandem-skills-ab-")
    server = plan_bench.Server(args.server, script(), root, TPS, TTFT_MS)
    try:
        without, with_skill, capture_tokens = [], [], {}
        n = 0
        for name, kind in KINDS.items():
            for i in range(args.repeats):
                n += 1
                without.append(dict(do(args, server, make_repo(root, "without-%d" % n), kind["task"], False),
                                    kind=name, i=i))
        # The with arm: the first of each kind, captured; its skills copied onward.
        skills_dir = os.path.join(root, "captured-skills")
        firsts = {}
        for name, kind in KINDS.items():
            n += 1
            repo = make_repo(root, "first-%d" % n)
            r = do(args, server, repo, kind["task"], True)
            firsts[name] = r
            with_skill.append(dict(r, kind=name, i=0))
            before = len(server.requests())
            p = run(args, server, repo, ["skills", "capture", r["run"]])
            if p.returncode != 0:
                raise RuntimeError("capture failed: %s %s" % (p.stdout, p.stderr))
            planner = server.requests()[before:]
            capture_tokens[name] = sum(len(json.dumps(q["body"], separators=(",", ":"))) // 4 for q in planner)
            shutil.copytree(os.path.join(repo, ".agents", "skills", name), os.path.join(skills_dir, name))
        picked_right = 0
        for name, kind in KINDS.items():
            for i in range(1, args.repeats):
                n += 1
                r = do(args, server, make_repo(root, "with-%d" % n, skills_dir), kind["task"], True)
                picked_right += 1 if any(s.startswith("skills: " + name + " ") for s in r["skills"]) else 0
                with_skill.append(dict(r, kind=name, i=i))
        out = {"repeats": args.repeats, "kinds": len(KINDS),
               "without": summary(without), "with": summary(with_skill),
               "with_replays_only": summary([r for r in with_skill if r["i"] > 0]),
               "capture_prompt_tokens_per_kind": capture_tokens,
               "replays_with_the_right_skill": "%d/%d" % (picked_right, len(KINDS) * (args.repeats - 1))}
        amortised = statistics.mean([r["tokens"] for r in with_skill]) + \
            sum(capture_tokens.values()) / len(with_skill)
        out["with_tokens_per_task_incl_capture_mean"] = amortised
        print(json.dumps(out, indent=2))
    finally:
        server.stop()
        if not os.environ.get("KEEP"):
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
