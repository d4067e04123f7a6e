"""A scripted mock of the Anthropic Messages API, for running the real Claude Code CLI.

Served on 127.0.0.1 (mocklib.EventLogMock). It answers

- `POST /v1/messages` (streaming SSE when the body says `"stream": true`, else one JSON
  message), deciding each answer from the request's conversation: which scripted
  conversation it belongs to (a marker in its first user message tells the main
  conversation from a sub-agent's), and how many `tool_result` blocks it holds (the step);
- `POST /v1/messages/count_tokens` (a small count), and any other path or method with a
  quick, harmless answer, so that Claude Code never hangs on a probe.

Requests that belong to no scripted conversation (title or summary generation, quota
probes: "auxiliary") get a short text answer. Every answer, scripted or not, has its own
known usage, distinct in every bucket, so that an off-by-one in a count shows.

Everything is logged in order (`AnthropicMock.log`): each request (path, model, whether it
is `main`, `sub` or `aux`, its step) and each response served with its exact usage, its
message id, its tool_use ids and the times its SSE events were sent.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field

import mocklib

USAGE_KEYS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
              "output_tokens")


def usage_for(k: int) -> dict:
    """Usage of the k-th distinct response (k ≥ 1): every bucket different from every other
    response's and from the other buckets, so any miscount is visible."""
    return {
        "input_tokens": 3 + 2 * k,
        "cache_creation_input_tokens": 100 + 37 * k,
        "cache_read_input_tokens": 5000 + 1013 * k,
        "output_tokens": 20 + 11 * k,
    }


_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def anthropic_id(prefix: str, core: str) -> str:
    """An id shaped like Anthropic's (prefix + 24 base62 characters): `core` (readable in
    logs, unique within the run) padded with characters derived from it."""
    h = hashlib.sha256(core.encode()).digest()
    pad = "".join(_B62[b % 62] for b in h)
    return prefix + (core + pad)[:24]


def total(usage: dict) -> int:
    return sum(usage[k] for k in USAGE_KEYS)


def text_block(text: str) -> dict:
    return {"type": "text", "text": text}


def tool_block(name: str, tool_input: dict) -> dict:
    return {"type": "tool_use", "name": name, "input": tool_input}


def bash(command: str, description: str = "Run a command") -> dict:
    return tool_block("Bash", {"command": command, "description": description})


@dataclass
class Step:
    """One scripted response: its name (R1, S2, …), its content blocks and its usage. Each
    tool_use block gets an id when the step is built (`tool_ids`)."""
    name: str
    blocks: list
    usage: dict
    tool_ids: list = field(default_factory=list)


class Script(mocklib.Script):
    """A conversation's marker is found in the text of its first user message. (A sub-agent's
    prompt appears in the main conversation only inside the Agent call, never in its first
    user message; sub-agents are still matched first.)"""

    def __init__(self, tag: str):
        super().__init__(tag, usage_for)

    def tool_id(self) -> str:
        return anthropic_id("toolu_01", f"{self.tag}T{self.next_id():03d}")

    def add(self, role: str, marker: str,
            steps: list[tuple[str, list]]) -> mocklib.Conversation:
        built = []
        for name, blocks in steps:
            blocks = [dict(b) for b in blocks]
            ids = []
            for b in blocks:
                if b["type"] == "tool_use":
                    b["id"] = self.tool_id()
                    ids.append(b["id"])
            built.append(Step(name, blocks, self.next_usage(), ids))
        return self.append(role, marker, built)


# ---------------------------------------------------------------------------------------
# Reading a request


def _texts(content) -> list[str]:
    if isinstance(content, str):
        return [content]
    out = []
    for b in content or []:
        if isinstance(b, dict) and b.get("type") == "text":
            out.append(b.get("text", ""))
    return out


def first_user_text(body: dict) -> str:
    for m in body.get("messages") or []:
        if m.get("role") == "user":
            return "\n".join(_texts(m.get("content")))
    return ""


def system_text(body: dict) -> str:
    s = body.get("system")
    if isinstance(s, str):
        return s
    return "\n".join(b.get("text", "") for b in s or [] if isinstance(b, dict))


def tool_results(body: dict) -> list[dict]:
    out = []
    for m in body.get("messages") or []:
        if m.get("role") != "user" or isinstance(m.get("content"), str):
            continue
        for b in m.get("content") or []:
            if isinstance(b, dict) and b.get("type") == "tool_result":
                out.append(b)
    return out


# ---------------------------------------------------------------------------------------
# The mock


class AnthropicMock(mocklib.EventLogMock):
    """The mock's state: the script, the timing, and the log. Use as a context manager:

        with AnthropicMock(script, timing="late") as mock:
            env["ANTHROPIC_BASE_URL"] = mock.url
    """

    def __init__(self, script: Script, timing: str = "realistic", late_delay: float = 1.0,
                 seed: int = 1):
        super().__init__(Handler, script, timing, late_delay, seed)

    def next_ids(self) -> tuple[str, str]:
        """A new (message id, request id) pair."""
        n = self.next_response()
        return (anthropic_id("msg_01", f"{self.script.tag}M{n:03d}"),
                anthropic_id("req_011", f"{self.script.tag}Q{n:03d}"))

    def classify(self, body: dict):
        """(role, conversation) for a Messages request."""
        first = first_user_text(body)
        for conv in sorted(self.script.conversations, key=lambda c: c.role == "main"):
            if conv.marker in first:
                return conv.role, conv
        return "aux", None

    def decide(self, body: dict):
        """What to answer: (role, step name, blocks, usage, tool ids, notes)."""
        role, conv = self.classify(body)
        notes = []
        if conv is None:
            n = self.next_aux()
            usage = usage_for(40 + n)
            return role, f"aux{n}", [text_block("Mock summary.")], usage, [], notes
        results = tool_results(body)
        n = len(results)
        if n >= len(conv.steps):
            notes.append(f"{n} tool results: past the script's {len(conv.steps)} steps")
            k = self.next_aux()
            return role, f"{role}-extra{k}", [text_block("Done.")], usage_for(60 + k), [], notes
        step = conv.steps[n]
        # The conversation should hold the results of the previous steps' calls, in order.
        expected = [i for s in conv.steps[:n] for i in s.tool_ids]
        got = [r.get("tool_use_id") for r in results]
        if got != expected:
            notes.append(f"tool_result ids {got} != expected {expected}")
        return role, step.name, step.blocks, step.usage, step.tool_ids, notes


def _result_summary(r: dict) -> dict:
    content = r.get("content")
    if isinstance(content, list):
        content = "\n".join(_texts(content))
    return {"tool_use_id": r.get("tool_use_id"), "is_error": r.get("is_error"),
            "content": (content or "")[:300]}


class Handler(mocklib.EventLogHandler):
    server_version = "mock-anthropic/1"

    def do_GET(self):
        self.record_probe("GET")
        if self.path.split("?")[0].rstrip("/") == "/v1/models":
            self.send_json(200, {"data": [{"type": "model", "id": "claude-sonnet-4-5",
                                           "display_name": "Claude Sonnet 4.5",
                                           "created_at": "2025-09-29T00:00:00Z"}],
                                 "has_more": False, "first_id": "claude-sonnet-4-5",
                                 "last_id": "claude-sonnet-4-5"})
        else:
            self.send_json(200, {})

    def do_POST(self):
        path = self.path.split("?")[0].rstrip("/")
        body = self.json_body()
        if path == "/v1/messages/count_tokens":
            self.mock.record(kind="request", method="POST", path=self.path, role="count_tokens",
                             model=body.get("model"))
            self.send_json(200, {"input_tokens": 42})
            return
        if path != "/v1/messages":
            self.mock.record(kind="request", method="POST", path=self.path, role="other")
            self.send_json(404, {"type": "error", "error": {"type": "not_found_error",
                                                            "message": f"no {path} here"}})
            return
        self.answer_logged(self.messages, body)

    def messages(self, body: dict):
        mock = self.mock
        role, name, blocks, usage, tool_ids, notes = mock.decide(body)
        stream = bool(body.get("stream"))
        mock.record(
            kind="request", method="POST", path=self.path, role=role, step=name,
            model=body.get("model"), stream=stream,
            n_messages=len(body.get("messages") or []),
            tools=[t.get("name") for t in body.get("tools") or []],
            first_user=first_user_text(body)[-300:],
            system_head=system_text(body)[:200],
            tool_results=[_result_summary(r) for r in tool_results(body)],
            session_header=self.headers.get("X-Claude-Code-Session-Id"),
            max_tokens=body.get("max_tokens"), notes=notes,
        )
        msg_id, req_id = mock.next_ids()
        model = body.get("model") or "claude-sonnet-4-5"
        stop_reason = "tool_use" if tool_ids else "end_turn"
        entry = dict(kind="response", role=role, step=name, msg_id=msg_id, request_id=req_id,
                     model=model,
                     usage=dict(usage), total=total(usage), tool_ids=list(tool_ids),
                     stream=stream, timing=mock.timing, events={})
        if not stream:
            content = [dict(b) for b in blocks]
            self.send_json(200, {"id": msg_id, "type": "message", "role": "assistant",
                                 "model": model, "content": content,
                                 "stop_reason": stop_reason, "stop_sequence": None,
                                 "usage": dict(usage)},
                           extra_headers=[("request-id", req_id)])
            entry["events"]["sent"] = time.time()
            mock.record(**entry)
            return
        events = entry["events"]

        def send(event: str, data: dict, pause=True):
            self.send_sse(data, event=event, pause=pause)

        with self.sse_stream(entry, [("request-id", req_id)]):
            start_usage = {k: usage[k] for k in USAGE_KEYS}
            start_usage["output_tokens"] = 1
            send("message_start", {"type": "message_start", "message": {
                "id": msg_id, "type": "message", "role": "assistant", "model": model,
                "content": [], "stop_reason": None, "stop_sequence": None,
                "usage": start_usage}}, pause=False)
            events["message_start"] = time.time()
            for i, b in enumerate(blocks):
                if b["type"] == "text":
                    send("content_block_start", {"type": "content_block_start", "index": i,
                                                 "content_block": {"type": "text", "text": ""}})
                    text = b["text"]
                    half = max(1, len(text) // 2)
                    for piece in (text[:half], text[half:]):
                        if piece:
                            send("content_block_delta", {
                                "type": "content_block_delta", "index": i,
                                "delta": {"type": "text_delta", "text": piece}})
                else:
                    send("content_block_start", {"type": "content_block_start", "index": i,
                                                 "content_block": {"type": "tool_use",
                                                                   "id": b["id"],
                                                                   "name": b["name"],
                                                                   "input": {}}})
                    js = json.dumps(b["input"])
                    third = max(1, len(js) // 3)
                    for j in range(0, len(js), third):
                        send("content_block_delta", {
                            "type": "content_block_delta", "index": i,
                            "delta": {"type": "input_json_delta",
                                      "partial_json": js[j:j + third]}})
                send("content_block_stop", {"type": "content_block_stop", "index": i})
                events[f"block{i}_stop"] = time.time()
            if tool_ids and mock.timing == "late":
                time.sleep(mock.late_delay)
            send("message_delta", {"type": "message_delta",
                                   "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                   "usage": dict(usage)})
            events["message_delta"] = time.time()
            send("message_stop", {"type": "message_stop"})
            events["message_stop"] = time.time()
        mock.record(**entry)
