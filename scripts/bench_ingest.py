#!/usr/bin/env python3
"""Ingest benchmark (issue #18): tokledger's first and repeated read of a whole history against
ccusage 20.0.24 and against a plain scan of the same bytes, on several history shapes.

Usage: python3 scripts/bench_ingest.py [--shapes mixed,codex,claude-tools,small,real] [--mb 400]
                                       [--runs 5] [--scan-runs 3] [--seed 1] [--no-build] [--strict]

Per shape (scripts/gen_shapes.py; a generated HOME under bench-out/shapes/ is reused when shape,
size, seed and generator version match):
  * the page cache is warmed (every file read once, untimed): dropping caches on a shared
    machine is not an option, so every number is a warm-cache number;
  * the plain-scan limit: `cat` of all files to /dev/null and `LC_ALL=C grep -c usage` of all
    files into a file (one process at a time, xargs), medians of --scan-runs;
  * --runs rounds, each: tokledger cold (fresh ledger) `analysis sessions list --all --json`,
    tokledger warm (same command, ledger kept), `ccusage session --offline --json`. Alternating
    run by run spreads the machine's background load evenly over the three;
  * wall = perf_counter around /usr/bin/time (includes process start); CPU = user + sys from
    the run's rusage (os.wait4, microseconds); peak RSS = GNU time's %M; medians with min-max;
  * correctness: the last cold and warm outputs against expected.json (per tool, per session);
    ccusage's Claude totals too (its Codex/Amp rules differ: reported, not failed).

Targets (#18), against ccusage session on every shape: cold wall <= 0.35x, cold CPU <= 0.3x,
cold peak RSS <= 0.3x, and cold wall <= 3x the grep scan. --strict: exit 1 on a miss, a failed
run or a wrong total. Environment isolated (only the fake HOME; TZ=UTC). Logs and a machine-
readable summary (bench-out/logs/ingest-summary.json) in bench-out/logs/.
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

TARGETS = (("cold/ccusage wall", "wall", 0.35), ("cold/ccusage CPU", "cpu", 0.30), ("cold/ccusage RSS", "rss", 0.30),
           ("cold/grep scan", "scan", 3.0))


def scan(files, runs, logs):
    """Plain-scan limits of the same bytes: cat to /dev/null, and a single-threaded grep -c."""
    listing = os.path.join(logs, "scan-files.list0")
    with open(listing, "wb") as f:
        f.write(b"\0".join(p.encode() for p in files) + b"\0")
    env = dict(os.environ, LC_ALL="C")
    out = {}
    # xargs runs one cat/grep at a time (several in a row only when the list exceeds ARG_MAX).
    # grep's counts go to a file, not /dev/null: GNU grep notices a /dev/null stdout and stops
    # at the first match of each file (as -q), which made it "scan" 400 MiB in 25 ms.
    for name, cmd in (("cat", "xargs -0 cat < %s > /dev/null" % listing),
                      ("grep", "xargs -0 grep -c usage < %s > %s" % (listing, os.path.join(logs, "scan-grep.out")))):
        out[name] = bl.summarize([bl.timed(["sh", "-c", cmd], env) for _ in range(runs)])
    return out


def bench_shape(shape, a, tok, cc):
    home = bl.ensure_history(shape, a.mb, a.seed, tokledger=tok, ccusage=cc)
    exp = json.load(open(os.path.join(home, "expected.json")))
    files = bl.history_files(home)
    nbytes = sum(os.path.getsize(p) for p in files)
    mib = nbytes / 1048576
    print("history: %s, %.1f MiB in %d files; expected total_tokens: %s" % (
        os.path.relpath(home, bl.ROOT), mib, len(files),
        ", ".join("%s %d" % (k, v["total_tokens"]) for k, v in exp["tools"].items())))
    logs = os.path.join(bl.LOGS, "ingest-" + shape)
    os.makedirs(logs, exist_ok=True)
    db = os.path.join(bl.OUT, "ledger-%s.db" % shape)
    env = bl.run_env(home)

    bl.say("%s: warming the page cache, then the plain scans (%d runs each)" % (shape, a.scan_runs))
    bl.warm_page_cache(files)
    sc = scan(files, a.scan_runs, logs)
    print(bl.fmt_row("cat all files > /dev/null", sc["cat"]))
    print(bl.fmt_row("LC_ALL=C grep -c usage, 1 process", sc["grep"]))

    bl.say("%s: timed runs (%d rounds: cold, warm, ccusage)" % (shape, a.runs))
    runs = {"cold": [], "warm": [], "ccusage": []}
    tok_cmd = [tok, "--db", db, "analysis", "sessions", "list", "--all", "--json"] if tok else None
    cc_cmd = [cc, "session", "--offline", "--json"] if cc else None
    for i in range(1, a.runs + 1):
        if tok_cmd:
            bl.clear_ledger(db)
            for kind in ("cold", "warm"):
                with open(os.path.join(logs, "tokledger-%s.json" % kind), "wb") as out:
                    r = bl.timed(tok_cmd, env, stdout=out, err_path=os.path.join(logs, "tokledger-%s.%d.err" % (kind, i)))
                runs[kind].append(r)
                print("  run %d %-8s %7.3f s  cpu %7.3f s  rss %6s KB  rc=%d" % (i, kind, r["wall"], r["cpu"] or -1,
                                                                              r["rss_kb"], r["rc"]), flush=True)
        if cc_cmd:
            with open(os.path.join(logs, "ccusage-session.json"), "wb") as out:
                r = bl.timed(cc_cmd, env, stdout=out, err_path=os.path.join(logs, "ccusage.%d.err" % i))
            runs["ccusage"].append(r)
            print("  run %d %-8s %7.3f s  cpu %7.3f s  rss %6s KB  rc=%d" % (i, "ccusage", r["wall"], r["cpu"] or -1,
                                                                          r["rss_kb"], r["rc"]), flush=True)
    ledger_mb = os.path.getsize(db) / 1048576 if os.path.exists(db) else None
    s = {k: bl.summarize(v) for k, v in runs.items()}

    bl.say("%s: results (%.1f MiB, %d files, %d runs, medians with min-max)" % (shape, mib, len(files), a.runs))
    for k, label in (("cold", "tokledger cold (fresh ledger)"), ("warm", "tokledger warm (ledger kept)"),
                     ("ccusage", "ccusage session --offline --json")):
        print(bl.fmt_row(label, s[k]) if runs[k] else "  %-34s not run" % label)
    print(bl.fmt_row("scan: cat", sc["cat"]))
    print(bl.fmt_row("scan: grep -c", sc["grep"]))

    def ratio(x, y, key):
        return x[key] / y[key] if x and y and y[key] else None

    cold, warm, ccs = s["cold"], s["warm"], s["ccusage"]
    ratios = {
        "wall": ratio(cold, ccs, "wall"), "cpu": ratio(cold, ccs, "cpu"), "rss": ratio(cold, ccs, "rss_mb"),
        "warm": ratio(warm, ccs, "wall"), "scan": ratio(cold, sc["grep"], "wall"), "cat": ratio(cold, sc["cat"], "wall"),
        "mb_per_cpu_s": mib / cold["cpu"] if cold and cold["cpu"] else None,
        "ccusage_mb_per_cpu_s": mib / ccs["cpu"] if ccs and ccs["cpu"] else None,
    }
    fmt = lambda v, f="%.3fx": "n/a" if v is None else f % v  # noqa: E731
    print("  ratios: cold/ccusage wall %s, CPU %s, RSS %s; warm/ccusage wall %s; cold/grep scan %s, cold/cat %s;"
          % (fmt(ratios["wall"]), fmt(ratios["cpu"]), fmt(ratios["rss"]), fmt(ratios["warm"]), fmt(ratios["scan"]),
             fmt(ratios["cat"])))
    print("          cold %s MB per CPU-second (ccusage %s); ledger %s MB" % (
        fmt(ratios["mb_per_cpu_s"], "%.0f"), fmt(ratios["ccusage_mb_per_cpu_s"], "%.0f"), fmt(ledger_mb, "%.1f")))

    correct = {}
    for kind in ("cold", "warm"):
        if tok_cmd:
            ok, lines = bl.check_tokledger(os.path.join(logs, "tokledger-%s.json" % kind), exp)
            correct["tokledger_" + kind] = ok
            print("  correctness, tokledger %s vs expected.json: %s" % (kind, "OK" if ok else "MISMATCH"))
            for line in lines:
                print("    " + line)
    if cc_cmd:
        ok, lines = bl.check_ccusage(os.path.join(logs, "ccusage-session.json"), exp)
        correct["ccusage_claude"] = ok
        print("  correctness, ccusage session vs expected.json: %s" % ("OK" if ok else "MISMATCH"))
        for line in lines:
            print("    " + line)
    if shape == "real":
        print("  (real: expected = tokledger's totals on one rewritten copy x %d copies, per session through each "
              "copy's id map: a check that copies neither merge nor vanish)" % exp.get("copies", 0))
        if exp.get("ccusage_copy0") is not None:
            print("  ccusage on one copy: Claude totals %s tokledger's" % (
                "agree with" if exp.get("ccusage_agrees", {}).get("claude") else "DIFFER from"))
    failed_runs = sum(1 for v in runs.values() for r in v if r["rc"] != 0)
    return {"shape": shape, "home": os.path.relpath(home, bl.ROOT), "mib": mib, "files": len(files),
            "ledger_mb": ledger_mb, "scan": sc, "summary": s, "ratios": ratios, "correct": correct,
            "failed_runs": failed_runs, "runs": runs}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shapes", default=",".join(bl.gen_shapes.SHAPES))
    ap.add_argument("--mb", type=float, default=400)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scan-runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--strict", action="store_true")
    a = ap.parse_args()
    shapes = [s.strip() for s in a.shapes.split(",") if s.strip()]
    bad = [s for s in shapes if s not in bl.gen_shapes.ALL_SHAPES]
    if bad or a.runs < 1 or a.mb <= 0:
        ap.error("unknown shape(s) %s (known: %s)" % (bad, ", ".join(bl.gen_shapes.ALL_SHAPES)) if bad else
                 "--runs and --mb must be positive")
    os.makedirs(bl.LOGS, exist_ok=True)
    bl.ensure_gnu_time()
    tok = bl.tokledger_binary(not a.no_build)
    cc = bl.ccusage_binary()
    if cc:
        v = subprocess.run([cc, "--version"], capture_output=True, text=True).stdout.strip()
        print("ccusage: %s (%s)" % (cc, v))
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load0 = bl.load_load()
    results = [bench_shape(s, a, tok, cc) for s in shapes]
    load1 = bl.load_load()

    bl.say("summary (--mb %g, %d runs; commit %s; load average %s at start, %s at end)" % (
        a.mb, a.runs, bl.git_head(), " ".join(load0), " ".join(load1)))
    hdr = "%-13s %7s %7s %7s %7s %7s %7s %7s %7s  %s"
    print(hdr % ("shape", "MiB", "cold s", "warm s", "ccu s", "grep s", "wall x", "CPU x", "RSS x", "cold/scan, MB/cpu-s, totals"))
    problems = 0
    for r in results:
        s, q = r["summary"], r["ratios"]
        g = lambda d, k: "%7.3f" % d[k] if d else "    n/a"  # noqa: E731
        x = lambda v: "%6.3fx" % v if v is not None else "    n/a"  # noqa: E731
        totals_ok = bool(tok) and all(r["correct"].values())
        print(hdr % (r["shape"], "%.0f" % r["mib"], g(s["cold"], "wall"), g(s["warm"], "wall"), g(s["ccusage"], "wall"),
                     g(r["scan"]["grep"], "wall"), x(q["wall"]), x(q["cpu"]), x(q["rss"]),
                     "%s, %s, %s" % (x(q["scan"]).strip(), "%.0f" % q["mb_per_cpu_s"] if q["mb_per_cpu_s"] else "n/a",
                                     "exact" if totals_ok else "MISMATCH")))
        problems += (not totals_ok) + (r["failed_runs"] > 0)
    print("\ntargets (#18): met / MISSED per shape")
    print("%-13s " % "shape" + " ".join("%-26s" % ("%s <= %g" % (lab, lim)) for lab, _, lim in TARGETS) + " totals")
    for r in results:
        cells = []
        r["targets"] = {}
        for lab, key, lim in TARGETS:
            v = r["ratios"][key]
            met = v is not None and v <= lim
            r["targets"][lab] = {"value": v, "limit": lim, "met": met}
            problems += not met
            cells.append("%-26s" % ("n/a MISSED" if v is None else "%.3f %s" % (v, "met" if met else "MISSED")))
        print("%-13s " % r["shape"] + " ".join(cells) + " " + (
            "exact" if tok and all(r["correct"].values()) else "not checked (no tokledger)" if not tok else "MISMATCH " + ",".join(k for k, v in r["correct"].items() if not v)))
    summary = {"started": started, "commit": bl.git_head(), "load_average": {"start": load0, "end": load1},
               "mb": a.mb, "runs": a.runs, "seed": a.seed, "tokledger": tok, "ccusage": cc, "results": results,
               "problems": problems}
    path = os.path.join(bl.LOGS, "ingest-summary.json")
    with open(path, "w") as f:
        json.dump(summary, f, indent=1)
    print("\nsummary written to %s; logs in bench-out/logs/ingest-<shape>/" % os.path.relpath(path, bl.ROOT))
    print("notes: wall = perf_counter around /usr/bin/time (includes process start); CPU = user+sys from the\n"
          "       run's rusage (wait4); peak RSS = GNU time %M; medians; page cache warm for every run")
    return 1 if a.strict and (problems or not tok or not cc) else 0


if __name__ == "__main__":
    sys.exit(main())
