#!/usr/bin/env python3
"""End-to-end: the real Gemini CLI (`@google/gemini-cli`, pinned by e2e/install.sh; headless
`-p … --yolo`) against a scripted mock of the Gemini API (mock_gemini.py), with tokledger run
by Gemini's own shell tool (`run_shell_command`) and around a whole run (`analysis run`).

Scenarios, each in its own sandbox (temp HOME, ledger, work dir), each in two timings
("realistic": 10-30 ms between SSE chunks; "late": the final chunk, which alone carries
`usageMetadata` and `finishReason`, comes 1 s after the chunk carrying the `functionCall`):

- main: one `gemini -p` run: R1 `analysis start … > id.txt`, R2 `mark read`, R3 a failing
  command, R4 `write_file` notes.txt, R5 `invoke_agent` (the generalist sub-agent: S1 `echo
  sub`, S2 `complete_task`), R6 `complete`, R7 text. Then `gemini --resume <id>` of the same
  session in the same clock minute as the session file's name: Q1 `start … > id2.txt`, Q2
  `echo two`, Q3 `complete`, Q4 text; and (in one timing only) once more after the minute has
  changed, which makes Gemini CLI write a second file for the same session id: P1..P4 likewise
  (id3.txt). Checks the session's buckets (sessions list), every analysis row (baseline,
  stages, final, check, in/out, snapshots settled through the response that issued their
  command, anchored to its call), the tool calls in the ledger against the transcript.
- run: `tokledger analysis run -- node gemini.js -p …` (R1 `echo hi; env | sort > env.txt`,
  R2 text), then the same around a run that Gemini fails (`model.maxSessionTurns` 1 in
  settings.json) for the exit code.

Every expected number is computed from the mock's log (what was served, in which order) and
checked against what Gemini CLI wrote to its transcript; nothing is hard-coded. tokledger's
buckets for one Gemini response (SPEC §1): input = prompt − cached + tool-use prompt,
cache_read = cached, output = candidates + thoughts (reasoning = thoughts); its total is the
sum. A snapshot taken by a command a tool call ran counts every response up to and including
the response that issued that call (SPEC, "What a snapshot counts").

Observed with Gemini CLI 0.61.0 (the `info` lines show it per run): headless mode runs the
tools only after the response's stream has ended, and appends the response's line (with its
final `tokens`) before the tool starts, in both timings; the same line is written again (same
`id`) with `toolCalls` once the tools have finished. A failing shell command is recorded with
`status: "success"` and `Exit Code: N` only in the result's text. The shell tool's environment
names no session and no call (only `GEMINI_CLI=1`), so `start` has to find the session itself.
Side requests (the model router, `generateContent` in JSON mode) are answered and logged; they
never reach the transcript.

Network: the mock and a proxy trap listen on 127.0.0.1 only; HTTP(S)_PROXY/ALL_PROXY point at
the trap (which refuses and logs any request) and NO_PROXY covers 127.0.0.1; telemetry, usage
statistics and update checks are off in the sandbox's settings.json. Every agent run is bounded
in time and its process group is killed afterwards (harness.run_agent).

    python3 e2e/gemini_e2e.py [--timing realistic|late|both] [--scenario main|run|both]
                              [--no-later-minute] [--keep] [--samples DIR]
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True  # no __pycache__ beside the suite

import harness  # noqa: E402
import mock_gemini as mg  # noqa: E402
import mocklib  # noqa: E402
from harness import info  # noqa: E402

SUITE = "gemini-e2e"
AGENT_TIMEOUT = 120  # seconds, per agent run
SAME_MINUTE_LATEST_SECOND = 25  # start the main run no later than this second of a minute
MINUTE_WAIT_MAX = 75  # seconds: the longest wait for the clock minute to change
EXIT_CODE_RE = re.compile(r"^Exit Code: (-?\d+)$", re.M)

checks = harness.Checks(SUITE)
seen = harness.Observations()
samples_dir: Path | None = None


# ---------------------------------------------------------------------------------------
# Gemini CLI


def gemini_js() -> str:
    return harness.installed_agent("GEMINI_JS")


def settings(**model) -> dict:
    """The sandbox's ~/.gemini/settings.json: API-key auth (headless fails "Invalid auth method
    selected", exit 41, without it), no telemetry, usage statistics or update checks."""
    s = {
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
    }
    if model:
        s["model"] = model
    return s


def write_settings(sb: harness.Sandbox, **model) -> None:
    d = sb.home / ".gemini"
    d.mkdir(parents=True, exist_ok=True)
    (d / "settings.json").write_text(json.dumps(settings(**model), indent=2) + "\n")


def agent_env(sb: harness.Sandbox, mock_url: str, proxy_url: str) -> dict:
    return sb.env(GOOGLE_GEMINI_BASE_URL=mock_url, GEMINI_API_KEY="e2e-test-key",
                  **harness.proxy_env(proxy_url))


def gemini_argv(prompt: str, *extra: str) -> list[str]:
    # --skip-trust: headless refuses an untrusted folder (exit 55); --yolo: without it the
    # request offers no shell or write tool at all.
    return ["node", gemini_js(), "-p", prompt, "--yolo", "--skip-trust",
            "--output-format", "stream-json", *extra]


def printed_session_ids(log: Path) -> list[str]:
    return [e.get("session_id") for e in harness.json_lines(log) if e.get("type") == "init"]


def utc_minute() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H-%M")


def wait_for_early_minute(what: str) -> None:
    """So that a resume right after the main run falls in the minute of the session file's
    name: start no later than SAME_MINUTE_LATEST_SECOND (waits < 35 s)."""
    sec = datetime.now(timezone.utc).second
    if sec > SAME_MINUTE_LATEST_SECOND:
        info(f"{what}: waiting {60 - sec} s for the next minute (same-minute resume)")
        time.sleep(60 - sec + 0.5)


def wait_for_minute_after(minute: str, what: str) -> bool:
    t = time.time()
    while utc_minute() <= minute:
        if time.time() - t > MINUTE_WAIT_MAX:
            return False
        time.sleep(0.2)
    info(f"{what}: waited {time.time() - t:.1f} s for the minute after {minute}")
    return True


def save_sample(sb: harness.Sandbox, name: str, extra: dict[str, Path] | None = None) -> None:
    if samples_dir is None:
        return
    dest = samples_dir / name
    shutil.rmtree(dest, ignore_errors=True)
    try:
        shutil.copytree(sb.home / ".gemini", dest)
        for fname, src in (extra or {}).items():
            if src.exists():
                shutil.copy(src, dest / fname)
        info(f"sample saved: {dest}")
    except OSError as e:
        info(f"sample {name} not saved: {e!r}")


# ---------------------------------------------------------------------------------------
# The transcripts


def ms(ts: str | None) -> int | None:
    if not ts:
        return None
    try:
        return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


class Transcripts:
    """What Gemini CLI wrote under ~/.gemini/tmp/*/chats: main files (`session-*.jsonl`, by
    their header's sessionId), sub-agent files (`<parent id>/<sub id>.jsonl`), and per
    gemini message id: its tokens, its copies, its tool calls."""

    def __init__(self, sb: harness.Sandbox):
        self.root = sb.home / ".gemini"
        self.main_files: dict[str, list[Path]] = {}   # session id → files
        self.sub_files: dict[str, list[Path]] = {}    # parent session id → files
        self.headers: dict[Path, list[dict]] = {}
        self.messages: dict[str, dict] = {}           # gemini message id → record
        self.rewrites: list[dict] = []                # $set.messages: file, n, with tokens
        self.bad_lines = 0
        for p in sorted(glob.glob(str(self.root / "tmp" / "*" / "chats" / "*.jsonl"))):
            self._read(Path(p), None)
        for p in sorted(glob.glob(str(self.root / "tmp" / "*" / "chats" / "*" / "*.jsonl"))):
            self._read(Path(p), Path(p).parent.name)

    def _read(self, path: Path, parent: str | None):
        sid = None
        for line in path.read_text(errors="replace").splitlines():
            try:
                o = json.loads(line)
            except ValueError:
                self.bad_lines += 1
                continue
            if not isinstance(o, dict):
                continue
            if "sessionId" in o and "projectHash" in o:
                self.headers.setdefault(path, []).append(o)
                sid = sid or o["sessionId"]
                continue
            if isinstance(o.get("$set"), dict):
                msgs = o["$set"].get("messages")
                if isinstance(msgs, list):
                    self.rewrites.append({"file": path.name, "n": len(msgs),
                                          "with_tokens": sum(1 for m in msgs
                                                             if isinstance(m, dict)
                                                             and m.get("tokens"))})
                continue
            if o.get("type") != "gemini" or not o.get("id"):
                continue
            rec = self.messages.setdefault(o["id"], {
                "id": o["id"], "tokens": None, "token_copies": [], "copies": 0,
                "files": set(), "tool_calls": {}, "timestamp": o.get("timestamp"),
                "model": o.get("model"), "parent": parent})
            rec["copies"] += 1
            rec["files"].add(path)
            if o.get("tokens"):
                rec["token_copies"].append(o["tokens"])
                rec["tokens"] = rec["tokens"] or o["tokens"]
            for tc in o.get("toolCalls") or []:
                if isinstance(tc, dict) and tc.get("id"):
                    rec["tool_calls"][tc["id"]] = tc
        if parent is None:
            self.main_files.setdefault(sid, []).append(path)
        else:
            self.sub_files.setdefault(parent, []).append(path)

    def session_files(self, sid: str) -> list[Path]:
        return self.main_files.get(sid, []) + self.sub_files.get(sid, [])

    def responses(self, sid: str) -> dict[str, dict]:
        """The session's gemini messages with tokens (main and sub-agent files)."""
        files = set(self.session_files(sid))
        return {k: v for k, v in self.messages.items() if v["tokens"] and v["files"] & files}

    def tool_calls(self, sid: str) -> dict[str, tuple[dict, dict]]:
        """call id → (toolCall record, the gemini message that issued it)."""
        files = set(self.session_files(sid))
        out = {}
        for m in self.messages.values():
            if m["files"] & files:
                for cid, tc in m["tool_calls"].items():
                    out[cid] = (tc, m)
        return out

    def by_tokens(self, usage: dict) -> list[dict]:
        want = {k: usage.get(f, 0) for k, f in mg.TRANSCRIPT_KEYS.items()}
        return [m for m in self.messages.values()
                if m["tokens"] and {k: m["tokens"].get(k) for k in want} == want]


def tool_outcome(tc: dict) -> tuple[int, int | None]:
    """(failed, exit code) as the transcript tells it: a status other than success, or an
    `Exit Code: N` (N ≠ 0) in the result's output (Gemini CLI records a failing shell command
    as status success)."""
    def strings(x):
        if isinstance(x, str):
            yield x
        elif isinstance(x, dict):
            for v in x.values():
                yield from strings(v)
        elif isinstance(x, list):
            for v in x:
                yield from strings(v)

    code = None
    for part in tc.get("result") or []:
        out = ((part or {}).get("functionResponse") or {}).get("response") or {}
        for text in strings(out):
            m = EXIT_CODE_RE.search(text)
            if m:
                code = int(m.group(1))
    failed = 1 if tc.get("status") != "success" or (code is not None and code != 0) else 0
    return failed, code


class Watcher(harness.FileWatcher):
    """Polls the transcripts while the agent runs; notes when each gemini message id first
    appeared, first with tokens and first with toolCalls."""

    def __init__(self, sb: harness.Sandbox):
        super().__init__()
        self.root = sb.home / ".gemini" / "tmp"
        self.first: dict[tuple[str, str], float] = {}  # (msg id, "tokens"|"calls") → t

    def poll(self):
        t = time.time()
        for path in glob.glob(str(self.root / "**" / "*.jsonl"), recursive=True):
            for line in self.new_lines(path):
                try:
                    o = json.loads(line)
                except ValueError:
                    continue
                if isinstance(o, dict) and o.get("type") == "gemini" and o.get("id"):
                    if o.get("tokens"):
                        self.first.setdefault((o["id"], "tokens"), t)
                    if o.get("toolCalls"):
                        self.first.setdefault((o["id"], "calls"), t)


# ---------------------------------------------------------------------------------------
# Expected numbers


class Expect:
    """The scripted responses served, in the order they were asked for, each matched to its
    transcript message (by its unique tokens), and the cumulative totals."""

    def __init__(self, mock: mg.GeminiMock, script: mg.Script, tx: Transcripts, sid: str):
        names = {s.name for s in script.steps()}
        recorded = tx.responses(sid) if sid else {}
        self.order = []
        for r in mock.responses():
            if r["step"] not in names:
                continue
            ms_ = [m for m in tx.by_tokens(r["usage"]) if m["id"] in recorded]
            r = dict(r, msg=ms_[0] if len(ms_) == 1 else None, n_matches=len(ms_))
            self.order.append(r)
        self.cum = {}
        c = 0
        for r in self.order:
            if r["msg"] is not None:
                c += r["total"]
            self.cum[r["step"]] = c
        self.by_step = {r["step"]: r for r in self.order}

    def recorded(self) -> list[dict]:
        return [r for r in self.order if r["msg"] is not None]

    def C(self, step: str) -> int:
        return self.cum[step]

    def U(self, step: str) -> int:
        return self.by_step[step]["total"]

    def before(self, step: str) -> int:
        """What an unanchored snapshot taken before the step's response was on disk would
        count (for the failure messages)."""
        return self.C(step) - (self.U(step) if self.by_step[step]["msg"] else 0)

    def between(self, after: str, through: str) -> list[dict]:
        a = self.order.index(self.by_step[after])
        b = self.order.index(self.by_step[through])
        return [r for r in self.order[a + 1:b + 1] if r["msg"] is not None]

    def buckets(self, rs=None) -> dict:
        return harness.sum_buckets(self.recorded() if rs is None else rs, mg.ledger_buckets)

    def call_id(self, step: str) -> str | None:
        m = self.by_step.get(step, {}).get("msg")
        if not m or not m["tool_calls"]:
            return None
        return next(iter(m["tool_calls"]))


def check_mock_log(what: str, mock: mg.GeminiMock, steps: list[str]) -> None:
    """Each of `steps` served once, every conversation as scripted, no mock error; the side
    requests listed."""
    harness.check_event_log(checks, what, mock, steps)
    extra = [r["step"] for r in mock.requests() if "extra" in str(r.get("step"))]
    checks.eq(f"{what}: responses past the script", extra, [])
    aux = [(r.get("aux_kind"), r.get("model"), r["path"].split("/")[-1])
           for r in mock.requests() if r["role"] == "aux"]
    probes = sorted({(r["method"], r["path"]) for r in mock.requests()
                     if r["role"] in ("probe", "count_tokens", "other")})
    info(f"{what}: side requests: {aux or 'none'}; probes: {probes or 'none'}")


def check_transcript(what: str, mock: mg.GeminiMock, script: mg.Script, tx: Transcripts,
                     sid: str, ex: Expect) -> None:
    """Every scripted response in the session's transcript once, with the usage served; side
    answers in none; every copy of a message with the same tokens."""
    for r in ex.order:
        if not checks.eq(f"{what}: {r['step']} in the transcript once (by its tokens)",
                         r["n_matches"], 1):
            continue
        m = r["msg"]
        checks.true(f"{what}: {r['step']}'s copies all carry the same tokens",
                    all(t == m["tokens"] for t in m["token_copies"]),
                    f"{len(m['token_copies'])} copies")
        if r["tools"]:
            checks.eq(f"{what}: {r['step']}'s tool calls in the transcript",
                      [tc.get("name") for tc in m["tool_calls"].values()], r["tools"])
    recorded = tx.responses(sid)
    ours = {r["msg"]["id"] for r in ex.order if r["msg"]}
    unknown = sorted(set(recorded) - ours)
    aux_in = [r["step"] for r in mock.responses()
              if r["role"] == "aux" and tx.by_tokens(r["usage"])]
    checks.eq(f"{what}: side responses in the transcript", aux_in, [])
    checks.eq(f"{what}: transcript responses that were not scripted", unknown, [])
    copies = sorted({m["copies"] for r in ex.order if r["msg"] and r["tools"]
                     for m in [r["msg"]]})
    info(f"{what}: copies of a tool-calling response: {copies}; $set.messages rewrites: "
         f"{[(x['file'][:30], x['n'], x['with_tokens']) for x in tx.rewrites]}")


def timing_report(what: str, mock: mg.GeminiMock, w: Watcher, ex: Expect) -> None:
    t0 = min(e["t"] for e in mock.log) if mock.log else 0
    rel = lambda t: "      ?" if t is None else f"{(t - t0) * 1000:7.0f}"  # noqa: E731
    for r in ex.order:
        if not r["tools"] or not r["msg"]:
            continue
        ev = r["events"]
        call_t = min((v for k, v in ev.items() if k.startswith("call")), default=None)
        mid = r["msg"]["id"]
        tok_t, calls_t = w.first.get((mid, "tokens")), w.first.get((mid, "calls"))
        info(f"{what}: {r['step']:>3} functionCall chunk {rel(call_t)} ms, final chunk "
             f"{rel(ev.get('final'))}, line with tokens {rel(tok_t)}, with toolCalls "
             f"{rel(calls_t)}")
        if tok_t is not None and calls_t is not None and tok_t > calls_t:
            seen.note(f"{what}: {r['step']} reached the transcript with its toolCalls first")


# ---------------------------------------------------------------------------------------
# Scenario 1: the analysis lifecycle run by the agent's shell tool, then resumed


MAIN_PROMPT = "E2E-MAIN-SCRIPT: record an analysis of this directory with tokledger."
RESUME_PROMPT = "E2E-RESUME-SCRIPT: record a second analysis in this session."
LATER_PROMPT = "E2E-LATER-SCRIPT: record a third analysis in this session."


def main_script(tag: str, work: Path) -> mg.Script:
    s = mg.Script(tag)
    s.add("main", "E2E-MAIN-SCRIPT", [
        ("R1", [mg.thought("**Starting the analysis**"), mg.text("Starting the analysis."),
                mg.shell("tokledger analysis start --source-id e2e-gemini --tool gemini > id.txt",
                         "Start the analysis")]),
        ("R2", [mg.shell('read -r id < id.txt; tokledger analysis mark --id "$id" --stage read',
                         "Mark the read stage")]),
        ("R3", [mg.shell("ls /nonexistent-e2e", "List a missing directory")]),
        ("R4", [mg.call("write_file", {"file_path": str(work / "notes.txt"),
                                       "content": "e2e notes\n"})]),
        ("R5", [mg.call("invoke_agent", {"agent_name": "generalist",
                                         "prompt": "E2E-SUB-SCRIPT: run echo sub, then "
                                                   "complete the task."})]),
        ("R6", [mg.shell('read -r id < id.txt; tokledger analysis complete --id "$id"',
                         "Complete the analysis")]),
        ("R7", [mg.thought("**Done**"), mg.text("The analysis is recorded.")]),
    ])
    s.add("sub", "E2E-SUB-SCRIPT", [
        ("S1", [mg.shell("echo sub", "Print sub")]),
        ("S2", [mg.call("complete_task", {"result": {"response": "The sub-agent printed sub."}})]),
    ])
    for role, marker, k, idf in (("resume", "E2E-RESUME-SCRIPT", "Q", "id2.txt"),
                                 ("later", "E2E-LATER-SCRIPT", "P", "id3.txt")):
        s.add(role, marker, [
            (f"{k}1", [mg.shell(f"tokledger analysis start --source-id e2e-gemini-{role} "
                                f"--tool gemini > {idf}", "Start another analysis")]),
            (f"{k}2", [mg.shell("echo two", "Print two")]),
            (f"{k}3", [mg.shell(f'read -r id < {idf}; tokledger analysis complete --id "$id"',
                                "Complete it")]),
            (f"{k}4", [mg.text(f"The {role} analysis is recorded.")]),
        ])
    return s


def scenario_main(sb: harness.Sandbox, what: str, timing: str, later: bool,
                  while_waiting) -> None:
    script = main_script("M" + timing[0].upper(), sb.work)
    write_settings(sb)
    runs = []  # (name, rc, log, printed ids, chats files after)
    wait_for_early_minute(what)
    with mg.GeminiMock(script, timing) as mock, mocklib.ProxyTrap() as trap, \
            Watcher(sb) as w:
        env = agent_env(sb, mock.url, trap.url)

        def run(name, prompt, *extra):
            log = sb.root / f"agent-{name}.log"
            t = time.time()
            rc = harness.run_agent(gemini_argv(prompt, *extra), env, sb.work, AGENT_TIMEOUT,
                                   log)
            files = sorted(p.name for p in (sb.home / ".gemini" / "tmp").glob("*/chats/*.jsonl"))
            info(f"{what}/{name}: gemini exited {rc} after {time.time() - t:.1f} s; "
                 f"chats: {files}")
            if rc != 0:
                print(harness.tail(log), file=sys.stderr)
            runs.append((name, rc, log, printed_session_ids(log), files))
            return rc

        run("main", MAIN_PROMPT)
        sid = (runs[0][3] or [None])[0]
        if sid:
            run("resume", RESUME_PROMPT, "--resume", sid)
            if later:
                if while_waiting:
                    while_waiting()
                minute = runs[0][4][0][len("session-"):len("session-") + 16] if runs[0][4] \
                    else utc_minute()
                if checks.true(f"{what}: the clock minute changed (≤ {MINUTE_WAIT_MAX} s)",
                               wait_for_minute_after(minute, what)):
                    run("later", LATER_PROMPT, "--resume", sid)
    mock.dump(sb.root / "mock.jsonl")
    save_sample(sb, f"main-{timing}", {"MOCK-LOG.jsonl": sb.root / "mock.jsonl",
                                       **{f"AGENT-{n}.log": log for n, _, log, _, _ in runs}})

    # Gemini ran as scripted.
    for name, rc, log, ids, _ in runs:
        checks.eq(f"{what}/{name}: gemini exit code", rc, 0)
        checks.eq(f"{what}/{name}: stream-json init names the session", ids, [sid])
    harness.check_no_outside_traffic(checks, what, trap)
    if not sid:
        return
    names = {n for n, *_ in runs}
    steps = [s.name for c in script.conversations for s in c.steps
             if c.role in ("main", "sub") or c.role in names]
    check_mock_log(what, mock, steps)
    tx = Transcripts(sb)
    files = {p.name for p in tx.main_files.get(sid, [])}
    info(f"{what}: session {sid}: main files {sorted(files)}, sub-agent files "
         f"{[p.name for p in tx.sub_files.get(sid, [])]}; bad lines {tx.bad_lines}")
    if len(runs) >= 2:
        checks.eq(f"{what}: resume in the same minute: one session file",
                  len(runs[1][4]), 1)
    if len(runs) >= 3:
        checks.eq(f"{what}: resume in a later minute: a second file for the same session",
                  (len(files), sorted({h["sessionId"] for p in tx.main_files.get(sid, [])
                                       for h in tx.headers.get(p, [])})), (2, [sid]))
    checks.eq(f"{what}: one sub-agent file", len(tx.sub_files.get(sid, [])), 1)
    ex = Expect(mock, script, tx, sid)
    check_transcript(what, mock, script, tx, sid, ex)
    timing_report(what, mock, w, ex)
    for r in ex.order:
        calls = [(tc.get("name"), cid)
                 for cid, tc in (r["msg"] or {}).get("tool_calls", {}).items()]
        info(f"{what}: served {r['step']:>3} U={r['total']:>6} C={ex.C(r['step']):>6} "
             f"calls={calls}")

    # The failing command, as Gemini tells it.
    tcs = tx.tool_calls(sid)
    r3 = tcs.get(ex.call_id("R3") or "", ({}, {}))[0]
    checks.eq(f"{what}: the transcript's R3 (failing ls): (status, exit code in the result)",
              (r3.get("status"), tool_outcome(r3)[1] if r3 else None), ("success", 2))
    checks.eq(f"{what}: notes.txt written by write_file",
              (sb.work / "notes.txt").read_text() if (sb.work / "notes.txt").exists() else None,
              "e2e notes\n")

    # The analysis rows, first as the runs left them (informational).
    analyses = [("analysis 1", harness.read_id(sb.work / "id.txt"), "R1", [("read", "R2")], "R6")]
    if "resume" in names:
        analyses.append(("analysis 2 (resumed, same minute)", harness.read_id(sb.work / "id2.txt"),
                         "Q1", [], "Q3"))
    if "later" in names:
        analyses.append(("analysis 3 (resumed, later minute)", harness.read_id(sb.work / "id3.txt"),
                         "P1", [], "P3"))
    for label, aid, *_ in analyses:
        checks.true(f"{what}: {label}: start printed an id", aid.startswith("ANALYSIS-"),
                    repr(aid))
        row = sb.show_analysis(aid, info)
        if row:
            info(f"{what}: {label} right after the runs: " + ", ".join(
                f"{s.get('kind')}{'/' + s['stage'] if s.get('stage') else ''} "
                f"tokens={s.get('tokens')} settled={s.get('settled')} "
                f"waited_ms={s.get('waited_ms')}" for s in row.get("snapshots") or []))

    # Session totals (this read also settles any provisional snapshot).
    sessions = sb.sessions("gemini", say=info)
    checks.eq(f"{what}: sessions list: gemini sessions", None if sessions is None else
              [s.get("session_id") for s in sessions], [sid])
    harness.check_session_buckets(checks, what, (sessions or [{}])[0], ex.buckets(),
                                  "ΣU, every run")

    for label, aid, first, stages, last in analyses:
        row = sb.show_analysis(aid, info)
        tag = f"{what}: {label}"
        if row is None:
            checks.true(f"{tag}: the row exists", False)
            continue
        checks.eq(f"{tag}: status", row.get("status"), "completed")
        checks.eq(f"{tag}: usage_session_id", row.get("usage_session_id"), sid)
        info(f"{tag}: session_binding = {row.get('session_binding')!r}")
        checks.eq_count(f"{tag}: tokens_baseline (ΣU ..{first})", row.get("tokens_baseline"),
                        ex.C(first), ex.before(first))
        got_stages = harness.stages_of(row)
        checks.eq(f"{tag}: stage names", [x.get("stage") for x in got_stages],
                  [n for n, _ in stages])
        prev = first
        for (name, step), st in zip(stages, got_stages):
            checks.eq_count(f"{tag}: stage {name} tokens (ΣU ..{step})", st.get("tokens"),
                            ex.C(step), ex.before(step))
            checks.eq(f"{tag}: stage {name} delta", st.get("delta"), ex.C(step) - ex.C(prev))
            prev = step
        between = ex.between(first, last)
        bb = ex.buckets(between)
        checks.eq_count(f"{tag}: tokens_final (ΣU ..{last})", row.get("tokens_final"),
                        ex.C(last), ex.before(last))
        checks.eq(f"{tag}: tokens_check ({'+'.join(r['step'] for r in between)})",
                  row.get("tokens_check"), ex.C(last) - ex.C(first))
        checks.eq(f"{tag}: tokens_in", row.get("tokens_in"), bb["total"] - bb["output_tokens"])
        checks.eq(f"{tag}: tokens_out", row.get("tokens_out"), bb["output_tokens"])
        checks.eq(f"{tag}: total_tokens", row.get("total_tokens"), bb["total"])
        expect = [("baseline", None, ex.C(first), ex.call_id(first), ex.before(first))]
        expect += [("stage", n, ex.C(s), ex.call_id(s), ex.before(s)) for n, s in stages]
        expect += [("final", None, ex.C(last), ex.call_id(last), ex.before(last))]
        harness.check_snapshots_by_field(checks, f"{tag} (after sessions list)", row, expect,
                                         seen.recorder(timing))

    check_tool_calls(what, sb, tx, sid, ex)


def check_tool_calls(what: str, sb: harness.Sandbox, tx: Transcripts, sid: str,
                     ex: Expect) -> None:
    tcs = tx.tool_calls(sid)
    rep = sb.tokledger("report", "tools", "--tool", "gemini", "--json", check=False)
    try:
        rep = json.loads(rep.stdout)
    except ValueError:
        info(f"{what}: report tools exit {rep.returncode}: {rep.stderr.strip()[:300]}")
        rep = {}
    per_name: dict[str, list[int]] = {}
    for tc, _ in tcs.values():
        per_name.setdefault(tc.get("name"), []).append(tool_outcome(tc)[0])
    rows = {r.get("name"): r for r in rep.get("rows", [])}
    for name, fails in sorted(per_name.items()):
        r = rows.get(name, {})
        checks.eq(f"{what}: report tools {name} (calls, failures, successes)",
                  (r.get("calls"), r.get("failures"), r.get("successes")),
                  (len(fails), sum(fails), len(fails) - sum(fails)))
    checks.eq(f"{what}: report tools total failures", rep.get("totals", {}).get("failures"),
              sum(sum(f) for f in per_name.values()))

    try:
        db = harness.tool_call_rows(sb.db, "gemini")
    except sqlite3.Error as e:
        db = {}
        info(f"{what}: reading tool_calls: {e!r}")
    checks.eq(f"{what}: ledger tool_calls ids (= the transcript's)", sorted(db), sorted(tcs))
    for cid, (tc, msg) in sorted(tcs.items(), key=lambda x: x[1][0].get("timestamp") or ""):
        row = db.get(cid)
        if not checks.true(f"{what}: ledger has call {cid}", row is not None):
            continue
        failed, code = tool_outcome(tc)
        checks.eq(f"{what}: {cid} name", row.get("name"), tc.get("name"))
        checks.eq(f"{what}: {cid} failed (status {tc.get('status')}, exit code {code})",
                  row.get("failed"), failed)
        span = None
        if ms(tc.get("timestamp")) is not None and ms(msg.get("timestamp")) is not None:
            span = ms(tc["timestamp"]) - ms(msg["timestamp"])
        d = row.get("duration_ms")
        checks.true(f"{what}: {cid} duration_ms within the transcript's span "
                    f"(response → result, {span} ms)",
                    isinstance(d, int) and span is not None and 0 <= d <= span + 1,
                    f"duration_ms={d!r}")
        fp = tc.get("args", {}).get("file_path") if tc.get("name") == "write_file" else None
        checks.eq(f"{what}: {cid} file_path", row.get("file_path"), fp)
    r3 = db.get(ex.call_id("R3") or "", {})
    checks.eq(f"{what}: the failing ls is failed in the ledger", r3.get("failed"), 1)
    r4 = db.get(ex.call_id("R4") or "", {})
    checks.eq(f"{what}: write_file call file_path", r4.get("file_path"),
              str(sb.work / "notes.txt"))


# ---------------------------------------------------------------------------------------
# Scenario 2: `tokledger analysis run -- node gemini.js -p …`


def run_script(tag: str) -> mg.Script:
    s = mg.Script(tag)
    s.add("main", "E2E-RUN-OK", [
        ("R1", [mg.shell("echo hi; env | sort > env.txt", "Print hi")]),
        ("R2", [mg.text("Said hi.")]),
    ])
    s.add("fail", "E2E-RUN-FAIL", [
        ("F1", [mg.shell("echo once", "Print once")]),
        ("F2", [mg.text("Not reached: maxSessionTurns 1 stops before.")]),
    ])
    return s


RUN_OK_PROMPT = "E2E-RUN-OK: say hi."
RUN_FAIL_PROMPT = "E2E-RUN-FAIL: one turn only."


def direct_exit_code(timing: str) -> int:
    """Gemini CLI's exit code for the failing run, without tokledger, for comparison."""
    sb = harness.Sandbox(f"gemini-direct-{timing}")
    try:
        write_settings(sb, maxSessionTurns=1)
        with mg.GeminiMock(run_script("D" + timing[0].upper()), timing) as mock:
            return harness.run_agent(gemini_argv(RUN_FAIL_PROMPT),
                                     agent_env(sb, mock.url, "http://127.0.0.1:9"),
                                     sb.work, AGENT_TIMEOUT, sb.root / "agent.log")
    finally:
        sb.cleanup()


def scenario_run(timing: str) -> None:
    what = f"run/{timing}"
    direct = checks.guarded(f"{what}/direct", direct_exit_code, timing)
    info(f"{what}: gemini alone with maxSessionTurns 1 exits {direct}")
    checks.in_sandbox(what, f"gemini-run-{timing}", run_scenario, timing, direct)


def run_scenario(sb: harness.Sandbox, what: str, timing: str, direct_rc) -> None:
    script = run_script("R" + timing[0].upper())
    results = {}
    with mg.GeminiMock(script, timing) as mock, mocklib.ProxyTrap() as trap:
        env = agent_env(sb, mock.url, trap.url)
        for case, source, prompt, turns in (("ok", "e2e-run", RUN_OK_PROMPT, None),
                                            ("fail", "e2e-run-fail", RUN_FAIL_PROMPT, 1)):
            if turns:
                write_settings(sb, maxSessionTurns=turns)
            else:
                write_settings(sb)
            log = sb.root / f"agent-{case}.log"
            argv = harness.analysis_run_argv(source, "gemini", *gemini_argv(prompt))
            t = time.time()
            rc = harness.run_agent(argv, env, sb.work, AGENT_TIMEOUT, log)
            info(f"{what}/{case}: tokledger analysis run exited {rc} after "
                 f"{time.time() - t:.1f} s")
            results[case] = (rc, log)
            time.sleep(0.2)
    mock.dump(sb.root / "mock.jsonl")
    save_sample(sb, f"run-{timing}", {"MOCK-LOG.jsonl": sb.root / "mock.jsonl",
                                      "ENV-shell-tool.txt": sb.work / "env.txt",
                                      **{f"AGENT-run-{c}.log": v[1] for c, v in results.items()}})
    harness.check_no_outside_traffic(checks, what, trap)
    check_mock_log(what, mock, ["R1", "R2", "F1"])
    tx = Transcripts(sb)
    envs = harness.read_env(sb.work / "env.txt")
    checks.eq(f"{what}: GEMINI_CLI in the shell tool's environment", envs.get("GEMINI_CLI"), "1")
    info(f"{what}: shell tool env (GEMINI*/TOKLEDGER*): " + ", ".join(
        f"{k}={v}" for k, v in sorted(envs.items())
        if k.startswith(("GEMINI", "TOKLEDGER")) and "KEY" not in k))
    for case, (rc, log) in results.items():
        tag = f"{what}/{case}"
        ids = printed_session_ids(log)
        sid = (ids or [None])[0]
        checks.eq(f"{tag}: stream-json passed through, one init with a session id",
                  len(ids) == 1 and bool(sid), True)
        rows = sb.analyses("--source-id", "e2e-run" if case == "ok" else "e2e-run-fail",
                           say=info)
        if case == "ok":
            checks.eq(f"{tag}: exit code (gemini's, 0)", rc, 0)
        else:
            checks.true(f"{tag}: gemini alone exits non-zero here", direct_rc not in (0, -9, None),
                        f"rc {direct_rc}")
            checks.eq(f"{tag}: exit code passed through (gemini's own)", rc, direct_rc)
        if not checks.eq(f"{tag}: rows", len(rows), 1) or not sid:
            continue
        row = rows[0]
        recorded = tx.responses(sid)
        served = [r for r in mock.responses() if tx.by_tokens(r["usage"])
                  and tx.by_tokens(r["usage"])[0]["id"] in recorded]
        total = sum(r["total"] for r in served)
        want = ["R1", "R2"] if case == "ok" else ["F1"]
        checks.eq(f"{tag}: transcript responses", [r["step"] for r in served], want)
        checks.eq(f"{tag}: status", row.get("status"), "completed" if case == "ok" else "failed")
        checks.eq(f"{tag}: usage_session_id (the printed session)", row.get("usage_session_id"),
                  sid)
        checks.true(f"{tag}: session_binding", row.get("session_binding") in
                    ("run_printed_id", "run_changed_session"), repr(row.get("session_binding")))
        checks.eq(f"{tag}: tokens_baseline", row.get("tokens_baseline"), 0)
        checks.eq(f"{tag}: tokens_check (Σ of the session)", row.get("tokens_check"), total)
        checks.eq(f"{tag}: tokens_final", row.get("tokens_final"), total)
        b = mg.ledger_buckets
        checks.eq(f"{tag}: tokens_out", row.get("tokens_out"),
                  sum(b(r["usage"])["output_tokens"] for r in served))


# ---------------------------------------------------------------------------------------


def main() -> int:
    global samples_dir
    ap = harness.arg_parser(__doc__)
    ap.add_argument("--scenario", choices=("main", "run", "both"), default="both")
    ap.add_argument("--no-later-minute", action="store_true",
                    help="skip the resume in a later clock minute (saves up to a minute)")
    ap.add_argument("--samples", metavar="DIR",
                    help="copy each run's ~/.gemini (and the mock's log) to "
                         "DIR/<scenario>-<timing>")
    args = harness.parse_args(ap, SUITE)
    if args.samples:
        samples_dir = Path(args.samples)
        samples_dir.mkdir(parents=True, exist_ok=True)
    js = gemini_js()
    with tempfile.TemporaryDirectory(prefix="tokledger-e2e-gemini-version-") as h:
        ver = subprocess.run(["node", js, "--version"], capture_output=True, text=True,
                             timeout=60, env={"HOME": h, "PATH": os.environ.get("PATH", "")})
    info(f"tokledger: {args.tokledger}; gemini {ver.stdout.strip()} ({js})")
    timings = args.timings
    t0 = time.time()
    for i, timing in enumerate(timings):
        later = not args.no_later_minute and i == len(timings) - 1
        do_main = args.scenario in ("main", "both")
        do_run = args.scenario in ("run", "both")
        ran = []

        def run_once(timing=timing, ran=ran):
            if do_run and not ran:
                ran.append(1)
                scenario_run(timing)

        # The main scenario wants an early second of a minute: do the other one first if
        # it is late in this one, or while waiting for the minute to change.
        if datetime.now(timezone.utc).second > SAME_MINUTE_LATEST_SECOND:
            run_once()
        if do_main:
            checks.in_sandbox(f"main/{timing}", f"gemini-main-{timing}", scenario_main, timing,
                              later, run_once if later else None)
        run_once()
    seen.report(t0)
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
