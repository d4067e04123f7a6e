#!/usr/bin/env python3
"""End-to-end: the real OpenCode CLI (e2e/install.sh pins the version) against a scripted mock
of the OpenAI Chat Completions API (e2e/mock_opencode.py, reached as a custom provider through
`@ai-sdk/openai-compatible`), with tokledger run by OpenCode's own bash tool and around a whole
`opencode run` (`tokledger analysis run`).

Every expected number is computed from what the mock served (its log), never hard-coded.
Chat Completions reports prompt tokens *including* cached input and completion tokens
*including* reasoning; OpenCode stores each response as one assistant message with
`tokens{input = prompt − cache read − cache write, output = completion − reasoning,
reasoning, cache{read, write}}` (its openai-compatible parser drops cache writes, so the mock
serves none: cache_creation is 0 throughout). tokledger stores input = tokens.input, output =
tokens.output + tokens.reasoning, so U(r), a response's total, is prompt + completion as
served. Sub-agent sessions (the `task` tool; `session.parent_id`) count under their parent.
The title-generation side call is stored nowhere and counts nothing.

A snapshot taken by a command that a tool call ran counts every response up to *and
including* the response that issued the call (SPEC, "What a snapshot counts"). OpenCode writes
that response's usage only after the tool has run, so such snapshots are provisional at first
and must be exact after one more read of the session (`analysis sessions list`).

    python3 e2e/opencode_e2e.py [--timing realistic|late|both] [--keep] [--samples DIR]
                                [--no-git]

Network: the mock and a proxy trap listen on 127.0.0.1 only; OpenCode is configured entirely by
~/.config/opencode/opencode.json in the sandbox (autoupdate off, sharing disabled, the models
fetch off by OPENCODE_DISABLE_MODELS_FETCH, stubs that satisfy its npm install of
@opencode-ai/plugin), its HTTP(S)_PROXY points at the trap (which refuses and logs any other
host) and NO_PROXY covers 127.0.0.1. Every agent run is bounded in time and its process group
is killed afterwards (harness.run_agent)."""

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True  # no __pycache__ beside the suite

import harness  # noqa: E402
import mock_opencode as mc  # noqa: E402
import mocklib  # noqa: E402

AGENT_TIMEOUT = 120  # seconds, per agent run
PROVIDER = "mock"
MODEL = "m1"
SUITE = "opencode-e2e"
PLUGIN_VERSION = "1.18.33"  # what the npm stubs claim is installed in the config dir

NOTES_TEXT = "e2e notes line 1\ne2e notes line 2\n"


def info(msg: str) -> None:
    print(f"info {SUITE}: {msg}")


def main_script(sb: harness.Sandbox) -> list:
    return [
        mc.exec_("tokledger analysis start --source-id e2e-opencode --tool opencode > id.txt",
                 "R1 start"),
        mc.exec_('tokledger analysis mark --id "$(cat id.txt)" --stage read', "R2 mark"),
        mc.exec_("ls /nonexistent-e2e", "R3 failing"),
        mc.write(str(sb.work / "notes.txt"), NOTES_TEXT, "R4 write"),
        mc.task("[e2e-script:sub] Run one command, then report.", "R5 task"),
        mc.exec_('tokledger analysis complete --id "$(cat id.txt)"', "R6 complete"),
        mc.text("The analysis is recorded.", "R7 text"),
    ]


SUB_SCRIPT = [
    mc.exec_("echo sub", "S1 echo"),
    mc.text("The sub-agent is done.", "S2 text"),
]
# The echo of the continued run also records what OpenCode shows a command while it runs
# (whatever tokledger can do): its environment, its own argv (the shell OpenCode started) and
# a copy of OpenCode's db taken through SQLite while the call is running.
DURING_PY = ("import sqlite3,os; s=sqlite3.connect('file:'+os.environ['HOME']"
             "+'/.local/share/opencode/opencode.db?mode=ro',uri=True); "
             "d=sqlite3.connect('during.db'); s.backup(d); d.close()")
ECHO_CMD = ("echo two && env | sort > env.txt && tr '\\0' '\\n' < /proc/$$/cmdline"
            f' > cmdline.txt && python3 -c "{DURING_PY}"')
RESUME_SCRIPT = [
    mc.exec_("tokledger analysis start --source-id e2e-opencode-resume --tool opencode"
             " > id2.txt", "Q1 start"),
    mc.exec_(ECHO_CMD, "Q2 echo+env+db"),
    mc.exec_('tokledger analysis complete --id "$(cat id2.txt)"', "Q3 complete"),
    mc.text("The second analysis is recorded.", "Q4 text"),
]
RUN_SCRIPT = [
    mc.exec_("echo run-e2e && env | sort > env.txt", "T1 echo+env"),
    mc.text("Done.", "T2 text"),
]


# -- setup ------------------------------------------------------------------------------------
def config_dir(sb: harness.Sandbox) -> Path:
    return sb.home / ".config" / "opencode"


def data_dir(sb: harness.Sandbox) -> Path:
    return sb.home / ".local" / "share" / "opencode"


def opencode_db(sb: harness.Sandbox) -> Path:
    return data_dir(sb) / "opencode.db"


def write_config(sb: harness.Sandbox, mock_url: str) -> Path:
    d = config_dir(sb)
    d.mkdir(parents=True, exist_ok=True)
    cfg = {
        "autoupdate": False,
        "share": "disabled",
        "model": f"{PROVIDER}/{MODEL}",
        "small_model": f"{PROVIDER}/{MODEL}",
        "provider": {PROVIDER: {
            "npm": "@ai-sdk/openai-compatible",
            "name": "e2e mock",
            "options": {"baseURL": f"{mock_url}/v1", "apiKey": "e2e-dummy-key",
                        "includeUsage": True},
            "models": {MODEL: {"name": "e2e mock model", "tool_call": True,
                               "limit": {"context": 200000, "output": 8192}}},
        }},
        "permission": {"bash": "allow", "edit": "allow", "external_directory": "allow",
                       "task": "allow"},
    }
    p = d / "opencode.json"
    p.write_text(json.dumps(cfg, indent=2) + "\n")
    # OpenCode installs @opencode-ai/plugin into every config dir with npm at start unless
    # node_modules exists and the lock file's root already lists it: say it does.
    dep = {"@opencode-ai/plugin": PLUGIN_VERSION}
    (d / "package.json").write_text(json.dumps({"dependencies": dep}) + "\n")
    (d / "package-lock.json").write_text(json.dumps(
        {"lockfileVersion": 3, "packages": {"": {"dependencies": dep}}}) + "\n")
    (d / "node_modules").mkdir(exist_ok=True)
    return p


def git_init(sb: harness.Sandbox):
    """A git work tree, as a real project is (OpenCode then records `patch` parts)."""
    env = sb.env(GIT_CONFIG_NOSYSTEM=1)
    subprocess.run(["git", "init", "-q"], cwd=sb.work, env=env, check=True, timeout=30)
    subprocess.run(["git", "-c", "user.email=e2e@example.invalid", "-c", "user.name=e2e",
                    "commit", "-q", "--allow-empty", "-m", "e2e"],
                   cwd=sb.work, env=env, check=True, timeout=30)


def agent_env(sb: harness.Sandbox, proxy_url: str) -> dict:
    return sb.env(OPENCODE_DISABLE_MODELS_FETCH=1, OPENCODE_DISABLE_AUTOUPDATE=1,
                  **harness.proxy_env(proxy_url))


def run_flags() -> list[str]:
    return ["run", "--format", "json", "--model", f"{PROVIDER}/{MODEL}"]


def printed_session_id(log: Path) -> str | None:
    for ev in harness.json_lines(log):
        if isinstance(ev.get("sessionID"), str):
            return ev["sessionID"]
    return None


def save_sample(sb: harness.Sandbox, dest: Path, extra=()):
    """OpenCode's data dir as it was left, plus a SQL dump of its db, for the format notes."""
    dest.mkdir(parents=True, exist_ok=True)
    if data_dir(sb).exists():
        shutil.copytree(data_dir(sb), dest / "opencode", dirs_exist_ok=True)
    for f in extra:
        if Path(f).exists():
            shutil.copy2(f, dest / Path(f).name)
    db = opencode_db(sb)
    if db.exists():
        con = harness.sql_ro(db)
        try:
            with open(dest / "opencode.db.sql", "w") as out:
                for line in con.iterdump():
                    out.write(line + "\n")
        finally:
            con.close()
    info(f"sample saved in {dest}")


# -- OpenCode's own store ---------------------------------------------------------------------
def oc_store(db: Path) -> dict:
    """Sessions, assistant messages and tool parts from an OpenCode db (read-only)."""
    out = {"sessions": [], "assistant": [], "tools": {}, "patches": []}
    if not db.exists():
        return out
    con = harness.sql_ro(db)
    try:
        for sid, parent, title in con.execute(
                "SELECT id, parent_id, title FROM session ORDER BY time_created"):
            out["sessions"].append({"id": sid, "parent_id": parent, "title": title})
        for mid, sid, data in con.execute(
                "SELECT id, session_id, data FROM message ORDER BY time_created, id"):
            d = json.loads(data)
            if d.get("role") == "assistant":
                out["assistant"].append({"id": mid, "session_id": sid, **d})
        for pid, mid, sid, data in con.execute(
                "SELECT id, message_id, session_id, data FROM part ORDER BY time_created, id"):
            d = json.loads(data)
            if d.get("type") == "tool":
                out["tools"][d.get("callID")] = {"part_id": pid, "message_id": mid,
                                                 "session_id": sid, **d}
            elif d.get("type") == "patch":
                out["patches"].append(d)
    finally:
        con.close()
    return out


def oc_duration(part: dict) -> int | None:
    t = (part.get("state") or {}).get("time") or {}
    if isinstance(t.get("start"), int) and isinstance(t.get("end"), int):
        return t["end"] - t["start"]
    return None


def check_store(ck: harness.Checks, tag: str, store: dict, served: list[dict]):
    """What the suite's expectations assume of OpenCode: one assistant message per scripted
    response, with the tokens its mapping gives; the side call stored nowhere."""
    scripted = [r for r in served if not r["side"]]
    by_total = {r["total"]: r for r in served}
    got, unknown = {}, []
    for m in store["assistant"]:
        t = m.get("tokens") or {}
        r = by_total.get(t.get("total"))
        if r is None or r["serial"] in got:
            unknown.append((m["id"], t))
        else:
            got[r["serial"]] = t
    ck.eq(f"{tag}: OpenCode's assistant messages: one per scripted response, tokens as"
          " mapped from the usage served", dict(sorted(got.items())),
          {r["serial"]: mc.opencode_tokens(r["usage"]) for r in scripted})
    ck.eq(f"{tag}: OpenCode messages matching no response served (or twice)", unknown, [])


# -- the ledger --------------------------------------------------------------------------------
def scripted_totals(served: list[dict]) -> harness.ServedTotals:
    """The responses that count: side calls (title generation) count nothing."""
    return harness.ServedTotals([r for r in served if not r["side"]], mc.ledger_buckets)


def check_analysis(ck: harness.Checks, tag: str, row: dict | None, session: str | None,
                   expected: tuple[list, dict], on_wait, before: dict | None):
    """expected: (snapshots, fields) as harness.ServedTotals.analysis gives them."""
    if harness.check_analysis(ck, tag, row, session, "the parent session", expected, on_wait,
                              before, info,
                              {"usage_provider": "opencode", "snapshots_settled": True}):
        ck.true(f"{tag}: session_binding recorded", bool(row.get("session_binding")),
                f"session_binding={row.get('session_binding')!r}")


def check_during(ck: harness.Checks, tag: str, sb: harness.Sandbox, q2: dict | None):
    """What OpenCode shows a command while its call runs (the facts tokledger's binding and
    anchoring rest on): the environment, `bash -c <the command>`, and in the db the issuing
    message with zero tokens beside its running tool part with the exact command."""
    envs = harness.read_env(sb.work / "env.txt")
    info(f"{tag}: bash tool env: " + ", ".join(f"{k}={v}" for k, v in sorted(envs.items())
                                               if k.startswith(("OPENCODE", "AGENT"))))
    ck.eq(f"{tag}: OPENCODE=1 in the bash tool's environment", envs.get("OPENCODE"), "1")
    argv = (harness.read_text(sb.work / "cmdline.txt") or "").split("\n")
    ck.eq(f"{tag}: the bash tool runs `bash -c <the command>`", argv[1:3], ["-c", ECHO_CMD])
    during = oc_store(sb.work / "during.db")
    part = during["tools"].get((q2 or {}).get("call_id"))
    st = (part or {}).get("state") or {}
    ck.eq(f"{tag}: while it runs, its tool part is running with the exact command",
          {"status": st.get("status"), "command": (st.get("input") or {}).get("command")},
          {"status": "running", "command": ECHO_CMD})
    msg = next((m for m in during["assistant"] if part and m["id"] == part["message_id"]), None)
    ck.eq(f"{tag}: while it runs, the issuing message is stored with zero tokens",
          {"tokens": (msg or {}).get("tokens"),
           "completed": ((msg or {}).get("time") or {}).get("completed")},
          {"tokens": {"input": 0, "output": 0, "reasoning": 0,
                      "cache": {"read": 0, "write": 0}}, "completed": None})
    earlier = [m for m in during["assistant"] if not part or m["id"] != part["message_id"]]
    ck.true(f"{tag}: while it runs, every earlier response is stored complete",
            bool(earlier) and all((m.get("time") or {}).get("completed") for m in earlier),
            f"{len(earlier)} earlier messages")


# -- scenario 1: one opencode run with tokledger inside, then the same session continued -----
def scenario_main(ck: harness.Checks, seen: harness.Observations, timing: str, opencode: str,
                  opts) -> None:
    tag = f"[{timing}] main"
    sb = harness.Sandbox(f"opencode-{timing}")
    main = main_script(sb)
    try:
        if not opts.no_git:
            git_init(sb)
        with mc.MockOpenCode({"main": main, "sub": SUB_SCRIPT, "resume": RESUME_SCRIPT}, timing,
                             sb.root / "mock.jsonl", model=MODEL) as mock, \
                mocklib.ProxyTrap() as trap:
            write_config(sb, mock.url)
            env = agent_env(sb, trap.url)
            t0 = time.time()
            log1 = sb.root / "opencode-run.log"
            rc1 = harness.run_agent(
                [opencode, *run_flags(),
                 "[e2e-script:main] Record a tokledger analysis of this directory."],
                env, sb.work, AGENT_TIMEOUT, log1)
            t1 = time.time()
            session = printed_session_id(log1)
            ck.eq_exit(f"{tag}: opencode run exit code", rc1, log1)
            ck.true(f"{tag}: run --format json printed a sessionID", session is not None)
            log2 = sb.root / "opencode-continue.log"
            rc2 = harness.run_agent(
                [opencode, *run_flags(), *(["--session", session] if session else
                                           ["--continue"]),
                 "[e2e-script:resume] Record a second analysis in this session."],
                env, sb.work, AGENT_TIMEOUT, log2)
            t2 = time.time()
            ck.eq_exit(f"{tag}: opencode run --session exit code", rc2, log2)
            ck.eq(f"{tag}: the second run continues the same session", printed_session_id(log2),
                  session)
            info(f"{tag}: run {t1 - t0:.1f} s, continued run {t2 - t1:.1f} s")
        harness.check_no_outside_traffic(ck, tag, trap)

        served = mock.served
        ex = scripted_totals(served)
        harness.check_scripts_log(ck, tag, mock, ("unscripted", "extra", "no-tool"))
        ck.eq(f"{tag}: scripted responses served, in order",
              [r["label"] for r in served if not r["side"]],
              [s.label for s in main[:5]] + [s.label for s in SUB_SCRIPT]
              + [s.label for s in main[5:]] + [s.label for s in RESUME_SCRIPT])
        sides = [r for r in served if r["side"]]
        info(f"{tag}: side calls (title generation): {len(sides)}"
             f" ({', '.join('#%d' % r['serial'] for r in sides)})")
        harness.print_served(info, tag, served)

        # OpenCode's store: what the expectations assume of it.
        store = oc_store(opencode_db(sb))
        check_store(ck, tag, store, served)
        tops = [s for s in store["sessions"] if not s["parent_id"]]
        kids = [s for s in store["sessions"] if s["parent_id"]]
        ck.eq(f"{tag}: OpenCode sessions: one top-level (the printed one)",
              [s["id"] for s in tops], [session])
        ck.eq(f"{tag}: OpenCode sessions: one sub-agent session under it",
              [s["parent_id"] for s in kids], [session])
        ck.eq(f"{tag}: the session's title is the side call's answer (title generation)",
              tops[0]["title"] if tops else None, mc.TITLE)
        info(f"{tag}: patch parts: {[p.get('files') for p in store['patches']]}")

        R = ex.steps("main", main)
        S = ex.steps("sub", SUB_SCRIPT)
        Q = ex.steps("resume", RESUME_SCRIPT)
        missing = [k for k, v in {**R, **S, **Q}.items() if v is None]
        ck.eq(f"{tag}: scripted steps not served", missing, [])
        have_r = all(v is not None for v in R.values())
        have_q = all(v is not None for v in Q.values())

        ck.eq(f"{tag}: notes.txt written by the write tool",
              harness.read_text(sb.work / "notes.txt"), NOTES_TEXT)
        id1 = harness.printed_id(ck, tag, sb.work / "id.txt")
        id2 = harness.printed_id(ck, tag, sb.work / "id2.txt")

        # Right after the runs (informational), then after one more read of the session.
        before = harness.snapshots_by_id(sb, (id1, id2), info)
        harness.check_one_session(ck, tag, sb.sessions("opencode", say=info),
                                  "number of opencode sessions (sub-agent under the parent)",
                                  session, ex.buckets(), "ΣU, both runs, sub-agent included")

        on_wait = seen.recorder(timing)

        if have_r:
            # Analysis 1: R1 start, R2 mark, R6 complete (the sub-agent's S1, S2 in between).
            check_analysis(ck, f"{tag} analysis 1", sb.show_analysis(id1, info), session,
                           ex.analysis(R["R1"], [("read", R["R2"])], R["R6"]), on_wait,
                           before.get(id1))
        if have_q:
            # Analysis 2 (the continued session): Q1 start, Q3 complete.
            check_analysis(ck, f"{tag} analysis 2 (continued)", sb.show_analysis(id2, info),
                           session, ex.analysis(Q["Q1"], [], Q["Q3"]), on_wait,
                           before.get(id2))

        # Tool calls, read from the ledger directly, against OpenCode's own tool parts.
        calls = harness.tool_call_rows(
            sb.db, "opencode",
            ("call_id", "name", "session_id", "failed", "duration_ms", "file_path"))
        for key, r in [*R.items(), *S.items(), *Q.items()]:
            if r is None or r["kind"] == "text":
                continue
            what = f"{tag}: tool_calls {key} ({r['call_id']})"
            part = store["tools"].get(r["call_id"])
            got = calls.get(r["call_id"])
            if got is None:
                ck.true(f"{what}: in the ledger", False)
                continue
            ck.eq(f"{what}: name", got.get("name"), r["tool"])
            if "session_id" in got:
                ck.eq(f"{what}: session_id (sub-agent calls under the parent)",
                      got.get("session_id"), session)
            exit_code = (((part or {}).get("state") or {}).get("metadata") or {}).get("exit")
            ck.eq(f"{what}: failed", got.get("failed"),
                  1 if key == "R3" else 0)
            if key == "R3":
                ck.true(f"{what}: OpenCode recorded a non-zero exit", exit_code not in (None, 0),
                        f"metadata.exit={exit_code!r}")
            if "duration_ms" in got:
                ck.eq(f"{what}: duration_ms (OpenCode's state.time end − start)",
                      got.get("duration_ms"), oc_duration(part or {}))
            if key == "R4":
                ck.eq(f"{what}: file_path", got.get("file_path"), str(sb.work / "notes.txt"))
        check_during(ck, tag, sb, Q.get("Q2"))
        if opts.samples:
            save_sample(sb, Path(opts.samples) / f"suite-main-{timing}",
                        [sb.root / "mock.jsonl", sb.root / "opencode-run.log",
                         sb.root / "opencode-continue.log"])
    finally:
        sb.cleanup()


# -- scenario 2: tokledger analysis run -- opencode run … ------------------------------------
def scenario_run(ck: harness.Checks, timing: str, opencode: str, opts):
    tag = f"[{timing}] run"
    sb = harness.Sandbox(f"opencode-run-{timing}")
    try:
        with mc.MockOpenCode({"run": RUN_SCRIPT}, timing, sb.root / "mock.jsonl",
                             model=MODEL) as mock, mocklib.ProxyTrap() as trap:
            write_config(sb, mock.url)
            env = agent_env(sb, trap.url)
            log = sb.root / "tokledger-run.log"
            rc = harness.run_agent(
                harness.analysis_run_argv("e2e-run", "opencode", opencode, *run_flags(),
                                          "[e2e-script:run] Say something short."),
                env, sb.work, AGENT_TIMEOUT, log)
            ck.eq_exit(f"{tag}: exit code passed through (opencode exited 0)", rc, log)
            # A command that fails: its own code comes back (measured without tokledger first),
            # the row is failed.
            bad = [opencode, "run", "--no-such-flag-e2e"]
            rc_direct = harness.run_agent(bad, env, sb.work, AGENT_TIMEOUT,
                                          sb.root / "opencode-bad.log")
            log_bad = sb.root / "tokledger-run-bad.log"
            rc_bad = harness.run_agent(harness.analysis_run_argv("e2e-run-bad", "opencode", *bad),
                                       env, sb.work, AGENT_TIMEOUT, log_bad)
            ck.true(f"{tag}: the failing command fails by itself", rc_direct not in (0, -9),
                    f"exit {rc_direct}")
            ck.eq(f"{tag}: a failing command's exit code passed through", rc_bad, rc_direct)
        harness.check_no_outside_traffic(ck, tag, trap)
        session = printed_session_id(log)
        ck.true(f"{tag}: opencode's stdout passed through (sessionID)", session is not None)
        ex = scripted_totals(mock.served)
        ck.eq(f"{tag}: scripted responses served",
              [r["label"] for r in mock.served if not r["side"]], [s.label for s in RUN_SCRIPT])
        store = oc_store(opencode_db(sb))
        check_store(ck, tag, store, mock.served)

        rows = {r.get("source_id"): r for r in sb.analyses(say=info)}
        row = rows.get("e2e-run")
        if row is None:
            ck.true(f"{tag}: the row exists", False)
            info(f"{tag}: tokledger run said: {harness.tail(log, 5)}")
        else:
            b = ex.buckets()
            ck.eq(f"{tag}: status", row.get("status"), "completed")
            ck.eq(f"{tag}: usage_session_id (the printed session)", row.get("usage_session_id"),
                  session)
            info(f"{tag}: session_binding={row.get('session_binding')!r}")
            ck.eq(f"{tag}: tokens_baseline", row.get("tokens_baseline"), 0)
            ck.eq(f"{tag}: tokens_check (the whole session)", row.get("tokens_check"), b["total"])
            ck.eq(f"{tag}: tokens_in", row.get("tokens_in"), b["total"] - b["output_tokens"])
            ck.eq(f"{tag}: tokens_out", row.get("tokens_out"), b["output_tokens"])
        ck.eq(f"{tag}: the failing command's row", (rows.get("e2e-run-bad") or {}).get("status"),
              "failed")

        envs = harness.read_env(sb.work / "env.txt")
        if not envs:
            ck.true(f"{tag}: the command ran under tokledger (env.txt written)", False)
        else:
            ck.eq(f"{tag}: OPENCODE in the bash tool's environment (under tokledger)",
                  envs.get("OPENCODE"), "1")
        if opts.samples:
            save_sample(sb, Path(opts.samples) / f"suite-run-{timing}",
                        [sb.root / "mock.jsonl", log, sb.work / "env.txt"])
    finally:
        sb.cleanup()


def main() -> int:
    ap = harness.arg_parser(__doc__)
    ap.add_argument("--samples", metavar="DIR",
                    help="copy each sandbox's OpenCode data dir and a SQL dump into DIR")
    ap.add_argument("--no-git", action="store_true",
                    help="main scenario outside a git work tree (no patch parts; faster)")
    opts = harness.parse_args(ap, SUITE)
    opencode = harness.installed_agent("OPENCODE_BIN")
    vsb = harness.Sandbox("opencode-version")  # OpenCode writes logs under HOME even here
    try:
        ver = subprocess.run([opencode, "--version"], capture_output=True, text=True,
                             timeout=60, env=vsb.env(), cwd=vsb.work)
    finally:
        shutil.rmtree(vsb.root, ignore_errors=True)
    info(f"opencode {ver.stdout.strip()} ({opencode}); tokledger {opts.tokledger}")
    ck = harness.Checks(SUITE)
    seen = harness.Observations(info)
    t0 = time.time()
    for timing in opts.timings:
        scenario_main(ck, seen, timing, opencode, opts)
        scenario_run(ck, timing, opencode, opts)
    seen.report(t0)
    return ck.summary()


if __name__ == "__main__":
    sys.exit(main())
