"""A scripted mock of the OpenAI Responses API (POST /v1/responses, streamed as SSE) for the
Codex end-to-end suite, plus a proxy trap that refuses (and logs) any connection Codex tries
to make to another host.

The conversation decides each answer: the newest user message carrying `[e2e-script:NAME]`
names the script, and the number of tool outputs (`function_call_output`,
`custom_tool_call_output`) after that message is the index of the step to serve. The shell
tool's name and argument schema are read from the request's `tools`, so the mock follows
whatever the Codex build declares (`exec_command {cmd}`, `shell {command: [...]}`,
`shell_command {command}`; `apply_patch` as a freeform custom tool or a function).

Every response gets its own usage, different in every bucket from every other response's, so
an off-by-one in a snapshot shows. Every request and every response served is logged, in
order, with the exact usage served (`MockOpenAI.served`, and a JSONL file when asked).

Python 3.11 standard library only; serves on 127.0.0.1 only (harness.MockServer)."""

import json
import random
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path

MARKER_RE = re.compile(r"\[e2e-script:([A-Za-z0-9_.-]+)\]")
TOOL_OUTPUT_TYPES = ("function_call_output", "custom_tool_call_output", "local_shell_call_output")

# Event spacing per timing: (min, max) seconds between two SSE events, and the pause between
# a tool call's `response.output_item.done` and `response.completed`.
TIMINGS = {
    "realistic": {"gap": (0.010, 0.030), "after_call": 0.020},
    "late": {"gap": (0.010, 0.030), "after_call": 1.0},
}


@dataclass
class Step:
    """One scripted response: `exec` (a shell command), `patch` (an apply_patch edit) or
    `text` (a final message, no tool)."""

    kind: str
    arg: str = ""
    label: str = ""


def exec_(cmd: str, label: str = "") -> Step:
    return Step("exec", cmd, label)


def patch(text: str, label: str = "") -> Step:
    return Step("patch", text, label)


def text(msg: str, label: str = "") -> Step:
    return Step("text", msg, label)


def usage_for(serial: int) -> dict:
    """The usage of the `serial`-th response (1-based) as the Responses API reports it:
    input includes cached input and cache writes; output includes reasoning. Each bucket
    differs from response to response and from the other buckets."""
    n = serial
    inp = 20000 + 1009 * n
    cached = 5000 + 211 * n
    cache_write = 300 + 17 * n
    out = 400 + 31 * n
    reasoning = 60 + 7 * n
    return {
        "input_tokens": inp,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": cache_write},
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": inp + out,
    }


def ledger_buckets(u: dict) -> dict:
    """What tokledger should store for one response of `usage_for`: input excludes cached
    input and cache writes; total = input + output as served."""
    inp = u["input_tokens"]
    cached = u["input_tokens_details"]["cached_tokens"]
    cw = u["input_tokens_details"].get("cache_write_tokens", 0)
    return {
        "input_tokens": inp - cached - cw,
        "cache_creation_tokens": cw,
        "cache_read_tokens": cached,
        "output_tokens": u["output_tokens"],
        "reasoning_tokens": u["output_tokens_details"]["reasoning_tokens"],
        "total": inp + u["output_tokens"],
    }


@dataclass
class ShellSchema:
    name: str
    build: object  # callable(cmd) -> arguments dict


def shell_schema(tools: list) -> ShellSchema | None:
    """The shell tool the request declares, and how to call it."""
    by_name = {}
    for t in tools or []:
        if isinstance(t, dict) and t.get("type") == "function" and t.get("name"):
            by_name[t["name"]] = t
    t = by_name.get("exec_command")
    if t and "cmd" in (t.get("parameters", {}).get("properties") or {}):
        props = t["parameters"]["properties"]

        def build(cmd, props=props):
            args = {"cmd": cmd}
            if "yield_time_ms" in props:
                args["yield_time_ms"] = 30000  # one call runs the command to its end
            return args

        return ShellSchema("exec_command", build)
    t = by_name.get("shell")
    if t:
        props = t.get("parameters", {}).get("properties") or {}
        if (props.get("command") or {}).get("type") == "array":
            return ShellSchema("shell", lambda cmd: {"command": ["bash", "-lc", cmd],
                                                     "timeout_ms": 30000})
        return ShellSchema("shell", lambda cmd: {"command": cmd, "timeout_ms": 30000})
    t = by_name.get("shell_command")
    if t:
        return ShellSchema("shell_command", lambda cmd: {"command": cmd, "timeout_ms": 30000})
    return None


def patch_tool(tools: list) -> str | None:
    """'custom' (a freeform apply_patch), 'function' (apply_patch {input}) or None."""
    for t in tools or []:
        if isinstance(t, dict) and t.get("name") == "apply_patch":
            return "custom" if t.get("type") == "custom" else "function"
    return None


def _user_text(item: dict) -> str:
    c = item.get("content")
    if isinstance(c, str):
        return c
    parts = []
    for p in c or []:
        if isinstance(p, dict) and isinstance(p.get("text"), str):
            parts.append(p["text"])
    return "\n".join(parts)


def locate(input_items: list) -> tuple[str | None, int, int]:
    """(script name, step index, index of the marker message) from a request's input."""
    name, at = None, -1
    for i, it in enumerate(input_items or []):
        if isinstance(it, dict) and it.get("role") == "user":
            m = MARKER_RE.findall(_user_text(it))
            if m:
                name, at = m[-1], i
    if name is None:
        return None, 0, -1
    done = sum(1 for it in input_items[at + 1:]
               if isinstance(it, dict) and it.get("type") in TOOL_OUTPUT_TYPES)
    return name, done, at


class MockOpenAI:
    """The mock's state: the scripts, the timing, and the log of what was served."""

    def __init__(self, scripts: dict[str, list[Step]], timing: str = "realistic",
                 log_path: Path | None = None, seed: int = 7, model: str = "gpt-5.5"):
        if timing not in TIMINGS:
            raise ValueError(f"unknown timing {timing!r}")
        self.scripts = scripts
        self.timing = timing
        self.model = model
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.serial = 0
        self.requests: list[dict] = []  # every request, in arrival order
        self.served: list[dict] = []  # every /v1/responses answer, in order
        self.log_path = log_path
        self._log = open(log_path, "a", encoding="utf-8") if log_path else None

    # -- logging --------------------------------------------------------------------------
    def _write(self, rec: dict):
        if self._log:
            with self.lock:
                self._log.write(json.dumps(rec, sort_keys=True) + "\n")
                self._log.flush()

    def log_request(self, rec: dict):
        with self.lock:
            rec["seq"] = len(self.requests) + 1
            self.requests.append(rec)
        self._write({"event": "request", **rec})

    def next_serial(self) -> int:
        with self.lock:
            self.serial += 1
            return self.serial

    def gap(self) -> float:
        lo, hi = TIMINGS[self.timing]["gap"]
        with self.lock:
            return self.rng.uniform(lo, hi)

    # -- queries for the tests ------------------------------------------------------------
    def responses(self, script: str | None = None) -> list[dict]:
        return [r for r in self.served if script is None or r["script"] == script]

    def by_call_id(self, call_id: str) -> dict | None:
        for r in self.served:
            if r.get("call_id") == call_id:
                return r
        return None

    def close(self):
        if self._log:
            self._log.close()
            self._log = None


def make_handler(mock: MockOpenAI) -> type[BaseHTTPRequestHandler]:
    """A handler class for harness.MockServer that serves `mock`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "e2e-mock-openai/1"

        def log_message(self, *args):
            pass

        def _read_body(self) -> bytes:
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n > 0 else b""

        def _json(self, code: int, obj):
            b = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            self.wfile.write(b)

        def do_GET(self):
            mock.log_request({"method": "GET", "path": self.path, "t": time.time()})
            if self.path.split("?")[0].rstrip("/").endswith("/models"):
                self._json(200, {"object": "list", "models": [],
                                 "data": [{"id": mock.model, "object": "model",
                                           "owned_by": "e2e"}]})
            else:
                self._json(404, {"error": {"message": f"mock: no GET {self.path}",
                                           "type": "invalid_request_error"}})

        def do_POST(self):
            raw = self._read_body()
            t0 = time.time()
            path = self.path.split("?")[0]
            if self.headers.get("Content-Encoding") not in (None, "", "identity"):
                mock.log_request({"method": "POST", "path": self.path, "t": t0,
                                  "error": f"encoded body {self.headers.get('Content-Encoding')}"})
                self._json(415, {"error": {"message": "mock: compressed body"}})
                return
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = None
            if not path.endswith("/responses") or not isinstance(body, dict):
                mock.log_request({"method": "POST", "path": self.path, "t": t0,
                                  "error": "not a responses request"})
                self._json(404, {"error": {"message": f"mock: no POST {self.path}",
                                           "type": "invalid_request_error"}})
                return
            items = body.get("input") or []
            tools = body.get("tools") or []
            script, step_i, _ = locate(items)
            mock.log_request({
                "method": "POST", "path": self.path, "t": t0,
                "model": body.get("model"), "stream": body.get("stream"),
                "n_input": len(items), "script": script, "step": step_i,
                "tools": [t.get("name") or t.get("type") for t in tools if isinstance(t, dict)],
                "thread_id": self.headers.get("thread-id") or self.headers.get("session_id"),
            })
            steps = mock.scripts.get(script) if script else None
            if steps is not None and step_i < len(steps):
                step = steps[step_i]
            elif steps is not None:
                step = text("(script finished)", "extra")
            else:
                step = text("ok", "unscripted")
            self._serve(body, script, step_i, step, tools, t0)

        # -- SSE ------------------------------------------------------------------------------
        def _serve(self, body, script, step_i, step: Step, tools, t0):
            serial = mock.next_serial()
            resp_id = f"resp_e2e_{serial:03d}"
            usage = usage_for(serial)
            rec = {"serial": serial, "script": script, "step": step_i, "kind": step.kind,
                   "label": step.label, "response_id": resp_id, "usage": usage,
                   "total": usage["input_tokens"] + usage["output_tokens"],
                   "t_request": t0, "thread_id": self.headers.get("thread-id")}
            call_item = None
            call_id = f"call_e2e_{script or 'x'}_{step_i}_{serial:03d}"
            if step.kind == "exec":
                sh = shell_schema(tools)
                if sh is None:
                    step = text("mock: the request declares no shell tool", "no-shell")
                else:
                    args = sh.build(step.arg)
                    call_item = {"type": "function_call", "id": f"fc_e2e_{serial:03d}",
                                 "call_id": call_id, "name": sh.name,
                                 "arguments": json.dumps(args)}
                    rec.update(call_id=call_id, tool=sh.name, arguments=args)
            elif step.kind == "patch":
                how = patch_tool(tools)
                if how == "custom":
                    call_item = {"type": "custom_tool_call", "id": f"ctc_e2e_{serial:03d}",
                                 "call_id": call_id, "name": "apply_patch", "input": step.arg}
                    rec.update(call_id=call_id, tool="apply_patch", input=step.arg)
                elif how == "function":
                    args = {"input": step.arg}
                    call_item = {"type": "function_call", "id": f"fc_e2e_{serial:03d}",
                                 "call_id": call_id, "name": "apply_patch",
                                 "arguments": json.dumps(args)}
                    rec.update(call_id=call_id, tool="apply_patch", arguments=args)
                else:
                    sh = shell_schema(tools)
                    cmd = "apply_patch <<'E2E_PATCH'\n" + step.arg + "E2E_PATCH\n"
                    if sh is None:
                        step = text("mock: no tool to patch with", "no-patch")
                    else:
                        args = sh.build(cmd)
                        call_item = {"type": "function_call", "id": f"fc_e2e_{serial:03d}",
                                     "call_id": call_id, "name": sh.name,
                                     "arguments": json.dumps(args)}
                        rec.update(call_id=call_id, tool=sh.name, arguments=args)
            rec["kind"] = step.kind

            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            seq = [0]

            def ev(etype: str, pause=True, **data):
                if pause:
                    time.sleep(mock.gap())
                data = {"type": etype, "sequence_number": seq[0], **data}
                seq[0] += 1
                self.wfile.write(f"event: {etype}\ndata: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()

            base = {"id": resp_id, "object": "response", "created_at": int(t0),
                    "model": body.get("model") or mock.model, "output": [],
                    "parallel_tool_calls": False, "tool_choice": "auto", "tools": []}
            try:
                ev("response.created", pause=False, response={**base, "status": "in_progress"})
                ev("response.in_progress", response={**base, "status": "in_progress"})
                outputs = []
                if call_item is None:
                    msg_id = f"msg_e2e_{serial:03d}"
                    words = re.findall(r"\S+\s*", step.arg) or [step.arg]
                    ev("response.output_item.added", output_index=0,
                       item={"type": "message", "id": msg_id, "status": "in_progress",
                             "role": "assistant", "content": []})
                    ev("response.content_part.added", item_id=msg_id, output_index=0,
                       content_index=0, part={"type": "output_text", "text": "",
                                              "annotations": []})
                    for w in words:
                        ev("response.output_text.delta", item_id=msg_id, output_index=0,
                           content_index=0, delta=w)
                    ev("response.output_text.done", item_id=msg_id, output_index=0,
                       content_index=0, text=step.arg)
                    part = {"type": "output_text", "text": step.arg, "annotations": []}
                    ev("response.content_part.done", item_id=msg_id, output_index=0,
                       content_index=0, part=part)
                    item = {"type": "message", "id": msg_id, "status": "completed",
                            "role": "assistant", "content": [part]}
                    ev("response.output_item.done", output_index=0, item=item)
                    rec["t_item_done"] = time.time()
                    outputs.append(item)
                else:
                    added = dict(call_item, status="in_progress")
                    if call_item["type"] == "function_call":
                        added["arguments"] = ""
                        ev("response.output_item.added", output_index=0, item=added)
                        a = call_item["arguments"]
                        for i in range(0, len(a), 40):
                            ev("response.function_call_arguments.delta",
                               item_id=call_item["id"], output_index=0, delta=a[i:i + 40])
                        ev("response.function_call_arguments.done", item_id=call_item["id"],
                           output_index=0, arguments=a)
                    else:
                        added["input"] = ""
                        ev("response.output_item.added", output_index=0, item=added)
                        a = call_item["input"]
                        for i in range(0, len(a), 40):
                            ev("response.custom_tool_call_input.delta",
                               item_id=call_item["id"], output_index=0, delta=a[i:i + 40])
                        ev("response.custom_tool_call_input.done", item_id=call_item["id"],
                           output_index=0, input=a)
                    done = dict(call_item, status="completed")
                    ev("response.output_item.done", output_index=0, item=done)
                    rec["t_item_done"] = time.time()
                    outputs.append(done)
                    time.sleep(TIMINGS[mock.timing]["after_call"])
                ev("response.completed", pause=call_item is None,
                   response={**base, "status": "completed", "output": outputs, "usage": usage})
                rec["t_completed"] = time.time()
            except (BrokenPipeError, ConnectionResetError) as e:
                rec["error"] = f"client went away: {e}"
            with mock.lock:
                mock.served.append(rec)
            mock._write({"event": "response", **rec})

    return Handler


class ProxyTrap:
    """State for a proxy that answers every request 403 and logs who was asked for: Codex
    gets HTTP(S)_PROXY pointing here (NO_PROXY covers 127.0.0.1), so any attempt to reach
    another host fails at once, locally, and is visible in `attempts`."""

    def __init__(self):
        self.attempts: list[dict] = []
        self.lock = threading.Lock()


def make_proxy_handler(trap: ProxyTrap) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _refuse(self):
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

    return Handler
