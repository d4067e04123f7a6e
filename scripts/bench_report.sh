#!/usr/bin/env bash
# Report benchmark: a warm `tokledger report daily --json` (ledger already built, nothing
# changed in the transcripts) against `ccusage daily --offline --json` on the same history, with
# wall time, peak RSS and a check that both give the same days and totals.
#
# Usage: scripts/bench_report.sh [--runs 5] [--mb 400] [--seed 1] [--home DIR] [--ccusage-dir DIR]
#                                [--no-build] [--strict]
#
#   --runs N          timed runs per command (default 5); medians are reported
#   --mb N, --seed N  the history scripts/gen_history.py writes when --home is not given
#                     (an existing bench-out/home of that size is reused)
#   --home DIR        use this generated HOME instead (read only; it needs DIR/expected.json),
#                     e.g. another checkout's bench-out/home
#   --ccusage-dir DIR where ccusage is installed (default bench-out/ccusage; installed with npm
#                     when missing), e.g. another checkout's bench-out/ccusage
#   --no-build        do not run `cargo build --release`
#   --strict          exit 1 when a run fails, the totals differ, or warm/ccusage is not below 0.1
#
# Writes bench-out/report-ledger.db (built once, untimed) and bench-out/logs/report-*.
# TZ=UTC for both tools, so that their days are the same days.
set -uo pipefail

RUNS=5
MB=400
SEED=1
BUILD=1
STRICT=0
HOME_ARG=""
CC_DIR_ARG=""
CCUSAGE_VERSION=20.0.24

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="${2:?--runs needs a value}"; shift 2 ;;
        --mb) MB="${2:?--mb needs a value}"; shift 2 ;;
        --seed) SEED="${2:?--seed needs a value}"; shift 2 ;;
        --home) HOME_ARG="${2:?--home needs a directory}"; shift 2 ;;
        --ccusage-dir) CC_DIR_ARG="${2:?--ccusage-dir needs a directory}"; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --strict) STRICT=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench_report: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$RUNS" in ''|*[!0-9]*|0) echo "bench_report: --runs must be a positive integer" >&2; exit 2 ;; esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
OUT="$ROOT/bench-out"
LOGS="$OUT/logs"
DB="$OUT/report-ledger.db"
TIMINGS="$LOGS/report-timings.tsv"
PY="${PYTHON:-python3}"
mkdir -p "$OUT" "$LOGS"
say() { printf '\n== %s\n' "$*"; }

if [ ! -x /usr/bin/time ]; then
    say "installing GNU time (/usr/bin/time is missing)"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq time \
        || { echo "bench_report: could not install the Debian 'time' package" >&2; exit 1; }
fi

# ------------------------------------------------------------------------------ tokledger
TOKLEDGER="${CARGO_TARGET_DIR:-$ROOT/target}/release/tokledger"
if [ "$BUILD" = 1 ]; then
    say "cargo build --release"
    cargo build --release 2>&1 | tail -n 5
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "bench_report: cargo build --release failed" >&2; exit 1; }
fi
[ -x "$TOKLEDGER" ] || { echo "bench_report: $TOKLEDGER not found" >&2; exit 1; }

# ------------------------------------------------------------------------------ history
if [ -n "$HOME_ARG" ]; then
    HOME_DIR="$(cd "$HOME_ARG" && pwd)" || exit 1
else
    HOME_DIR="$OUT/home"
    if ! "$PY" - "$HOME_DIR/expected.json" "$MB" "$SEED" <<'EOF'
import json, sys
try:
    g = json.load(open(sys.argv[1])).get("generator", {})
except OSError:
    sys.exit(1)
sys.exit(0 if float(g.get("mb", -1)) == float(sys.argv[2]) and int(g.get("seed", -1)) == int(sys.argv[3]) else 1)
EOF
    then
        say "generating $HOME_DIR (--mb $MB --seed $SEED)"
        rm -rf "$HOME_DIR"
        "$PY" "$ROOT/scripts/gen_history.py" "$HOME_DIR" --mb "$MB" --seed "$SEED" || exit 1
    fi
fi
[ -f "$HOME_DIR/expected.json" ] || { echo "bench_report: no expected.json in $HOME_DIR" >&2; exit 1; }
echo "history: $HOME_DIR ($(du -sh --apparent-size "$HOME_DIR" | cut -f1))"

# ------------------------------------------------------------------------------ ccusage
case "$(uname -m)" in
    aarch64|arm64) CC_PKG="@ccusage/ccusage-linux-arm64" ;;
    *) CC_PKG="@ccusage/ccusage-linux-x64" ;;
esac
CC_DIR="${CC_DIR_ARG:-$OUT/ccusage}"
CCUSAGE="$CC_DIR/node_modules/$CC_PKG/bin/ccusage"
if [ ! -f "$CCUSAGE" ] && [ -z "$CC_DIR_ARG" ]; then
    say "installing ccusage@$CCUSAGE_VERSION into bench-out/ccusage"
    npm install --no-audit --no-fund --prefix "$CC_DIR" "ccusage@$CCUSAGE_VERSION" "$CC_PKG@$CCUSAGE_VERSION" \
        || echo "bench_report: npm install of ccusage failed" >&2
fi
CC_OK=1
if [ -f "$CCUSAGE" ]; then
    # npm does not keep the exec bit; run it through a copy when we may not chmod the original.
    if [ ! -x "$CCUSAGE" ]; then
        cp "$CCUSAGE" "$OUT/ccusage-bin" && chmod +x "$OUT/ccusage-bin" && CCUSAGE="$OUT/ccusage-bin"
    fi
    echo "ccusage: $CCUSAGE ($("$CCUSAGE" --version 2>/dev/null))"
else
    echo "bench_report: ccusage not found at $CCUSAGE; its part is skipped" >&2
    CC_OK=0
fi

# ------------------------------------------------------------------------------ runs
run_env() {
    env -u CLAUDE_CONFIG_DIR -u CODEX_HOME -u AMP_DATA_DIR -u XDG_DATA_HOME -u XDG_CONFIG_HOME \
        -u XDG_CACHE_HOME -u XDG_STATE_HOME -u TOKLEDGER_DB -u TOKLEDGER_SESSION_ID -u CODEX_THREAD_ID \
        HOME="$HOME_DIR" TZ=UTC NO_COLOR=1 "$@"
}
FAILED=0
# timed NAME RUN CMD... : appends "name run wall_s rss_kb rc" to $TIMINGS
timed() {
    local name="$1" run="$2"; shift 2
    local tf="$LOGS/report-time.$$" t0 t1 rc wall rss="NA" gnu=""
    t0="$EPOCHREALTIME"
    run_env /usr/bin/time -f '%e %M' -o "$tf" "$@" >/dev/null 2>"$LOGS/report-$name.$run.err"
    rc=$?
    t1="$EPOCHREALTIME"
    [ -s "$tf" ] && read -r gnu rss < <(tail -n 1 "$tf")
    case "$rss" in ''|*[!0-9]*) rss="NA" ;; esac
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$run" "$wall" "$rss" "$rc" >>"$TIMINGS"
    printf '  %-22s run %s: %7s s  %8s KB  rc=%s\n' "$name" "$run" "$wall" "$rss" "$rc"
    rm -f "$tf"
    [ "$rc" -eq 0 ] || FAILED=1
}

say "warming the page cache and building the ledger (untimed)"
find "$HOME_DIR" -type f -exec cat {} + >/dev/null
rm -f "$DB" "$DB-wal" "$DB-shm"
t0="$EPOCHREALTIME"
run_env "$TOKLEDGER" --db "$DB" report daily --json >/dev/null 2>"$LOGS/report-cold.err" || { echo "bench_report: first read failed" >&2; exit 1; }
echo "  first read + report (cold): $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s"

printf 'name\trun\twall_s\trss_kb\trc\n' >"$TIMINGS"
say "timed runs ($RUNS each, alternating)"
for i in $(seq 1 "$RUNS"); do
    timed tokledger-daily "$i" "$TOKLEDGER" --db "$DB" report daily --json
    [ "$CC_OK" = 1 ] && timed ccusage-daily "$i" "$CCUSAGE" daily --offline --json
done
say "other reports, warm (1 run each)"
for r in weekly monthly session model tools files compactions; do
    timed "tokledger-$r" 1 "$TOKLEDGER" --db "$DB" report "$r" --json
done

# ------------------------------------------------------------------------------ results
TOK_JSON="$LOGS/report-tokledger-daily.json"
CC_JSON="$LOGS/report-ccusage-daily.json"
run_env "$TOKLEDGER" --db "$DB" report daily --json >"$TOK_JSON" 2>/dev/null
rm -f "$CC_JSON"
[ "$CC_OK" = 1 ] && run_env "$CCUSAGE" daily --offline --json >"$CC_JSON" 2>/dev/null

say "results ($RUNS runs, medians)"
"$PY" - "$TIMINGS" "$HOME_DIR/expected.json" "$TOK_JSON" "$CC_JSON" "$STRICT" "$FAILED" <<'EOF'
import json, os, statistics, sys
timings, expected, tok_json, cc_json, strict, failed = sys.argv[1:7]
rows = {}
for line in open(timings).read().splitlines()[1:]:
    name, run, wall, rss, rc = line.split("\t")
    if rc == "0" and wall != "NA" and rss != "NA":
        rows.setdefault(name, []).append((float(wall), int(rss)))
med = {}
for name, r in rows.items():
    med[name] = (statistics.median(w for w, _ in r), statistics.median(m for _, m in r) / 1024)
    print("%-24s %2d runs  wall %7.3f s (min %.3f, max %.3f)  peak RSS %5.0f MB" % (
        name, len(r), med[name][0], min(w for w, _ in r), max(w for w, _ in r), med[name][1]))
problems = int(failed)
ratio = None
if "tokledger-daily" in med and "ccusage-daily" in med:
    ratio = med["tokledger-daily"][0] / med["ccusage-daily"][0]
    print("\n  tokledger report daily (warm) / ccusage daily: %.3fx (target < 0.1)" % ratio)
    if ratio >= 0.1:
        problems += 1
exp = json.load(open(expected))
want = sum(v["total_tokens"] for v in exp["tools"].values())
tok = json.load(open(tok_json))
got = tok["totals"]["total_tokens"]
print("\ncorrectness: tokledger totals %d vs expected.json %d: %s" % (got, want, "OK" if got == want else "MISMATCH"))
problems += got != want
if os.path.exists(cc_json) and os.path.getsize(cc_json) > 0:
    cc = json.load(open(cc_json))
    ours = {r["period"]: r["total_tokens"] for r in tok["rows"]}
    theirs = {r.get("period", r.get("date")): r["totalTokens"] for r in cc["daily"]}
    differ = sorted(d for d in set(ours) | set(theirs) if ours.get(d) != theirs.get(d))
    print("  ccusage totals %d; days: %d ours, %d ccusage, %d differ%s" % (
        cc["totals"]["totalTokens"], len(ours), len(theirs), len(differ),
        (" (" + ", ".join(differ[:5]) + ")") if differ else ""))
    if differ:
        print("  (a day can differ while the totals agree: a Claude response streamed across midnight is\n"
              "   dated by its first line in tokledger, by the copy ccusage keeps, often the last; docs/REPORTS.md)")
sys.exit(1 if strict == "1" and problems else 0)
EOF
