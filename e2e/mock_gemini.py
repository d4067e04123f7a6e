"""A scripted mock of the Gemini API (generativelanguage v1beta), for running the real Gemini CLI.

Served on 127.0.0.1 (mocklib.EventLogMock; the CLI is pointed at it by
`GOOGLE_GEMINI_BASE_URL`). It answers

- `POST /v1beta/models/<model>:streamGenerateContent?alt=sse` (SSE, one
  `data: <GenerateContentResponse>` per chunk) and `:generateContent` (one JSON response),
  deciding each answer from the request's `contents`: which scripted conversation it belongs to
  (a marker in a user text part, or in the system instruction, tells the main conversation, a
  resumed one and a sub-agent's apart), and how many `functionResponse` parts follow the
  marker's message (the step);
- requests that ask for JSON (`generationConfig.responseJsonSchema`: the model router's
  complexity score, the next-speaker check, …) get a JSON object filled from their schema;
  other requests outside the script (title, summaries) a short text. Both are "aux" and are
  logged with their own usage;
- `:countTokens` (a small count), `GET …/models` (an empty list), and any other path with a
  quick 404, so that the CLI never hangs on a probe (Gemini CLI 0.61 made none of these).

Every answer has its own known usage, distinct in every field (`promptTokenCount`,
`candidatesTokenCount`, `cachedContentTokenCount`, `thoughtsTokenCount`,
`toolUsePromptTokenCount`; `totalTokenCount` = prompt + candidates + thoughts + tool-use
prompt, as the API reports it), and is logged in order with the times its chunks were sent.

Timings: "realistic" (10–30 ms between chunks); "late" (the final chunk, the only one that
carries `usageMetadata` and `finishReason`, comes `late_delay` s after the chunk that carries
a `functionCall`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import mocklib

USAGE_KEYS = ("promptTokenCount", "candidatesTokenCount", "cachedContentTokenCount",
              "thoughtsTokenCount", "toolUsePromptTokenCount")
# The transcript's `tokens` object: name → usageMetadata field (Gemini CLI 0.61).
TRANSCRIPT_KEYS = {"input": "promptTokenCount", "output": "candidatesTokenCount",
                   "cached": "cachedContentTokenCount", "thoughts": "thoughtsTokenCount",
                   "tool": "toolUsePromptTokenCount", "total": "totalTokenCount"}


def usage_for(k: int) -> dict:
    """usageMetadata of the k-th distinct response (k ≥ 1): every field different from every
    other response's and from the other fields, so any miscount is visible."""
    u = {
        "promptTokenCount": 6000 + 1013 * k,
        "cachedContentTokenCount": 2000 + 211 * k,
        "candidatesTokenCount": 20 + 11 * k,
        "thoughtsTokenCount": 300 + 37 * k,
        "toolUsePromptTokenCount": 3 + 2 * k,
    }
    u["totalTokenCount"] = (u["promptTokenCount"] + u["candidatesTokenCount"] +
                            u["thoughtsTokenCount"] + u["toolUsePromptTokenCount"])
    return u


def ledger_buckets(u: dict) -> dict:
    """tokledger's buckets for one Gemini response (SPEC §1): input = prompt − cached +
    tool-use prompt, cache_read = cached, output = candidates + thoughts (reasoning =
    thoughts, informational), no cache writes."""
    b = {
        "input_tokens": u["promptTokenCount"] - u["cachedContentTokenCount"]
        + u.get("toolUsePromptTokenCount", 0),
        "cache_creation_tokens": 0,
        "cache_read_tokens": u["cachedContentTokenCount"],
        "output_tokens": u["candidatesTokenCount"] + u.get("thoughtsTokenCount", 0),
        "reasoning_tokens": u.get("thoughtsTokenCount", 0),
    }
    b["total"] = (b["input_tokens"] + b["cache_creation_tokens"] + b["cache_read_tokens"] +
                  b["output_tokens"])
    return b


def total(u: dict) -> int:
    return ledger_buckets(u)["total"]


def from_transcript(tokens: dict) -> dict:
    """A transcript `tokens` object as usageMetadata."""
    return {TRANSCRIPT_KEYS[k]: int(tokens.get(k) or 0) for k in TRANSCRIPT_KEYS}


# -- parts ------------------------------------------------------------------------------------
def text(t: str) -> dict:
    return {"text": t}


def thought(t: str) -> dict:
    return {"text": t, "thought": True}


def call(name: str, args: dict) -> dict:
    return {"functionCall": {"name": name, "args": args}}


def shell(command: str, description: str = "Run a command") -> dict:
    return call("run_shell_command", {"command": command, "description": description})


@dataclass
class Step:
    """One scripted response: its name (R1, S2, …), its parts and usage. Each functionCall
    gets an id when the step is built: `call_ids` are the ids the mock would send (only with
    `Script(send_ids=True)`; by default the mock sends `functionCall {name, args}` only and
    Gemini CLI makes its own), `cli_ids` the ids Gemini CLI then writes to its transcript
    (`<name>__<id>`; None when it makes its own: read them from the transcript)."""
    name: str
    parts: list
    usage: dict
    call_ids: list = field(default_factory=list)
    cli_ids: list = field(default_factory=list)
    tools: list = field(default_factory=list)


class Script(mocklib.Script):
    """Roles "main", "resume", …: a conversation matched by the latest user message holding
    its marker; "sub…": a sub-agent's, matched anywhere in its own conversation. Aux answers
    take usage from a range far from the steps'."""

    def __init__(self, tag: str, send_ids: bool = False):
        super().__init__(tag, usage_for)
        self.send_ids = send_ids

    def add(self, role: str, marker: str,
            steps: list[tuple[str, list]]) -> mocklib.Conversation:
        built = []
        for name, parts in steps:
            parts = json.loads(json.dumps(parts))
            st = Step(name, parts, self.next_usage())
            for p in parts:
                fc = p.get("functionCall")
                if fc is None:
                    continue
                cid = f"e2e{self.tag}c{self.next_id():02d}"
                if self.send_ids:
                    fc["id"] = cid
                st.call_ids.append(cid)
                st.cli_ids.append(f"{fc['name']}__{cid}" if self.send_ids else None)
                st.tools.append(fc["name"])
            built.append(st)
        return self.append(role, marker, built)


# -- reading a request ------------------------------------------------------------------------
def user_texts(content: dict) -> str:
    return "\n".join(p.get("text", "") for p in content.get("parts") or []
                     if isinstance(p, dict) and isinstance(p.get("text"), str))


def system_text(body: dict) -> str:
    si = body.get("systemInstruction") or body.get("system_instruction") or {}
    if isinstance(si, str):
        return si
    return "\n".join(p.get("text", "") for p in si.get("parts") or [] if isinstance(p, dict))


def function_responses(contents: list) -> list[tuple[int, dict]]:
    out = []
    for i, c in enumerate(contents):
        for p in c.get("parts") or []:
            if isinstance(p, dict) and isinstance(p.get("functionResponse"), dict):
                out.append((i, p["functionResponse"]))
    return out


def tool_names(body: dict) -> list[str]:
    return [f.get("name") for t in body.get("tools") or []
            for f in (t.get("functionDeclarations") or t.get("function_declarations") or [])]


def json_schema(body: dict):
    gc = body.get("generationConfig") or body.get("config") or {}
    sch = gc.get("responseJsonSchema") or gc.get("responseSchema")
    if sch is not None:
        return sch
    if gc.get("responseMimeType") == "application/json":
        return {}
    return None


def fill_schema(schema, key: str = ""):
    """A small valid instance of a JSON schema (OpenAPI-style upper-case types too)."""
    if not isinstance(schema, dict):
        return {}
    t = str(schema.get("type") or "object").lower()
    if "enum" in schema and schema["enum"]:
        # The next-speaker check: "user" ends the turn.
        return "user" if "user" in schema["enum"] else schema["enum"][0]
    if t == "object":
        props = schema.get("properties") or {}
        return {k: fill_schema(v, k) for k, v in props.items()}
    if t == "array":
        return []
    if t in ("integer", "number"):
        return 10 if "score" in key else 1
    if t == "boolean":
        return False
    if key == "next_speaker":
        return "user"
    return "Mock answer."


def aux_kind(schema) -> str:
    s = json.dumps(schema or {})
    if "complexity_score" in s:
        return "router"
    if "next_speaker" in s:
        return "next_speaker"
    return "json"


# -- the mock ---------------------------------------------------------------------------------
class GeminiMock(mocklib.EventLogMock):
    """The mock's state: the script, the timing and the log. Use as a context manager:

        with GeminiMock(script, timing="late") as mock:
            env["GOOGLE_GEMINI_BASE_URL"] = mock.url
    """

    def __init__(self, script: Script, timing: str = "realistic", late_delay: float = 1.0,
                 seed: int = 1):
        super().__init__(Handler, script, timing, late_delay, seed)

    def next_response_id(self) -> str:
        return f"e2e{self.script.tag}r{self.next_response():03d}"

    def _aux_usage(self, base: int) -> tuple[int, dict]:
        n = self.next_aux()
        return n, usage_for(base + n)

    def classify(self, body: dict):
        """(role, conversation, index of the marker's message, or -1 for the system
        instruction). Sub-agents (roles "sub…") first: their marker is in their first message
        (or system instruction), while the main conversation holds it only inside a
        functionCall's args. Then the latest user message that holds the marker of another
        conversation: a resumed session holds the earlier runs' markers too."""
        contents = body.get("contents") or []
        convs = self.script.conversations
        for conv in (c for c in convs if c.role.startswith("sub")):
            for i, c in enumerate(contents):
                if c.get("role", "user") == "user" and conv.marker in user_texts(c):
                    return conv.role, conv, i
            if conv.marker in system_text(body):
                return conv.role, conv, -1
        for i in range(len(contents) - 1, -1, -1):
            c = contents[i]
            if c.get("role", "user") != "user":
                continue
            t = user_texts(c)
            for conv in convs:
                if not conv.role.startswith("sub") and conv.marker in t:
                    return conv.role, conv, i
        return "aux", None, None

    def decide(self, body: dict) -> dict:
        contents = body.get("contents") or []
        schema = json_schema(body)
        if schema is not None:
            kind = aux_kind(schema)
            n, usage = self._aux_usage(40)
            return {"role": "aux", "step": f"aux-{kind}{n}", "aux_kind": kind,
                    "parts": [text(json.dumps(fill_schema(schema)))], "usage": usage,
                    "call_ids": [], "cli_ids": [], "notes": []}
        role, conv, at = self.classify(body)
        if conv is None:
            n, usage = self._aux_usage(70)
            return {"role": "aux", "step": f"aux-text{n}", "aux_kind": "text",
                    "parts": [text("Mock summary.")], "usage": usage, "call_ids": [],
                    "cli_ids": [], "notes": []}
        results = [fr for i, fr in function_responses(contents) if i > at]
        n = len(results)
        notes = []
        if n >= len(conv.steps):
            k, usage = self._aux_usage(100)
            notes.append(f"{n} function responses: past the script's {len(conv.steps)} steps")
            return {"role": role, "step": f"{role}-extra{k}", "aux_kind": None,
                    "parts": [text("Done.")], "usage": usage, "call_ids": [], "cli_ids": [],
                    "notes": notes}
        step = conv.steps[n]
        # The results of the previous steps' calls, in order. Gemini CLI writes
        # `<name>__<id>` to its transcript but sends the API's own id back (without an API id,
        # one of its own: `<name>_<ms>_<n>`).
        got_names = [fr.get("name") for fr in results]
        want_names = [t for s in conv.steps[:n] for t in s.tools]
        if got_names != want_names:
            notes.append(f"functionResponse names {got_names} != expected {want_names}")
        if self.script.send_ids:
            expected = [i for s in conv.steps[:n] for i in s.call_ids]
            got = [fr.get("id") for fr in results]
            if got != expected:
                notes.append(f"functionResponse ids {got} != expected {expected}")
        return {"role": role, "step": step.name, "aux_kind": None, "parts": step.parts,
                "usage": step.usage, "call_ids": list(step.call_ids),
                "cli_ids": list(step.cli_ids), "notes": notes}


def _fr_summary(fr: dict) -> dict:
    resp = fr.get("response")
    return {"id": fr.get("id"), "name": fr.get("name"),
            "response": json.dumps(resp)[:400] if resp is not None else None}


class Handler(mocklib.EventLogHandler):
    server_version = "mock-gemini/1"

    def do_GET(self):
        self.record_probe("GET")
        if self.path.split("?")[0].rstrip("/").endswith("/models"):
            self.send_json(200, {"models": []})
        else:
            self.send_json(404, {"error": {"code": 404, "message": "mock: not here",
                                           "status": "NOT_FOUND"}})

    def do_POST(self):
        path = self.path.split("?")[0]
        body = self.json_body()
        model, _, method = path.rsplit("/", 1)[-1].partition(":")
        if method == "countTokens":
            self.mock.record(kind="request", method="POST", path=self.path, role="count_tokens",
                             model=model)
            self.send_json(200, {"totalTokens": 42})
            return
        if method not in ("streamGenerateContent", "generateContent"):
            self.mock.record(kind="request", method="POST", path=self.path, role="other")
            self.send_json(404, {"error": {"code": 404, "message": f"mock: no {path} here",
                                           "status": "NOT_FOUND"}})
            return
        self.answer_logged(self.generate, body, model, method == "streamGenerateContent")

    def generate(self, body: dict, model: str, stream: bool):
        mock = self.mock
        d = mock.decide(body)
        contents = body.get("contents") or []
        first_user = next((user_texts(c) for c in contents if c.get("role", "user") == "user"
                           and user_texts(c) and "<session_context>" not in user_texts(c)), "")
        mock.record(
            kind="request", method="POST", path=self.path, role=d["role"], step=d["step"],
            aux_kind=d["aux_kind"], model=model, stream=stream, n_contents=len(contents),
            tools=tool_names(body), first_user=first_user[:300],
            last_user=next((user_texts(c)[-300:] for c in reversed(contents)
                            if c.get("role", "user") == "user" and user_texts(c)), ""),
            system_head=system_text(body)[:200],
            function_responses=[_fr_summary(fr) for _, fr in function_responses(contents)],
            user_agent=self.headers.get("User-Agent"), notes=d["notes"])
        rid = mock.next_response_id()
        usage = dict(d["usage"])
        entry = dict(kind="response", role=d["role"], step=d["step"], aux_kind=d["aux_kind"],
                     response_id=rid, model=model, usage=usage, total=total(usage),
                     call_ids=d["call_ids"], cli_ids=d["cli_ids"],
                     tools=[p["functionCall"]["name"] for p in d["parts"]
                            if "functionCall" in p],
                     stream=stream, timing=mock.timing, events={})
        final = {"candidates": [{"content": {"role": "model", "parts": []},
                                 "finishReason": "STOP", "index": 0}],
                 "usageMetadata": usage, "modelVersion": model, "responseId": rid}
        if not stream:
            whole = json.loads(json.dumps(final))
            whole["candidates"][0]["content"]["parts"] = [dict(p) for p in d["parts"]]
            self.send_json(200, whole)
            entry["events"]["sent"] = time.time()
            mock.record(**entry)
            return
        events = entry["events"]

        def send(chunk: dict, pause=True):
            self.send_sse(chunk, pause=pause, eol="\r\n")

        def chunk_of(parts):
            return {"candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}],
                    "modelVersion": model, "responseId": rid}

        with self.sse_stream(entry):
            first = True
            for i, p in enumerate(d["parts"]):
                if "functionCall" in p:
                    send(chunk_of([p]), pause=not first)
                    events[f"call{i}"] = time.time()
                else:
                    t = p["text"]
                    half = max(1, len(t) // 2)
                    for piece in (t[:half], t[half:]):
                        if piece:
                            send(chunk_of([{**p, "text": piece}]), pause=not first)
                            first = False
                    events[f"part{i}"] = time.time()
                first = False
            if d["call_ids"] and mock.timing == "late":
                time.sleep(mock.late_delay)
            send(final)
            events["final"] = time.time()
        mock.record(**entry)
