#!/usr/bin/env python3
"""Benchmark histories of several shapes, each a fake HOME plus expected.json.

Usage: python3 scripts/gen_shapes.py OUT_HOME --shape SHAPE [--mb 400] [--seed 1]
                                     [--tokledger BIN] [--ccusage BIN] [--real-dir DIR]

Shapes (sizes in MiB, deterministic for a given shape, --mb and --seed):

  mixed         scripts/gen_history.py exactly as it is (same bytes, same expected.json).
  codex         Codex-heavy: rollouts whose turns carry large escape-dense `function_call_output`s
                (10-200 KB of code: `\\n`, quotes, backslashes), `reasoning` items with several KB of
                base64 `encrypted_content`, `function_call` arguments as JSON strings,
                `custom_tool_call` apply_patch calls, `exec_command_end` events (persisted by newer
                builds, formats.md 2.2) and `token_count` with cumulative totals, a re-emit after
                each, `info:null` and now and then a compaction reset (total goes down; count
                `last_token_usage`, SPEC 1). A small Claude part so both readers run.
  claude-tools  tool-result-heavy Claude: tool_result contents of 5-150 KB (escape-dense file
                contents, some as arrays of text blocks, an occasional base64 image block),
                `toolUseResult` repeating the file as Claude Code's Read does, thinking blocks with
                text and signatures, 3 streaming lines per response (output 9, 9, final) as
                gen_history.py writes them, sub-agent files.
  small         many small files: ~75 files per MiB (30 k for 400 MiB) of 2-30 KB over ~400
                project directories, 80 % Claude sessions (a few responses each), 20 % Codex
                rollouts over many days.
  real          the published transcripts in ../shared/real replicated under fresh ids until the
                size is reached (see Real below).
  user          a user-like mix (bench_scale.py's default): 60 % real, 25 % claude-tools,
                15 % small, by bytes.

expected.json has the format of gen_history.py (per tool: input_tokens (uncached; Codex input -
cached), cache_creation_tokens, cache_read_tokens, output_tokens, reasoning_tokens, total_tokens,
sessions; per model; per session), so bench_ingest.py checks every shape the same way. For the
synthetic shapes the totals are the generator's own truth.

Real: there is no independent truth for published transcripts. Each copy k rewrites every id
with a deterministic same-length mapping keyed by (seed, k): UUIDs (version and variant digits
kept), `msg_`/`req_`/`toolu_`/`toolu_vrtx_`/`srvtoolu_`/`call_` ids (fixed prefixes kept),
agent ids (`agentId`, `agent-<id>` file names), the publisher's `[REDACTED_MESSAGE_ID]` and
`[REDACTED_REQUESTID]` placeholders (else every copy would be one response); one map per copy,
so a session's main file, sub-agent files and their references stay consistent. Every ISO
timestamp (and Amp's epoch-ms `created`/`sentAt`, and the Codex path's date) is shifted by
3*k mod 366 days plus k//122 minutes, a distinct shift per copy (ccusage's Codex de-dup keys on
timestamps). Files go where the agents put them. The expectation is derived, not independent:
tokledger (--tokledger) reads one rewritten copy (copy 0) in a scratch HOME; its per-session
totals, mapped through each copy's id map, are the expected per-session totals, and the per-tool
totals are copy 0's times the number of copies. So the benchmark's check is one of consistency:
replication must neither merge nor lose responses. With --ccusage, ccusage reads copy 0 as well
and expected.json records whether its Claude totals agree with tokledger's ("ccusage_agrees"):
only then does a ccusage Claude mismatch on the whole set count as a failure.
Because the expectation is tokledger's own count, regenerate (delete the HOME) after a deliberate
change of its counting rules.

Python 3.11, standard library only.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_history  # noqa: E402  (the mixed shape and the shared helpers)
from gen_history import CLAUDE_MODELS, CODEX_MODEL, PATH_PARTS, T_SPAN_MS, T_START_MS, WORDS, dumps, fmt_ts  # noqa: E402

# Bump when the output of any shape other than `mixed` changes (`mixed` follows
# gen_history.GENERATOR_VERSION). A generated HOME is reused only when the versions match.
SHAPES_VERSION = 1
SHAPES = ("mixed", "codex", "claude-tools", "small", "real")
# `user`: a user-like mix for the scale benchmark, by bytes: 60 % real replication (itself about
# half Codex, half Claude, a little Amp), 25 % claude-tools, 15 % small; each part with its own seed.
USER_MIX = (("real", 0.60), ("claude-tools", 0.25), ("small", 0.15))
ALL_SHAPES = SHAPES + ("user",)
REAL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "real")

CODEX_MODELS = ("gpt-5-codex", "gpt-5.1-codex", "gpt-5.2-codex")
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

# Code-like lines that JSON-escape densely: quotes, backslashes, tabs, newlines.
CODE_LINES = (
    'let s = format!("{}: {}\\n", key, value);',
    'if line.starts_with("{\\"type\\":") { return Err(Error::new("bad \\"line\\"")); }',
    '\tprintf("%s\\t%d\\n", name, count);',
    'const re = /"([^"\\\\]|\\\\.)*"/g;',
    '    assert_eq!(parse(r#"{"a":1}"#), Ok(Value::Object(map)));',
    'echo "path: C:\\\\Users\\\\dev\\\\src" >> "$LOG"',
    '\t\t"input_tokens": 1234, "output_tokens": 56,',
    '<div class="row" data-id="42">Hello, "world"</div>',
    "    def __repr__(self): return f'<{self.__class__.__name__} {self.id!r}>'",
    '    json.dumps({"k": "v\\n", "q": "\\"x\\""})',
)


class Shapes(gen_history.Gen):
    """gen_history's pools, id helpers, totals and file writer, with more record shapes."""

    def __init__(self, out, mb, seed, shape):
        super().__init__(out, mb, seed)
        self.shape = shape
        rng = self.rng
        self.files.update({"codex_bytes": 0, "claude_bytes": 0})
        # ~600 chunks of 1.5-4.5 KB of escape-dense code, combined into large outputs.
        self.code_pool = []
        for _ in range(600):
            n = rng.randint(1500, 4500)
            parts, size, lineno = [], 0, rng.randint(1, 900)
            while size < n:
                s = "%5d\t%s %s" % (lineno, rng.choice(CODE_LINES), " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 6))))
                lineno += 1
                parts.append(s)
                size += len(s) + 1
            self.code_pool.append("\n".join(parts))
        self.b64_pool = ["".join(rng.choice(B64) for _ in range(4096)) for _ in range(64)]

    # ------------------------------------------------------------------ helpers
    def code(self, nbytes: int) -> str:
        out, size = [], 0
        while size < nbytes:
            c = self.rng.choice(self.code_pool)
            out.append(c)
            size += len(c) + 1
        return "\n".join(out)[:nbytes]

    def b64(self, nbytes: int) -> str:
        out, size = [], 0
        while size < nbytes:
            c = self.rng.choice(self.b64_pool)
            out.append(c)
            size += len(c)
        return "".join(out)[: nbytes - nbytes % 4]

    def logsize(self, lo: int, hi: int) -> int:
        """Log-uniform size: many small values, a long tail of large ones, as real outputs."""
        import math
        return int(math.exp(self.rng.uniform(math.log(lo), math.log(hi))))

    def projects(self, n):
        out = []
        names = ["tokledger", "webapp", "infra", "data-pipeline", "mobile", "docs-site", "billing",
                 "search", "auth-service", "ml-eval", "dotfiles", "compiler"]
        for i in range(n):
            cwd = "/home/dev/work/%s" % names[i % len(names)]
            if i >= len(names):
                cwd += "-%d" % i
            out.append((cwd, "".join(c if c.isalnum() else "-" for c in cwd)))
        return out

    # ------------------------------------------------------------------ Claude
    def claude_session(self, proj_dir, cwd, budget, big_results, n_subagents=0, max_responses=None):
        """One Claude session file (+ sub-agent files); returns its bytes."""
        rng = self.rng
        sid = self.uuid4()
        start = T_START_MS + rng.randrange(T_SPAN_MS)
        model_idx = rng.randrange(len(CLAUDE_MODELS))
        subs = [int(budget * rng.uniform(0.05, 0.12)) for _ in range(n_subagents)]
        size, end = self.claude_tools_file(os.path.join(proj_dir, sid + ".jsonl"), sid, cwd, budget - sum(subs),
                                           start, model_idx, None, big_results, max_responses)
        self.files["claude_main"] += 1
        for sb in subs:
            agent_id = "a%017x" % rng.getrandbits(68)
            sub_dir = os.path.join(proj_dir, sid, "subagents")
            s, _ = self.claude_tools_file(os.path.join(sub_dir, "agent-%s.jsonl" % agent_id), sid, cwd, sb,
                                          start + rng.randrange(max(1, end - start)), 2, agent_id, big_results, None)
            size += s
            self.files["claude_subagent"] += 1
            size += self.write(os.path.join(sub_dir, "agent-%s.meta.json" % agent_id),
                               dumps({"agentType": "Explore", "description": "Explore code for the task"}) + "\n")
            self.files["claude_meta_json"] += 1
        return size

    def claude_tools_file(self, path, sid, cwd, budget, t, model_idx, agent_id, big_results, max_responses):
        rng = self.rng
        side = agent_id is not None
        common = {"isSidechain": side, "userType": "external", "cwd": cwd, "sessionId": sid,
                  "version": "2.1.%d" % rng.randint(80, 150), "gitBranch": "main"}
        if side:
            common["agentId"] = agent_id
        out, size = [], 0

        def emit(rec):
            nonlocal size
            s = dumps(rec) + "\n"
            out.append(s)
            size += len(s)

        parent = self.uuid4()
        emit({"parentUuid": None, **common, "type": "user", "uuid": parent, "timestamp": fmt_ts(t),
              "message": {"role": "user", "content": rng.choice(self.short_pool)}})
        context = rng.randint(8000, 30000)
        n = 0
        while True:
            n += 1
            last = size >= budget or (max_responses is not None and n >= max_responses)
            model = CLAUDE_MODELS[model_idx]
            msg_id = "msg_01" + self.b62(22)
            req_id = "req_011C" + self.b62(20)
            inp = rng.choice((1, 2, 3, 5, 8)) if rng.random() < 0.9 else rng.randint(20, 3000)
            cw = rng.randint(200, 9000) if rng.random() < 0.85 else 0
            cr = context
            context += cw + rng.randint(0, 900)
            if context > 190000:
                context = rng.randint(15000, 30000)
            final_out = rng.randint(30, 3000)
            tool_id = "toolu_01" + self.b62(22)
            tool = rng.choice(("Read", "Read", "Read", "Bash", "Grep", "Edit"))
            fpath = self.src_path(cwd)
            tinput = {"file_path": fpath} if tool in ("Read", "Edit") else (
                {"command": "cargo test -q 2>&1 | tail -200", "description": "Run the tests"} if tool == "Bash"
                else {"pattern": rng.choice(WORDS), "path": cwd, "output_mode": "content"})
            thinking = " ".join(rng.choice(self.short_pool) for _ in range(rng.randint(1, 6)))
            blocks = [
                {"type": "thinking", "thinking": thinking, "signature": rng.choice(self.sig_pool) * rng.randint(2, 6)},
                {"type": "text", "text": rng.choice(self.short_pool)},
                {"type": "text", "text": rng.choice(self.short_pool)} if last else
                {"type": "tool_use", "id": tool_id, "name": tool, "input": tinput},
            ]
            for k, (o, stop) in enumerate(((9, None), (9, None), (final_out, "end_turn" if last else "tool_use"))):
                t += rng.randint(80, 2500)
                u = self.uuid4()
                emit({"parentUuid": parent, **common, "message": {
                    "model": model, "id": msg_id, "type": "message", "role": "assistant", "content": [blocks[k]],
                    "stop_reason": stop, "stop_sequence": None,
                    "usage": {"input_tokens": inp, "cache_creation_input_tokens": cw, "cache_read_input_tokens": cr,
                              "cache_creation": {"ephemeral_5m_input_tokens": cw, "ephemeral_1h_input_tokens": 0},
                              "output_tokens": o, "service_tier": "standard"}},
                    "requestId": req_id, "type": "assistant", "uuid": u, "timestamp": fmt_ts(t)})
                parent = u
            self.counts["claude_assistant_lines"] += 3
            self.counts["claude_subagent_responses" if side else "claude_responses"] += 1
            self.add("claude", sid, model, inp, cw, cr, final_out)
            if last:
                break
            t += rng.randint(100, 20000)
            if big_results:
                body = self.code(self.logsize(5 * 1024, 150 * 1024))
            else:
                body = self.code(rng.randint(200, 1500))
            r = rng.random()
            if big_results and r < 0.25:
                # an array of text blocks (Bash/Grep/MCP results come so)
                cut = sorted(rng.sample(range(1, len(body)), 3))
                content = [{"type": "text", "text": body[a:b]} for a, b in zip([0] + cut, cut + [len(body)])]
            elif big_results and r < 0.27:
                content = [{"type": "text", "text": "Screenshot of %s" % fpath},
                           {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                        "data": self.b64(self.logsize(20 * 1024, 200 * 1024))}}]
            else:
                content = body
            tur = ({"type": "text", "file": {"filePath": fpath, "content": body, "numLines": body.count("\n") + 1,
                                             "startLine": 1, "totalLines": body.count("\n") + 1}}
                   if tool == "Read" else {"stdout": body[:2000], "stderr": "", "interrupted": False, "isImage": False})
            u = self.uuid4()
            emit({"parentUuid": parent, **common, "type": "user", "uuid": u, "timestamp": fmt_ts(t),
                  "message": {"role": "user", "content": [{"tool_use_id": tool_id, "type": "tool_result", "content": content}]},
                  "toolUseResult": tur, "sourceToolAssistantUUID": parent})
            parent = u
            self.counts["claude_tool_results"] += 1
        self.lines["claude"] += len(out)
        self.files["claude_bytes"] += size
        self.write(path, "".join(out))
        return size, t

    # ------------------------------------------------------------------ Codex
    def codex_rollout(self, budget, big, max_turns=None):
        rng = self.rng
        t = T_START_MS + rng.randrange(T_SPAN_MS)
        sid = self.uuid7(t)
        cwd = "/home/dev/work/%s" % rng.choice(["tokledger", "webapp", "infra", "codex-play", "api", "site"])
        model = rng.choice(CODEX_MODELS)
        stamp = time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime(t // 1000))
        path = os.path.join(self.out, ".codex", "sessions", time.strftime("%Y/%m/%d", time.gmtime(t // 1000)),
                            "rollout-%s-%s.jsonl" % (stamp, sid))
        out, size = [], 0

        def emit(typ, payload):
            nonlocal size
            s = dumps({"timestamp": fmt_ts(t), "type": typ, "payload": payload}) + "\n"
            out.append(s)
            size += len(s)

        emit("session_meta", {"id": sid, "timestamp": fmt_ts(t), "cwd": cwd, "originator": "codex-tui",
                              "cli_version": "0.%d.0" % rng.randint(100, 130), "source": "cli", "model_provider": "openai",
                              "base_instructions": {"text": self.text() * (4 if big else 1)},
                              "git": {"commit_hash": "%040x" % rng.getrandbits(160), "branch": "main"}})
        turn_id = self.uuid7(t)
        ctx = {"turn_id": turn_id, "cwd": cwd, "approval_policy": "on-request",
               "sandbox_policy": {"type": "workspace-write", "network_access": False}, "model": model,
               "effort": "medium", "summary": "auto"}
        emit("event_msg", {"type": "task_started", "turn_id": turn_id, "model_context_window": 272000})
        emit("turn_context", ctx)
        emit("event_msg", {"type": "user_message", "message": rng.choice(self.short_pool), "images": []})
        emit("event_msg", {"type": "token_count", "info": None, "rate_limits": {
            "primary": {"used_percent": 1.0, "window_minutes": 300, "resets_at": t // 1000 + 18000}}})
        self.counts["codex_info_null"] += 1
        self.counts["codex_token_count_events"] += 1
        tot = dict.fromkeys(("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_output_tokens", "total_tokens"), 0)
        context = rng.randint(6000, 15000)
        turn = 0
        while True:
            turn += 1
            last = size >= budget or (max_turns is not None and turn >= max_turns)
            if turn % 10 == 0 and not last:
                t += rng.randint(5000, 120000)
                turn_id = self.uuid7(t)
                ctx = dict(ctx, turn_id=turn_id)
                emit("event_msg", {"type": "task_started", "turn_id": turn_id, "model_context_window": 272000})
                emit("turn_context", ctx)
                emit("event_msg", {"type": "user_message", "message": rng.choice(self.short_pool), "images": []})
            t += rng.randint(500, 8000)
            emit("event_msg", {"type": "agent_reasoning", "text": "**%s**" % rng.choice(self.short_pool)[:60]})
            emit("response_item", {"type": "reasoning", "summary": [
                {"type": "summary_text", "text": "**%s**" % rng.choice(self.short_pool)[:60]}], "content": None,
                "encrypted_content": "gAAAAAB" + self.b64(rng.randint(2000, 12000) if big else rng.randint(300, 1500))})
            if not last:
                call_id = "call_" + self.b62(24)
                if big and rng.random() < 0.15:
                    fp = "src/%s/%s.rs" % (rng.choice(PATH_PARTS), rng.choice(PATH_PARTS))
                    patch = "*** Begin Patch\n*** Update File: %s\n@@\n%s\n*** End Patch" % (
                        fp, "\n".join(("-" if i % 2 else "+") + l for i, l in enumerate(self.code(rng.randint(1000, 8000)).split("\n"))))
                    emit("response_item", {"type": "custom_tool_call", "status": "completed", "call_id": call_id,
                                           "name": "apply_patch", "input": patch})
                    t += rng.randint(10, 400)
                    emit("response_item", {"type": "custom_tool_call_output", "call_id": call_id, "output": dumps(
                        {"output": "Success. Updated the following files:\nM %s\n" % fp,
                         "metadata": {"exit_code": 0, "duration_seconds": 0.0}})})
                else:
                    cmd = rng.choice(["rg -n \"%s\" src" % rng.choice(WORDS), "sed -n '1,400p' src/%s.rs" % rng.choice(PATH_PARTS),
                                      "cargo test -q 2>&1", "cat Cargo.toml", "git diff"])
                    emit("response_item", {"type": "function_call", "name": "exec_command", "call_id": call_id,
                                           "arguments": dumps({"cmd": cmd, "workdir": cwd, "yield_time_ms": 10000,
                                                               "max_output_tokens": 40000})})
                    body = self.code(self.logsize(10 * 1024, 200 * 1024) if big else rng.randint(300, 2500))
                    code = 0 if rng.random() < 0.9 else 1
                    wall = rng.uniform(0.01, 30.0)
                    t += int(wall * 1000)
                    emit("event_msg", {"type": "exec_command_end", "call_id": call_id, "turn_id": turn_id,
                                       "command": ["/bin/bash", "-lc", cmd], "cwd": cwd, "source": "unified_exec_startup",
                                       "stdout": body[:4000], "stderr": "", "aggregated_output": body[:4000],
                                       "exit_code": code, "duration": {"secs": int(wall), "nanos": 1000},
                                       "formatted_output": body[:2000], "status": "completed" if code == 0 else "failed"})
                    emit("response_item", {"type": "function_call_output", "call_id": call_id, "output":
                                           "Command: /bin/bash -lc %s\nChunk ID: %06x\nWall time: %.4f seconds\n"
                                           "Process exited with code %d\nOriginal token count: %d\nOutput:\n%s" %
                                           (json.dumps(cmd), rng.getrandbits(24), wall, code, len(body) // 4, body)})
            else:
                emit("event_msg", {"type": "agent_message", "message": rng.choice(self.short_pool)})
                emit("response_item", {"type": "message", "role": "assistant", "content": [
                    {"type": "output_text", "text": rng.choice(self.short_pool)}]})
            cached = context if rng.random() < 0.92 else 0
            inp = cached + rng.randint(50, 6000)
            context = inp + rng.randint(100, 3000)
            if context > 250000:
                context = rng.randint(8000, 20000)
            reasoning = rng.choice((0, rng.randint(16, 1200), rng.randint(16, 3000)))
            outp = reasoning + rng.randint(10, 1500)
            lastu = {"input_tokens": inp, "cached_input_tokens": cached, "output_tokens": outp,
                     "reasoning_output_tokens": reasoning, "total_tokens": inp + outp}
            # A compaction now and then: the cumulative total restarts at this response
            # (SPEC 1: a total that goes down is a reset; count last_token_usage). Only when the
            # old total is far above the new one, so that it cannot pass for a stale snapshot.
            reset = (not last and turn > 3 and rng.random() < 0.03 and tot["total_tokens"] > 20 * lastu["total_tokens"])
            if reset:
                emit("compacted", {"message": rng.choice(self.short_pool)})
                emit("event_msg", {"type": "context_compacted"})
                tot = dict(lastu)
                self.counts.setdefault("codex_resets", 0)
                self.counts["codex_resets"] += 1
            else:
                for k in tot:
                    tot[k] += lastu[k]
            info = {"total_token_usage": dict(tot), "last_token_usage": lastu, "model_context_window": 272000}
            rl = {"primary": {"used_percent": round(rng.uniform(0, 90), 1), "window_minutes": 300, "resets_at": t // 1000 + 9000},
                  "secondary": {"used_percent": round(rng.uniform(0, 60), 1), "window_minutes": 10080, "resets_at": t // 1000 + 400000}}
            t += rng.randint(50, 800)
            emit("event_msg", {"type": "token_count", "info": info, "rate_limits": rl})
            t += rng.randint(1, 400)
            emit("event_msg", {"type": "token_count", "info": info, "rate_limits": rl})  # re-emit: counts zero
            self.counts["codex_token_count_events"] += 2
            self.counts["codex_reemits"] += 1
            self.counts["codex_responses"] += 1
            self.add("codex", sid, model, inp - cached, 0, cached, outp, reasoning)
            if last:
                break
        emit("event_msg", {"type": "task_complete", "turn_id": turn_id, "last_agent_message": rng.choice(self.short_pool)})
        self.lines["codex"] += len(out)
        self.files["codex"] += 1
        self.files["codex_bytes"] += size
        self.write(path, "".join(out))
        return size

    # ------------------------------------------------------------------ shapes
    def run_codex(self, total):
        claude_b = int(total * 0.10)
        n = max(2, int(round(self.mb / 5)))
        weights = [self.rng.uniform(0.3, 1.7) for _ in range(n)]
        for w in weights:
            self.codex_rollout(int((total - claude_b) * w / sum(weights)), big=True)
        self.run_claude(claude_b, big=False, sessions=max(3, int(self.mb / 20)))

    def run_claude(self, total, big, sessions):
        projects = self.projects(max(3, min(12, sessions // 4)))
        weights = [self.rng.uniform(0.3, 1.7) for _ in range(sessions)]
        for i, w in enumerate(weights):
            cwd, enc = projects[i % len(projects)]
            self.claude_session(os.path.join(self.out, ".claude", "projects", enc), cwd,
                                int(total * w / sum(weights)), big, n_subagents=self.rng.randint(1, 2) if i % 6 == 1 else 0)

    def run_small(self, total):
        # ~75 files per MiB: 30 k files for 400 MiB, over up to 400 project directories.
        rng = self.rng
        projects = self.projects(max(20, min(400, int(self.mb * 75) // 60)))
        written = 0
        while written < total:
            target = self.logsize(1024, 20 * 1024)
            if rng.random() < 0.8:
                cwd, enc = rng.choice(projects)
                written += self.claude_session(os.path.join(self.out, ".claude", "projects", enc), cwd, target, False)
            else:
                written += self.codex_rollout(target, big=False)

    def run(self):
        total = int(self.mb * 1024 * 1024)
        if self.shape == "codex":
            self.run_codex(total)
        elif self.shape == "claude-tools":
            self.run_claude(total, big=True, sessions=max(6, int(round(self.mb * 0.4))))
        elif self.shape == "small":
            self.run_small(total)
        else:
            raise SystemExit("unknown shape %r" % self.shape)
        for tool in self.totals:
            self.totals[tool]["sessions"] = len(self.sessions[tool])
        # Tools without sessions are left out, so the check does not ask for them.
        tools = {k: v for k, v in self.totals.items() if v["sessions"]}
        return {
            "generator": {"script": "scripts/gen_shapes.py", "shape": self.shape, "version": SHAPES_VERSION,
                          "mb": self.mb, "seed": self.seed},
            "notes": "as gen_history.py: input_tokens uncached (Codex input - cached); output includes reasoning; "
                     "total = input + cache_creation + cache_read + output; sub-agent usage in the parent session; "
                     "Codex re-emits count zero, a compaction reset counts its last_token_usage.",
            "bytes": self.bytes_written, "files": self.files, "lines": self.lines, "counts": self.counts,
            "tools": tools, "models": {k: v for k, v in self.models.items() if k in tools},
            "sessions": {k: v for k, v in self.sessions.items() if k in tools},
        }


# ====================================================================== real
UUID_RE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
PREFIX_RE = r"(?<![A-Za-z0-9_])(?:msg_01|msg_|req_011C|req_|toolu_vrtx_01|toolu_01|toolu_|srvtoolu_01|srvtoolu_|call_)[A-Za-z0-9]{8,}"
REDACTED_RE = r"\[REDACTED_MESSAGE_ID\]|\[REDACTED_REQUESTID\]"
ISO_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})")
EPOCH_MS_RE = re.compile(r'("(?:created|sentAt)"\s*:\s*)(1[5-9]\d{11})\b')
ROLLOUT_RE = re.compile(r"rollout-(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})-")
ALNUM = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def copy_shift(k: int) -> dt.timedelta:
    return dt.timedelta(days=(3 * k) % 366, minutes=k // 122)


class Rewriter:
    """One copy's id map and time shift; the same original id always gets the same new one."""

    def __init__(self, seed: int, k: int, agent_ids):
        self.key = ("%d:%d:" % (seed, k)).encode()
        self.shift = copy_shift(k)
        self.shift_ms = int(self.shift.total_seconds() * 1000)
        self.map = {}
        alts = [UUID_RE, PREFIX_RE, REDACTED_RE]
        if agent_ids:
            # agent ids are bare hex (a957850183dbc96f4, aed3e3d) or aside_question-<hex>
            alts.append(r"(?<![0-9A-Za-z])(?:%s)(?![0-9A-Za-z])" % "|".join(map(re.escape, sorted(agent_ids, key=len, reverse=True))))
        self.id_re = re.compile("|".join("(?:%s)" % a for a in alts))
        self.ts_cache = {}

    def _new(self, s: str) -> str:
        h = hashlib.blake2b(self.key + s.encode(), digest_size=64).digest()
        if re.fullmatch(UUID_RE, s):
            keep = {14, 19, 8, 13, 18, 23}  # version nibble, variant nibble, hyphens
            hexd = "0123456789abcdef" if s.lower() == s else "0123456789ABCDEF"
            return "".join(c if i in keep else hexd[h[i] % 16] for i, c in enumerate(s))
        if s.startswith("[REDACTED"):
            return "[" + "".join(ALNUM[2][b % 26] for b in h[: len(s) - 2]) + "]"
        m = re.match(r"(msg_01|msg_|req_011C|req_|toolu_vrtx_01|toolu_01|toolu_|srvtoolu_01|srvtoolu_|call_|aside_question-|)", s)
        pre, rest = s[: m.end()], s[m.end():]
        lower = ALNUM[1][:6] if re.fullmatch(r"[0-9a-f]+", rest) else ALNUM[1]  # hex ids stay hex
        out = []
        for i, c in enumerate(rest):
            b = h[i % 64] ^ (i // 64)
            cls = ALNUM[0] if c.isdigit() else lower if c.islower() else ALNUM[2] if c.isupper() else None
            out.append(cls[b % len(cls)] if cls and c.isascii() else c)
        return pre + "".join(out)

    def id(self, m) -> str:
        s = m.group(0)
        r = self.map.get(s)
        if r is None:
            r = self.map[s] = self._new(s)
        return r

    def ts(self, m) -> str:
        s = m.group(0)
        r = self.ts_cache.get(s)
        if r is None:
            d = dt.datetime(*map(int, m.groups())) + self.shift
            r = self.ts_cache[s] = d.strftime("%Y-%m-%dT%H:%M:%S")
        return r

    def text(self, s: str) -> str:
        s = self.id_re.sub(self.id, s)
        s = ISO_RE.sub(self.ts, s)
        return EPOCH_MS_RE.sub(lambda m: m.group(1) + str(int(m.group(2)) + self.shift_ms), s)

    def rollout_name(self, name: str) -> str:
        def sub(m):
            d = dt.datetime(*map(int, m.groups())) + self.shift
            return d.strftime("rollout-%Y-%m-%dT%H-%M-%S-")
        return ROLLOUT_RE.sub(sub, self.id_re.sub(self.id, name))


def real_layout(real_dir: str):
    """(relative path in HOME, source file, text) for the originals, laid out as the agents do."""
    items = []
    agent_ids = set()
    meta = {}
    for name in sorted(os.listdir(os.path.join(real_dir, "claude"))):
        src = os.path.join(real_dir, "claude", name)
        text = open(src, encoding="utf-8").read()
        base = name.split("__", 2)[2]
        agent_ids.update(re.findall(r'"agentId":"([^"]+)"', text))
        if base.endswith(".meta.json"):
            meta[base] = (src, text)
            continue
        sid = cwd = None
        for line in text.splitlines():
            if sid is None:
                sid = (re.search(r'"sessionId":"(%s)"' % UUID_RE, line) or [None, None])[1]
            if cwd is None:
                cwd = (re.search(r'"cwd":"((?:[^"\\]|\\.)*)"', line) or [None, None])[1]
            if sid and cwd:
                break
        if base.startswith("session-"):  # kvsankar: a test fixture named session-01.jsonl
            base = sid + ".jsonl"
        enc = re.sub(r"[^A-Za-z0-9]", "-", json.loads('"%s"' % cwd)) if cwd else "-unknown"
        proj = os.path.join(".claude", "projects", enc)
        if base.startswith("agent-"):
            agent_ids.add(base[len("agent-"):-len(".jsonl")])
            if re.fullmatch(r"agent-a[0-9a-f]{6}\.jsonl", base):  # old layout: next to the sessions
                items.append((os.path.join(proj, base), src, text))
            else:  # current layout: <session>/subagents/, the sidecar .meta.json beside it
                items.append((os.path.join(proj, sid, "subagents", base), src, text))
        else:
            items.append((os.path.join(proj, base), src, text))
    for mname, (src, text) in meta.items():
        jsonl = mname[: -len(".meta.json")] + ".jsonl"
        for rel, _, _ in list(items):
            if os.path.basename(rel) == jsonl:
                items.append((os.path.join(os.path.dirname(rel), mname), src, text))
    for name in sorted(os.listdir(os.path.join(real_dir, "codex"))):
        src = os.path.join(real_dir, "codex", name)
        text = open(src, encoding="utf-8").read()
        first = json.loads(text.split("\n", 1)[0])
        m = ROLLOUT_RE.search(name)
        if m:
            base = name[m.start():]
        else:  # kvsankar: name it as Codex would, from its session_meta
            ts = first["payload"]["timestamp"]
            base = "rollout-%s-%s.jsonl" % (ts[:19].replace(":", "-"), first["payload"]["id"])
        y, mo, d = ROLLOUT_RE.search(base).groups()[:3]
        items.append((os.path.join(".codex", "sessions", y, mo, d, base), src, text))
    for name in sorted(os.listdir(os.path.join(real_dir, "amp"))):
        src = os.path.join(real_dir, "amp", name)
        items.append((os.path.join(".local", "share", "amp", "threads", name.split("__", 2)[2]), src,
                      open(src, encoding="utf-8").read()))
    return items, agent_ids


def write_copy(home, items, agent_ids, seed, k):
    rw = Rewriter(seed, k, agent_ids)
    nbytes = 0
    for rel, _src, text in items:
        parts = rel.split(os.sep)
        parts = [rw.rollout_name(p) if p.startswith("rollout-") else rw.id_re.sub(rw.id, p) for p in parts]
        if parts[:2] == [".codex", "sessions"]:
            y, mo, d = ROLLOUT_RE.search(parts[-1]).groups()[:3]
            parts[2:5] = [y, mo, d]
        path = os.path.join(home, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        data = rw.text(text).encode("utf-8")
        with open(path, "wb") as f:
            f.write(data)
        nbytes += len(data)
    return rw, nbytes


SESSION_ID_RE = re.compile("(T-)?" + UUID_RE)


def tokledger_sessions(binary, home):
    db = os.path.join(home, "..", os.path.basename(home) + ".db")
    env = {"HOME": home, "PATH": os.environ.get("PATH", ""), "TZ": "UTC", "NO_COLOR": "1"}
    p = subprocess.run([binary, "--db", db, "analysis", "sessions", "list", "--all", "--json"], env=env,
                       capture_output=True, text=True, timeout=600)
    for f in (db, db + "-wal", db + "-shm"):
        if os.path.exists(f):
            os.remove(f)
    if p.returncode != 0:
        raise SystemExit("gen_shapes: tokledger failed on the originals: %s" % p.stderr[-2000:])
    return json.loads(p.stdout)["sessions"]


def ccusage_claude(binary, home):
    env = {"HOME": home, "PATH": os.environ.get("PATH", ""), "TZ": "UTC", "NO_COLOR": "1"}
    p = subprocess.run([binary, "session", "--offline", "--json"], env=env, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        return None
    agg = {}
    for r in json.loads(p.stdout).get("session", []):
        a = agg.setdefault(r.get("agent"), dict.fromkeys(("input_tokens", "cache_creation_tokens", "cache_read_tokens",
                                                          "output_tokens", "total_tokens", "sessions"), 0))
        a["sessions"] += 1
        for k, ck in (("input_tokens", "inputTokens"), ("cache_creation_tokens", "cacheCreationTokens"),
                      ("cache_read_tokens", "cacheReadTokens"), ("output_tokens", "outputTokens"),
                      ("total_tokens", "totalTokens")):
            a[k] += int(r.get(ck) or 0)
    return agg


def gen_real(out, mb, seed, tokledger, ccusage, real_dir):
    if not tokledger or not os.access(tokledger, os.X_OK):
        raise SystemExit("gen_shapes: --shape real derives its expectation from tokledger: pass --tokledger BIN")
    items, agent_ids = real_layout(real_dir)
    per_copy = sum(len(t.encode("utf-8")) for _, _, t in items)
    copies = max(1, int(round(mb * 1048576 / per_copy)))
    # Copy 0 alone in a scratch HOME: what tokledger (and ccusage) count on one copy.
    scratch = tempfile.mkdtemp(prefix="gen-real-")
    try:
        sh = os.path.join(scratch, "home")
        rw0, _ = write_copy(sh, items, agent_ids, seed, 0)
        base = tokledger_sessions(tokledger, sh)
        cc = ccusage_claude(ccusage, sh) if ccusage else None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    inv0 = {v: k for k, v in rw0.map.items()}  # copy-0 id -> original id
    buckets = gen_history.BUCKETS
    fields = {"input_tokens": "input_tokens", "cache_creation_tokens": "cache_creation_tokens",
              "cache_read_tokens": "cache_read_tokens", "output_tokens": "output_tokens",
              "reasoning_tokens": "reasoning_tokens", "total_tokens": "tokens_so_far"}
    base_sessions = {}
    for s in base:
        m = SESSION_ID_RE.search(str(s.get("session_id", "")))
        if not m:
            continue
        pre, u = m.group(1) or "", m.group(0)[len(m.group(1) or ""):]
        base_sessions[(s["tool"], pre, inv0.get(u, u))] = {b: int(s.get(fields[b]) or 0) for b in buckets}
    tools, sessions, models = {}, {}, {}
    for s in base:
        t = tools.setdefault(s["tool"], dict.fromkeys(buckets + ("sessions",), 0))
        for b in buckets:
            t[b] += int(s.get(fields[b]) or 0) * copies
        t["sessions"] += copies
    nbytes = 0
    for k in range(copies):
        rw, n = write_copy(out, items, agent_ids, seed, k)
        nbytes += n
        for (tool, pre, orig), v in base_sessions.items():
            new = rw.map.get(orig, orig)
            sessions.setdefault(tool, {})[pre + new] = dict(v)
    # A check of the replication itself: every session id must be distinct across copies.
    want = sum(len(v) for v in sessions.values())
    if want != len(base_sessions) * copies:
        raise SystemExit("gen_shapes: session ids collide across copies (%d != %d)" % (want, len(base_sessions) * copies))
    cc_agrees = {}
    if cc is not None:
        tc = tools.get("claude")
        cc_c = cc.get("claude")
        cc_agrees["claude"] = bool(tc and cc_c and all(cc_c[b] * copies == tc[b] for b in
                                                         ("input_tokens", "cache_creation_tokens", "cache_read_tokens",
                                                          "output_tokens", "total_tokens")))
    return {
        "generator": {"script": "scripts/gen_shapes.py", "shape": "real", "version": SHAPES_VERSION, "mb": mb, "seed": seed},
        "notes": "DERIVED, not independent: tokledger's per-session totals on copy 0 (scratch HOME), mapped through each "
                 "copy's id map; per-tool totals = copy 0 x copies. The check is consistency: replication must neither "
                 "merge nor lose responses. ccusage_copy0 = ccusage session totals on copy 0 (x1); ccusage_agrees says "
                 "whether its Claude totals equal tokledger's there.",
        "bytes": nbytes, "copies": copies, "bytes_per_copy": per_copy,
        "files": {"per_copy": len(items), "total": len(items) * copies},
        "tools": tools, "models": models, "sessions": sessions,
        "tokledger_copy0": {t: {b: v[b] // copies for b in buckets} for t, v in tools.items()},
        "ccusage_copy0": cc, "ccusage_agrees": cc_agrees,
    }


def merge(parts):
    """One expected.json of several parts written into the same HOME (their ids are distinct)."""
    exp = {"notes": "sum of the parts: " + " | ".join(p["notes"] for p in parts), "bytes": 0, "tools": {},
           "models": {}, "sessions": {}, "parts": []}
    for p in parts:
        exp["bytes"] += p["bytes"]
        exp["parts"].append({k: p[k] for k in ("generator", "bytes", "files") if k in p})
        for tool, t in p["tools"].items():
            d = exp["tools"].setdefault(tool, dict.fromkeys(t, 0))
            for k, v in t.items():
                d[k] += v
        for tool, ss in p["sessions"].items():
            dst = exp["sessions"].setdefault(tool, {})
            if set(dst) & set(ss):
                raise SystemExit("gen_shapes: session ids collide between parts")
            dst.update(ss)
        for tool, ms in p.get("models", {}).items():
            for m, t in ms.items():
                d = exp["models"].setdefault(tool, {}).setdefault(m, dict.fromkeys(t, 0))
                for k, v in t.items():
                    d[k] += v
        if "ccusage_agrees" in p:
            exp["ccusage_agrees"] = p["ccusage_agrees"]
    return exp


def generate(out, shape, mb, seed, tokledger=None, ccusage=None, real_dir=REAL_DIR):
    os.makedirs(out, exist_ok=True)
    if shape == "mixed":
        return gen_history.Gen(out, mb, seed).run()  # writes its own expected.json
    if shape == "real":
        exp = gen_real(out, mb, seed, tokledger, ccusage, real_dir)
    elif shape == "user":
        exp = merge([gen_real(out, mb * f, seed * 10 + i, tokledger, ccusage, real_dir) if part == "real" else
                     Shapes(out, mb * f, seed * 10 + i, part).run() for i, (part, f) in enumerate(USER_MIX)])
        exp["generator"] = {"script": "scripts/gen_shapes.py", "shape": "user", "version": SHAPES_VERSION,
                            "mb": mb, "seed": seed, "mix": USER_MIX}
    else:
        exp = Shapes(out, mb, seed, shape).run()
    with open(os.path.join(out, "expected.json"), "w") as f:
        # sorted: tokledger lists sessions newest first, by the scratch copy's file times
        json.dump(exp, f, indent=1, sort_keys=shape in ("real", "user"))
        f.write("\n")
    return exp


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_home", metavar="OUT_HOME")
    ap.add_argument("--shape", choices=ALL_SHAPES, required=True)
    ap.add_argument("--mb", type=float, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tokledger", help="tokledger binary (needed by --shape real)")
    ap.add_argument("--ccusage", help="ccusage binary (optional, --shape real: compare on copy 0)")
    ap.add_argument("--real-dir", default=REAL_DIR)
    a = ap.parse_args(argv)
    if a.mb <= 0:
        ap.error("--mb must be positive")
    for sub in (".claude", ".codex", ".local/share/amp"):
        if os.path.exists(os.path.join(a.out_home, sub)):
            ap.error("%s already exists; remove OUT_HOME first" % os.path.join(a.out_home, sub))
    t0 = time.monotonic()
    exp = generate(a.out_home, a.shape, a.mb, a.seed, a.tokledger, a.ccusage, a.real_dir)
    print("gen_shapes: %s %.1f MiB in %s in %.1fs" % (a.shape, exp["bytes"] / 1048576, a.out_home, time.monotonic() - t0),
          file=sys.stderr)


if __name__ == "__main__":
    main()
