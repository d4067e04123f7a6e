"""Shared pieces of bench_ingest.py and bench_scale.py: build, histories, timing, checks.

Python 3.11 standard library only. Everything is written under bench-out/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "bench-out")
LOGS = os.path.join(OUT, "logs")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import gen_history  # noqa: E402
import gen_shapes  # noqa: E402

CCUSAGE_VERSION = "20.0.24"  # 20.0.26 has no linux-x64 package
# Variables that would point a tool at real transcripts or another ledger.
SCRUB = ("CLAUDE_CONFIG_DIR", "CODEX_HOME", "AMP_DATA_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
         "XDG_STATE_HOME", "TOKLEDGER_DB", "TOKLEDGER_SESSION_ID", "CODEX_THREAD_ID", "CLAUDE_CODE_SESSION_ID",
         "OPENCODE_DB", "GEMINI_CLI_HOME", "TOKLEDGER_PRICES")


def say(msg):
    print("\n== %s" % msg, flush=True)


def med(xs):
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------------------- tools
def tokledger_binary(build: bool):
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    binary = os.environ.get("TOKLEDGER_BIN") or os.path.join(target, "release", "tokledger")
    if build:
        say("cargo build --release")
        if subprocess.run(["cargo", "build", "--release"], cwd=ROOT).returncode != 0:
            print("cargo build --release FAILED; the tokledger part is skipped", file=sys.stderr)
            return None
    if not os.access(binary, os.X_OK):
        print("%s not found; the tokledger part is skipped" % binary, file=sys.stderr)
        return None
    return binary


def ccusage_binary():
    pkg = "@ccusage/ccusage-linux-arm64" if os.uname().machine in ("aarch64", "arm64") else "@ccusage/ccusage-linux-x64"
    prefix = os.path.join(OUT, "ccusage")
    binary = os.path.join(prefix, "node_modules", pkg, "bin", "ccusage")
    if not os.path.isfile(binary):
        say("installing ccusage@%s into bench-out/ccusage" % CCUSAGE_VERSION)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", prefix,
                        "ccusage@" + CCUSAGE_VERSION, "%s@%s" % (pkg, CCUSAGE_VERSION)])
    if not os.path.isfile(binary):
        print("ccusage native binary not found at %s; the ccusage part is skipped" % binary, file=sys.stderr)
        return None
    os.chmod(binary, 0o755)  # npm does not keep the exec bit
    return binary


# ---------------------------------------------------------------------------- histories
def history_dir(shape, mb, seed):
    return os.path.join(OUT, "shapes", "%s-%gmb-s%d" % (shape, mb, seed))


def history_version(shape):
    return gen_history.GENERATOR_VERSION if shape == "mixed" else gen_shapes.SHAPES_VERSION


def ensure_history(shape, mb, seed, tokledger=None, ccusage=None):
    """The generated HOME for (shape, mb, seed), reused when its expected.json says it matches."""
    home = history_dir(shape, mb, seed)
    try:
        g = json.load(open(os.path.join(home, "expected.json"))).get("generator", {})
        if (g.get("shape", "mixed") == shape and float(g.get("mb", -1)) == float(mb) and int(g.get("seed", -1)) == seed
                and int(g.get("version", -1)) == history_version(shape)):
            say("reusing %s" % os.path.relpath(home, ROOT))
            return home
    except (OSError, ValueError):
        pass
    say("generating %s (--shape %s --mb %g --seed %d)" % (os.path.relpath(home, ROOT), shape, mb, seed))
    shutil.rmtree(home, ignore_errors=True)
    t = time.monotonic()
    gen_shapes.generate(home, shape, mb, seed, tokledger=tokledger, ccusage=ccusage)
    print("  generated in %.0f s" % (time.monotonic() - t))
    return home


def history_files(home):
    """Every transcript file of a generated HOME (not expected.json), sorted."""
    out = []
    for d, _, names in os.walk(home):
        for n in names:
            p = os.path.join(d, n)
            if p != os.path.join(home, "expected.json"):
                out.append(p)
    out.sort()
    return out


def warm_page_cache(files):
    # Dropping caches on a shared machine is not an option: every run reads from a warm cache.
    buf = bytearray(1 << 20)
    for p in files:
        with open(p, "rb", buffering=0) as f:
            while f.readinto(buf):
                pass


# ---------------------------------------------------------------------------- running
def run_env(home, **extra):
    env = {k: v for k, v in os.environ.items() if k not in SCRUB}
    env.update(HOME=home, NO_COLOR="1", TZ="UTC")
    env.update(extra)
    return env


def ensure_gnu_time():
    if os.access("/usr/bin/time", os.X_OK):
        return
    say("installing GNU time (/usr/bin/time is missing)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=False)
    if subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "time"]).returncode != 0:
        raise SystemExit("could not install the Debian 'time' package")


def timed(cmd, env, stdout=subprocess.DEVNULL, stdin_data=None, err_path=None):
    """Run cmd once under /usr/bin/time. Wall: perf_counter around it (includes process start).
    CPU (user + sys): the rusage of the whole run from os.wait4, at microsecond resolution (GNU
    time's %U/%S have 10 ms steps; its own share is ~1 ms). Peak RSS: GNU time's %M, because a
    child forked from Python inherits Python's ~25 MB high-water mark in its rusage, while one
    forked from GNU time inherits ~2 MB."""
    fd, tf = tempfile.mkstemp(prefix="bench-time-")
    os.close(fd)
    err = open(err_path, "wb") if err_path else subprocess.DEVNULL
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", tf] + list(cmd), env=env, stdout=stdout, stderr=err,
                             stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL)
        if stdin_data is not None:
            try:
                p.stdin.write(stdin_data if isinstance(stdin_data, bytes) else stdin_data.encode())
                p.stdin.close()
            except BrokenPipeError:
                pass
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        last = (open(tf).read().strip().splitlines() or [""])[-1]
    finally:
        if err_path:
            err.close()
        os.remove(tf)
    return {"wall": wall, "rc": p.returncode, "user": ru.ru_utime, "sys": ru.ru_stime,
            "cpu": ru.ru_utime + ru.ru_stime, "rss_kb": int(last) if last.isdigit() else None}


def clear_ledger(db):
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)


def summarize(runs):
    ok = [r for r in runs if r["rc"] == 0 and r["rss_kb"] is not None]
    if not ok:
        return None
    w = [r["wall"] for r in ok]
    c = [r["cpu"] for r in ok]
    m = [r["rss_kb"] / 1024 for r in ok]
    return {"n": len(runs), "ok": len(ok), "wall": med(w), "wall_min": min(w), "wall_max": max(w), "cpu": med(c),
            "cpu_min": min(c), "cpu_max": max(c), "rss_mb": med(m), "rss_max": max(m)}


def fmt_row(label, s):
    if s is None:
        return "  %-34s every run failed" % label
    return "  %-34s %8.3f s (%.3f-%.3f)  cpu %7.3f s (%.3f-%.3f)  rss %6.0f MB%s" % (
        label, s["wall"], s["wall_min"], s["wall_max"], s["cpu"], s["cpu_min"], s["cpu_max"], s["rss_mb"],
        "" if s["ok"] == s["n"] else "  (%d of %d runs failed)" % (s["n"] - s["ok"], s["n"]))


def load_load():
    try:
        return open("/proc/loadavg").read().split()[:3]
    except OSError:
        return ["?"] * 3


def git_head():
    p = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True)
    return p.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


# ---------------------------------------------------------------------------- correctness
SESSION_RE = re.compile(r"(T-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TOK_FIELDS = [("input_tokens", "input_tokens"), ("cache_creation_tokens", "cache_creation_tokens"),
              ("cache_read_tokens", "cache_read_tokens"), ("output_tokens", "output_tokens"),
              ("reasoning_tokens", "reasoning_tokens"), ("tokens_so_far", "total_tokens")]
CC_FIELDS = [("inputTokens", "input_tokens"), ("cacheCreationTokens", "cache_creation_tokens"),
             ("cacheReadTokens", "cache_read_tokens"), ("outputTokens", "output_tokens"), ("totalTokens", "total_tokens")]


def load_json(path):
    try:
        return json.load(open(path)), None
    except (OSError, ValueError) as e:
        return None, str(e)


def check_tokledger(path, exp):
    """(ok, lines): per-tool totals, session counts and per-session totals against expected.json."""
    doc, err = load_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("sessions"), list):
        return False, ["MISMATCH: no sessions array (%s)" % (err or "bad document")]
    agg, per = {}, {}
    for s in doc["sessions"]:
        a = agg.setdefault(s.get("tool"), dict.fromkeys([k for k, _ in TOK_FIELDS] + ["sessions"], 0))
        a["sessions"] += 1
        for k, _ in TOK_FIELDS:
            a[k] += int(s.get(k) or 0)
        m = SESSION_RE.search(str(s.get("session_id", "")))
        if m:
            per.setdefault(s.get("tool"), {})[m.group(0)] = s
    ok, lines = True, []
    for tool, want in exp["tools"].items():
        got = agg.get(tool)
        if got is None:
            ok = False
            lines.append("%-7s MISMATCH: no sessions" % tool)
            continue
        diffs = ["%s %d (expected %d, %+d)" % (k, got[k], want[ek], got[k] - want[ek])
                 for k, ek in TOK_FIELDS + [("sessions", "sessions")] if got[k] != want[ek]]
        bad = sum(1 for sid, w in exp["sessions"].get(tool, {}).items()
                  if per.get(tool, {}).get(sid, {}).get("tokens_so_far") != w["total_tokens"])
        good = not diffs and not bad
        ok &= good
        lines.append("%-7s %-8s total %d over %d sessions%s%s" % (
            tool, "OK" if good else "MISMATCH", got["tokens_so_far"], got["sessions"],
            "; " + "; ".join(diffs) if diffs else "", "; %d sessions differ or are missing" % bad if bad else ""))
    extra = sorted(set(agg) - set(exp["tools"]), key=str)
    if extra:
        ok = False
        lines.append("unexpected tools: %s" % ", ".join(map(str, extra)))
    return ok, lines


def check_ccusage(path, exp):
    """(ok, lines). Only Claude counts toward ok: ccusage's Codex/Amp rules differ (reported, not failed);
    for a derived expectation (real) only when ccusage agreed with tokledger on one copy."""
    doc, err = load_json(path)
    if not isinstance(doc, dict) or "session" not in doc:
        return False, ["could not read ccusage session output (%s)" % (err or "no 'session' array")]
    agg = {}
    for r in doc["session"]:
        a = agg.setdefault(r.get("agent"), dict.fromkeys([k for k, _ in CC_FIELDS] + ["sessions"], 0))
        a["sessions"] += 1
        for k, _ in CC_FIELDS:
            a[k] += int(r.get(k) or 0)
    enforce = exp.get("ccusage_agrees", {}).get("claude", True) if "ccusage_agrees" in exp else True
    ok, lines = True, []
    for tool, want in exp["tools"].items():
        got = agg.get(tool, dict.fromkeys([k for k, _ in CC_FIELDS] + ["sessions"], 0))
        diffs = ["%s %d vs %d" % (k, got[k], want[ek]) for k, ek in CC_FIELDS if got[k] != want[ek]]
        if got["sessions"] != want["sessions"]:
            diffs.append("sessions %d vs %d" % (got["sessions"], want["sessions"]))
        counts = tool == "claude" and enforce
        if diffs and counts:
            ok = False
        lines.append("%-7s %-8s total %d, %d sessions%s%s" % (
            tool, "OK" if not diffs else "MISMATCH" if counts else "differs", got["totalTokens"], got["sessions"],
            " (" + "; ".join(diffs) + ")" if diffs else "",
            "" if counts or not diffs else " [not a failure: %s]" % (
                "ccusage counts %s differently" % tool if tool != "claude" else "ccusage disagreed on one copy already")))
    return ok, lines
