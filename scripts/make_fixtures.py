#!/usr/bin/env python3
"""Write the bundled fixture transcripts (fixtures/home, fixtures/partial).

Each file reproduces, in shapes of our own, one or more traps listed in docs/FORMATS.md.
The exact totals the tests assert are in the comments beside each record. Re-run this
script after editing it: `python3 scripts/make_fixtures.py`.
"""
import json
import os
import shutil

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
HOME = os.path.join(ROOT, "home")
PARTIAL = os.path.join(ROOT, "partial")

SA = "11111111-1111-4111-8111-111111111111"  # Claude session with every Claude trap
SB = "22222222-2222-4222-8222-222222222222"  # Claude session under ~/.config/claude
CX = "33333333-3333-4333-8333-333333333333"  # Codex thread
CY = "44444444-4444-4444-8444-444444444444"  # Codex thread only in archived_sessions
TA = "T-55555555-5555-4555-8555-555555555555"  # Amp thread: ledger + messages
TB = "T-66666666-6666-4666-8666-666666666666"  # Amp thread: messages only
TC = "T-77777777-7777-4777-8777-777777777777"  # Amp thread written half (fixtures/partial)


def j(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def write(path, lines, raw_tail=b""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        for line in lines:
            f.write(line if isinstance(line, bytes) else j(line).encode())
            f.write(b"\n")
        f.write(raw_tail)


def claude_line(kind, ts, session, **kw):
    base = {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": "/home/dev/app",
        "sessionId": session,
        "version": "2.1.90",
        "gitBranch": "main",
        "type": kind,
        "uuid": kw.pop("uuid", f"u-{ts}"),
        "timestamp": ts,
    }
    base.update(kw)
    return base


def usage(i, cc, cr, out, m5=None, h1=None, **extra):
    u = {"input_tokens": i, "cache_creation_input_tokens": cc, "cache_read_input_tokens": cr, "output_tokens": out}
    if m5 is not None:
        u["cache_creation"] = {"ephemeral_5m_input_tokens": m5, "ephemeral_1h_input_tokens": h1 or 0}
    u.update(extra)
    return u


def assistant(ts, session, mid, rid, model, u, content, **kw):
    line = claude_line(
        "assistant",
        ts,
        session,
        message={"id": mid, "type": "message", "role": "assistant", "model": model, "content": content,
                 "stop_reason": None, "stop_sequence": None, "usage": u},
        **kw,
    )
    if rid is not None:
        line["requestId"] = rid
    return line


SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
OPUS = "claude-opus-4-1-20250805"


def claude_session_a():
    d = os.path.join(HOME, ".claude/projects/-home-dev-app")
    s = SA
    lines = [
        claude_line("user", "2026-03-02T09:00:00.000Z", s, message={"role": "user", "content": "fix the parser"}),
        # msg_A streamed as three lines (thinking, tool_use, text); output grows 8, 8, 187.
        # Counted once: input 10 + cache write 1000 + read 0 + output 187 = 1197.
        assistant("2026-03-02T09:00:01.000Z", s, "msg_A", "req_A", SONNET, usage(10, 1000, 0, 8, 1000, 0),
                  [{"type": "thinking", "thinking": "look at the file", "signature": "sig"}]),
        assistant("2026-03-02T09:00:02.000Z", s, "msg_A", "req_A", SONNET, usage(10, 1000, 0, 8, 1000, 0),
                  [{"type": "tool_use", "id": "toolu_A1", "name": "Read",
                    "input": {"file_path": "/home/dev/app/src/main.rs"}}]),
        assistant("2026-03-02T09:00:03.000Z", s, "msg_A", "req_A", SONNET, usage(10, 1000, 0, 187, 1000, 0),
                  [{"type": "text", "text": "Reading it."}]),
        claude_line("user", "2026-03-02T09:00:04.500Z", s,
                    message={"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_A1",
                                                          "content": "<tool_use_error>File does not exist.</tool_use_error>",
                                                          "is_error": True}]},
                    toolUseResult="Error: File does not exist."),
        # msg_B has no requestId (a proxy): two copies, output 50 then 120.
        # Counted once: 5 + 0 + 1000 + 120 = 1125.
        assistant("2026-03-02T09:00:05.000Z", s, "msg_B", None, SONNET, usage(5, 0, 1000, 50),
                  [{"type": "tool_use", "id": "toolu_B1", "name": "Edit",
                    "input": {"file_path": "/home/dev/app/src/lib.rs", "old_string": "a", "new_string": "b"}}]),
        assistant("2026-03-02T09:00:06.000Z", s, "msg_B", None, SONNET, usage(5, 0, 1000, 120),
                  [{"type": "text", "text": "Edited."}]),
        claude_line("user", "2026-03-02T09:00:06.800Z", s,
                    message={"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_B1",
                                                          "content": "ok"}]}),
        # A local notice: counts nothing, whatever its usage says.
        assistant("2026-03-02T09:00:07.000Z", s, "9d1c6a52-0000-4000-8000-000000000001", None, "<synthetic>",
                  usage(999, 0, 0, 999), [{"type": "text", "text": "API Error: 529 Overloaded"}],
                  isApiErrorMessage=True),
        claude_line("system", "2026-03-02T09:30:00.000Z", s, uuid="compact-1", subtype="compact_boundary",
                    content="Conversation compacted", level="info", logicalParentUuid="u-x",
                    compactMetadata={"trigger": "auto", "preTokens": 155116}),
        claude_line("user", "2026-03-02T09:30:00.100Z", s, isCompactSummary=True,
                    message={"role": "user", "content": "This session is being continued from a previous conversation."}),
    ]
    # A malformed line (cut JSON, but newline-terminated): skipped with a warning.
    malformed = b'{"type":"assistant","message":{"id":"msg_bad","usage":{"input_tokens":5'
    # msg_C carries one invalid UTF-8 byte in its text; its usage still counts:
    # 3 + 200 + 1000 + 40 = 1243 (the whole write is a 1-hour write).
    c_line = j(assistant("2026-03-02T09:31:00.000Z", s, "msg_C", "req_C", SONNET, usage(3, 200, 1000, 40, 0, 200),
                         [{"type": "text", "text": "bad byte here: X"}])).encode()
    c_line = c_line.replace(b"bad byte here: X", b"bad byte here: \xff")
    # msg_D: 5m/1h split 100/50 → 2 + 150 + 1197 + 30 = 1379.
    d_line = assistant("2026-03-02T09:32:00.000Z", s, "msg_D", "req_D", SONNET, usage(2, 150, 1197, 30, 100, 50),
                       [{"type": "text", "text": "Done."}])
    write(os.path.join(d, s + ".jsonl"), lines + [malformed, c_line, d_line])
    # Main file: 1197 + 1125 + 1243 + 1379 = 4944.

    sub = os.path.join(d, s, "subagents")
    sc = dict(isSidechain=True, agentId="a1b2c3d4e5f6a7b8c")
    write(os.path.join(sub, "agent-a1b2c3d4e5f6a7b8c.jsonl"), [
        claude_line("user", "2026-03-02T09:10:00.000Z", s, message={"role": "user", "content": "explore"}, **sc),
        # msg_S streamed twice: 20 + 500 + 0 + 90 = 610, on the sub-agent's own model.
        assistant("2026-03-02T09:10:01.000Z", s, "msg_S", "req_S", HAIKU, usage(20, 500, 0, 60, 500, 0),
                  [{"type": "tool_use", "id": "toolu_S1", "name": "Grep", "input": {"pattern": "fn", "path": "src"}}], **sc),
        assistant("2026-03-02T09:10:02.000Z", s, "msg_S", "req_S", HAIKU, usage(20, 500, 0, 90, 500, 0),
                  [{"type": "text", "text": "found"}], **sc),
        claude_line("user", "2026-03-02T09:10:02.500Z", s,
                    message={"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_S1", "content": "src/lib.rs"}]}, **sc),
        # A replay of the parent's msg_D under another requestId: the same response, counted once.
        assistant("2026-03-02T09:33:00.000Z", s, "msg_D", "req_replay", SONNET, usage(2, 150, 1197, 30, 100, 50),
                  [{"type": "text", "text": "Done."}], **sc),
    ])
    with open(os.path.join(sub, "agent-a1b2c3d4e5f6a7b8c.meta.json"), "w") as f:
        f.write(j({"agentType": "Explore", "description": "explore", "model": HAIKU}) + "\n")
    # A workflow journal is not a transcript: this usage must never count.
    write(os.path.join(sub, "journal.jsonl"), [
        assistant("2026-03-02T09:11:00.000Z", s, "msg_J", "req_J", SONNET, usage(100000, 0, 0, 100000), []),
    ])
    # Session total: 4944 + 610 = 5554.


def claude_session_b():
    d = os.path.join(HOME, ".config/claude/projects/-home-dev-lib")
    line = assistant("2026-03-01T15:00:00.000Z", SB, "msg_E", "req_E", OPUS, usage(100, 0, 0, 200),
                     [{"type": "text", "text": "hello"}], cwd="/home/dev/lib")
    write(os.path.join(d, SB + ".jsonl"), [
        claude_line("user", "2026-03-01T14:59:59.000Z", SB, message={"role": "user", "content": "hi"}, cwd="/home/dev/lib"),
        line,
    ])
    # Total: 100 + 200 = 300.


def tc(ts, total, last):
    def tu(v):
        i, c, o, r = v
        return {"input_tokens": i, "cached_input_tokens": c, "output_tokens": o, "reasoning_output_tokens": r,
                "total_tokens": i + o}
    info = None if total is None else {"total_token_usage": tu(total), "last_token_usage": tu(last),
                                       "model_context_window": 272000}
    return {"timestamp": ts, "type": "event_msg", "payload": {"type": "token_count", "info": info,
                                                               "rate_limits": {"primary": {"used_percent": 1.0}}}}


def codex_lines(thread, cwd="/home/dev/app"):
    return [
        {"timestamp": "2026-03-02T10:00:00.000Z", "type": "session_meta",
         "payload": {"id": thread, "timestamp": "2026-03-02T10:00:00.000Z", "cwd": cwd, "originator": "codex_cli_rs",
                     "cli_version": "0.77.0", "instructions": None, "source": "cli", "model_provider": "openai",
                     "git": {"commit_hash": "abc123", "branch": "feature/x"}}},
        {"timestamp": "2026-03-02T10:00:01.000Z", "type": "turn_context",
         "payload": {"cwd": cwd, "approval_policy": "on-request", "model": "gpt-5-codex", "effort": "medium"}},
        {"timestamp": "2026-03-02T10:00:01.010Z", "type": "event_msg",
         "payload": {"type": "user_message", "message": "fix the failing test", "images": []}},
        tc("2026-03-02T10:00:01.020Z", None, None),  # info: null → nothing
        # First count: input 1000 (400 cached), output 100 (50 reasoning) → 600 + 400 + 100 = 1100.
        tc("2026-03-02T10:00:05.000Z", (1000, 400, 100, 50), (1000, 400, 100, 50)),
        tc("2026-03-02T10:00:05.500Z", (1000, 400, 100, 50), (1000, 400, 100, 50)),  # re-emit → 0
        {"timestamp": "2026-03-02T10:00:06.000Z", "type": "response_item",
         "payload": {"type": "function_call", "name": "shell_command",
                     "arguments": j({"command": "cargo test", "workdir": cwd}), "call_id": "call_shell1"}},
        {"timestamp": "2026-03-02T10:00:06.000Z", "type": "response_item",
         "payload": {"type": "function_call_output", "call_id": "call_shell1",
                     "output": "Exit code: 101\nWall time: 2.5 seconds\nOutput:\ntest failed\n"}},
        {"timestamp": "2026-03-02T10:00:07.000Z", "type": "response_item",
         "payload": {"type": "custom_tool_call", "status": "completed", "call_id": "call_patch1", "name": "apply_patch",
                     "input": "*** Begin Patch\n*** Update File: src/lib.rs\n@@\n-a\n+b\n*** End Patch"}},
        {"timestamp": "2026-03-02T10:00:07.000Z", "type": "response_item",
         "payload": {"type": "custom_tool_call_output", "call_id": "call_patch1",
                     "output": j({"output": "Success. Updated the following files:\nM src/lib.rs\n",
                                  "metadata": {"exit_code": 0, "duration_seconds": 0.1}})}},
        # The model changes: later counts belong to gpt-5.
        {"timestamp": "2026-03-02T10:01:00.000Z", "type": "turn_context",
         "payload": {"cwd": cwd, "approval_policy": "on-request", "model": "gpt-5", "effort": "high"}},
        # Totals grow by input 2000 (1000 cached), output 200 (50 reasoning) → 1000 + 1000 + 200 = 2200.
        tc("2026-03-02T10:01:05.000Z", (3000, 1400, 300, 100), (2000, 1000, 200, 50)),
        {"timestamp": "2026-03-02T10:20:00.000Z", "type": "compacted", "payload": {"message": "Summary so far"}},
        {"timestamp": "2026-03-02T10:20:00.010Z", "type": "event_msg", "payload": {"type": "context_compacted"}},
        # The total drops (a reset): count this event's last usage, 500 + 50 = 550.
        tc("2026-03-02T10:21:00.000Z", (500, 0, 50, 0), (500, 0, 50, 0)),
        # Growth from the new total: input 800 (300 cached), output 100 → 500 + 300 + 100 = 900.
        tc("2026-03-02T10:22:00.000Z", (1300, 300, 150, 0), (800, 300, 100, 0)),
    ]
    # Thread total: 1100 + 2200 + 550 + 900 = 4750 (gpt-5-codex 1100, gpt-5 3650).


def codex():
    lines = codex_lines(CX)
    name = f"rollout-2026-03-02T10-00-00-{CX}.jsonl"
    write(os.path.join(HOME, ".codex/sessions/2026/03/02", name), lines)
    # An older archived copy of the same thread (its first lines): the same session, counted once.
    write(os.path.join(HOME, ".codex/archived_sessions", name), lines[:8])
    # A thread that lives only in the archive: 700 + 0 + 50 = 750 on gpt-5.
    other = [
        {"timestamp": "2026-02-20T08:00:00.000Z", "type": "session_meta",
         "payload": {"id": CY, "cwd": "/home/dev/old", "cli_version": "0.60.0", "source": "exec"}},
        {"timestamp": "2026-02-20T08:00:01.000Z", "type": "turn_context", "payload": {"cwd": "/home/dev/old", "model": "gpt-5"}},
        tc("2026-02-20T08:00:09.000Z", (700, 0, 50, 0), (700, 0, 50, 0)),
    ]
    write(os.path.join(HOME, ".codex/archived_sessions", f"rollout-2026-02-20T08-00-00-{CY}.jsonl"), other)
    # Not a transcript: prompt history.
    write(os.path.join(HOME, ".codex/history.jsonl"), [{"session_id": CX, "ts": 1, "text": "fix the failing test"}])


def amp_thread(tid, with_ledger):
    created = 1772445600000  # 2026-03-02T10:00:00Z
    msgs = [
        {"role": "user", "messageId": 0, "content": [{"type": "text", "text": "fix the flaky test"}],
         "meta": {"sentAt": created + 1000}},
        {"role": "assistant", "messageId": 1,
         "content": [{"type": "tool_use", "id": "toolu_amp1", "name": "Read", "input": {"path": "tests/flaky.rs"}}],
         "state": {"type": "complete", "stopReason": "tool_use"},
         "usage": {"model": SONNET, "inputTokens": 10, "outputTokens": 100, "cacheCreationInputTokens": 500,
                   "cacheReadInputTokens": 2000, "totalInputTokens": 2510, "credits": 1.5}},
        {"role": "user", "messageId": 2,
         "content": [{"type": "tool_result", "toolUseID": "toolu_amp1", "run": {"status": "error", "result": "no such file"}}],
         "meta": {"sentAt": created + 9000}},
        {"role": "assistant", "messageId": 3, "content": [{"type": "text", "text": "The file is missing."}],
         "state": {"type": "complete", "stopReason": "end_turn"},
         "usage": {"model": SONNET, "inputTokens": 4, "outputTokens": 60, "cacheCreationInputTokens": 100,
                   "cacheReadInputTokens": 2500, "totalInputTokens": 2604, "credits": 0.7}},
        {"role": "info", "messageId": 4,
         "content": [{"type": "summary", "summary": {"type": "message", "summary": "Read failed"}}]},
    ]
    doc = {"v": 120, "id": tid, "created": created, "title": "Fix flaky test", "agentMode": "smart",
           "env": {"initial": {"trees": [{"displayName": "app", "uri": "file:///home/dev/app",
                                          "repository": {"type": "git", "url": "https://example.invalid/app.git",
                                                         "ref": "refs/heads/main", "sha": "abc"}}],
                               "platform": {"os": "linux", "client": "CLI", "clientVersion": "0.0.1772400000-gabc"}}},
           "messages": msgs,
           # Repeats the last message's usage; never read.
           "~debug": {"lastInferenceUsage": msgs[3]["usage"]}}
    if with_ledger:
        # Message usage 2610 + 2664, each merged with its ledger event; the title-generation
        # event has no assistant message and counts on its own: 300 + 20 = 320. Total 5594.
        doc["usageLedger"] = {"events": [
            {"id": "evt-title", "timestamp": "2026-03-02T10:00:01.500Z", "model": "claude-3-5-haiku-20241022",
             "credits": 0.05, "tokens": {"input": 300, "output": 20}, "operationType": "title-generation",
             "fromMessageId": 0, "toMessageId": 0},
            {"id": "evt-1", "timestamp": "2026-03-02T10:00:08.000Z", "model": SONNET, "credits": 1.5,
             "tokens": {"input": 10, "output": 100}, "operationType": "inference", "fromMessageId": 0, "toMessageId": 1},
            {"id": "evt-2", "timestamp": "2026-03-02T10:00:12.000Z", "model": SONNET, "credits": 0.7,
             "tokens": {"input": 4, "output": 60}, "operationType": "inference", "fromMessageId": 2, "toMessageId": 3},
        ]}
    else:
        # Current schema: no ledger, usage carries its own time. Total 2610 + 2664 = 5274.
        msgs[1]["usage"]["timestamp"] = "2026-03-02T10:00:08.000Z"
        msgs[3]["usage"]["timestamp"] = "2026-03-02T10:00:12.000Z"
    return doc


def amp():
    d = os.path.join(HOME, ".local/share/amp/threads")
    os.makedirs(d, exist_ok=True)
    for tid, ledger in ((TA, True), (TB, False)):
        with open(os.path.join(d, tid + ".json"), "w") as f:
            json.dump(amp_thread(tid, ledger), f, indent=2)
            f.write("\n")
    # A thread caught mid-rewrite: the first 60% of the document.
    os.makedirs(PARTIAL, exist_ok=True)
    full = json.dumps(amp_thread(TC, False), indent=2) + "\n"
    with open(os.path.join(PARTIAL, TC + ".json"), "w") as f:
        f.write(full[: len(full) * 6 // 10])
    with open(os.path.join(PARTIAL, TC + ".json.complete"), "w") as f:
        f.write(full)


def main():
    for d in (HOME, PARTIAL):
        shutil.rmtree(d, ignore_errors=True)
    claude_session_a()
    claude_session_b()
    codex()
    amp()


if __name__ == "__main__":
    main()
