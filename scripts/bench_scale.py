#!/usr/bin/env python3
"""Scale benchmark (issue #18): does a first read grow linearly with the history, and do the
commands that run on the resulting ledger stay fast?

Usage: python3 scripts/bench_scale.py [--sizes 400,1600,4000] [--shape user] [--runs 3]
                                      [--big-runs 2] [--reports 5] [--marks 20]
                                      [--statuslines 20] [--seed 1] [--no-build] [--clean]

Default history: the `user` shape of scripts/gen_shapes.py, a user-like mix by bytes of 60 %
replicated real transcripts (half Codex, half Claude, some Amp), 25 % tool-result-heavy Claude
and 15 % many small files. Sizes in MiB. A history is generated once under bench-out/shapes/ and
reused (delete it, or pass --clean to delete it after the run).

Per size, page cache warm (every file read once, untimed):
  * rounds (--runs for sizes up to 1000 MiB, --big-runs above): fresh ledger, cold
    `analysis sessions list --all --json`; right after it the first `report daily --json` (it
    pays for whatever the list deferred, e.g. pricing); then a warm `sessions list`. Wall, CPU
    (user+sys) and peak RSS of each;
  * ledger size after the last round (the .db, and any -wal left), MB per GB of history;
  * warm `report <every subcommand> --json`, median of --reports each;
  * on the largest Claude session: `analysis start --usage-session-id`, --marks `analysis mark`
    (a response appended to the transcript before every other one, as during work), `complete`;
    the deltas are checked against what was appended;
  * --statuslines `statusline` runs with Claude Code's status JSON on stdin (bench_statusline.py),
    half after an appended response. The transcript is restored afterwards.

Targets (#18), printed met/MISSED: per-GB cold time of each size within 10 % of the smallest
size's; peak RSS not growing (each size <= 1.2x the smallest's); start and mark <= 10 ms; every
warm report <= 0.2 s, statusline <= 30 ms (medians; asked of the largest ledger, shown for
all); deferred work: the first report daily after a cold list <= 2x a warm one (it pays no more
than its own share again). Summary: bench-out/logs/scale-summary.json.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

REPORTS = ("daily", "weekly", "monthly", "session", "model", "tools", "files", "compactions", "blocks")
APPENDED_TOKENS = 1200 + 300 + 40000 + 250


def response_line(session, n):
    """One complete Claude response line, as bench_statusline.py appends (its tokens: APPENDED_TOKENS)."""
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return json.dumps({
        "type": "assistant", "sessionId": session, "timestamp": ts, "requestId": "req_scale_%d_%d" % (os.getpid(), n),
        "cwd": "/work/bench",
        "message": {"id": "msg_scale_%d_%d" % (os.getpid(), n), "model": "claude-sonnet-4-5-20250929", "content": [],
                    "usage": {"input_tokens": 1200, "cache_creation_input_tokens": 300,
                              "cache_read_input_tokens": 40000, "output_tokens": 250}}}) + "\n"


def ms(x):
    return "n/a" if x is None else "%.1f ms" % (x * 1000)


def bench_size(mb, a, tok):
    home = bl.ensure_history(a.shape, mb, a.seed, tokledger=tok)
    exp = json.load(open(os.path.join(home, "expected.json")))
    files = bl.history_files(home)
    nbytes = sum(os.path.getsize(p) for p in files)
    gib = nbytes / (1 << 30)
    print("history: %s, %.0f MiB in %d files" % (os.path.relpath(home, bl.ROOT), nbytes / 1048576, len(files)))
    logs = os.path.join(bl.LOGS, "scale-%g" % mb)
    os.makedirs(logs, exist_ok=True)
    db = os.path.join(bl.OUT, "scale-ledger.db")
    env = bl.run_env(home)
    base = [tok, "--db", db]
    bl.say("%g MiB: warming the page cache" % mb)
    bl.warm_page_cache(files)

    rounds = a.runs if mb <= 1000 else a.big_runs
    res = {"cold": [], "first_daily": [], "warm": []}
    cold_json = os.path.join(logs, "cold.json")
    bl.say("%g MiB: %d rounds: cold sessions list, first report daily, warm sessions list" % (mb, rounds))
    for i in range(1, rounds + 1):
        bl.clear_ledger(db)
        with open(cold_json, "wb") as out:
            r = bl.timed(base + ["analysis", "sessions", "list", "--all", "--json"], env, stdout=out,
                         err_path=os.path.join(logs, "cold.%d.err" % i))
        res["cold"].append(r)
        r2 = bl.timed(base + ["report", "daily", "--json"], env, err_path=os.path.join(logs, "first-daily.%d.err" % i))
        res["first_daily"].append(r2)
        r3 = bl.timed(base + ["analysis", "sessions", "list", "--all", "--json"], env)
        res["warm"].append(r3)
        print("  round %d: cold %.3f s (cpu %.3f s, rss %s KB), first report daily %.3f s, warm list %.3f s; rc %d/%d/%d"
              % (i, r["wall"], r["cpu"], r["rss_kb"], r2["wall"], r3["wall"], r["rc"], r2["rc"], r3["rc"]), flush=True)
    ok, lines = bl.check_tokledger(cold_json, exp)
    print("  totals of the last cold read vs expected.json: %s" % ("exact" if ok else "MISMATCH"))
    for line in lines:
        print("    " + line)
    ledger = os.path.getsize(db) if os.path.exists(db) else 0
    wal = os.path.getsize(db + "-wal") if os.path.exists(db + "-wal") else 0

    bl.say("%g MiB: warm reports (%d runs each, --json)" % (mb, a.reports))
    reports = {}
    for name in REPORTS:
        rs = [bl.timed(base + ["report", name, "--json"], env, err_path=os.path.join(logs, "report-%s.err" % name))
              for _ in range(a.reports)]
        reports[name] = bl.summarize(rs)
        print(bl.fmt_row("report " + name, reports[name]))

    # ---------------------------------------------------------------- start / mark / complete
    sessions = json.load(open(cold_json))["sessions"]
    claude = [s for s in sessions if s["tool"] == "claude" and s.get("path")]
    target = max(claude, key=lambda s: s["tokens_so_far"])
    transcript = target["path"]
    sid = target["session_id"]
    backup = open(transcript, "rb").read()
    print("\n  session for start/mark/statusline: %s (%.1f MiB, %d tokens)" % (sid, len(backup) / 1048576,
                                                                          target["tokens_so_far"]))
    marks, marks_new, marks_same, status_new, status_same = [], [], [], [], []
    want, mark_ok, status_codes = [], None, set()
    try:
        st = bl.timed(base + ["analysis", "start", "--source-id", "bench-scale", "--tool", "claude",
                              "--usage-session-id", sid], env, stdout=open(os.path.join(logs, "start.out"), "wb"),
                      err_path=os.path.join(logs, "start.err"))
        aid = open(os.path.join(logs, "start.out")).read().strip()
        n = 0
        for i in range(a.marks):
            appended = i % 2 == 0
            if appended:
                with open(transcript, "a") as f:
                    f.write(response_line(sid, n))
                n += 1
            want.append(APPENDED_TOKENS if appended else 0)
            r = bl.timed(base + ["analysis", "mark", "--id", aid, "--stage", "s%d" % i], env,
                         err_path=os.path.join(logs, "mark.err"))
            marks.append(r)
            (marks_new if appended else marks_same).append(r["wall"])
        cp = bl.timed(base + ["analysis", "complete", "--id", aid], env, err_path=os.path.join(logs, "complete.err"))
        shown = subprocess.run(base + ["analysis", "show", "--id", aid, "--json"], env=env, capture_output=True, text=True)
        try:
            got = [s["delta"] for s in json.loads(shown.stdout)["stages"]]
            mark_ok = got == want
        except (ValueError, KeyError):
            got, mark_ok = None, False
        payload = json.dumps({"session_id": sid, "transcript_path": transcript, "cwd": "/work/bench",
                              "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
                              "workspace": {"current_dir": "/work/bench", "project_dir": "/work/bench"},
                              "version": "2.0.0", "cost": {"total_cost_usd": 1.0}})
        for i in range(a.statuslines):
            appended = i % 2 == 0
            if appended:
                with open(transcript, "a") as f:
                    f.write(response_line(sid, n))
                n += 1
            r = bl.timed(base + ["statusline"], env, stdin_data=payload, err_path=os.path.join(logs, "statusline.err"))
            status_codes.add(r["rc"])
            (status_new if appended else status_same).append(r["wall"])
    finally:
        with open(transcript, "wb") as f:
            f.write(backup)  # the history stays as generated, so it can be reused
    mark_walls = [r["wall"] for r in marks if r["rc"] == 0]
    mark_cpu = [r["cpu"] for r in marks if r["rc"] == 0]
    statuses = status_new + status_same
    out = {
        "mb": mb, "bytes": nbytes, "gib": gib, "files": len(files), "totals_exact": ok,
        "cold": bl.summarize(res["cold"]), "first_daily": bl.summarize(res["first_daily"]), "warm": bl.summarize(res["warm"]),
        "ledger_bytes": ledger, "wal_bytes": wal, "ledger_mb_per_gb": ledger / 1048576 / (nbytes / 1e9),
        "reports": reports,
        "start_s": st["wall"] if st["rc"] == 0 else None, "complete_s": cp["wall"] if cp["rc"] == 0 else None,
        "mark_median_s": bl.med(mark_walls), "mark_max_s": max(mark_walls) if mark_walls else None,
        "mark_new_median_s": bl.med(marks_new), "mark_same_median_s": bl.med(marks_same),
        "mark_cpu_median_s": bl.med(mark_cpu), "start_cpu_s": st["cpu"],
        "mark_deltas_exact": mark_ok, "marks_failed": sum(1 for r in marks if r["rc"] != 0),
        "statusline_median_s": bl.med(statuses), "statusline_max_s": max(statuses) if statuses else None,
        "statusline_new_median_s": bl.med(status_new), "statusline_same_median_s": bl.med(status_same),
        "statusline_codes": sorted(status_codes), "session": sid,
        "runs": {k: v for k, v in res.items()},
    }
    c, w, f = out["cold"], out["warm"], out["first_daily"]
    bl.say("%g MiB: results" % mb)
    print(bl.fmt_row("cold sessions list", c))
    print(bl.fmt_row("warm sessions list", w))
    print(bl.fmt_row("first report daily after cold", f))
    print("  ledger %.1f MB (+ wal %.1f MB): %.1f MB per GB of history" % (ledger / 1048576, wal / 1048576,
                                                                        out["ledger_mb_per_gb"]))
    print("  start %s (cpu %s); mark median %s (cpu %s, max %s; after a new response %s, nothing new %s), deltas %s;"
          " complete %s" % (ms(out["start_s"]), ms(out["start_cpu_s"]), ms(out["mark_median_s"]),
                            ms(out["mark_cpu_median_s"]), ms(out["mark_max_s"]), ms(out["mark_new_median_s"]),
                            ms(out["mark_same_median_s"]), "exact" if mark_ok else "WRONG (%s)" % got,
                            ms(out["complete_s"])))
    print("  statusline median %s (max %s; after a new response %s, nothing new %s), exit codes %s" % (
        ms(out["statusline_median_s"]), ms(out["statusline_max_s"]), ms(out["statusline_new_median_s"]),
        ms(out["statusline_same_median_s"]), out["statusline_codes"]))
    if a.clean:
        shutil.rmtree(home, ignore_errors=True)
        print("  --clean: removed %s" % os.path.relpath(home, bl.ROOT))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="400,1600,4000", help="history sizes in MiB")
    ap.add_argument("--shape", default="user", choices=bl.gen_shapes.ALL_SHAPES)
    ap.add_argument("--runs", type=int, default=3, help="cold rounds for sizes up to 1000 MiB")
    ap.add_argument("--big-runs", type=int, default=2, help="cold rounds above 1000 MiB")
    ap.add_argument("--reports", type=int, default=5)
    ap.add_argument("--marks", type=int, default=20)
    ap.add_argument("--statuslines", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--clean", action="store_true", help="delete each generated history after its run")
    ap.add_argument("--strict", action="store_true", help="exit 1 on a missed target or a wrong total")
    a = ap.parse_args()
    sizes = sorted(float(x) for x in a.sizes.split(",") if x.strip())
    os.makedirs(bl.LOGS, exist_ok=True)
    bl.ensure_gnu_time()
    tok = bl.tokledger_binary(not a.no_build)
    if not tok:
        return 1
    load0 = bl.load_load()
    results = [bench_size(mb, a, tok) for mb in sizes]
    load1 = bl.load_load()

    bl.say("summary (shape %s; commit %s; load average %s at start, %s at end)" % (
        a.shape, bl.git_head(), " ".join(load0), " ".join(load1)))
    base = results[0]
    print("%-9s %8s %9s %9s %9s %8s %9s %9s %9s %9s %9s" % ("size", "cold s", "s per GB", "vs first", "cpu s", "RSS MB",
                                                           "warm s", "1st daily", "ledger MB", "MB/GB", "totals"))
    for r in results:
        c = r["cold"]
        per_gb = c["wall"] / r["gib"] if c else None
        r["cold_s_per_gb"] = per_gb
        r["linearity"] = per_gb / base["cold_s_per_gb"] if c and base.get("cold_s_per_gb") else None
        print("%-9s %8.3f %9.3f %8.3fx %9.3f %8.0f %9.3f %9.3f %9.1f %9.1f %9s" % (
            "%g MiB" % r["mb"], c["wall"], per_gb, r["linearity"] or 0, c["cpu"], c["rss_mb"], r["warm"]["wall"],
            r["first_daily"]["wall"], r["ledger_bytes"] / 1048576, r["ledger_mb_per_gb"],
            "exact" if r["totals_exact"] else "MISMATCH"))
    print("\nwarm reports (median s): " + "  ".join("%s" % n for n in REPORTS))
    for r in results:
        print("  %-8s " % ("%g MiB" % r["mb"]) + "  ".join("%s=%.3f" % (n, r["reports"][n]["wall"]) if r["reports"][n]
                                                         else "%s=fail" % n for n in REPORTS))

    problems = 0
    print("\ntargets (#18):")

    def target(label, value, limit, unit="", applies=True):
        nonlocal problems
        if value is None:
            met = False
            shown = "n/a"
        else:
            met = value <= limit
            shown = unit % value if unit else "%.3f" % value
        if applies:
            problems += not met
        print("  %-68s %-12s (<= %s) %s%s" % (label, shown, unit % limit if unit else limit, "met" if met else "MISSED",
                                              "" if applies else "  [informative: asked of the largest ledger]"))
        return met

    for r in results[1:]:
        if r["linearity"] is not None:
            # within 10 % either way
            dev = abs(r["linearity"] - 1)
            target("%g MiB: per-GB cold time vs %g MiB (|x - 1|)" % (r["mb"], base["mb"]), dev, 0.10)
        target("%g MiB: cold peak RSS vs %g MiB" % (r["mb"], base["mb"]),
               r["cold"]["rss_mb"] / base["cold"]["rss_mb"] if r["cold"] and base["cold"] else None, 1.2)
    last = results[-1]
    for r in results:
        big = r is last
        tag = "%g MiB: " % r["mb"]
        target(tag + "analysis start", r["start_s"], 0.010, "%.4f s", applies=big)
        target(tag + "analysis mark (median of %d)" % a.marks, r["mark_median_s"], 0.010, "%.4f s", applies=big)
        worst = max(((n, s["wall"]) for n, s in r["reports"].items() if s), key=lambda x: x[1], default=(None, None))
        target(tag + "slowest warm report (%s)" % worst[0], worst[1], 0.2, "%.3f s", applies=big)
        target(tag + "statusline (median of %d)" % a.statuslines, r["statusline_median_s"], 0.030, "%.4f s", applies=big)
        fd = r["first_daily"]["wall"] / r["reports"]["daily"]["wall"] if r["first_daily"] and r["reports"]["daily"] else None
        target(tag + "first report daily after a cold list / warm report daily", fd, 2.0, "%.2fx", applies=big)
        problems += (not r["totals_exact"]) + (not r["mark_deltas_exact"]) + (r["statusline_codes"] != [0])
    summary = {"commit": bl.git_head(), "load_average": {"start": load0, "end": load1}, "shape": a.shape,
               "sizes": sizes, "tokledger": tok, "results": results, "problems": problems}
    path = os.path.join(bl.LOGS, "scale-summary.json")
    with open(path, "w") as f:
        json.dump(summary, f, indent=1)
    print("\nsummary written to %s" % os.path.relpath(path, bl.ROOT))
    return 1 if a.strict and problems else 0


if __name__ == "__main__":
    sys.exit(main())
