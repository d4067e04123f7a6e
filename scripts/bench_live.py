#!/usr/bin/env python3
"""statusline, `analysis start` and `analysis mark` on a large already-built ledger (issue #18),
for one binary or several alternated run by run.

    python3 scripts/bench_live.py --home HOME --db LEDGER [--runs 15] [--bin A --bin B …]

Each binary gets a copy of LEDGER. The largest Claude session of the ledger is the one
used: `analysis start --usage-session-id` on it (timed), then per run: one response is
appended to its transcript (as after a message), each binary runs `statusline` (Claude
Code's status JSON on stdin), then `statusline` again with nothing new, then `mark`. The
transcript is restored at the end.
"""
import argparse, json, os, shutil, sqlite3, statistics, subprocess, sys, tempfile, time
from pathlib import Path


def line(session, n):
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return json.dumps({
        "type": "assistant", "sessionId": session, "timestamp": ts,
        "requestId": f"req_live_{n}", "cwd": "/work/bench",
        "message": {"id": f"msg_live_{n}", "model": "claude-sonnet-4-5-20250929", "content": [],
                    "usage": {"input_tokens": 1200, "cache_creation_input_tokens": 300,
                              "cache_read_input_tokens": 40000, "output_tokens": 250}}}) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--bin", action="append", default=[])
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tokledger-live-"))
    dbs = []
    for i, _ in enumerate(a.bin):
        d = work / f"l{i}.db"
        shutil.copy(a.db, d)
        dbs.append(d)
    c = sqlite3.connect(f"file:{a.db}?mode=ro", uri=True)
    sid, path = c.execute(
        "SELECT s.session_id, s.path FROM sessions s JOIN session_usage u USING (tool, session_id) "
        "WHERE s.tool = 'claude' GROUP BY 1 ORDER BY sum(u.input_tokens + u.cache_read_tokens) DESC LIMIT 1").fetchone()
    c.close()
    transcript = Path(path)
    backup = transcript.read_bytes()
    env = {"HOME": a.home, "PATH": os.environ.get("PATH", ""), "TZ": "UTC", "NO_COLOR": "1",
           "XDG_STATE_HOME": str(work / "state")}
    payload = json.dumps({"session_id": sid, "transcript_path": str(transcript), "cwd": "/work/bench",
                          "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
                          "workspace": {"current_dir": "/work/bench"}, "version": "2.0.0"})
    t = {k: [[] for _ in a.bin] for k in ("start", "new", "same", "mark")}

    def run(i, args, stdin=None):
        t0 = time.monotonic()
        out = subprocess.run([a.bin[i], "--db", str(dbs[i]), *args], env=env, input=stdin,
                             capture_output=True, text=True)
        took = (time.monotonic() - t0) * 1000
        if out.returncode != 0:
            sys.exit(f"{args[0]}: exit {out.returncode}: {out.stderr[-300:]}")
        return took, out.stdout.strip()

    ids = []
    try:
        for i in range(len(a.bin)):
            took, aid = run(i, ["analysis", "start", "--source-id", "live", "--tool", "claude",
                                "--usage-session-id", sid])
            t["start"][i].append(took)
            ids.append(aid)
        for n in range(a.runs):
            with transcript.open("a") as f:
                f.write(line(sid, n))
            for i in range(len(a.bin)):
                t["new"][i].append(run(i, ["statusline"], payload)[0])
            for i in range(len(a.bin)):
                t["same"][i].append(run(i, ["statusline"], payload)[0])
            for i in range(len(a.bin)):
                t["mark"][i].append(run(i, ["analysis", "mark", "--id", ids[i], "--stage", f"s{n}"])[0])
            # A start on a session already read (the common case).
            for i in range(len(a.bin)):
                t["start"][i].append(run(i, ["analysis", "start", "--source-id", "live", "--tool",
                                             "claude", "--usage-session-id", sid])[0])
    finally:
        transcript.write_bytes(backup)
    print(f"ledger {a.db} ({Path(a.db).stat().st_size >> 20} MiB), session {sid} "
          f"({len(backup) / (1 << 20):.1f} MiB), {a.runs} runs, alternating")
    for k, label in (("new", "statusline after a new response"), ("same", "statusline, nothing new"),
                     ("mark", "mark after a new response"), ("start", "start (session read)")):
        for i, b in enumerate(a.bin):
            v = t[k][i]
            print(f"  {label:34} [{i}] median {statistics.median(v):6.1f} ms ({min(v):.1f}-{max(v):.1f})")
    for i, b in enumerate(a.bin):
        print(f"  [{i}] = {b}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
