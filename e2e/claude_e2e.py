#!/usr/bin/env python3
"""End-to-end: the real Claude Code CLI (headless, `-p`) against a scripted mock of the
Anthropic Messages API (mock_anthropic.py), with tokledger's hook installed and tokledger's
analysis commands run by the agent's own Bash tool.

Scenarios, each in its own sandbox (temp HOME, ledger, work dir), each in two timings
("realistic": 10-30 ms between SSE events; "late": the final message_delta of a tool_use
response comes 1 s after the block's content_block_stop, so the tool runs before Claude
Code has the response's final usage):

- main: R1 `analysis start` (bound by the environment), R2 `mark read`, R3 a failing Bash
  call, R4 Write notes.txt, R5 an Agent sub-agent (S1 Bash `echo sub`, S2 text), R6
  `mark after-sub`, R7 `complete`, R8 text. Checks the session totals, the analysis row
  (anchored snapshots: each counts the responses through the one that issued its command),
  the tool calls (report tools, the ledger against the hook payloads).
- run: `tokledger analysis run -- claude -p …` (R1 Bash `echo hi`, R2 text), then the same
  wrapped around a run Claude Code fails (`--max-turns 1`) for the exit code.

Every expected number is computed from the mock's log (what was served, in which order) and
what Claude Code wrote to its transcript; nothing is hard-coded. A response counts with the
usage its transcript copy records: for the main thread that is what was served (checked);
a sub-agent's tool_use response answered "late" is written with message_start's usage
(output_tokens 1) and never updated (Claude Code 2.1.197), which is noted, not failed.

Observed with Claude Code 2.1.197 (the `info` lines show it per run): a tool starts when
its tool_use block's content_block_stop arrives; the main thread's assistant lines reach
the transcript ~100 ms after message_stop (so after a short command has run, and ~1.1 s
after the tool started in "late"); a sub-agent's line is written ~100 ms after the block
stops, whatever the message's state.

    python3 e2e/claude_e2e.py [--timing realistic|late|both] [--scenario main|run|both] [--keep]
"""

from __future__ import annotations

import glob
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True  # no __pycache__ beside the suite

import harness  # noqa: E402
import mock_anthropic as ma  # noqa: E402
from harness import info  # noqa: E402

MODEL = "claude-sonnet-4-5"
AGENT_TIMEOUT = 120
KEYS = ma.USAGE_KEYS  # mock/transcript names
# sessions list bucket names for each usage key
LEDGER_KEYS = {"input_tokens": "input_tokens", "cache_creation_input_tokens":
               "cache_creation_tokens", "cache_read_input_tokens": "cache_read_tokens",
               "output_tokens": "output_tokens"}

checks = harness.Checks("claude-e2e")
seen = harness.Observations()


# ---------------------------------------------------------------------------------------
# Claude Code


def claude_bin() -> str:
    return harness.installed_agent("CLAUDE_BIN")


def agent_env(sb: harness.Sandbox, mock: ma.AnthropicMock) -> dict:
    return sb.env(
        ANTHROPIC_BASE_URL=mock.url,
        ANTHROPIC_API_KEY="sk-test",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1,
        DISABLE_AUTOUPDATER=1,
        DISABLE_TELEMETRY=1,
        DISABLE_ERROR_REPORTING=1,
        IS_SANDBOX=1,
    )


def claude_argv(prompt: str, *extra: str) -> list[str]:
    return [claude_bin(), "-p", prompt, "--output-format", "stream-json", "--verbose",
            "--dangerously-skip-permissions", "--model", MODEL, *extra]


def write_settings(sb: harness.Sandbox, payloads: Path) -> None:
    """tokledger's hook on the five events of docs/INTEGRATIONS.md, and beside it, on the
    same events, a command that appends the raw payload to `payloads` for comparison."""
    tap = {"type": "command", "command": f"(cat; echo) >> '{payloads}'", "timeout": 5}
    hook = {"type": "command", "command": "tokledger hook claude", "timeout": 5}
    hooks = {}
    for event in ("SessionStart", "PostToolUse", "PostToolUseFailure", "Stop", "SessionEnd"):
        entry = {"hooks": [hook, tap]}
        if event.startswith("PostToolUse"):
            entry = {"matcher": "*", **entry}
        hooks[event] = [entry]
    d = sb.home / ".claude"
    d.mkdir(parents=True, exist_ok=True)
    (d / "settings.json").write_text(json.dumps({"hooks": hooks}, indent=2))


def printed_session_id(events: list[dict]):
    init = [e.get("session_id") for e in events
            if e.get("type") == "system" and e.get("subtype") == "init"]
    result = [e.get("session_id") for e in events if e.get("type") == "result"]
    return init, result


class Watcher(harness.FileWatcher):
    """Polls the transcripts and the payload file while the agent runs, and notes when each
    assistant line (per message id and file) and each hook payload first appeared."""

    def __init__(self, sb: harness.Sandbox, payloads: Path | None):
        super().__init__()
        self.sb = sb
        self.payloads = payloads
        self.lines: list[dict] = []      # assistant lines: t, file, msg_id, blocks, usage
        self.hook_seen: list[dict] = []  # payloads: t, payload
        self.pid_files: dict[str, str] = {}  # ~/.claude/sessions/<pid>.json: first content

    def poll(self):
        t = time.time()
        for path in glob.glob(str(self.sb.home / ".claude" / "sessions" / "*.json")):
            if path not in self.pid_files:
                try:
                    self.pid_files[path] = Path(path).read_text()
                except OSError:
                    pass
        for path in glob.glob(str(self.sb.home / ".claude" / "projects" / "**" / "*.jsonl"),
                              recursive=True):
            for line in self.new_lines(path):
                try:
                    o = json.loads(line)
                except ValueError:
                    continue
                m = o.get("message") if isinstance(o.get("message"), dict) else {}
                if o.get("type") == "assistant" and m.get("id"):
                    content = m.get("content") if isinstance(m.get("content"), list) else []
                    self.lines.append({
                        "t": t, "file": os.path.basename(path), "msg_id": m["id"],
                        "blocks": [b.get("type") for b in content if isinstance(b, dict)],
                        "usage": {k: (m.get("usage") or {}).get(k) for k in KEYS}})
        if self.payloads is not None:
            for line in self.new_lines(str(self.payloads)):
                line = line.strip()
                if line:
                    try:
                        self.hook_seen.append({"t": t, "payload": json.loads(line)})
                    except ValueError:
                        pass

    def first_line(self, msg_id: str):
        for x in self.lines:
            if x["msg_id"] == msg_id:
                return x
        return None


def transcript_usage(sb: harness.Sandbox, session_id: str) -> tuple[dict, list[Path]]:
    """{message id: (most complete usage over its copies, files)} from the session's main
    transcript and its sub-agent files, and the files read."""
    files = [Path(p) for p in glob.glob(str(sb.home / ".claude" / "projects" / "*" /
                                            f"{session_id}.jsonl"))]
    files += [Path(p) for p in glob.glob(str(sb.home / ".claude" / "projects" / "*" /
                                             session_id / "subagents" / "*.jsonl"))]
    seen: dict[str, dict] = {}
    for f in files:
        for line in f.read_text(errors="replace").splitlines():
            try:
                o = json.loads(line)
            except ValueError:
                continue
            m = o.get("message") if isinstance(o.get("message"), dict) else {}
            if o.get("type") != "assistant" or not m.get("id") or not m.get("usage"):
                continue
            u = {k: int(m["usage"].get(k) or 0) for k in KEYS}
            cur = seen.setdefault(m["id"], {"usage": {k: 0 for k in KEYS}, "files": set(),
                                            "copies": 0})
            cur["usage"] = {k: max(cur["usage"][k], u[k]) for k in KEYS}
            cur["files"].add(f.name)
            cur["copies"] += 1
    return seen, files


class Ledger:
    """Expected numbers: the responses Claude Code wrote to the transcript, each with the
    usage the transcript records for it, in the order the mock was asked for them."""

    def __init__(self, mock: ma.AnthropicMock, tx: dict):
        reqs = {e["step"]: e["seq"] for e in mock.requests() if e.get("step")}
        self.order = []  # (request seq, step, role, served usage, recorded usage or None)
        for r in mock.responses():
            rec = tx.get(r["msg_id"], {}).get("usage")
            self.order.append((reqs.get(r["step"], r["seq"]), r["step"], r["role"],
                               r["usage"], rec, r))
        self.order.sort(key=lambda x: x[0])

    def recorded(self):
        return [x for x in self.order if x[4] is not None]

    def upto(self, step: str, including: bool = True) -> int:
        """Σ U over the recorded responses requested no later than `step`'s request (before
        it, with including=False: what an unanchored snapshot would count)."""
        seq = next(x[0] for x in self.order if x[1] == step)
        return sum(ma.total(x[4]) for x in self.recorded()
                   if x[0] < seq or (including and x[0] == seq))

    def between(self, after: str, through: str) -> tuple[int, int]:
        """(input side, output) of the recorded responses after `after` through `through`."""
        a = next(x[0] for x in self.order if x[1] == after)
        b = next(x[0] for x in self.order if x[1] == through)
        sel = [x[4] for x in self.recorded() if a < x[0] <= b]
        tin = sum(u["input_tokens"] + u["cache_creation_input_tokens"] +
                  u["cache_read_input_tokens"] for u in sel)
        return tin, sum(u["output_tokens"] for u in sel)

    def bucket(self, key: str) -> int:
        return sum(x[4][key] for x in self.recorded())


def check_mock_log(what: str, mock: ma.AnthropicMock, steps: list[str]) -> None:
    """Each of `steps` served once, every conversation as scripted, no mock error, and the
    requests outside the script listed."""
    harness.check_event_log(checks, what, mock, steps)
    unscripted = [r for r in mock.requests()
                  if r["role"] not in ("main", "sub", "probe") or "extra" in str(r.get("step"))]
    probes = sorted({(r["method"], r["path"]) for r in mock.requests() if r["role"] == "probe"})
    info(f"{what}: auxiliary/unscripted requests: "
         f"{[(r['role'], r.get('step'), r.get('model'), r['path']) for r in unscripted] or 'none'};"
         f" probes: {probes}")


def check_served_and_recorded(what: str, mock: ma.AnthropicMock, script: ma.Script,
                              tx: dict) -> None:
    """Every scripted response in the transcript, with the usage served (main thread; a
    sub-agent's difference is noted), and whether any auxiliary response reached it."""
    check_mock_log(what, mock, [s.name for s in script.steps()])
    for r in mock.responses():
        rec = tx.get(r["msg_id"])
        if r["role"] in ("main", "sub") and r["step"] in {s.name for s in script.steps()}:
            if not checks.true(f"{what}: {r['step']} ({r['msg_id']}) in the transcript",
                               rec is not None):
                continue
            if rec["usage"] != r["usage"]:
                msg = (f"{what}: {r['role']} response {r['step']} served "
                       f"{r['usage']} but the transcript records {rec['usage']} "
                       f"({sorted(rec['files'])})")
                if r["role"] == "main":
                    checks.true(msg, False)
                else:
                    seen.note(msg)
        elif rec is not None:
            seen.note(f"{what}: auxiliary response {r['step']} is in the transcript: {rec}")
    if not any(r["role"] == "aux" for r in mock.responses()):
        info(f"{what}: no auxiliary response was served")


def timing_report(what: str, mock: ma.AnthropicMock, w: Watcher) -> None:
    """When each tool-issuing response's lines reached the transcript, against its SSE events
    and its tool's start (PostToolUse arrival − duration_ms)."""
    t0 = min(e["t"] for e in mock.log) if mock.log else 0
    ends = {}
    for h in w.hook_seen:
        p = h["payload"]
        if p.get("tool_use_id") and "duration_ms" in p:
            ends[p["tool_use_id"]] = (h["t"], p["duration_ms"])
    for r in mock.responses():
        if not r["tool_ids"]:
            continue
        ev = r["events"]
        stop = max(v for k, v in ev.items() if k.startswith("block"))
        line = w.first_line(r["msg_id"])
        tid = r["tool_ids"][-1]
        start = (ends[tid][0] - ends[tid][1] / 1000.0) if tid in ends else None
        rel = lambda t: "?" if t is None else f"{(t - t0) * 1000:7.0f}"  # noqa: E731
        info(f"{what}: {r['step']:>3} block_stop {rel(stop)} ms, tool start ≈{rel(start)},"
             f" message_delta {rel(ev.get('message_delta'))}, first line {rel(line and line['t'])}"
             f" (output_tokens {line and line['usage']['output_tokens']},"
             f" {line and line['file'][:12]})")


# ---------------------------------------------------------------------------------------
# Scenario 1: the analysis lifecycle run by the agent's Bash tool


def main_script(tag: str, work: Path) -> ma.Script:
    s = ma.Script(tag)
    s.add("main", "E2E-MAIN-SCRIPT", [
        ("R1", [ma.text_block("Starting the analysis."),
                ma.bash("tokledger analysis start --source-id e2e-claude --tool claude > id.txt",
                        "Start the analysis")]),
        ("R2", [ma.bash('tokledger analysis mark --id "$(cat id.txt)" --stage read',
                        "Mark the read stage")]),
        ("R3", [ma.bash("ls /nonexistent-e2e", "List a missing directory")]),
        ("R4", [ma.tool_block("Write", {"file_path": str(work / "notes.txt"),
                                        "content": "e2e notes\n"})]),
        ("R5", [ma.tool_block("Agent", {"description": "Echo in a sub-agent",
                                        "prompt": "E2E-SUB-SCRIPT: run `echo sub`, then answer.",
                                        "subagent_type": "general-purpose"})]),
        ("R6", [ma.bash('tokledger analysis mark --id "$(cat id.txt)" --stage after-sub',
                        "Mark the after-sub stage")]),
        ("R7", [ma.bash('tokledger analysis complete --id "$(cat id.txt)"',
                        "Complete the analysis")]),
        ("R8", [ma.text_block("The analysis is recorded.")]),
    ])
    s.add("sub", "E2E-SUB-SCRIPT", [
        ("S1", [ma.bash("echo sub", "Print sub")]),
        ("S2", [ma.text_block("The sub-agent printed sub.")]),
    ])
    return s


def scenario_main(sb: harness.Sandbox, what: str, timing: str) -> None:
    script = main_script("M" + timing[0].upper(), sb.work)
    payloads = sb.work / "payloads.jsonl"
    write_settings(sb, payloads)
    log = sb.root / "agent.log"
    with ma.AnthropicMock(script, timing) as mock, Watcher(sb, payloads) as w:
        t = time.time()
        rc = harness.run_agent(claude_argv("E2E-MAIN-SCRIPT: record an analysis with tokledger."),
                               agent_env(sb, mock), sb.work, AGENT_TIMEOUT, log)
        info(f"{what}: claude exited {rc} after {time.time() - t:.1f} s")
    mock.dump(sb.root / "mock.jsonl")
    checks.eq(f"{what}: claude exit code", rc, 0)
    events = harness.json_lines(log)
    init, result = printed_session_id(events)
    sid = (init or result or [None])[0]
    checks.true(f"{what}: stream-json init and result give one session id",
                len(init) == 1 and result == init, f"init {init}, result {result}")
    if not sid:
        print(log.read_text(errors="replace")[-3000:])
        return
    tx, files = transcript_usage(sb, sid)
    info(f"{what}: session {sid}; transcript files: {[f.name for f in files]}")
    for path, content in w.pid_files.items():
        info(f"{what}: while running, {Path(path).name}: {content.strip()[:300]}")
    check_served_and_recorded(what, mock, script, tx)
    timing_report(what, mock, w)
    L = Ledger(mock, tx)
    ids = {s.name: s.tool_ids[0] for s in script.steps() if s.tool_ids}

    # The analysis row, first as the run left it (only the hooks read after `complete`).
    id_file = sb.work / "id.txt"
    aid = id_file.read_text().strip() if id_file.exists() else ""
    if not checks.true(f"{what}: id.txt holds an analysis id", aid.startswith("ANALYSIS-"),
                       repr(aid)):
        return
    baseline, read, after_sub, final = (L.upto(x) for x in ("R1", "R2", "R6", "R7"))
    un = {x: L.upto(x, including=False) for x in ("R1", "R2", "R6", "R7")}
    tin, tout = L.between("R1", "R7")
    expect_snaps = [("baseline", None, baseline, ids["R1"], un["R1"]),
                    ("stage", "read", read, ids["R2"], un["R2"]),
                    ("stage", "after-sub", after_sub, ids["R6"], un["R6"]),
                    ("final", None, final, ids["R7"], un["R7"])]
    row = sb.tokledger_json("analysis", "show", "--id", aid)
    harness.check_snapshots_by_field(checks, f"{what} (right after the run)", row,
                                     expect_snaps)

    # Session totals.
    doc = sb.tokledger_json("analysis", "sessions", "list", "--tool", "claude")
    sessions = doc.get("sessions", [])
    checks.eq(f"{what}: sessions listed", len(sessions), 1)
    if sessions:
        s = sessions[0]
        checks.eq(f"{what}: session id", s.get("session_id"), sid)
        for k in KEYS:
            checks.eq(f"{what}: session {LEDGER_KEYS[k]}", s.get(LEDGER_KEYS[k]), L.bucket(k))
        checks.eq(f"{what}: session tokens_so_far", s.get("tokens_so_far"),
                  sum(L.bucket(k) for k in KEYS))

    row = sb.tokledger_json("analysis", "show", "--id", aid)
    checks.eq(f"{what}: status", row.get("status"), "completed")
    checks.eq(f"{what}: usage_session_id", row.get("usage_session_id"), sid)
    info(f"{what}: session_binding = {row.get('session_binding')!r}")
    checks.eq_count(f"{what}: tokens_baseline (ΣU R1)", row.get("tokens_baseline"), baseline,
                    un["R1"])
    stages = harness.stages_of(row)
    checks.eq(f"{what}: stage names", [x.get("stage") for x in stages], ["read", "after-sub"])
    if len(stages) == 2:
        checks.eq_count(f"{what}: stage read tokens (ΣU R1..R2)", stages[0].get("tokens"), read,
                        un["R2"])
        checks.eq(f"{what}: stage read delta (U R2)", stages[0].get("delta"), read - baseline)
        checks.eq_count(f"{what}: stage after-sub tokens (ΣU R1..R6+S1,S2)",
                        stages[1].get("tokens"), after_sub, un["R6"])
        checks.eq(f"{what}: stage after-sub delta", stages[1].get("delta"), after_sub - read)
    checks.eq_count(f"{what}: tokens_final (ΣU R1..R7+S1,S2)", row.get("tokens_final"), final,
                    un["R7"])
    checks.eq(f"{what}: tokens_check", row.get("tokens_check"), final - baseline)
    checks.eq(f"{what}: tokens_in (R2..R7+S*)", row.get("tokens_in"), tin)
    checks.eq(f"{what}: tokens_out (R2..R7+S*)", row.get("tokens_out"), tout)
    checks.eq(f"{what}: total_tokens", row.get("total_tokens"), tin + tout)
    harness.check_snapshots_by_field(checks, f"{what} (after sessions list)", row,
                                     expect_snaps, seen.recorder(timing))

    # Tool calls: the payloads Claude Code gave the hooks, the report, the ledger.
    posts = [h["payload"] for h in w.hook_seen
             if h["payload"].get("hook_event_name") in ("PostToolUse", "PostToolUseFailure")]
    by_id = {p.get("tool_use_id"): p for p in posts}
    all_ids = [i for s in script.steps() for i in s.tool_ids]
    checks.eq(f"{what}: one PostToolUse* payload per tool call",
              sorted(p.get("tool_use_id") for p in posts), sorted(all_ids))
    checks.eq(f"{what}: the failing Bash call's payload event",
              by_id.get(ids["R3"], {}).get("hook_event_name"), "PostToolUseFailure")
    events_seen = sorted({h["payload"].get("hook_event_name") for h in w.hook_seen})
    info(f"{what}: hook events seen: {events_seen}")
    for ev in events_seen:
        keys = sorted({k for h in w.hook_seen if h["payload"].get("hook_event_name") == ev
                       for k in h["payload"]})
        info(f"{what}:   {ev}: {keys}")

    rep = sb.tokledger_json("report", "tools", "--tool", "claude")
    rows = {r.get("name"): r for r in rep.get("rows", [])}
    n_bash = sum(1 for s in script.steps() for b in s.blocks
                 if b["type"] == "tool_use" and b["name"] == "Bash")
    bash = rows.get("Bash", {})
    checks.eq(f"{what}: report tools Bash calls", bash.get("calls"), n_bash)
    checks.eq(f"{what}: report tools Bash failures", bash.get("failures"), 1)
    checks.eq(f"{what}: report tools Bash successes", bash.get("successes"), n_bash - 1)
    checks.eq(f"{what}: report tools Write calls/failures",
              (rows.get("Write", {}).get("calls"), rows.get("Write", {}).get("failures")), (1, 0))
    checks.eq(f"{what}: report tools Agent calls", rows.get("Agent", {}).get("calls"), 1)
    checks.eq(f"{what}: report tools total failures", rep.get("totals", {}).get("failures"), 1)

    db = harness.tool_call_rows(sb.db, "claude")
    checks.eq(f"{what}: ledger tool_calls ids", sorted(db), sorted(all_ids))
    for tid, p in by_id.items():
        r = db.get(tid)
        if not checks.true(f"{what}: ledger has call {tid} ({p.get('tool_name')})", r is not None):
            continue
        failed = 1 if p.get("hook_event_name") == "PostToolUseFailure" else 0
        resp = p.get("tool_response")
        if isinstance(resp, dict) and resp.get("is_error"):
            failed = 1
        checks.eq(f"{what}: {p.get('tool_name')} {tid} failed", r["failed"], failed)
        checks.eq(f"{what}: {p.get('tool_name')} {tid} duration_ms", r["duration_ms"],
                  p.get("duration_ms"))
    w_row = db.get(ids["R4"])
    checks.eq(f"{what}: Write call file_path", w_row and w_row["file_path"],
              str(sb.work / "notes.txt"))


# ---------------------------------------------------------------------------------------
# Scenario 2: `tokledger analysis run -- claude -p …`


def run_script(tag: str) -> ma.Script:
    s = ma.Script(tag)
    s.add("main", "E2E-RUN-OK", [
        ("R1", [ma.bash("echo hi", "Print hi")]),
        ("R2", [ma.text_block("Said hi.")]),
    ])
    s.add("main", "E2E-RUN-FAIL", [
        ("F1", [ma.bash("echo once", "Print once")]),
        ("F2", [ma.text_block("Not reached: --max-turns 1 stops before.")]),
    ])
    return s


def scenario_run(sb: harness.Sandbox, what: str, timing: str, direct_rc: int) -> None:
    script = run_script("R" + timing[0].upper())
    results = {}
    ran = []
    with ma.AnthropicMock(script, timing) as mock:
        for case, source, prompt, extra in (
                ("ok", "e2e-run", "E2E-RUN-OK: say hi.", ()),
                ("fail", "e2e-run-fail", "E2E-RUN-FAIL: one turn only.", ("--max-turns", "1"))):
            log = sb.root / f"agent-{case}.log"
            argv = harness.analysis_run_argv(source, "claude", *claude_argv(prompt, *extra))
            t = time.time()
            rc = harness.run_agent(argv, agent_env(sb, mock), sb.work, AGENT_TIMEOUT, log)
            info(f"{what}/{case}: tokledger analysis run exited {rc} after "
                 f"{time.time() - t:.1f} s")
            results[case] = (rc, log)
            ran += ["R1", "R2"] if case == "ok" else ["F1"]
            # A second session must not look like the same moment's activity to anything.
            time.sleep(0.2)
    mock.dump(sb.root / "mock.jsonl")
    check_mock_log(what, mock, ran)
    steps_ok = {"R1", "R2"}
    for case, (rc, log) in results.items():
        events = harness.json_lines(log)
        init, result = printed_session_id(events)
        sid = (init or result or [None])[0]
        res = next((e for e in events if e.get("type") == "result"), {})
        checks.true(f"{what}/{case}: stream-json passed through with one session id",
                    len(init) == 1 and result == init, f"init {init}, result {result}")
        rows = sb.tokledger_json("analysis", "list", "--source-id",
                                 "e2e-run" if case == "ok" else "e2e-run-fail")["analyses"]
        if not checks.eq(f"{what}/{case}: rows", len(rows), 1) or not sid:
            continue
        row = rows[0]
        tx, _ = transcript_usage(sb, sid)
        session_total = sum(ma.total(v["usage"]) for v in tx.values())
        served = [r for r in mock.responses() if r["msg_id"] in tx]
        if case == "ok":
            checks.eq(f"{what}/{case}: exit code (claude's, 0)", rc, 0)
            checks.eq(f"{what}/{case}: status", row.get("status"), "completed")
            checks.eq(f"{what}/{case}: transcript responses",
                      sorted(r["step"] for r in served), sorted(steps_ok))
            checks.eq(f"{what}/{case}: recorded = served",
                      {r["step"]: tx[r["msg_id"]]["usage"] for r in served},
                      {r["step"]: r["usage"] for r in served})
        else:
            checks.eq(f"{what}/{case}: claude's result (error_max_turns)",
                      (res.get("subtype"), res.get("is_error")), ("error_max_turns", True))
            checks.true(f"{what}/{case}: claude alone exits non-zero here", direct_rc not in (0, -9),
                        f"rc {direct_rc}")
            checks.eq(f"{what}/{case}: exit code passed through (claude's own)", rc, direct_rc)
            checks.eq(f"{what}/{case}: status", row.get("status"), "failed")
            checks.eq(f"{what}/{case}: transcript responses", [r["step"] for r in served],
                      ["F1"])
        checks.eq(f"{what}/{case}: usage_session_id", row.get("usage_session_id"), sid)
        checks.eq(f"{what}/{case}: session_binding", row.get("session_binding"),
                  "run_printed_id")
        checks.eq(f"{what}/{case}: tokens_baseline", row.get("tokens_baseline"), 0)
        checks.eq(f"{what}/{case}: tokens_check (Σ of the session)", row.get("tokens_check"),
                  session_total)
        checks.eq(f"{what}/{case}: tokens_final", row.get("tokens_final"), session_total)


def direct_exit_code(timing: str) -> int:
    """Claude Code's exit code for the failing run, without tokledger, for comparison."""
    sb = harness.Sandbox(f"claude-direct-{timing}")
    try:
        with ma.AnthropicMock(run_script("D" + timing[0].upper()), timing) as mock:
            return harness.run_agent(claude_argv("E2E-RUN-FAIL: one turn only.",
                                                 "--max-turns", "1"),
                                     agent_env(sb, mock), sb.work, AGENT_TIMEOUT,
                                     sb.root / "agent.log")
    finally:
        sb.cleanup()


# ---------------------------------------------------------------------------------------


def main() -> int:
    ap = harness.arg_parser(__doc__)
    ap.add_argument("--scenario", choices=("main", "run", "both"), default="both")
    args = harness.parse_args(ap, checks.suite)
    info(f"tokledger: {args.tokledger}; claude: {claude_bin()}")
    t0 = time.time()
    for timing in args.timings:
        if args.scenario in ("main", "both"):
            checks.in_sandbox(f"main/{timing}", f"claude-main-{timing}", scenario_main, timing)
        if args.scenario in ("run", "both"):
            code = direct_exit_code(timing)
            info(f"run/{timing}: claude alone, --max-turns 1, exits {code}")
            checks.in_sandbox(f"run/{timing}", f"claude-run-{timing}", scenario_run, timing,
                              code)
    seen.report(t0)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
