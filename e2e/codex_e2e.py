#!/usr/bin/env python3
"""End-to-end: the real OpenAI Codex CLI (e2e/install.sh pins the version) against a scripted
mock of the Responses API (e2e/mock_openai.py), with tokledger run by Codex's own shell tool
and around a whole `codex exec` (`tokledger analysis run`).

Every expected number is computed from what the mock served (its log), never hard-coded.
Codex reports input *including* cached input and cache writes; tokledger stores
input = input − cached − cache writes. U(r), a response's total, is input + output as served.
A snapshot taken by a command that a tool call ran counts every response up to *and
including* the response that issued the call (SPEC, "What a snapshot counts").

    python3 e2e/codex_e2e.py [--timing realistic|late|both] [--keep] [--rollout]

Network: the mock and a proxy trap listen on 127.0.0.1 only; Codex is configured entirely by
$CODEX_HOME/config.toml in the sandbox, its HTTP(S)_PROXY points at the trap (which refuses
and logs any other host) and NO_PROXY covers 127.0.0.1. Every agent run is bounded in time
and its process group is killed afterwards (harness.run_agent)."""

import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no __pycache__ beside the suite

import harness  # noqa: E402
import mock_openai as mo  # noqa: E402

AGENT_TIMEOUT = 120  # seconds, per agent run
MODEL = "gpt-5.5"  # a slug in Codex's bundled catalog: its metadata declares apply_patch (freeform)
API_KEY_ENV = "E2E_MOCK_API_KEY"
SUITE = "codex-e2e"

NOTES_PATCH = "*** Begin Patch\n*** Add File: notes.txt\n+e2e notes line 1\n+e2e notes line 2\n*** End Patch\n"
NOTES_TEXT = "e2e notes line 1\ne2e notes line 2\n"

MAIN_SCRIPT = [
    mo.exec_("tokledger analysis start --source-id e2e-codex --tool codex > id.txt", "R1 start"),
    mo.exec_('tokledger analysis mark --id "$(cat id.txt)" --stage read', "R2 mark"),
    mo.exec_("ls /nonexistent-e2e", "R3 failing"),
    mo.patch(NOTES_PATCH, "R4 patch"),
    mo.exec_('tokledger analysis complete --id "$(cat id.txt)"', "R5 complete"),
    mo.text("The analysis is recorded.", "R6 text"),
]
RESUME_SCRIPT = [
    mo.exec_("tokledger analysis start --source-id e2e-codex-resume --tool codex > id2.txt",
             "Q1 start"),
    mo.exec_("echo two", "Q2 echo"),
    mo.exec_('tokledger analysis complete --id "$(cat id2.txt)"', "Q3 complete"),
    mo.text("The resumed analysis is recorded.", "Q4 text"),
]
RUN_SCRIPT = [
    mo.exec_("echo run-e2e && env | sort > env.txt", "S1 echo+env"),
    mo.text("Done.", "S2 text"),
]


# -- setup ------------------------------------------------------------------------------------
def codex_bin() -> str:
    b = os.environ.get("CODEX_BIN")
    if b:
        return b
    out = subprocess.run([str(HERE / "install.sh")], capture_output=True, text=True,
                         check=True, timeout=900).stdout
    m = re.search(r"^CODEX_BIN=(.+)$", out, re.M)
    if not m:
        raise SystemExit("e2e/install.sh printed no CODEX_BIN")
    return m.group(1).strip()


CONFIG_TOML = """\
# Written by e2e/codex_e2e.py: everything goes to the mock on 127.0.0.1, nothing else.
model = "{model}"
model_provider = "e2e_mock"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false
web_search = "disabled"

[model_providers.e2e_mock]
name = "e2e mock"
base_url = "{url}/v1"
wire_api = "responses"
env_key = "{key_env}"
request_max_retries = 1
stream_max_retries = 1
stream_idle_timeout_ms = 30000

[features]
plugins = false
remote_plugin = false
plugin_sharing = false
apps = false
tool_suggest = false
image_generation = false
enable_request_compression = false
unbounded_connection_retries = false

[analytics]
enabled = false

[feedback]
enabled = false
"""


def codex_home(sb: harness.Sandbox) -> Path:
    return sb.home / ".codex"


def write_config(sb: harness.Sandbox, mock_url: str) -> Path:
    home = codex_home(sb)
    home.mkdir(parents=True, exist_ok=True)
    p = home / "config.toml"
    p.write_text(CONFIG_TOML.format(model=MODEL, url=mock_url, key_env=API_KEY_ENV))
    return p


def agent_env(sb: harness.Sandbox, proxy_url: str) -> dict:
    no_proxy = "127.0.0.1,localhost"
    return sb.env(
        CODEX_HOME=codex_home(sb), **{API_KEY_ENV: "e2e-dummy-key"},
        HTTP_PROXY=proxy_url, HTTPS_PROXY=proxy_url, ALL_PROXY=proxy_url,
        http_proxy=proxy_url, https_proxy=proxy_url, all_proxy=proxy_url,
        NO_PROXY=no_proxy, no_proxy=no_proxy,
    )


def exec_flags(resume=False) -> list[str]:
    flags = ["--json", "--strict-config", "--skip-git-repo-check",
             "--dangerously-bypass-approvals-and-sandbox"]
    return flags if resume else flags + ["--color", "never"]


def json_lines(path: Path) -> list[dict]:
    out = []
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def printed_thread_id(log: Path) -> str | None:
    for ev in json_lines(log):
        if ev.get("type") == "thread.started":
            return ev.get("thread_id")
    return None


def tail(path: Path, n=25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def rollout_files(sb: harness.Sandbox) -> list[Path]:
    return sorted(codex_home(sb).glob("*sessions/**/rollout-*.jsonl"))


def rollout_timeline(path: Path) -> list[str]:
    """One short line per rollout record: ordinal, time, type, and the call / response id."""
    out = []
    for d in json_lines(path):
        p = d.get("payload") if isinstance(d.get("payload"), dict) else {}
        kind = d.get("type")
        sub = p.get("type") or ""
        ref = p.get("call_id") or p.get("response_id") or ""
        if sub == "item_completed":
            it = p.get("item") or {}
            sub = f"item_completed/{it.get('type')}"
            ref = it.get("id") or ""
        if sub == "token_count":
            ref = ((p.get("info") or {}).get("total_token_usage") or {}).get("total_tokens", "")
        out.append(f"  {d.get('ordinal', ''):>3} {d.get('timestamp', '')} {kind} {sub} {ref}")
    return out


# -- expectations from the mock's log ---------------------------------------------------------
class Expect:
    """Cumulative totals of the responses served, in order."""

    def __init__(self, served: list[dict]):
        self.served = sorted(served, key=lambda r: r["serial"])
        self.cum = {}
        c = 0
        for r in self.served:
            c += r["total"]
            self.cum[r["serial"]] = c

    def U(self, r: dict) -> int:
        return r["total"]

    def C(self, r: dict) -> int:
        return self.cum[r["serial"]]

    def step(self, script: str, label: str) -> dict | None:
        for r in self.served:
            if r["script"] == script and r["label"] == label:
                return r
        return None

    def buckets(self, rs=None) -> dict:
        tot = {"input_tokens": 0, "cache_creation_tokens": 0, "cache_read_tokens": 0,
               "output_tokens": 0, "reasoning_tokens": 0, "total": 0}
        for r in (self.served if rs is None else rs):
            for k, v in mo.ledger_buckets(r["usage"]).items():
                tot[k] += v
        return tot

    def between(self, after: dict, upto: dict) -> list[dict]:
        return [r for r in self.served if after["serial"] < r["serial"] <= upto["serial"]]


def sql_ro(db: Path):
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)


def tool_call_rows(db: Path) -> dict:
    if not db.exists():
        return {}
    con = sql_ro(db)
    try:
        cols = {r[1] for r in con.execute("PRAGMA table_info(tool_calls)")}
        want = [c for c in ("call_id", "name", "failed", "duration_ms", "file_path") if c in cols]
        rows = con.execute(f"SELECT {', '.join(want)} FROM tool_calls").fetchall()
        return {r[0]: dict(zip(want, r)) for r in rows}
    finally:
        con.close()


def stages_of(row: dict) -> list:
    s = row.get("stages", row.get("stages_json"))
    if isinstance(s, str):
        try:
            s = json.loads(s)
        except ValueError:
            s = None
    return s or []


# -- the checks on one analysis ---------------------------------------------------------------
def check_analysis(ck: harness.Checks, tag: str, row: dict | None, thread: str | None,
                   snaps_expected: list[dict], expect_fields: dict, waited: list,
                   settle_note: dict | None):
    """snaps_expected: [{kind, stage, tokens, anchor_call_id}] in order."""
    if row is None:
        ck.true(f"{tag}: the row exists", False)
        return
    ck.eq(f"{tag}: status", row.get("status"), "completed")
    ck.eq(f"{tag}: usage_session_id (the thread)", row.get("usage_session_id"), thread)
    for k, v in expect_fields.items():
        if k == "stages":
            got = [{"stage": s.get("stage"), "tokens": s.get("tokens"), "delta": s.get("delta")}
                   for s in stages_of(row)]
            ck.eq(f"{tag}: stages", got, v)
        else:
            ck.eq(f"{tag}: {k}", row.get(k), v)
    snaps = row.get("snapshots")
    if not isinstance(snaps, list):
        ck.eq(f"{tag}: snapshots (JSON key)", "absent" if snaps is None else type(snaps).__name__,
              f"a list of {len(snaps_expected)}")
        return
    ck.eq(f"{tag}: number of snapshots", len(snaps), len(snaps_expected))
    for i, exp in enumerate(snaps_expected):
        got = snaps[i] if i < len(snaps) else {}
        label = f"{tag}: snapshot {i} ({exp['kind']}{' ' + exp['stage'] if exp['stage'] else ''})"
        ck.eq(label, {k: got.get(k) for k in ("kind", "stage", "tokens", "settled",
                                               "anchor_call_id")},
              {**exp, "settled": True})
        w = got.get("waited_ms")
        ck.true(f"{label}: waited_ms is an integer", isinstance(w, int) and not isinstance(w, bool),
                f"got {w!r}")
        if isinstance(w, int):
            waited.append(w)
        if settle_note is not None:
            before = settle_note.get(i)
            if before is not None:
                print(f"info {SUITE}: {label}: right after the run settled={before.get('settled')}"
                      f" tokens={before.get('tokens')} waited_ms={before.get('waited_ms')}")


# -- scenario 1: one codex exec with tokledger inside, then a resumed thread -----------------
def scenario_main(ck: harness.Checks, timing: str, codex: str, opts) -> list:
    tag = f"[{timing}] main"
    sb = harness.Sandbox(f"codex-{timing}")
    waited: list[int] = []
    mock = mo.MockOpenAI({"main": MAIN_SCRIPT, "resume": RESUME_SCRIPT}, timing,
                         sb.root / "mock.jsonl", model=MODEL)
    trap = mo.ProxyTrap()
    try:
        with harness.MockServer(mo.make_handler(mock)) as srv, \
                harness.MockServer(mo.make_proxy_handler(trap)) as proxy:
            write_config(sb, srv.url)
            env = agent_env(sb, proxy.url)
            t0 = time.time()
            log1 = sb.root / "codex-exec.log"
            rc1 = harness.run_agent(
                [codex, "exec", *exec_flags(),
                 "[e2e-script:main] Record a tokledger analysis of this directory."],
                env, sb.work, AGENT_TIMEOUT, log1)
            t1 = time.time()
            thread = printed_thread_id(log1)
            ck.eq(f"{tag}: codex exec exit code", rc1, 0)
            ck.true(f"{tag}: exec --json printed thread.started", thread is not None)
            if rc1 != 0:
                print(tail(log1), file=sys.stderr)
            log2 = sb.root / "codex-resume.log"
            rc2 = harness.run_agent(
                [codex, "exec", "resume", *exec_flags(resume=True), thread or "--last",
                 "[e2e-script:resume] Record a second analysis in this thread."],
                env, sb.work, AGENT_TIMEOUT, log2)
            t2 = time.time()
            ck.eq(f"{tag}: codex exec resume exit code", rc2, 0)
            ck.eq(f"{tag}: resume continues the same thread", printed_thread_id(log2), thread)
            if rc2 != 0:
                print(tail(log2), file=sys.stderr)
            print(f"info {SUITE}: {tag}: exec {t1 - t0:.1f} s, resume {t2 - t1:.1f} s")
        ck.eq(f"{tag}: outside connections attempted (proxy trap)",
              [a["target"] for a in trap.attempts], [])

        if opts.rollout:
            for f in rollout_files(sb):
                print(f"rollout {f}:")
                print("\n".join(rollout_timeline(f)))
        served = mock.served
        ex = Expect(served)
        ck.eq(f"{tag}: requests the mock could not answer",
              [(r["method"], r["path"], r["error"]) for r in mock.requests if r.get("error")], [])
        ck.eq(f"{tag}: responses served outside the scripts",
              [(r["serial"], r["label"]) for r in served if r["label"] in ("unscripted", "extra")],
              [])
        ck.eq(f"{tag}: scripted responses served",
              [r["label"] for r in served],
              [s.label for s in MAIN_SCRIPT] + [s.label for s in RESUME_SCRIPT])
        for r in served:
            print(f"info {SUITE}: {tag}: served #{r['serial']} {r['label']:<12} U={r['total']}"
                  f" call_id={r.get('call_id')} usage={json.dumps(r['usage'])}")

        R = {s.label.split()[0]: ex.step("main", s.label) for s in MAIN_SCRIPT}
        Q = {s.label.split()[0]: ex.step("resume", s.label) for s in RESUME_SCRIPT}
        missing = [k for k, v in {**R, **Q}.items() if v is None]
        ck.eq(f"{tag}: scripted steps not served", missing, [])
        have_r = all(v is not None for v in R.values())
        have_q = all(v is not None for v in Q.values())

        # What the shell tool saw, and the patch.
        ck.eq(f"{tag}: notes.txt written by apply_patch",
              (sb.work / "notes.txt").read_text() if (sb.work / "notes.txt").exists() else None,
              NOTES_TEXT)
        id1 = (sb.work / "id.txt").read_text().strip() if (sb.work / "id.txt").exists() else None
        id2 = (sb.work / "id2.txt").read_text().strip() if (sb.work / "id2.txt").exists() else None
        ck.true(f"{tag}: start printed an id (id.txt)", bool(id1 and id1.startswith("ANALYSIS-")),
                repr(id1))
        ck.true(f"{tag}: start printed an id (id2.txt)", bool(id2 and id2.startswith("ANALYSIS-")),
                repr(id2))

        def show(i):
            if not i:
                return None
            p = sb.tokledger("analysis", "show", "--id", i, "--json", check=False)
            try:
                return json.loads(p.stdout)
            except ValueError:
                print(f"info {SUITE}: show {i}: exit {p.returncode}: {p.stderr.strip()}")
                return None

        # Right after the runs (informational), then after one more read of the session.
        before = {}
        for i in (id1, id2):
            row = show(i)
            before[i] = {k: s for k, s in enumerate((row or {}).get("snapshots") or [])}
        sl = sb.tokledger("analysis", "sessions", "list", "--json", "--tool", "codex",
                          check=False)
        try:
            sessions = json.loads(sl.stdout).get("sessions", [])
        except ValueError:
            sessions = None
            print(f"info {SUITE}: sessions list exit {sl.returncode}: {sl.stderr.strip()}")
        b = ex.buckets()
        ck.eq(f"{tag}: sessions list: number of codex sessions",
              None if sessions is None else len(sessions), 1)
        s0 = (sessions or [{}])[0]
        ck.eq(f"{tag}: sessions list: session_id", s0.get("session_id"), thread)
        ck.eq(f"{tag}: sessions list: tokens_so_far (ΣU, both runs)", s0.get("tokens_so_far"),
              b["total"])
        for k in ("input_tokens", "cache_creation_tokens", "cache_read_tokens", "output_tokens",
                  "reasoning_tokens"):
            ck.eq(f"{tag}: sessions list: {k}", s0.get(k), b[k])

        # Analysis 1: R1 start, R2 mark, R5 complete.
        if not have_r:
            return waited
        r25 = ex.between(R["R1"], R["R5"])
        b25 = ex.buckets(r25)
        row1 = show(id1)
        check_analysis(
            ck, f"{tag} analysis 1", row1, thread,
            [{"kind": "baseline", "stage": None, "tokens": ex.C(R["R1"]),
              "anchor_call_id": R["R1"]["call_id"]},
             {"kind": "stage", "stage": "read", "tokens": ex.C(R["R2"]),
              "anchor_call_id": R["R2"]["call_id"]},
             {"kind": "final", "stage": None, "tokens": ex.C(R["R5"]),
              "anchor_call_id": R["R5"]["call_id"]}],
            {"session_binding": "codex_thread_id",
             "tokens_baseline": ex.C(R["R1"]),
             "stages": [{"stage": "read", "tokens": ex.C(R["R2"]), "delta": ex.U(R["R2"])}],
             "tokens_final": ex.C(R["R5"]),
             "tokens_check": ex.C(R["R5"]) - ex.C(R["R1"]),
             "tokens_in": b25["total"] - b25["output_tokens"],
             "tokens_out": b25["output_tokens"],
             "total_tokens": b25["total"]},
            waited, before.get(id1))

        # Analysis 2 (resumed thread): Q1 start, Q3 complete.
        if have_q:
            bq = ex.buckets(ex.between(Q["Q1"], Q["Q3"]))
            check_analysis(
                ck, f"{tag} analysis 2 (resumed)", show(id2), thread,
                [{"kind": "baseline", "stage": None, "tokens": ex.C(Q["Q1"]),
                  "anchor_call_id": Q["Q1"]["call_id"]},
                 {"kind": "final", "stage": None, "tokens": ex.C(Q["Q3"]),
                  "anchor_call_id": Q["Q3"]["call_id"]}],
                {"session_binding": "codex_thread_id",
                 "tokens_baseline": ex.C(Q["Q1"]),
                 "stages": [],
                 "tokens_final": ex.C(Q["Q3"]),
                 "tokens_check": ex.U(Q["Q2"]) + ex.U(Q["Q3"]),
                 "tokens_in": bq["total"] - bq["output_tokens"],
                 "tokens_out": bq["output_tokens"],
                 "total_tokens": bq["total"]},
                waited, before.get(id2))

        # Tool calls, read from the ledger directly.
        calls = tool_call_rows(sb.db)
        for key, r in [*R.items(), *(Q.items() if have_q else [])]:
            if r["kind"] == "text":
                continue
            got = calls.get(r["call_id"])
            what = f"{tag}: tool_calls {key} ({r['call_id']})"
            if got is None:
                ck.true(f"{what}: in the ledger", False)
                continue
            if key == "R3":
                ck.eq(f"{what}: failed", got.get("failed"), 1)
                ck.true(f"{what}: has a duration", got.get("duration_ms") is not None,
                        f"duration_ms={got.get('duration_ms')!r}")
            elif key == "R4":
                ck.eq(f"{what}: name", got.get("name"), "apply_patch")
                ck.eq(f"{what}: failed", got.get("failed"), 0)
                fp = got.get("file_path") or ""
                ck.true(f"{what}: file_path names notes.txt", fp.endswith("notes.txt"),
                        f"file_path={fp!r}")
            else:
                ck.eq(f"{what}: name", got.get("name"), r.get("tool"))
                ck.eq(f"{what}: failed", got.get("failed"), 0)

    finally:
        mock.close()
        sb.cleanup()
    return waited


# -- scenario 2: tokledger analysis run -- codex exec … --------------------------------------
def scenario_run(ck: harness.Checks, timing: str, codex: str, opts):
    tag = f"[{timing}] run"
    sb = harness.Sandbox(f"codex-run-{timing}")
    mock = mo.MockOpenAI({"run": RUN_SCRIPT}, timing, sb.root / "mock.jsonl", model=MODEL)
    trap = mo.ProxyTrap()
    try:
        with harness.MockServer(mo.make_handler(mock)) as srv, \
                harness.MockServer(mo.make_proxy_handler(trap)) as proxy:
            write_config(sb, srv.url)
            env = agent_env(sb, proxy.url)
            log = sb.root / "tokledger-run.log"
            rc = harness.run_agent(
                [harness.tokledger_bin(), "analysis", "run", "--source-id", "e2e-run",
                 "--tool", "codex", "--",
                 codex, "exec", *exec_flags(), "[e2e-script:run] Say something short."],
                env, sb.work, AGENT_TIMEOUT, log)
            ck.eq(f"{tag}: exit code passed through (codex exited 0)", rc, 0)
            if rc != 0:
                print(tail(log), file=sys.stderr)
            # A command that fails: its own code comes back, the row is failed.
            log_bad = sb.root / "tokledger-run-bad.log"
            rc_bad = harness.run_agent(
                [harness.tokledger_bin(), "analysis", "run", "--source-id", "e2e-run-bad",
                 "--tool", "codex", "--", codex, "exec", "--no-such-flag-e2e"],
                env, sb.work, AGENT_TIMEOUT, log_bad)
            ck.eq(f"{tag}: a failing command's exit code passed through (clap usage error)",
                  rc_bad, 2)
        ck.eq(f"{tag}: outside connections attempted (proxy trap)",
              [a["target"] for a in trap.attempts], [])
        thread = printed_thread_id(log)
        ck.true(f"{tag}: codex's stdout passed through (thread.started)", thread is not None)
        ex = Expect(mock.served)
        ck.eq(f"{tag}: scripted responses served", [r["label"] for r in mock.served],
              [s.label for s in RUN_SCRIPT])
        lst = sb.tokledger("analysis", "list", "--json", check=False)
        try:
            rows = {r.get("source_id"): r for r in json.loads(lst.stdout).get("analyses", [])}
        except ValueError:
            rows = {}
        row = rows.get("e2e-run")
        if row is None:
            ck.true(f"{tag}: the row exists", False)
        else:
            b = ex.buckets()
            ck.eq(f"{tag}: status", row.get("status"), "completed")
            ck.eq(f"{tag}: usage_session_id (the printed thread)", row.get("usage_session_id"),
                  thread)
            ck.eq(f"{tag}: session_binding", row.get("session_binding"), "run_printed_id")
            ck.eq(f"{tag}: tokens_baseline", row.get("tokens_baseline"), 0)
            ck.eq(f"{tag}: tokens_check (the whole session)", row.get("tokens_check"), b["total"])
            ck.eq(f"{tag}: tokens_out", row.get("tokens_out"), b["output_tokens"])
        bad = rows.get("e2e-run-bad")
        ck.eq(f"{tag}: the failing command's row", (bad or {}).get("status"), "failed")

        envf = sb.work / "env.txt"
        envs = {}
        if envf.exists():
            for line in envf.read_text().splitlines():
                k, _, v = line.partition("=")
                envs[k] = v
        s1 = ex.step("run", "S1 echo+env")
        ck.eq(f"{tag}: CODEX_THREAD_ID in the shell tool", envs.get("CODEX_THREAD_ID"), thread)
        ck.eq(f"{tag}: CODEX_TOOL_CALL_ID = the function_call's call_id",
              envs.get("CODEX_TOOL_CALL_ID"), (s1 or {}).get("call_id"))
        print(f"info {SUITE}: {tag}: shell tool env: "
              + ", ".join(f"{k}={v}" for k, v in sorted(envs.items()) if k.startswith("CODEX")))
        if opts.rollout:
            for f in rollout_files(sb):
                print(f"rollout {f}:")
                print("\n".join(rollout_timeline(f)))
    finally:
        mock.close()
        sb.cleanup()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--timing", choices=["realistic", "late", "both"], default="both")
    ap.add_argument("--keep", action="store_true", help="keep the sandboxes (paths printed)")
    ap.add_argument("--rollout", action="store_true", help="print each rollout's timeline")
    opts = ap.parse_args()
    if opts.keep:
        os.environ["TOKLEDGER_E2E_KEEP"] = "1"
    tl = harness.tokledger_bin()
    if not os.access(tl, os.X_OK):
        print(f"{SUITE}: tokledger binary {tl} is missing (set TOKLEDGER_BIN)", file=sys.stderr)
        return 1
    codex = codex_bin()
    ver = subprocess.run([codex, "--version"], capture_output=True, text=True, timeout=30)
    print(f"info {SUITE}: {ver.stdout.strip()} ({codex}); tokledger {tl}")
    ck = harness.Checks(SUITE)
    t0 = time.time()
    for timing in (["realistic", "late"] if opts.timing == "both" else [opts.timing]):
        waited = scenario_main(ck, timing, codex, opts)
        scenario_run(ck, timing, codex, opts)
        if waited:
            print(f"info {SUITE}: [{timing}] snapshot waited_ms: median "
                  f"{statistics.median(waited)}, max {max(waited)} (n={len(waited)})")
        else:
            print(f"info {SUITE}: [{timing}] snapshot waited_ms: none reported")
    print(f"info {SUITE}: {time.time() - t0:.1f} s")
    return ck.summary()


if __name__ == "__main__":
    sys.exit(main())
