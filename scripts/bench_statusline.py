#!/usr/bin/env python3
"""Statusline benchmark (issue #17): how long `tokledger statusline` takes on a large ledger.

    python3 scripts/bench_statusline.py [--mb 400] [--runs 50] [--cache DIR]

Generates a history once with scripts/gen_history.py into --cache (default
/tmp/tokledger-history-<mb>), builds a ledger from it cold (`analysis sessions list --all`,
timed), starts an analysis bound to the largest Claude session, then runs `statusline` --runs
times with Claude Code's status JSON naming that session, and prints the median and the
maximum. Half the runs find new lines in the transcript (one response appended before each,
as after a message), half find none. Uses target/release/tokledger (or TOKLEDGER_BIN).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def response_line(session: str, n: int) -> str:
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return json.dumps({
        "type": "assistant", "sessionId": session, "timestamp": ts,
        "requestId": f"req_bench_{n}", "cwd": "/work/bench",
        "message": {"id": f"msg_bench_{n}", "model": "claude-sonnet-4-5-20250929", "content": [],
                    "usage": {"input_tokens": 1200, "cache_creation_input_tokens": 300,
                              "cache_read_input_tokens": 40000, "output_tokens": 250}}}) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=400)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--cache", default=None)
    a = ap.parse_args()
    binary = os.environ.get("TOKLEDGER_BIN", str(REPO / "target/release/tokledger"))
    home = Path(a.cache or f"/tmp/tokledger-history-{int(a.mb)}")
    if not (home / "expected.json").exists():
        subprocess.run([sys.executable, str(REPO / "scripts/gen_history.py"), str(home),
                        "--mb", str(a.mb)], check=True, timeout=1200)
    size = sum(p.stat().st_size for p in home.rglob("*") if p.is_file()) / (1 << 20)
    work = Path(tempfile.mkdtemp(prefix="tokledger-statusline-"))
    db = work / "ledger.db"
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "TOKLEDGER_DB": str(db),
           "XDG_STATE_HOME": str(work / "state"), "TZ": "UTC"}

    def run(*args, stdin=None):
        return subprocess.run([binary, *args], env=env, input=stdin, capture_output=True,
                              text=True, timeout=1200)

    began = time.monotonic()
    cold = run("analysis", "sessions", "list", "--all", "--json")
    cold_s = time.monotonic() - began
    if cold.returncode != 0:
        print(cold.stderr)
        return 1
    claude = [s for s in json.loads(cold.stdout)["sessions"] if s["tool"] == "claude"]
    session = max(claude, key=lambda s: s["tokens_so_far"])
    transcript = Path(session["path"])
    # The copy the runs append to: the cached history stays as generated.
    backup = transcript.read_bytes()
    try:
        start = run("analysis", "start", "--source-id", "bench", "--tool", "claude",
                    "--usage-session-id", session["session_id"])
        if start.returncode != 0:
            print(start.stderr)
            return 1
        payload = json.dumps({
            "session_id": session["session_id"], "transcript_path": str(transcript),
            "cwd": "/work/bench", "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
            "workspace": {"current_dir": "/work/bench", "project_dir": "/work/bench"},
            "version": "2.0.0", "cost": {"total_cost_usd": 1.0}})
        took, lines, codes = [], [], set()
        for i in range(a.runs):
            if i % 2 == 0:
                with transcript.open("a") as f:
                    f.write(response_line(session["session_id"], i))
            t = time.monotonic()
            out = run("statusline", stdin=payload)
            took.append((time.monotonic() - t) * 1000)
            codes.add(out.returncode)
            lines.append(out.stdout.strip())
    finally:
        transcript.write_bytes(backup)
    ledger_mb = db.stat().st_size / (1 << 20)
    print(f"history {size:.0f} MiB ({len(claude)} Claude sessions), ledger {ledger_mb:.0f} MiB, "
          f"cold build {cold_s:.1f} s")
    print(f"session {session['session_id']} ({transcript.stat().st_size / (1 << 20):.1f} MiB, "
          f"{session['tokens_so_far']:,} tokens)")
    print(f"statusline x{a.runs}: median {statistics.median(took):.1f} ms, max {max(took):.1f} ms, "
          f"exit codes {sorted(codes)}")
    new, same = took[0::2], took[1::2]
    print(f"  after a new response: median {statistics.median(new):.1f} ms, max {max(new):.1f} ms; "
          f"nothing new: median {statistics.median(same):.1f} ms, max {max(same):.1f} ms")
    print(f"last line: {lines[-1]}")
    return 0 if codes == {0} else 1


if __name__ == "__main__":
    sys.exit(main())
