"""What the mocks of the model APIs share: a mock's state served by harness.MockServer while it
is used as a context manager, the HTTP plumbing of its handler (JSON answers, SSE streams), the
two ways the mocks log, scripted conversations, the `[e2e-script:NAME]` marker of the mocks
that answer from named scripts, and the proxy trap.

Python 3.11 standard library only; serves on 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import harness

GAP = (0.010, 0.030)  # seconds between two streamed events, in every timing


class MockAPI:
    """A mock's state, served on 127.0.0.1 while used as a context manager (`mock.url`);
    `handler_cls` reaches it as `self.mock`."""

    def __init__(self, handler_cls: type[BaseHTTPRequestHandler], timing: str | None = None,
                 timings=(), seed: int = 0):
        if timing is not None and timing not in timings:
            raise ValueError(f"unknown timing {timing!r}")
        self.timing = timing
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.server = harness.MockServer(handler_cls)
        self.server.state = self

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self):
        self.server.__enter__()
        return self

    def __exit__(self, *exc):
        self.server.__exit__(*exc)

    def gap(self) -> float:
        """A pause before the next streamed event."""
        with self.lock:
            return self.rng.uniform(*GAP)


class MockHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    @property
    def mock(self):
        # self.server is the http.server; harness.MockServer hangs itself on it as `.mock`.
        return self.server.mock.state

    def read_body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send_json(self, status: int, obj, extra_headers=()):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    @contextlib.contextmanager
    def sse_stream(self, rec: dict, extra_headers=()):
        """An SSE answer, its events sent inside the block; a client that goes away ends it
        early, which `rec` (the response's log entry) notes."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        for k, v in extra_headers:
            self.send_header(k, v)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            yield
        except (BrokenPipeError, ConnectionResetError) as e:
            rec["error"] = f"client went away: {e!r}"

    def send_sse(self, data, *, event: str | None = None, pause: bool = True,
                 eol: str = "\n"):
        """One SSE event: `data` (JSON unless a str), named `event` when given, after a gap
        unless `pause` is false."""
        if pause:
            time.sleep(self.mock.gap())
        payload = data if isinstance(data, str) else json.dumps(data)
        head = f"event: {event}{eol}" if event else ""
        self.wfile.write(f"{head}data: {payload}{eol}{eol}".encode())
        self.wfile.flush()


# -- mocks that log every event in one list (Anthropic, Gemini) -------------------------------
class EventLogMock(MockAPI):
    """A mock answering from a `Script`, timing "realistic" or "late" (the usage of a
    tool-calling response comes `late_delay` s after the call). Everything is logged in order
    in `log`: entries of kind "request", "response" or "error"."""

    TIMINGS = ("realistic", "late")

    def __init__(self, handler_cls, script: Script, timing: str = "realistic",
                 late_delay: float = 1.0, seed: int = 1):
        super().__init__(handler_cls, timing, self.TIMINGS, seed)
        self.script = script
        self.late_delay = late_delay
        self.log: list[dict] = []
        self._aux = 0
        self._responses = 0

    def record(self, **entry) -> dict:
        entry.setdefault("t", time.time())
        with self.lock:
            entry["seq"] = len(self.log)
            self.log.append(entry)
        return entry

    def responses(self, role: str | None = None) -> list[dict]:
        with self.lock:
            return [e for e in self.log if e["kind"] == "response"
                    and (role is None or e["role"] == role)]

    def served(self, name: str) -> list[dict]:
        return [e for e in self.responses() if e.get("step") == name]

    def requests(self) -> list[dict]:
        with self.lock:
            return [e for e in self.log if e["kind"] == "request"]

    def dump(self, path) -> None:
        with self.lock, open(path, "w") as f:
            for e in self.log:
                f.write(json.dumps(e) + "\n")

    def next_response(self) -> int:
        """The number of the next response (for its ids)."""
        with self.lock:
            self._responses += 1
            return self._responses

    def next_aux(self) -> int:
        """The number of the next answer outside the script (its usage is drawn from it)."""
        with self.lock:
            self._aux += 1
            return self._aux


class EventLogHandler(MockHandler):
    def record_probe(self, method: str):
        self.mock.record(kind="request", method=method, path=self.path, role="probe")

    def do_HEAD(self):
        self.record_probe("HEAD")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def json_body(self) -> dict:
        raw = self.read_body()
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return {}

    def answer_logged(self, answer, *args):
        try:
            answer(*args)
        except Exception as e:  # a bug here must show in the log, not hang the agent
            self.mock.record(kind="error", path=self.path, error=repr(e))
            raise


class Conversation:
    """A scripted conversation, told apart from the others by `marker` (a string each mock
    looks for in the conversation's messages); step n answers it when it holds n tool
    results."""

    def __init__(self, role: str, marker: str, steps: list):
        self.role = role
        self.marker = marker
        self.steps = steps


class Script:
    """The conversations of one agent run, each with its own marker. Usage is handed out in
    the order steps are added, so every step of the run has distinct usage."""

    def __init__(self, tag: str, usage_for):
        self.tag = tag  # makes ids unique to the run
        self.usage_for = usage_for  # k (≥ 1) → the k-th distinct usage
        self.conversations: list[Conversation] = []
        self._k = 0
        self._ids = 0

    def next_usage(self) -> dict:
        self._k += 1
        return self.usage_for(self._k)

    def next_id(self) -> int:
        self._ids += 1
        return self._ids

    def append(self, role: str, marker: str, steps: list) -> Conversation:
        conv = Conversation(role, marker, steps)
        self.conversations.append(conv)
        return conv

    def step(self, name: str):
        for c in self.conversations:
            for s in c.steps:
                if s.name == name:
                    return s
        raise KeyError(name)

    def steps(self) -> list:
        return [s for c in self.conversations for s in c.steps]


# -- mocks that answer from named scripts (OpenAI Responses, Chat Completions) ----------------
MARKER_RE = re.compile(r"\[e2e-script:([A-Za-z0-9_.-]+)\]")

# Per timing: the pause between a tool call's last event and the one that carries the usage.
TIMINGS = {
    "realistic": {"after_call": 0.020},
    "late": {"after_call": 1.0},
}


@dataclass
class Step:
    """One scripted response: its `kind` (`exec` a shell command, `text` a final message, no
    tool, or a kind of the mock's own), its argument, a label, and what else the kind needs."""

    kind: str
    arg: str = ""
    label: str = ""
    extra: dict = field(default_factory=dict)


def exec_(cmd: str, label: str = "") -> Step:
    return Step("exec", cmd, label)


def text(msg: str, label: str = "") -> Step:
    return Step("text", msg, label)


def content_text(c) -> str:
    """The text of a message's content: a string, or the `text` of its parts."""
    if isinstance(c, str):
        return c
    parts = []
    for p in c or []:
        if isinstance(p, dict) and isinstance(p.get("text"), str):
            parts.append(p["text"])
    return "\n".join(parts)


def locate(items: list, is_tool_output) -> tuple[str | None, int, int]:
    """(script name, step index, index of the marker message) from a request's messages: the
    newest user message with a marker names the script, the tool outputs after it count the
    steps done."""
    name, at = None, -1
    for i, it in enumerate(items or []):
        if isinstance(it, dict) and it.get("role") == "user":
            found = MARKER_RE.findall(content_text(it.get("content")))
            if found:
                name, at = found[-1], i
    if name is None:
        return None, 0, -1
    done = sum(1 for it in items[at + 1:] if isinstance(it, dict) and is_tool_output(it))
    return name, done, at


class ScriptsMock(MockAPI):
    """A mock answering from named scripts of `Step`s, in a timing of `TIMINGS`. It keeps
    `requests` (every request, in arrival order) and `served` (every model response, in
    order), both also written to `log_path` as JSONL when given."""

    def __init__(self, handler_cls, scripts: dict[str, list[Step]], timing: str,
                 log_path: Path | None, seed: int, model: str, log_bodies: bool = False):
        super().__init__(handler_cls, timing, TIMINGS, seed)
        self.scripts = scripts
        self.model = model
        self.serial = 0
        self.requests: list[dict] = []
        self.served: list[dict] = []
        self.log_path = log_path
        self.log_bodies = log_bodies
        self._log = None

    def __enter__(self):
        if self.log_path:
            self._log = open(self.log_path, "a", encoding="utf-8")
        return super().__enter__()

    def __exit__(self, *exc):
        super().__exit__(*exc)
        if self._log:
            self._log.close()
            self._log = None

    def _write(self, rec: dict):
        if self._log:
            with self.lock:
                self._log.write(json.dumps(rec, sort_keys=True) + "\n")
                self._log.flush()

    def log_request(self, rec: dict, body=None):
        with self.lock:
            rec["seq"] = len(self.requests) + 1
            self.requests.append(rec)
        self._write({"event": "request", **rec,
                     **({"body": body} if self.log_bodies and body is not None else {})})

    def log_served(self, rec: dict):
        with self.lock:
            self.served.append(rec)
        self._write({"event": "response", **rec})

    def next_serial(self) -> int:
        with self.lock:
            self.serial += 1
            return self.serial

    def step_for(self, script: str | None, step_i: int) -> Step:
        """The step to serve, or a short text for a script that is finished or unknown."""
        steps = self.scripts.get(script) if script else None
        if steps is not None and step_i < len(steps):
            return steps[step_i]
        if steps is not None:
            return text("(script finished)", "extra")
        return text("ok", "unscripted")

    def after_call(self):
        time.sleep(TIMINGS[self.timing]["after_call"])

    def responses(self, script: str | None = None) -> list[dict]:
        return [r for r in self.served if script is None or r["script"] == script]

    def by_call_id(self, call_id: str) -> dict | None:
        for r in self.served:
            if r.get("call_id") == call_id:
                return r
        return None


class ScriptsHandler(MockHandler):
    """Answers a POST to ENDPOINT (a `WHAT` request) with `answer(body, arrival time)`."""

    ENDPOINT = ""
    WHAT = ""
    MODELS_EXTRA: dict = {}  # more keys for the GET …/models answer

    def do_GET(self):
        mock = self.mock
        mock.log_request({"method": "GET", "path": self.path, "t": time.time()})
        if self.path.split("?")[0].rstrip("/").endswith("/models"):
            self.send_json(200, {"object": "list", **self.MODELS_EXTRA,
                                 "data": [{"id": mock.model, "object": "model",
                                           "owned_by": "e2e"}]})
        else:
            self.send_json(404, {"error": {"message": f"mock: no GET {self.path}",
                                           "type": "invalid_request_error"}})

    def do_POST(self):
        raw = self.read_body()
        t0 = time.time()
        path = self.path.split("?")[0]
        encoding = self.headers.get("Content-Encoding")
        if encoding not in (None, "", "identity"):
            self.mock.log_request({"method": "POST", "path": self.path, "t": t0,
                                   "error": f"encoded body {encoding}"})
            self.send_json(415, {"error": {"message": "mock: compressed body"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if not path.endswith(self.ENDPOINT) or not isinstance(body, dict):
            self.mock.log_request({"method": "POST", "path": self.path, "t": t0,
                                   "error": f"not a {self.WHAT} request"})
            self.send_json(404, {"error": {"message": f"mock: no POST {self.path}",
                                           "type": "invalid_request_error"}})
            return
        self.answer(body, t0)

    def answer(self, body: dict, t0: float):
        raise NotImplementedError


# -- the proxy trap ---------------------------------------------------------------------------
class ProxyTrap(MockAPI):
    """A proxy that answers every request 403 and logs who was asked for: the agent gets
    HTTP(S)_PROXY pointing here (harness.proxy_env; NO_PROXY covers 127.0.0.1), so any attempt
    to reach another host through a proxy-aware client fails at once, locally, and shows in
    `attempts`."""

    def __init__(self):
        super().__init__(ProxyHandler)
        self.attempts: list[dict] = []

    def targets(self) -> list[str]:
        return [a["target"] for a in self.attempts]


class ProxyHandler(MockHandler):
    def _refuse(self):
        trap = self.mock
        with trap.lock:
            trap.attempts.append({"method": self.command, "target": self.path,
                                  "t": time.time()})
        b = b"e2e proxy trap: no outside network\n"
        self.send_response(403)
        self.send_header("Content-Length", str(len(b)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b)
        self.close_connection = True

    do_CONNECT = do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = _refuse
