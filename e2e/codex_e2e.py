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

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True  # no __pycache__ beside the suite

import harness  # noqa: E402
import mock_openai as mo  # noqa: E402
import mocklib  # noqa: E402

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


def info(msg: str) -> None:
    print(f"info {SUITE}: {msg}")


# -- setup ------------------------------------------------------------------------------------
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
    return sb.env(CODEX_HOME=codex_home(sb), **{API_KEY_ENV: "e2e-dummy-key"},
                  **harness.proxy_env(proxy_url))


def exec_flags(resume=False) -> list[str]:
    flags = ["--json", "--strict-config", "--skip-git-repo-check",
             "--dangerously-bypass-approvals-and-sandbox"]
    return flags if resume else flags + ["--color", "never"]


def printed_thread_id(log: Path) -> str | None:
    for ev in harness.json_lines(log):
        if ev.get("type") == "thread.started":
            return ev.get("thread_id")
    return None


def rollout_files(sb: harness.Sandbox) -> list[Path]:
    return sorted(codex_home(sb).glob("*sessions/**/rollout-*.jsonl"))


def rollout_timeline(path: Path) -> list[str]:
    """One short line per rollout record: ordinal, time, type, and the call / response id."""
    out = []
    for d in harness.json_lines(path):
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


def print_rollouts(sb: harness.Sandbox) -> None:
    for f in rollout_files(sb):
        print(f"rollout {f}:")
        print("\n".join(rollout_timeline(f)))


# -- scenario 1: one codex exec with tokledger inside, then a resumed thread -----------------
def scenario_main(ck: harness.Checks, seen: harness.Observations, timing: str, codex: str,
                  opts) -> None:
    tag = f"[{timing}] main"
    sb = harness.Sandbox(f"codex-{timing}")
    try:
        with mo.MockOpenAI({"main": MAIN_SCRIPT, "resume": RESUME_SCRIPT}, timing,
                           sb.root / "mock.jsonl", model=MODEL) as mock, \
                mocklib.ProxyTrap() as trap:
            write_config(sb, mock.url)
            env = agent_env(sb, trap.url)
            t0 = time.time()
            log1 = sb.root / "codex-exec.log"
            rc1 = harness.run_agent(
                [codex, "exec", *exec_flags(),
                 "[e2e-script:main] Record a tokledger analysis of this directory."],
                env, sb.work, AGENT_TIMEOUT, log1)
            t1 = time.time()
            thread = printed_thread_id(log1)
            ck.eq_exit(f"{tag}: codex exec exit code", rc1, log1)
            ck.true(f"{tag}: exec --json printed thread.started", thread is not None)
            log2 = sb.root / "codex-resume.log"
            rc2 = harness.run_agent(
                [codex, "exec", "resume", *exec_flags(resume=True), thread or "--last",
                 "[e2e-script:resume] Record a second analysis in this thread."],
                env, sb.work, AGENT_TIMEOUT, log2)
            t2 = time.time()
            ck.eq_exit(f"{tag}: codex exec resume exit code", rc2, log2)
            ck.eq(f"{tag}: resume continues the same thread", printed_thread_id(log2), thread)
            info(f"{tag}: exec {t1 - t0:.1f} s, resume {t2 - t1:.1f} s")
        harness.check_no_outside_traffic(ck, tag, trap)

        if opts.rollout:
            print_rollouts(sb)
        served = mock.served
        ex = harness.ServedTotals(served, mo.ledger_buckets)
        harness.check_scripts_log(ck, tag, mock, ("unscripted", "extra"))
        ck.eq(f"{tag}: scripted responses served",
              [r["label"] for r in served],
              [s.label for s in MAIN_SCRIPT] + [s.label for s in RESUME_SCRIPT])
        harness.print_served(info, tag, served)

        R = ex.steps("main", MAIN_SCRIPT)
        Q = ex.steps("resume", RESUME_SCRIPT)
        missing = [k for k, v in {**R, **Q}.items() if v is None]
        ck.eq(f"{tag}: scripted steps not served", missing, [])
        have_r = all(v is not None for v in R.values())
        have_q = all(v is not None for v in Q.values())

        # What the shell tool saw, and the patch.
        ck.eq(f"{tag}: notes.txt written by apply_patch", harness.read_text(sb.work / "notes.txt"),
              NOTES_TEXT)
        id1 = harness.printed_id(ck, tag, sb.work / "id.txt")
        id2 = harness.printed_id(ck, tag, sb.work / "id2.txt")

        # Right after the runs (informational), then after one more read of the session.
        before = harness.snapshots_by_id(sb, (id1, id2), info)
        harness.check_one_session(ck, tag, sb.sessions("codex", say=info),
                                  "number of codex sessions", thread, ex.buckets(),
                                  "ΣU, both runs")

        on_wait = seen.recorder(timing)

        # Analysis 1: R1 start, R2 mark, R5 complete.
        if not have_r:
            return
        binding = {"session_binding": "codex_thread_id"}
        harness.check_analysis(ck, f"{tag} analysis 1", sb.show_analysis(id1, info), thread,
                               "the thread", ex.analysis(R["R1"], [("read", R["R2"])], R["R5"]),
                               on_wait, before.get(id1), info, binding)

        # Analysis 2 (resumed thread): Q1 start, Q3 complete.
        if have_q:
            harness.check_analysis(ck, f"{tag} analysis 2 (resumed)",
                                   sb.show_analysis(id2, info), thread, "the thread",
                                   ex.analysis(Q["Q1"], [], Q["Q3"]), on_wait, before.get(id2),
                                   info, binding)

        # Tool calls, read from the ledger directly.
        calls = harness.tool_call_rows(sb.db)
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
        sb.cleanup()


# -- scenario 2: tokledger analysis run -- codex exec … --------------------------------------
def scenario_run(ck: harness.Checks, timing: str, codex: str, opts):
    tag = f"[{timing}] run"
    sb = harness.Sandbox(f"codex-run-{timing}")
    try:
        with mo.MockOpenAI({"run": RUN_SCRIPT}, timing, sb.root / "mock.jsonl",
                           model=MODEL) as mock, mocklib.ProxyTrap() as trap:
            write_config(sb, mock.url)
            env = agent_env(sb, trap.url)
            log = sb.root / "tokledger-run.log"
            rc = harness.run_agent(
                harness.analysis_run_argv("e2e-run", "codex", codex, "exec", *exec_flags(),
                                          "[e2e-script:run] Say something short."),
                env, sb.work, AGENT_TIMEOUT, log)
            ck.eq_exit(f"{tag}: exit code passed through (codex exited 0)", rc, log)
            # A command that fails: its own code comes back, the row is failed.
            log_bad = sb.root / "tokledger-run-bad.log"
            rc_bad = harness.run_agent(
                harness.analysis_run_argv("e2e-run-bad", "codex", codex, "exec",
                                          "--no-such-flag-e2e"),
                env, sb.work, AGENT_TIMEOUT, log_bad)
            ck.eq(f"{tag}: a failing command's exit code passed through (clap usage error)",
                  rc_bad, 2)
        harness.check_no_outside_traffic(ck, tag, trap)
        thread = printed_thread_id(log)
        ck.true(f"{tag}: codex's stdout passed through (thread.started)", thread is not None)
        ex = harness.ServedTotals(mock.served, mo.ledger_buckets)
        ck.eq(f"{tag}: scripted responses served", [r["label"] for r in mock.served],
              [s.label for s in RUN_SCRIPT])
        rows = {r.get("source_id"): r for r in sb.analyses(say=info)}
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

        envs = harness.read_env(sb.work / "env.txt")
        s1 = ex.step("run", "S1 echo+env")
        ck.eq(f"{tag}: CODEX_THREAD_ID in the shell tool", envs.get("CODEX_THREAD_ID"), thread)
        ck.eq(f"{tag}: CODEX_TOOL_CALL_ID = the function_call's call_id",
              envs.get("CODEX_TOOL_CALL_ID"), (s1 or {}).get("call_id"))
        info(f"{tag}: shell tool env: "
             + ", ".join(f"{k}={v}" for k, v in sorted(envs.items()) if k.startswith("CODEX")))
        if opts.rollout:
            print_rollouts(sb)
    finally:
        sb.cleanup()


def main() -> int:
    ap = harness.arg_parser(__doc__)
    ap.add_argument("--rollout", action="store_true", help="print each rollout's timeline")
    opts = harness.parse_args(ap, SUITE)
    codex = harness.installed_agent("CODEX_BIN")
    ver = subprocess.run([codex, "--version"], capture_output=True, text=True, timeout=30)
    info(f"{ver.stdout.strip()} ({codex}); tokledger {opts.tokledger}")
    ck = harness.Checks(SUITE)
    seen = harness.Observations(info)
    t0 = time.time()
    for timing in opts.timings:
        scenario_main(ck, seen, timing, codex, opts)
        scenario_run(ck, timing, codex, opts)
    seen.report(t0)
    return ck.summary()


if __name__ == "__main__":
    sys.exit(main())
