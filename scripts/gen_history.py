#!/usr/bin/env python3
"""Generate a synthetic agent-transcript history for the ingest benchmark.

Usage: python3 scripts/gen_history.py OUT_HOME [--mb 400] [--seed 1]

Writes a fake home directory:

  OUT_HOME/.claude/projects/<encoded-cwd>/<session-uuid>.jsonl          (most of the bytes)
  OUT_HOME/.claude/projects/<encoded-cwd>/<session-uuid>/subagents/agent-<hex>.jsonl (+ .meta.json)
  OUT_HOME/.codex/sessions/YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<uuid>.jsonl
  OUT_HOME/.local/share/amp/threads/T-<uuid>.json
  OUT_HOME/expected.json                                                 (exact true totals)

The transcripts follow the record shapes in reference/formats.md (Claude §1.2-1.4, Codex
§2.2-2.4, Amp §3.2/3.7) and contain the traps a reader must handle:

* Claude: every API response is written as 3 streaming `assistant` lines sharing `message.id`
  and `requestId`; `output_tokens` is 9, 9, then the final value (keep the last/largest copy).
  Sub-agent files carry `isSidechain:true` and the parent's `sessionId`; their usage belongs to
  the parent session. A sidecar `agent-<hex>.meta.json` sits next to each sub-agent file.
  A few `<synthetic>` API-error lines with all-zero usage.
* Codex: `token_count` events carry cumulative `total_token_usage` plus `last_token_usage`;
  every real event is immediately re-emitted once with an identical total (count it zero
  times), and each rollout has an `info:null` (rate-limits only) event. Input includes cached.
* Amp: with a `usageLedger` (events point at the assistant message via `toMessageId`) the same
  inference is also in `messages[].usage`: count it once. Every third thread has no ledger
  (current schema: `messages[].usage` only, with `usage.timestamp`).

expected.json holds per tool the sums of input_tokens (uncached; Codex input - cached),
cache_creation_tokens, cache_read_tokens, output_tokens, reasoning_tokens (Codex only),
total_tokens (= input + cache_creation + cache_read + output), the session count, a per-model
breakdown, and per-session totals (Claude keyed by session uuid, sub-agent usage included in the
parent; Codex by session_meta id; Amp by thread id).

Python 3.11, standard library only, deterministic for a given (--mb, --seed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid

GENERATOR_VERSION = 1

ENC = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)
dumps = ENC.encode

CLAUDE_MODELS = [
    "claude-sonnet-4-5-20250929",
    "claude-opus-4-1-20250805",
    "claude-haiku-4-5-20251001",
]
CODEX_MODEL = "gpt-5-codex"
AMP_MODEL = "claude-sonnet-4-5-20250929"

# Share of the byte budget per tool.
SHARE_CODEX = 0.08
SHARE_AMP = 0.015

# 2026-01-05T00:00:00Z .. sessions start before 2026-11-30 so that everything stays in 2026.
T_START_MS = 1767571200000
T_SPAN_MS = 325 * 86400 * 1000

BUCKETS = ("input_tokens", "cache_creation_tokens", "cache_read_tokens", "output_tokens",
           "reasoning_tokens", "total_tokens")

WORDS = (
    "fn let mut impl struct enum match return self Some None Ok Err Result Option Vec String "
    "usize u64 i64 pub use mod crate super where async await move ref dyn Box Arc Rc clone "
    "iter map filter collect unwrap expect into from as_str to_string len push insert get "
    "config ledger session token usage input output cache read write parse line file path "
    "error warning assert_eq test fixture record offset bytes total delta model price cost"
).split()

PATH_PARTS = ("src", "tests", "lib", "core", "cli", "ingest", "report", "db", "util", "parse",
              "model", "claude", "codex", "amp", "ledger", "schema", "main", "config")


def fmt_ts(ms: int, _cache: dict = {}) -> str:
    """ISO-8601 UTC with milliseconds and Z."""
    sec, milli = divmod(ms, 1000)
    base = _cache.get(sec)
    if base is None:
        if len(_cache) > 4096:
            _cache.clear()
        base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        _cache[sec] = base
    return "%s.%03dZ" % (base, milli)


class Gen:
    def __init__(self, out: str, mb: float, seed: int):
        self.out = out
        self.mb = mb
        self.seed = seed
        self.rng = random.Random(seed)
        self.bytes_written = 0
        self.files = {"claude_main": 0, "claude_subagent": 0, "claude_meta_json": 0,
                      "codex": 0, "amp": 0}
        self.lines = {"claude": 0, "codex": 0}
        self.totals = {t: {b: 0 for b in BUCKETS} for t in ("claude", "codex", "amp")}
        self.models = {t: {} for t in ("claude", "codex", "amp")}
        self.sessions = {t: {} for t in ("claude", "codex", "amp")}
        self.counts = {"claude_responses": 0, "claude_subagent_responses": 0,
                       "claude_assistant_lines": 0, "claude_synthetic_lines": 0,
                       "claude_tool_results": 0, "claude_tool_errors": 0,
                       "codex_token_count_events": 0, "codex_reemits": 0,
                       "codex_info_null": 0, "codex_responses": 0,
                       "amp_inferences": 0, "amp_threads_with_ledger": 0}
        self._build_pools()

    # ----------------------------------------------------------------- helpers
    def _build_pools(self):
        rng = self.rng
        self.text_pool = []
        for _ in range(600):
            n = rng.randint(900, 2000)
            parts = []
            size = 0
            lineno = rng.randint(1, 400)
            while size < n:
                w = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
                s = "%6d\t    %s;" % (lineno, w)
                lineno += 1
                parts.append(s)
                size += len(s) + 1
            self.text_pool.append("\n".join(parts)[:n])
        self.short_pool = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 40)))
                           for _ in range(400)]
        self.sig_pool = ["".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                            "0123456789+/") for _ in range(rng.randint(150, 420)))
                         for _ in range(200)]

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def uuid7(self, ms: int) -> str:
        # uuid.UUID(version=7) is not accepted by Python 3.11: set version and variant bits by hand.
        v = (ms & ((1 << 48) - 1)) << 80 | self.rng.getrandbits(80)
        v = (v & ~(0xF << 76)) | (0x7 << 76)
        v = (v & ~(0x3 << 62)) | (0x2 << 62)
        return str(uuid.UUID(int=v))

    _B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

    def b62(self, n: int) -> str:
        x = self.rng.getrandbits(6 * n)
        b = self._B62
        out = []
        for _ in range(n):
            out.append(b[x % 62])
            x //= 62
        return "".join(out)

    def text(self) -> str:
        return self.rng.choice(self.text_pool)

    def src_path(self, cwd: str) -> str:
        r = self.rng
        return "%s/%s/%s/%s.rs" % (cwd, r.choice(PATH_PARTS), r.choice(PATH_PARTS),
                                   r.choice(PATH_PARTS))

    def write(self, path: str, data: str):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        b = data.encode("utf-8")
        with open(path, "wb") as f:
            f.write(b)
        self.bytes_written += len(b)
        return len(b)

    def add(self, tool: str, session: str, model: str, inp: int, cw: int, cr: int, out: int,
            reasoning: int = 0):
        tot = inp + cw + cr + out
        for d in (self.totals[tool],
                  self.sessions[tool].setdefault(session, {b: 0 for b in BUCKETS}),
                  self.models[tool].setdefault(model, {b: 0 for b in BUCKETS})):
            d["input_tokens"] += inp
            d["cache_creation_tokens"] += cw
            d["cache_read_tokens"] += cr
            d["output_tokens"] += out
            d["reasoning_tokens"] += reasoning
            d["total_tokens"] += tot

    # ----------------------------------------------------------------- Claude
    def claude(self, budget: int):
        rng = self.rng
        n_projects = max(3, min(10, 3 + int(self.mb) // 60))
        n_sessions = max(8, int(round(self.mb * 0.75)))
        projects = []
        names = ["tokledger", "webapp", "infra", "data-pipeline", "mobile", "docs-site",
                 "billing", "search", "auth-service", "ml-eval", "dotfiles", "compiler"]
        for i in range(n_projects):
            cwd = "/home/dev/work/%s" % names[i % len(names)]
            if i >= len(names):
                cwd += "-%d" % i
            enc = "".join(c if c.isalnum() else "-" for c in cwd)
            projects.append((cwd, enc))
        weights = [rng.uniform(0.3, 1.7) for _ in range(n_sessions)]
        wsum = sum(weights)
        # roughly every 8th session has sub-agents (at least 2 overall)
        sub_sessions = set(range(0, n_sessions, 8)) | {1}
        for i in range(n_sessions):
            cwd, enc = projects[i % n_projects] if i < n_projects else rng.choice(projects)
            sid = self.uuid4()
            sbudget = int(budget * weights[i] / wsum)
            start = T_START_MS + rng.randrange(T_SPAN_MS)
            model_idx = i % len(CLAUDE_MODELS)
            use_1h = (i % 5 == 4)
            subs = []
            if i in sub_sessions:
                for _ in range(rng.randint(1, 3)):
                    subs.append(int(sbudget * rng.uniform(0.05, 0.12)))
            main_budget = sbudget - sum(subs)
            proj_dir = os.path.join(self.out, ".claude", "projects", enc)
            end_ms = self.claude_file(os.path.join(proj_dir, sid + ".jsonl"), sid, cwd,
                                      main_budget, start, model_idx, use_1h, agent_id=None)
            self.files["claude_main"] += 1
            for sb in subs:
                agent_id = "a%016x" % rng.getrandbits(64)
                sub_start = start + rng.randrange(max(1, end_ms - start))
                sub_dir = os.path.join(proj_dir, sid, "subagents")
                self.claude_file(os.path.join(sub_dir, "agent-%s.jsonl" % agent_id), sid, cwd,
                                 sb, sub_start, 2, False, agent_id=agent_id)
                self.files["claude_subagent"] += 1
                self.write(os.path.join(sub_dir, "agent-%s.meta.json" % agent_id),
                           dumps({"agentType": "Explore",
                                  "description": "Explore code for the task"}) + "\n")
                self.files["claude_meta_json"] += 1

    def claude_file(self, path, sid, cwd, budget, t, model_idx, use_1h, agent_id):
        rng = self.rng
        sidechain = agent_id is not None
        version = "2.1.%d" % rng.randint(80, 120)
        branch = rng.choice(["main", "dev", "feature/ingest", "fix/parser"])
        slug = "-".join(rng.choice(WORDS) for _ in range(3))
        common = {"isSidechain": sidechain, "userType": "external", "cwd": cwd,
                  "sessionId": sid, "version": version, "gitBranch": branch}
        if sidechain:
            common = {"isSidechain": True, "agentId": agent_id, "userType": "external",
                      "cwd": cwd, "sessionId": sid, "version": version, "gitBranch": branch}
        out = []
        size = 0
        parent = None
        # opening human prompt
        u = self.uuid4()
        rec = {"parentUuid": None}
        rec.update(common)
        rec.update({"type": "user", "message": {"role": "user", "content": rng.choice(self.short_pool)},
                    "uuid": u, "timestamp": fmt_ts(t)})
        if not sidechain:
            rec["slug"] = slug
        s = dumps(rec) + "\n"
        out.append(s)
        size += len(s)
        parent = u
        context = rng.randint(8000, 20000)  # cache_read grows over the session
        turn = 0
        pending_tool = None
        models = CLAUDE_MODELS
        while True:
            last = size >= budget
            turn += 1
            if not sidechain and turn % 40 == 0:
                # switch models now and then (rotation among the three)
                model_idx = (model_idx + 1) % len(models)
            model = models[model_idx]
            # rare synthetic API-error line (all-zero usage, no requestId)
            if not sidechain and rng.random() < 0.002:
                t += rng.randint(500, 3000)
                u = self.uuid4()
                rec = {"parentUuid": parent}
                rec.update(common)
                rec.update({"type": "assistant", "uuid": u, "timestamp": fmt_ts(t),
                            "isApiErrorMessage": True, "error": "rate_limit",
                            "apiErrorStatus": 429,
                            "message": {"id": self.uuid4(), "type": "message", "role": "assistant",
                                        "model": "<synthetic>",
                                        "content": [{"type": "text", "text": "API Error: rate limited"}],
                                        "stop_reason": "stop_sequence", "stop_sequence": "",
                                        "usage": {"input_tokens": 0, "output_tokens": 0,
                                                  "cache_creation_input_tokens": 0,
                                                  "cache_read_input_tokens": 0}}})
                s = dumps(rec) + "\n"
                out.append(s)
                size += len(s)
                parent = u
                self.counts["claude_synthetic_lines"] += 1
            # ---- one API response = 3 streaming lines
            msg_id = "msg_01" + self.b62(22)
            req_id = "req_011C" + self.b62(20)
            inp = rng.choice((1, 2, 3, 4, 5, 6, 8, 10, 12)) if rng.random() < 0.9 else rng.randint(20, 4000)
            cw = rng.randint(200, 6000) if rng.random() < 0.85 else 0
            cr = context
            context += cw + rng.randint(0, 600)
            if context > 180000:
                context = rng.randint(12000, 30000)  # as after a compaction
            final_out = rng.randint(20, 2500)
            c5, c1 = (0, cw) if use_1h else (cw, 0)
            tool_name = rng.choice(("Read", "Read", "Edit", "Bash", "Grep"))
            tool_id = "toolu_01" + self.b62(22)
            if tool_name == "Read":
                tinput = {"file_path": self.src_path(cwd)}
            elif tool_name == "Edit":
                tinput = {"file_path": self.src_path(cwd), "old_string": rng.choice(self.short_pool),
                          "new_string": rng.choice(self.short_pool)}
            elif tool_name == "Bash":
                tinput = {"command": "cargo test -q %s" % rng.choice(PATH_PARTS),
                          "description": "Run the tests"}
            else:
                tinput = {"pattern": rng.choice(WORDS), "path": cwd + "/src", "output_mode": "content"}
            blocks = [
                {"type": "thinking", "thinking": "", "signature": rng.choice(self.sig_pool)},
                {"type": "text", "text": rng.choice(self.short_pool)},
                ({"type": "text", "text": rng.choice(self.short_pool)} if last else
                 {"type": "tool_use", "id": tool_id, "name": tool_name, "input": tinput}),
            ]
            stops = (None, None, "end_turn" if last else "tool_use")
            outs = (9, 9, final_out)
            for k in range(3):
                t += rng.randint(80, 2500)
                u = self.uuid4()
                rec = {"parentUuid": parent}
                rec.update(common)
                rec.update({
                    "message": {"model": model, "id": msg_id, "type": "message", "role": "assistant",
                                "content": [blocks[k]], "stop_reason": stops[k], "stop_sequence": None,
                                "usage": {"input_tokens": inp, "cache_creation_input_tokens": cw,
                                          "cache_read_input_tokens": cr,
                                          "cache_creation": {"ephemeral_5m_input_tokens": c5,
                                                             "ephemeral_1h_input_tokens": c1},
                                          "output_tokens": outs[k], "service_tier": "standard"}},
                    "requestId": req_id, "type": "assistant", "uuid": u, "timestamp": fmt_ts(t)})
                s = dumps(rec) + "\n"
                out.append(s)
                size += len(s)
                parent = u
            self.counts["claude_assistant_lines"] += 3
            self.counts["claude_subagent_responses" if sidechain else "claude_responses"] += 1
            self.add("claude", sid, model, inp, cw, cr, final_out)
            if last:
                break
            # ---- the tool result (bulky user line)
            t += rng.randint(100, 20000)
            is_err = rng.random() < 0.06
            body = self.text()
            u = self.uuid4()
            block = {"tool_use_id": tool_id, "type": "tool_result"}
            if is_err:
                block["content"] = "<tool_use_error>%s</tool_use_error>" % body[:rng.randint(60, 400)]
                block["is_error"] = True
                tur = "Error: " + body[:80]
                self.counts["claude_tool_errors"] += 1
            else:
                block["content"] = body
                if tool_name == "Read":
                    tur = {"type": "text", "file": {"filePath": tinput["file_path"], "content": body[:300],
                                                    "numLines": body.count("\n") + 1, "startLine": 1,
                                                    "totalLines": rng.randint(50, 900)}}
                elif tool_name == "Edit":
                    tur = {"filePath": tinput["file_path"], "oldString": tinput["old_string"],
                           "newString": tinput["new_string"], "userModified": False, "replaceAll": False}
                elif tool_name == "Bash":
                    tur = {"stdout": body[:200], "stderr": "", "interrupted": False, "isImage": False}
                else:
                    tur = {"mode": "content", "numFiles": rng.randint(1, 30), "filenames": []}
            rec = {"parentUuid": parent}
            rec.update(common)
            rec.update({"type": "user", "message": {"role": "user", "content": [block]},
                        "uuid": u, "timestamp": fmt_ts(t), "toolUseResult": tur,
                        "sourceToolAssistantUUID": parent})
            s = dumps(rec) + "\n"
            out.append(s)
            size += len(s)
            parent = u
            self.counts["claude_tool_results"] += 1
            if not sidechain and turn % 25 == 0:
                t += rng.randint(10, 200)
                rec = {"parentUuid": parent}
                rec.update(common)
                rec.update({"type": "system", "subtype": "turn_duration",
                            "durationMs": rng.randint(5000, 120000), "messageCount": rng.randint(5, 80),
                            "timestamp": fmt_ts(t), "uuid": self.uuid4(), "isMeta": False})
                s = dumps(rec) + "\n"
                out.append(s)
                size += len(s)
        self.lines["claude"] += len(out)
        self.write(path, "".join(out))
        return t

    # ----------------------------------------------------------------- Codex
    def codex(self, budget: int):
        rng = self.rng
        n = max(2, int(round(self.mb / 10)))
        weights = [rng.uniform(0.4, 1.6) for _ in range(n)]
        wsum = sum(weights)
        for i in range(n):
            self.codex_file(int(budget * weights[i] / wsum))
            self.files["codex"] += 1

    def codex_file(self, budget: int):
        rng = self.rng
        t = T_START_MS + rng.randrange(T_SPAN_MS)
        sid = self.uuid7(t)
        cwd = "/home/dev/work/%s" % rng.choice(["tokledger", "webapp", "infra", "codex-play"])
        stamp = time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime(t // 1000))
        day = time.strftime("%Y/%m/%d", time.gmtime(t // 1000))
        path = os.path.join(self.out, ".codex", "sessions", day, "rollout-%s-%s.jsonl" % (stamp, sid))
        out = []
        size = 0

        def emit(typ, payload):
            nonlocal size
            s = dumps({"timestamp": fmt_ts(t), "type": typ, "payload": payload}) + "\n"
            out.append(s)
            size += len(s)

        emit("session_meta", {"id": sid, "timestamp": fmt_ts(t), "cwd": cwd,
                              "originator": "codex_cli_rs", "cli_version": "0.%d.0" % rng.randint(60, 120),
                              "instructions": None, "source": "cli", "model_provider": "openai",
                              "git": {"commit_hash": "%040x" % rng.getrandbits(160), "branch": "main"}})
        emit("response_item", {"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": "<environment_context>\n  <cwd>%s</cwd>\n  <approval_policy>on-request</approval_policy>\n  <sandbox_mode>workspace-write</sandbox_mode>\n</environment_context>" % cwd}]})
        t += rng.randint(1000, 60000)
        turn_ctx = {"cwd": cwd, "approval_policy": "on-request",
                    "sandbox_policy": {"mode": "workspace-write", "network_access": False},
                    "model": CODEX_MODEL, "effort": "medium", "summary": "auto"}
        emit("event_msg", {"type": "user_message", "message": rng.choice(self.short_pool), "images": []})
        emit("turn_context", turn_ctx)
        t += rng.randint(200, 2000)
        emit("event_msg", {"type": "token_count", "info": None, "rate_limits": {
            "primary": {"used_percent": 0.0, "window_minutes": 300, "resets_at": t // 1000 + 18000},
            "secondary": {"used_percent": 1.0, "window_minutes": 10080, "resets_at": t // 1000 + 600000}}})
        self.counts["codex_info_null"] += 1
        self.counts["codex_token_count_events"] += 1
        tot = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0,
               "reasoning_output_tokens": 0, "total_tokens": 0}
        context = rng.randint(6000, 15000)
        turn = 0
        while True:
            turn += 1
            last = size >= budget
            if turn % 12 == 0 and not last:
                t += rng.randint(5000, 120000)
                emit("event_msg", {"type": "user_message", "message": rng.choice(self.short_pool), "images": []})
                emit("turn_context", turn_ctx)
            t += rng.randint(500, 8000)
            emit("event_msg", {"type": "agent_reasoning", "text": "**%s**" % rng.choice(self.short_pool)[:60]})
            emit("response_item", {"type": "reasoning", "summary": [
                {"type": "summary_text", "text": "**%s**" % rng.choice(self.short_pool)[:60]}],
                "content": None, "encrypted_content": "gAAAAA" + rng.choice(self.sig_pool) * 2})
            if not last:
                call_id = "call_" + self.b62(24)
                cmd = rng.choice(["rg -n %s src" % rng.choice(WORDS), "sed -n 1,200p src/%s.rs" % rng.choice(PATH_PARTS),
                                  "cargo test -q", "ls -la src", "cat Cargo.toml"])
                emit("response_item", {"type": "function_call", "name": "shell",
                                       "arguments": dumps({"command": ["bash", "-lc", cmd], "workdir": cwd,
                                                           "timeout_ms": 120000}),
                                       "call_id": call_id})
                code = 0 if rng.random() < 0.9 else rng.choice((1, 2, 101))
                wall = rng.uniform(0.01, 30.0)
                emit("response_item", {"type": "function_call_output", "call_id": call_id,
                                       "output": "Exit code: %d\nWall time: %.1f seconds\nOutput:\n%s" %
                                                 (code, wall, self.text())})
            else:
                emit("event_msg", {"type": "agent_message", "message": rng.choice(self.short_pool)})
                emit("response_item", {"type": "message", "role": "assistant", "content": [
                    {"type": "output_text", "text": rng.choice(self.short_pool)}]})
            # usage of this response
            cached = context if rng.random() < 0.92 else 0
            inp = cached + rng.randint(50, 4000)
            context = inp + rng.randint(100, 1500)
            if context > 250000:
                context = rng.randint(8000, 20000)
            reasoning = rng.choice((0, 0, rng.randint(16, 1200)))
            outp = reasoning + rng.randint(10, 1500)
            lastu = {"input_tokens": inp, "cached_input_tokens": cached, "output_tokens": outp,
                     "reasoning_output_tokens": reasoning, "total_tokens": inp + outp}
            for k in tot:
                tot[k] += lastu[k]
            info = {"total_token_usage": dict(tot), "last_token_usage": lastu, "model_context_window": 272000}
            rl = {"primary": {"used_percent": round(rng.uniform(0, 90), 1), "window_minutes": 300,
                              "resets_at": t // 1000 + 9000},
                  "secondary": {"used_percent": round(rng.uniform(0, 60), 1), "window_minutes": 10080,
                                "resets_at": t // 1000 + 400000}}
            t += rng.randint(50, 800)
            emit("event_msg", {"type": "token_count", "info": info, "rate_limits": rl})
            t += rng.randint(1, 400)
            emit("event_msg", {"type": "token_count", "info": info, "rate_limits": rl})  # re-emit
            self.counts["codex_token_count_events"] += 2
            self.counts["codex_reemits"] += 1
            self.counts["codex_responses"] += 1
            self.add("codex", sid, CODEX_MODEL, inp - cached, 0, cached, outp, reasoning)
            if last:
                break
        self.lines["codex"] += len(out)
        self.write(path, "".join(out))

    # ----------------------------------------------------------------- Amp
    def amp(self, budget: int):
        rng = self.rng
        n = max(3, int(round(self.mb / 40)))
        for i in range(n):
            self.amp_thread(budget // n, with_ledger=(i % 3 != 2))
            self.files["amp"] += 1

    def amp_thread(self, budget: int, with_ledger: bool):
        rng = self.rng
        t = T_START_MS + rng.randrange(T_SPAN_MS)
        tid = "T-" + self.uuid7(t)
        cwd = "/home/dev/work/%s" % rng.choice(["tokledger", "webapp", "amp-play"])
        messages = []
        events = []
        size = 0
        mid = 0
        messages.append({"role": "user", "messageId": mid, "content": [{"type": "text", "text": rng.choice(self.short_pool)}],
                         "userState": {"currentlyVisibleFiles": []}, "agentMode": "smart", "meta": {"sentAt": t}})
        mid += 1
        context = rng.randint(8000, 16000)
        while True:
            last = size >= budget
            t += rng.randint(1000, 15000)
            inp = rng.choice((5, 9, 12, 3))
            cw = rng.randint(100, 3000)
            cr = context
            context += cw
            if context > 150000:
                context = rng.randint(10000, 20000)
            outp = rng.randint(20, 1800)
            tool_id = "toolu_vrtx_01" + self.b62(22)
            content = [{"type": "thinking", "thinking": rng.choice(self.short_pool), "signature": rng.choice(self.sig_pool)},
                       {"type": "text", "text": rng.choice(self.short_pool)}]
            if not last:
                content.append({"type": "tool_use", "id": tool_id, "name": "Read",
                                "input": {"path": self.src_path(cwd)}})
            usage = {"model": AMP_MODEL, "maxInputTokens": 968000, "inputTokens": inp, "outputTokens": outp,
                     "cacheCreationInputTokens": cw, "cacheReadInputTokens": cr,
                     "totalInputTokens": inp + cw + cr, "credits": round((inp + cw + cr) * 3e-5 + outp * 1.5e-4, 6)}
            if not with_ledger:
                usage["timestamp"] = fmt_ts(t)
            messages.append({"role": "assistant", "messageId": mid, "content": content,
                             "state": {"type": "complete", "stopReason": "end_turn" if last else "tool_use"},
                             "usage": usage})
            if with_ledger:
                events.append({"id": self.uuid4(), "timestamp": fmt_ts(t), "model": AMP_MODEL,
                               "credits": usage["credits"], "tokens": {"input": inp, "output": outp},
                               "operationType": "inference", "fromMessageId": mid - 1, "toMessageId": mid})
            self.add("amp", tid, AMP_MODEL, inp, cw, cr, outp)
            self.counts["amp_inferences"] += 1
            mid += 1
            size += 900 + sum(len(c.get("text", "")) + len(c.get("thinking", "")) + len(c.get("signature", ""))
                              for c in content)
            if last:
                break
            t += rng.randint(100, 5000)
            body = self.text()
            status = "done" if rng.random() < 0.93 else "error"
            messages.append({"role": "user", "messageId": mid, "content": [
                {"type": "tool_result", "toolUseID": tool_id, "run": {"status": status, "result": body}}],
                "meta": {"sentAt": t}})
            size += len(body) + 200
            mid += 1
        doc = {"v": 195, "id": tid, "created": messages[0]["meta"]["sentAt"], "title": rng.choice(self.short_pool)[:50],
               "agentMode": "smart",
               "env": {"initial": {"trees": [{"displayName": os.path.basename(cwd), "uri": "file://" + cwd,
                                              "repository": {"type": "git", "url": "https://example.invalid/dev/%s" % os.path.basename(cwd),
                                                             "ref": "refs/heads/main", "sha": "%040x" % rng.getrandbits(160)}}],
                                   "platform": {"os": "linux", "client": "CLI", "clientVersion": "0.0.1767000000-g0abc12"}}},
               "messages": messages, "nextMessageId": mid}
        if with_ledger:
            doc["usageLedger"] = {"events": events}
            self.counts["amp_threads_with_ledger"] += 1
        path = os.path.join(self.out, ".local", "share", "amp", "threads", tid + ".json")
        self.write(path, dumps(doc) + "\n")

    # ----------------------------------------------------------------- main
    def run(self):
        total = int(self.mb * 1024 * 1024)
        codex_b = int(total * SHARE_CODEX)
        amp_b = int(total * SHARE_AMP)
        claude_b = total - codex_b - amp_b
        self.claude(claude_b)
        self.codex(codex_b)
        self.amp(amp_b)
        for tool in self.totals:
            self.totals[tool]["sessions"] = len(self.sessions[tool])
        expected = {
            "generator": {"script": "scripts/gen_history.py", "version": GENERATOR_VERSION,
                          "mb": self.mb, "seed": self.seed},
            "notes": ("input_tokens is uncached input (Codex: input - cached); cache_read_tokens for "
                      "Codex is cached input; output_tokens includes reasoning; total_tokens = input + "
                      "cache_creation + cache_read + output. Claude sub-agent usage is in the parent "
                      "session. Each Claude response counted once with its final (largest) output; "
                      "each Codex re-emitted token_count counted zero times; each Amp inference once."),
            "bytes": self.bytes_written,
            "files": self.files,
            "lines": self.lines,
            "counts": self.counts,
            "tools": self.totals,
            "models": self.models,
            "sessions": self.sessions,
        }
        with open(os.path.join(self.out, "expected.json"), "w") as f:
            json.dump(expected, f, indent=1, sort_keys=False)
            f.write("\n")
        return expected


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_home", metavar="OUT_HOME")
    ap.add_argument("--mb", type=float, default=400, help="approximate total size in MiB (default 400)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    if a.mb <= 0:
        ap.error("--mb must be positive")
    for sub in (".claude", ".codex", ".local/share/amp"):
        p = os.path.join(a.out_home, sub)
        if os.path.exists(p):
            ap.error("%s already exists; remove OUT_HOME first" % p)
    os.makedirs(a.out_home, exist_ok=True)
    t0 = time.monotonic()
    exp = Gen(a.out_home, a.mb, a.seed).run()
    dt = time.monotonic() - t0
    f = exp["files"]
    print("gen_history: %.1f MiB in %s (claude %d sessions + %d sub-agent files, codex %d, amp %d) in %.1fs"
          % (exp["bytes"] / 1048576, a.out_home, f["claude_main"], f["claude_subagent"], f["codex"], f["amp"], dt),
          file=sys.stderr)


if __name__ == "__main__":
    main()
