#!/usr/bin/env python3
"""Warm-command latency on an already-built ledger (issue #18), for one binary or several
alternated run by run.

    python3 scripts/bench_warm.py --home HOME --db LEDGER [--runs 9] [--bin A --bin B …]
                                  [--only daily,tools,…] [--copy]

HOME is a history made by scripts/gen_history.py whose ledger LEDGER was built (e.g. by
`analysis sessions list --all --json`). Every command of the list runs --runs times per
binary; runs alternate binary by binary and command by command, so background load spreads
evenly over them. With --copy each binary gets its own copy of the ledger (binaries that
migrate a ledger differently must not share one). Prints, per command and binary, the median
and min-max of wall time, and the median peak RSS (/usr/bin/time).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

COMMANDS = {
    "daily": ["report", "daily", "--json"],
    "daily-table": ["report", "daily"],
    "daily-since": ["report", "daily", "--json", "--since", "30d"],
    "daily-tz": ["report", "daily", "--json", "--tz", "Asia/Kolkata"],
    "daily-project": ["report", "daily", "--json", "--project", "webapp"],
    "daily-codex": ["report", "daily", "--json", "--tool", "codex"],
    "weekly": ["report", "weekly", "--json"],
    "weekly-table": ["report", "weekly"],
    "monthly": ["report", "monthly", "--json"],
    "monthly-table": ["report", "monthly"],
    "session": ["report", "session", "--json"],
    "session-table": ["report", "session"],
    "session-since": ["report", "session", "--json", "--since", "30d"],
    "model": ["report", "model", "--json"],
    "model-table": ["report", "model"],
    "tools": ["report", "tools", "--json"],
    "tools-table": ["report", "tools"],
    "tools-command": ["report", "tools", "--json", "--by", "command"],
    "files": ["report", "files", "--json"],
    "files-table": ["report", "files"],
    "compactions": ["report", "compactions", "--json"],
    "blocks": ["report", "blocks", "--json"],
    "blocks-table": ["report", "blocks"],
    "sessions-list": ["analysis", "sessions", "list", "--all", "--json"],
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--bin", action="append", default=[])
    ap.add_argument("--only", default="")
    ap.add_argument("--copy", action="store_true")
    a = ap.parse_args()
    bins = a.bin or [os.environ.get("TOKLEDGER_BIN", str(REPO / "target/release/tokledger"))]
    names = [n for n in a.only.split(",") if n] or list(COMMANDS)
    work = Path(tempfile.mkdtemp(prefix="tokledger-warm-"))
    dbs = []
    for i, b in enumerate(bins):
        if a.copy:
            d = work / f"ledger-{i}.db"
            shutil.copy(a.db, d)
            dbs.append(str(d))
        else:
            dbs.append(a.db)
    env = {"HOME": a.home, "PATH": os.environ.get("PATH", ""), "NO_COLOR": "1",
           "TZ": os.environ.get("TZ", "UTC"), "XDG_STATE_HOME": str(work / "state")}
    # One untimed run each: migrations, first pricing, page cache.
    for b, d in zip(bins, dbs):
        for n in names:
            subprocess.run([b, "--db", d, *COMMANDS[n]], env=env, capture_output=True)
    wall = {(n, i): [] for n in names for i in range(len(bins))}
    rss = {(n, i): [] for n in names for i in range(len(bins))}
    tf = work / "time.txt"
    for _ in range(a.runs):
        for n in names:
            for i, (b, d) in enumerate(zip(bins, dbs)):
                t = time.monotonic()
                out = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(tf), b, "--db", d,
                                      *COMMANDS[n]], env=env, capture_output=True)
                wall[(n, i)].append(time.monotonic() - t)
                if out.returncode != 0:
                    print(f"{n} with {b}: exit {out.returncode}: {out.stderr[-400:]!r}")
                    return 1
                try:
                    rss[(n, i)].append(int(tf.read_text().split()[-1]))
                except (ValueError, IndexError):
                    pass
    size = Path(a.db).stat().st_size / (1 << 20)
    print(f"ledger {a.db} ({size:.0f} MiB), {a.runs} runs each, alternating")
    for n in names:
        for i, b in enumerate(bins):
            w = wall[(n, i)]
            r = statistics.median(rss[(n, i)]) / 1024 if rss[(n, i)] else float("nan")
            tag = f" [{i}]" if len(bins) > 1 else ""
            print(f"  {n:15}{tag} median {statistics.median(w) * 1000:7.1f} ms "
                  f"({min(w) * 1000:.1f}-{max(w) * 1000:.1f})  {r:5.0f} MB")
    if len(bins) > 1:
        for i, b in enumerate(bins):
            print(f"  [{i}] = {b}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
