"""A scripted mock of the OpenAI Responses API (POST /v1/responses, streamed as SSE) for the
Codex end-to-end suite.

The conversation decides each answer: the newest user message carrying `[e2e-script:NAME]`
names the script, and the number of tool outputs (`function_call_output`,
`custom_tool_call_output`) after that message is the index of the step to serve. The shell
tool's name and argument schema are read from the request's `tools`, so the mock follows
whatever the Codex build declares (`exec_command {cmd}`, `shell {command: [...]}`,
`shell_command {command}`; `apply_patch` as a freeform custom tool or a function).

Every response gets its own usage, different in every bucket from every other response's, so
an off-by-one in a snapshot shows. Every request and every response served is logged, in
order, with the exact usage served (`MockOpenAI.served`, and a JSONL file when asked).
Timings: mocklib.TIMINGS (the pause between a tool call's `response.output_item.done` and
`response.completed`).

Python 3.11 standard library only; serves on 127.0.0.1 only (mocklib.ScriptsMock)."""

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import mocklib
from mocklib import Step, exec_, text  # noqa: F401 (step makers, beside patch)

TOOL_OUTPUT_TYPES = ("function_call_output", "custom_tool_call_output", "local_shell_call_output")


def patch(text: str, label: str = "") -> Step:
    """An apply_patch edit (`exec` and `text` are mocklib's)."""
    return Step("patch", text, label)


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


def locate(input_items: list) -> tuple[str | None, int, int]:
    """(script name, step index, index of the marker message) from a request's input."""
    return mocklib.locate(input_items, lambda it: it.get("type") in TOOL_OUTPUT_TYPES)


class MockOpenAI(mocklib.ScriptsMock):
    """The mock's state: the scripts, the timing, and the log of what was served. Use as a
    context manager (`mock.url`)."""

    def __init__(self, scripts: dict[str, list[Step]], timing: str = "realistic",
                 log_path: Path | None = None, seed: int = 7, model: str = "gpt-5.5"):
        super().__init__(Handler, scripts, timing, log_path, seed, model)


class Handler(mocklib.ScriptsHandler):
    server_version = "e2e-mock-openai/1"
    ENDPOINT = "/responses"
    WHAT = "responses"
    MODELS_EXTRA = {"models": []}

    def answer(self, body: dict, t0: float):
        mock = self.mock
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
        self._serve(body, script, step_i, mock.step_for(script, step_i), tools, t0)

    def _serve(self, body, script, step_i, step: Step, tools, t0):
        mock = self.mock
        serial = mock.next_serial()
        resp_id = f"resp_e2e_{serial:03d}"
        usage = usage_for(serial)
        rec = {"serial": serial, "script": script, "step": step_i, "kind": step.kind,
               "label": step.label, "response_id": resp_id, "usage": usage,
               "total": usage["input_tokens"] + usage["output_tokens"],
               "t_request": t0, "thread_id": self.headers.get("thread-id")}
        call_item = None
        call_id = f"call_e2e_{script or 'x'}_{step_i}_{serial:03d}"

        def function_call(name: str, args: dict) -> dict:
            rec.update(call_id=call_id, tool=name, arguments=args)
            return {"type": "function_call", "id": f"fc_e2e_{serial:03d}", "call_id": call_id,
                    "name": name, "arguments": json.dumps(args)}

        if step.kind == "exec":
            sh = shell_schema(tools)
            if sh is None:
                step = text("mock: the request declares no shell tool", "no-shell")
            else:
                call_item = function_call(sh.name, sh.build(step.arg))
        elif step.kind == "patch":
            how = patch_tool(tools)
            if how == "custom":
                call_item = {"type": "custom_tool_call", "id": f"ctc_e2e_{serial:03d}",
                             "call_id": call_id, "name": "apply_patch", "input": step.arg}
                rec.update(call_id=call_id, tool="apply_patch", input=step.arg)
            elif how == "function":
                call_item = function_call("apply_patch", {"input": step.arg})
            else:
                sh = shell_schema(tools)
                cmd = "apply_patch <<'E2E_PATCH'\n" + step.arg + "E2E_PATCH\n"
                if sh is None:
                    step = text("mock: no tool to patch with", "no-patch")
                else:
                    call_item = function_call(sh.name, sh.build(cmd))
        rec["kind"] = step.kind
        seq = [0]

        def ev(etype: str, pause=True, **data):
            data = {"type": etype, "sequence_number": seq[0], **data}
            seq[0] += 1
            self.send_sse(data, event=etype, pause=pause)

        base = {"id": resp_id, "object": "response", "created_at": int(t0),
                "model": body.get("model") or mock.model, "output": [],
                "parallel_tool_calls": False, "tool_choice": "auto", "tools": []}
        with self.sse_stream(rec):
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
                # A function call streams its `arguments`, a custom tool call its `input`.
                field, events = (("arguments", "function_call_arguments")
                                 if call_item["type"] == "function_call"
                                 else ("input", "custom_tool_call_input"))
                ev("response.output_item.added", output_index=0,
                   item=dict(call_item, status="in_progress", **{field: ""}))
                a = call_item[field]
                for i in range(0, len(a), 40):
                    ev(f"response.{events}.delta", item_id=call_item["id"], output_index=0,
                       delta=a[i:i + 40])
                ev(f"response.{events}.done", item_id=call_item["id"], output_index=0,
                   **{field: a})
                done = dict(call_item, status="completed")
                ev("response.output_item.done", output_index=0, item=done)
                rec["t_item_done"] = time.time()
                outputs.append(done)
                mock.after_call()
            ev("response.completed", pause=call_item is None,
               response={**base, "status": "completed", "output": outputs, "usage": usage})
            rec["t_completed"] = time.time()
        mock.log_served(rec)
