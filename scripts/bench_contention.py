#!/usr/bin/env python3
"""Load benchmark (issue: concurrent marks starve behind first reads): N concurrent `mark`s
on one analysis while M first-time `sessions list` read a large history into the same
ledger, with hook events beside them. Reports exits by code, lost stages (successful marks
that are not in the row), the slowest mark and the hook's slowest answer.

    python3 scripts/bench_contention.py [--mb 300] [--marks 128] [--reads 8] [--hooks 16]

The history is generated once by scripts/gen_history.py into --cache (default
/tmp/tokledger-contention-<mb>). Uses target/release/tokledger (or TOKLEDGER_BIN).
"""

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=300)
    ap.add_argument("--marks", type=int, default=128)
    ap.add_argument("--reads", type=int, default=8)
    ap.add_argument("--hooks", type=int, default=16)
    ap.add_argument("--cache", default=None)
    a = ap.parse_args()
    binary = os.environ.get("TOKLEDGER_BIN", str(REPO / "target/release/tokledger"))
    home = Path(a.cache or f"/tmp/tokledger-contention-{int(a.mb)}")
    if not (home / "expected.json").exists():
        subprocess.run([sys.executable, str(REPO / "scripts/gen_history.py"), str(home),
                        "--mb", str(a.mb)], check=True, timeout=1200)
    work = Path(tempfile.mkdtemp(prefix="tokledger-contention-"))
    db = work / "ledger.db"
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "TOKLEDGER_DB": str(db),
           "XDG_STATE_HOME": str(work / "state")}
    run = lambda *args, **kw: subprocess.run([binary, *args], env=env, capture_output=True,  # noqa: E731
                                             text=True, timeout=600, **kw)
    # An analysis bound to a session that is not read yet: its first mark reads only it.
    sessions = json.loads((home / "expected.json").read_text())["sessions"]["claude"]
    session = sorted(sessions)[0]
    start = run("analysis", "start", "--source-id", "bench", "--tool", "claude",
                "--usage-session-id", session)
    if start.returncode != 0:
        print(start.stderr)
        return 1
    analysis = start.stdout.strip()
    transcript = next(home.glob(f".claude/projects/*/{session}.jsonl"))
    payload = json.dumps({"session_id": session, "transcript_path": str(transcript),
                          "hook_event_name": "Stop"})
    codes = collections.defaultdict(collections.Counter)
    took = collections.defaultdict(list)
    lock = threading.Lock()
    waiters = []

    # Each process's own time, taken by a thread waiting on it from the moment it starts:
    # polling only after every process was started counted the start-up phase (~2.6 s)
    # against the processes started first.
    def track(kind, p, began):
        try:
            code = p.wait(timeout=600)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            code = "killed"
        with lock:
            took[kind].append(time.monotonic() - began)
            codes[kind][code] += 1

    def spawn(kind, argv, stdin=None):
        began = time.monotonic()
        p = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE if stdin else None,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if stdin:
            p.stdin.write(stdin)
            p.stdin.close()
        t = threading.Thread(target=track, args=(kind, p, began))
        t.start()
        waiters.append(t)

    t0 = time.monotonic()
    for i in range(a.reads):
        spawn("read", [binary, "analysis", "sessions", "list", "--all"])
    time.sleep(0.5)  # the reads are well under way
    for i in range(a.marks):
        spawn("mark", [binary, "analysis", "mark", "--id", analysis, "--stage", f"s{i}"])
        if i % 8 == 0 and i // 8 < a.hooks:
            spawn("hook", [binary, "hook", "claude"], stdin=payload.encode())
        time.sleep(0.02)
    for t in waiters:
        t.join()
    wall = time.monotonic() - t0
    row = json.loads(run("analysis", "show", "--id", analysis, "--json").stdout)
    ok_marks = codes["mark"][0]
    stages = len(row["stages"])
    print(f"history {a.mb} MiB; {a.reads} first reads, {a.marks} marks, "
          f"{len(took['hook'])} hooks; wall {wall:.1f} s")
    for kind in ("read", "mark", "hook"):
        if took[kind]:
            print(f"  {kind:5} exits {dict(codes[kind])}  slowest {max(took[kind]):.2f} s"
                  f"  median {statistics.median(took[kind]):.2f} s")
    print(f"  stages recorded {stages} of {ok_marks} successful marks (lost {ok_marks - stages})")
    bad = (codes["mark"][75] + codes["read"][75] + (ok_marks - stages)
           + sum(n for c, n in codes["hook"].items() if c != 0))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
