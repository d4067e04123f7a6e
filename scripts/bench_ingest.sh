#!/usr/bin/env bash
# Ingest benchmark: tokledger `analysis sessions list` (cold and warm ledger) against ccusage 20
# on the same synthetic history, with wall time, peak RSS and a correctness check.
#
# Usage: scripts/bench_ingest.sh [--mb 400] [--runs 3] [--seed 1] [--no-build] [--strict]
#
#   --mb N       size of the generated history in MiB (default 400)
#   --runs N     timed runs per command (default 3); medians are reported
#   --seed N     generator seed (default 1)
#   --no-build   do not run `cargo build --release` (use whatever binary is there)
#   --strict     exit 1 when a tokledger/ccusage run fails, a total does not match or a target
#                of issue #8 is missed (cold <= 0.5x, warm <= 0.05x, peak RSS <= 0.3x ccusage)
#
# Everything goes to bench-out/ (git-ignored):
#   bench-out/home/        fake HOME made by scripts/gen_history.py (reused when --mb, --seed and
#                          the generator version match; delete it to force a new one)
#   bench-out/home/expected.json   the exact totals of that history
#   bench-out/ccusage/     ccusage@20.0.24 + its native linux binary (installed once with npm)
#   bench-out/ledger.db    tokledger's ledger (deleted before every cold run)
#   bench-out/logs/        stderr of every run, timings.tsv, the JSON used for the checks
#
# "cold" means: no ledger. The OS page cache is warm for every run (the files are read once
# before timing), because dropping caches on a shared machine is not an option. Runs alternate
# tool by tool (cold, warm, ccusage session, ccusage daily) so that background load spreads evenly.
set -uo pipefail

MB=400
RUNS=3
SEED=1
BUILD=1
STRICT=0
CCUSAGE_VERSION=20.0.24

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --mb) MB="${2:?--mb needs a value}"; shift 2 ;;
        --mb=*) MB="${1#*=}"; shift ;;
        --runs) RUNS="${2:?--runs needs a value}"; shift 2 ;;
        --runs=*) RUNS="${1#*=}"; shift ;;
        --seed) SEED="${2:?--seed needs a value}"; shift 2 ;;
        --seed=*) SEED="${1#*=}"; shift ;;
        --no-build) BUILD=0; shift ;;
        --strict) STRICT=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench_ingest: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$RUNS" in ''|*[!0-9]*|0) echo "bench_ingest: --runs must be a positive integer" >&2; exit 2 ;; esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
OUT="$ROOT/bench-out"
HOME_DIR="$OUT/home"
LOGS="$OUT/logs"
DB="$OUT/ledger.db"
TIMINGS="$LOGS/timings.tsv"
mkdir -p "$OUT" "$LOGS"

PY="${PYTHON:-python3}"
FAILED=0
say() { printf '\n== %s\n' "$*"; }

# --------------------------------------------------------------------------- /usr/bin/time
if [ ! -x /usr/bin/time ]; then
    say "installing GNU time (/usr/bin/time is missing)"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq time \
        || { echo "bench_ingest: could not install the Debian 'time' package" >&2; exit 1; }
fi

# --------------------------------------------------------------------------- build tokledger
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
TOKLEDGER="$TARGET_DIR/release/tokledger"
TOK_OK=1
if [ "$BUILD" = 1 ]; then
    say "cargo build --release"
    cargo build --release 2>&1 | tail -n 20
    if [ "${PIPESTATUS[0]}" -ne 0 ]; then
        echo "bench_ingest: cargo build --release FAILED; the tokledger part is skipped" >&2
        TOK_OK=0
    fi
fi
if [ "$TOK_OK" = 1 ] && [ ! -x "$TOKLEDGER" ]; then
    echo "bench_ingest: $TOKLEDGER not found; the tokledger part is skipped" >&2
    TOK_OK=0
fi

# --------------------------------------------------------------------------- history
gen_matches() {
    [ -f "$HOME_DIR/expected.json" ] || return 1
    "$PY" - "$HOME_DIR/expected.json" "$MB" "$SEED" "$ROOT/scripts/gen_history.py" <<'EOF'
import json, re, sys
g = json.load(open(sys.argv[1])).get("generator", {})
m = re.search(r"^GENERATOR_VERSION = (\d+)", open(sys.argv[4]).read(), re.M)
ok = (float(g.get("mb", -1)) == float(sys.argv[2]) and int(g.get("seed", -1)) == int(sys.argv[3])
      and m is not None and int(g.get("version", -1)) == int(m.group(1)))
sys.exit(0 if ok else 1)
EOF
}
if gen_matches; then
    say "reusing $HOME_DIR (--mb $MB --seed $SEED)"
else
    say "generating $HOME_DIR (--mb $MB --seed $SEED)"
    rm -rf "$HOME_DIR"
    "$PY" "$ROOT/scripts/gen_history.py" "$HOME_DIR" --mb "$MB" --seed "$SEED" || { echo "bench_ingest: generation failed" >&2; exit 1; }
fi
"$PY" - "$HOME_DIR/expected.json" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))
f, t = e["files"], e["tools"]
print("data set: %.1f MiB; claude %d session files + %d sub-agent files (%d lines), codex %d rollouts "
      "(%d lines), amp %d threads" % (e["bytes"] / 1048576, f["claude_main"], f["claude_subagent"],
      e["lines"]["claude"], f["codex"], e["lines"]["codex"], f["amp"]))
print("expected total_tokens: " + ", ".join("%s %d" % (k, v["total_tokens"]) for k, v in t.items()))
EOF

# --------------------------------------------------------------------------- ccusage
case "$(uname -m)" in
    aarch64|arm64) CC_PKG="@ccusage/ccusage-linux-arm64" ;;
    *) CC_PKG="@ccusage/ccusage-linux-x64" ;;
esac
CCUSAGE="$OUT/ccusage/node_modules/$CC_PKG/bin/ccusage"
if [ ! -f "$CCUSAGE" ]; then
    say "installing ccusage@$CCUSAGE_VERSION into bench-out/ccusage"
    npm install --no-audit --no-fund --prefix "$OUT/ccusage" "ccusage@$CCUSAGE_VERSION" "$CC_PKG@$CCUSAGE_VERSION" \
        || { echo "bench_ingest: npm install of ccusage failed" >&2; }
fi
CC_OK=1
if [ -f "$CCUSAGE" ]; then
    chmod +x "$CCUSAGE"   # npm does not keep the exec bit; ccusage's cli.js chmods it at run time
    echo "ccusage: $CCUSAGE ($("$CCUSAGE" --version 2>/dev/null))"
else
    echo "bench_ingest: ccusage native binary not found at $CCUSAGE; the ccusage part is skipped" >&2
    CC_OK=0
fi

# --------------------------------------------------------------------------- runner
# Isolated environment: only the fake HOME, no variable pointing at real transcripts.
run_env() {
    env -u CLAUDE_CONFIG_DIR -u CODEX_HOME -u AMP_DATA_DIR -u XDG_DATA_HOME -u XDG_CONFIG_HOME \
        -u XDG_CACHE_HOME -u XDG_STATE_HOME -u TOKLEDGER_DB -u TOKLEDGER_SESSION_ID -u CODEX_THREAD_ID \
        HOME="$HOME_DIR" NO_COLOR=1 "$@"
}
TOK_CMD=("$TOKLEDGER" --db "$DB" analysis sessions list --all --json)
CC_SESSION=("$CCUSAGE" session --offline --json)
CC_DAILY=("$CCUSAGE" daily --offline --json)

# timed NAME RUN STDOUT_FILE CMD... : appends "name run wall_s rss_kb rc" to $TIMINGS
timed() {
    local name="$1" run="$2" stdout="$3"; shift 3
    local tf="$LOGS/time.$$"
    rm -f "$tf"
    local t0="$EPOCHREALTIME"
    run_env /usr/bin/time -f '%e %M' -o "$tf" "$@" >"$stdout" 2>"$LOGS/$name.$run.err"
    local rc=$?
    local t1="$EPOCHREALTIME"
    local wall="NA" rss="NA" gnu_wall=""
    if [ -s "$tf" ]; then read -r gnu_wall rss < <(tail -n 1 "$tf"); fi
    # GNU time writes "Command exited with non-zero status N" before the numbers.
    case "$rss" in ''|*[!0-9]*) rss="NA" ;; esac
    # Wall time: GNU time's %e has 10 ms resolution, too coarse for a warm run; take bash's
    # microsecond clock around the same call (adds ~1-2 ms of env + time start-up).
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$run" "$wall" "$rss" "$rc" >>"$TIMINGS"
    printf '  %-16s run %s: %7s s (time %%e %5s)  %8s KB  rc=%s\n' "$name" "$run" "$wall" "$gnu_wall" "$rss" "$rc"
    if [ "$rc" -ne 0 ]; then
        echo "    stderr (last lines of $LOGS/$name.$run.err):"
        tail -n 5 "$LOGS/$name.$run.err" | sed 's/^/      /'
    fi
    rm -f "$tf"
    return "$rc"
}
clear_ledger() { rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-journal"; }

say "warming the page cache (reading every file once, untimed)"
find "$HOME_DIR" -type f -exec cat {} + >/dev/null

printf 'name\trun\twall_s\trss_kb\trc\n' >"$TIMINGS"
say "timed runs ($RUNS each, alternating)"
for i in $(seq 1 "$RUNS"); do
    if [ "$TOK_OK" = 1 ]; then
        clear_ledger
        timed tokledger-cold "$i" /dev/null "${TOK_CMD[@]}" || FAILED=1
        timed tokledger-warm "$i" /dev/null "${TOK_CMD[@]}" || FAILED=1
    fi
    if [ "$CC_OK" = 1 ]; then
        timed ccusage-session "$i" /dev/null "${CC_SESSION[@]}" || FAILED=1
        timed ccusage-daily "$i" /dev/null "${CC_DAILY[@]}" || FAILED=1
    fi
done

# --------------------------------------------------------------------------- outputs for the checks
say "collecting JSON for the correctness check (untimed)"
TOK_COLD_JSON="$LOGS/tokledger-cold.json"
TOK_WARM_JSON="$LOGS/tokledger-warm.json"
CC_SESSION_JSON="$LOGS/ccusage-session.json"
CC_DAILY_JSON="$LOGS/ccusage-daily.json"
rm -f "$TOK_COLD_JSON" "$TOK_WARM_JSON" "$CC_SESSION_JSON" "$CC_DAILY_JSON"
if [ "$TOK_OK" = 1 ]; then
    clear_ledger
    run_env "${TOK_CMD[@]}" >"$TOK_COLD_JSON" 2>"$LOGS/check-cold.err" || echo "  tokledger cold run failed (rc=$?), see $LOGS/check-cold.err"
    run_env "${TOK_CMD[@]}" >"$TOK_WARM_JSON" 2>"$LOGS/check-warm.err" || echo "  tokledger warm run failed (rc=$?), see $LOGS/check-warm.err"
fi
if [ "$CC_OK" = 1 ]; then
    run_env "${CC_SESSION[@]}" >"$CC_SESSION_JSON" 2>"$LOGS/check-ccusage-session.err" || echo "  ccusage session failed (rc=$?)"
    run_env "${CC_DAILY[@]}" >"$CC_DAILY_JSON" 2>"$LOGS/check-ccusage-daily.err" || echo "  ccusage daily failed (rc=$?)"
fi

# --------------------------------------------------------------------------- report
say "results (--mb $MB, $RUNS runs, medians)"
"$PY" - "$TIMINGS" "$HOME_DIR/expected.json" "$TOK_COLD_JSON" "$TOK_WARM_JSON" "$CC_SESSION_JSON" \
        "$CC_DAILY_JSON" "$TOK_OK" "$CC_OK" <<'EOF'
import json, os, re, statistics, sys

timings, expected_path, tok_cold, tok_warm, cc_session, cc_daily, tok_ok, cc_ok = sys.argv[1:9]
exp = json.load(open(expected_path))
problems = 0

rows = {}
for line in open(timings).read().splitlines()[1:]:
    name, run, wall, rss, rc = line.split("\t")
    rows.setdefault(name, []).append((wall, rss, int(rc)))

LABEL = {
    "tokledger-cold": "tokledger sessions list, cold (no ledger)",
    "tokledger-warm": "tokledger sessions list, warm (ledger kept)",
    "ccusage-session": "ccusage session --offline --json",
    "ccusage-daily": "ccusage daily --offline --json",
}
med = {}
print("%-44s %4s %4s %9s %9s %9s %10s" % ("command", "runs", "ok", "wall med", "wall min", "wall max", "peak RSS"))
for name in ("tokledger-cold", "tokledger-warm", "ccusage-session", "ccusage-daily"):
    r = rows.get(name)
    if not r:
        print("%-44s %s" % (LABEL[name], "not run"))
        continue
    good = [(float(w), int(m)) for w, m, rc in r if rc == 0 and w != "NA" and m != "NA"]
    if not good:
        print("%-44s %4d %4d   (every run failed; see bench-out/logs/%s.*.err)" % (LABEL[name], len(r), 0, name))
        problems += 1
        continue
    if len(good) < len(r):
        problems += 1
    walls = [w for w, _ in good]
    rss = statistics.median([m for _, m in good]) / 1024.0
    med[name] = (statistics.median(walls), rss)
    print("%-44s %4d %4d %8.3fs %8.3fs %8.3fs %7.0f MB" % (LABEL[name], len(r), len(good), med[name][0],
                                                         min(walls), max(walls), rss))

print()
def ratio(a, b, label):
    if a in med and b in med and med[b][0] > 0:
        print("  %-46s %7.3fx" % (label, med[a][0] / med[b][0]))
    else:
        print("  %-46s %6s" % (label, "n/a"))
ratio("tokledger-cold", "ccusage-session", "tokledger cold / ccusage session (wall)")
ratio("tokledger-cold", "ccusage-daily", "tokledger cold / ccusage daily (wall)")
ratio("tokledger-warm", "tokledger-cold", "tokledger warm / tokledger cold (wall)")
ratio("tokledger-warm", "ccusage-session", "tokledger warm / ccusage session (wall)")
if "tokledger-cold" in med:
    print("  %-46s %6.0f MB (warm %s MB; ccusage session %s MB)" % (
        "tokledger peak RSS, cold", med["tokledger-cold"][1],
        "%.0f" % med["tokledger-warm"][1] if "tokledger-warm" in med else "n/a",
        "%.0f" % med["ccusage-session"][1] if "ccusage-session" in med else "n/a"))
else:
    print("  %-46s %6s" % ("tokledger peak RSS, cold", "n/a"))

# Issue #8's targets, against ccusage session: cold wall <= 0.5x, warm wall <= 0.05x, peak
# memory of a cold read <= 0.3x. A missed target counts as a problem (exit 1 with --strict).
print("\ntargets (#8, against ccusage session):")
for label, a, idx, limit in (("cold wall", "tokledger-cold", 0, 0.5),
                             ("warm wall", "tokledger-warm", 0, 0.05),
                             ("cold peak RSS", "tokledger-cold", 1, 0.3)):
    if a in med and "ccusage-session" in med and med["ccusage-session"][idx] > 0:
        r = med[a][idx] / med["ccusage-session"][idx]
        met = r <= limit
        problems += 0 if met else 1
        print("  %-14s %6.3fx  (<= %.2fx)  %s" % (label, r, limit, "met" if met else "MISSED"))
    else:
        print("  %-14s    n/a" % label)

# ------------------------------------------------------------------ correctness
FIELDS = [("input_tokens", "input_tokens"), ("cache_creation_tokens", "cache_creation_tokens"),
          ("cache_read_tokens", "cache_read_tokens"), ("output_tokens", "output_tokens"),
          ("tokens_so_far", "total_tokens")]
UUID_RE = re.compile(r"(T-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

def load(path):
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return None, "no output"
    try:
        return json.load(open(path)), None
    except ValueError as e:
        return None, "not JSON (%s)" % e

def check_tokledger(path, label):
    global problems
    print("\ncorrectness: tokledger %s vs expected.json" % label)
    doc, err = load(path)
    if doc is None or not isinstance(doc, dict) or not isinstance(doc.get("sessions"), list):
        print("  MISMATCH: %s" % (err or "no {\"sessions\": [...]} array"))
        problems += 1
        return
    agg, per = {}, {}
    for s in doc["sessions"]:
        tool = s.get("tool")
        a = agg.setdefault(tool, {k: 0 for k, _ in FIELDS} | {"reasoning_tokens": 0, "sessions": 0})
        a["sessions"] += 1
        for k in list(a):
            if k != "sessions" and isinstance(s.get(k), int):
                a[k] += s[k]
        m = UUID_RE.search(str(s.get("session_id", "")))
        if m:
            per.setdefault(tool, {})[m.group(0)] = s
    for tool, want in exp["tools"].items():
        got = agg.get(tool)
        if got is None:
            print("  %-7s MISMATCH: no sessions with tool=%r" % (tool, tool))
            problems += 1
            continue
        diffs = []
        for k, ek in FIELDS + [("reasoning_tokens", "reasoning_tokens"), ("sessions", "sessions")]:
            if got[k] != want[ek]:
                diffs.append("%s %d (expected %d, %+d)" % (k, got[k], want[ek], got[k] - want[ek]))
        bad = 0
        for sid, w in exp["sessions"][tool].items():
            g = per.get(tool, {}).get(sid)
            if g is None or g.get("tokens_so_far") != w["total_tokens"]:
                bad += 1
        status = "OK" if not diffs and not bad else "MISMATCH"
        if status != "OK":
            problems += 1
        print("  %-7s %-8s total %d over %d sessions%s%s" % (
            tool, status, got["tokens_so_far"], got["sessions"],
            "; " + "; ".join(diffs) if diffs else "",
            "; %d of %d sessions differ (or are missing) by tokens_so_far" % (bad, len(exp["sessions"][tool])) if bad else ""))
    extra = sorted(set(agg) - set(exp["tools"]))
    if extra:
        print("  unexpected tools in output: %s" % ", ".join(map(str, extra)))
        problems += 1

if tok_ok == "1":
    check_tokledger(tok_cold, "cold")
    check_tokledger(tok_warm, "warm")
else:
    print("\ncorrectness: tokledger not built/run, skipped")

CC_FIELDS = [("inputTokens", "input_tokens"), ("cacheCreationTokens", "cache_creation_tokens"),
             ("cacheReadTokens", "cache_read_tokens"), ("outputTokens", "output_tokens"),
             ("totalTokens", "total_tokens")]
if cc_ok == "1":
    print("\ncorrectness: ccusage session --json (rows have 'agent'; 'totals' covers all agents) vs expected.json")
    doc, err = load(cc_session)
    if doc is None or "session" not in doc:
        print("  could not read ccusage session output: %s" % (err or "no 'session' array"))
        problems += 1
    else:
        agg = {}
        for r in doc["session"]:
            a = agg.setdefault(r.get("agent"), {k: 0 for k, _ in CC_FIELDS} | {"sessions": 0})
            a["sessions"] += 1
            for k, _ in CC_FIELDS:
                a[k] += int(r.get(k) or 0)
        for tool, want in exp["tools"].items():
            got = agg.get(tool, {k: 0 for k, _ in CC_FIELDS} | {"sessions": 0})
            diffs = ["%s %d vs %d" % (k, got[k], want[ek]) for k, ek in CC_FIELDS if got[k] != want[ek]]
            if got["sessions"] != want["sessions"]:
                diffs.append("sessions %d vs %d" % (got["sessions"], want["sessions"]))
            print("  %-7s %-8s in %d, cache_write %d, cache_read %d, out %d, total %d, %d sessions%s" % (
                tool, "OK" if not diffs else "MISMATCH", got["inputTokens"], got["cacheCreationTokens"],
                got["cacheReadTokens"], got["outputTokens"], got["totalTokens"], got["sessions"],
                " (" + "; ".join(diffs) + ")" if diffs else ""))
            if tool == "claude" and diffs:
                problems += 1
        if "claude" in agg:
            bad = sum(1 for r in doc["session"] if r.get("agent") == "claude" and
                      exp["sessions"]["claude"].get(r.get("period"), {}).get("total_tokens") != r.get("totalTokens"))
            print("  claude per-session totals: %s" % ("OK" if not bad else "%d sessions differ" % bad))
        t = doc.get("totals", {})
        all_exp = {ek: sum(v[ek] for v in exp["tools"].values()) for _, ek in CC_FIELDS}
        ok = all(int(t.get(k) or 0) == all_exp[ek] for k, ek in CC_FIELDS)
        print("  totals  %-8s (all agents) total %s vs expected %d" % ("OK" if ok else "MISMATCH", t.get("totalTokens"), all_exp["total_tokens"]))
    doc, err = load(cc_daily)
    if doc is not None and "totals" in doc:
        t = doc["totals"]
        all_exp = {ek: sum(v[ek] for v in exp["tools"].values()) for _, ek in CC_FIELDS}
        ok = all(int(t.get(k) or 0) == all_exp[ek] for k, ek in CC_FIELDS)
        print("  daily   %-8s (all agents) totals.totalTokens %s vs expected %d" % ("OK" if ok else "MISMATCH", t.get("totalTokens"), all_exp["total_tokens"]))
    else:
        print("  could not read ccusage daily output: %s" % (err or "no 'totals'"))
else:
    print("\ncorrectness: ccusage not run, skipped")

print("\nnotes: wall = bash clock around /usr/bin/time (includes process start); peak RSS = GNU time %M;"
      "\n       medians over the successful runs; page cache warm for every run; logs in bench-out/logs/")
sys.exit(1 if problems else 0)
EOF
REPORT_RC=$?

if [ "$STRICT" = 1 ] && { [ "$FAILED" != 0 ] || [ "$REPORT_RC" != 0 ] || [ "$TOK_OK" != 1 ] || [ "$CC_OK" != 1 ]; }; then
    exit 1
fi
exit 0
