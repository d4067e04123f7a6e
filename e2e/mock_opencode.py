"""A scripted mock of the OpenAI Chat Completions API (POST /v1/chat/completions, streamed as
SSE with the usage in a last chunk) for the OpenCode end-to-end suite: OpenCode reaches it as
a custom provider (`@ai-sdk/openai-compatible`, `options.includeUsage`).

The conversation decides each answer: the newest user message carrying `[e2e-script:NAME]`
names the script, and the number of tool results (`role: "tool"` messages) after that message
is the index of the step to serve. A sub-agent (OpenCode's `task` tool) is a conversation of
its own whose first user message is the task's prompt, so a task step whose prompt carries
another marker starts that script in the child session. A request that declares no tools is
a side call (OpenCode's title generation): it is served a short title, with usage of its own,
and logged as `kind: "side"`.

Tool names and argument schemas are read from the request's `tools`, so the mock follows what
the OpenCode build declares (`bash {command, description}`, `write {filePath, content}`,
`edit {filePath, oldString, newString}`, `task {description, prompt, subagent_type}`).

Every response gets its own usage, different in every bucket from every other response's
(`usage_for`; no cache writes, which OpenCode's openai-compatible path drops), so an off-by-one
in a snapshot shows. Every request and every response served
is logged, in order, with the exact usage served (`MockOpenCode.served`, and a JSONL file when
asked). Timings come from mocklib.TIMINGS: in "late" the chunk with the usage comes 1 s
after the tool call's chunks (the AI SDK hands OpenCode the tool call as soon as its arguments
parse, so the tool runs long before the response's usage is known).

Python 3.11 standard library only; serves on 127.0.0.1 only (mocklib.ScriptsMock)."""

import json
import re
import time
from pathlib import Path

import mocklib
from mocklib import Step, exec_, text  # noqa: F401 (step makers, beside write, edit, task)

TITLE = "E2E title"  # the answer to a side call (OpenCode's title generation)


# Steps beside mocklib's `exec` (bash) and `text`: a file write, an in-place edit, a sub-agent.
def write(path: str, content: str, label: str = "") -> Step:
    return Step("write", path, label, {"content": content})


def edit(path: str, old: str, new: str, label: str = "") -> Step:
    return Step("edit", path, label, {"old": old, "new": new})


def task(prompt: str, label: str = "", agent: str = "general",
         description: str = "e2e sub-agent") -> Step:
    return Step("task", prompt, label, {"agent": agent, "description": description})


def usage_for(serial: int, cache_write: bool = False) -> dict:
    """The usage of the `serial`-th response (1-based) as Chat Completions reports it:
    prompt_tokens includes cached input (and cache writes); completion_tokens includes
    reasoning. Each bucket differs from response to response and from the other buckets.

    No cache writes by default: OpenCode 1.18's openai-compatible parser ignores
    `prompt_tokens_details.cache_write_tokens` (it would stay inside its `input`, and
    `cache.write` is always 0), so serving them would only blur what the store holds."""
    n = serial
    prompt = 20000 + 1009 * n
    cached = 5000 + 211 * n
    completion = 400 + 31 * n
    reasoning = 60 + 7 * n
    details = {"cached_tokens": cached}
    if cache_write:
        details["cache_write_tokens"] = 300 + 17 * n
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": details,
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


def opencode_tokens(u: dict) -> dict:
    """What OpenCode should store in the assistant message's `tokens` for `usage_for`'s usage:
    input without cache reads and writes, output without reasoning."""
    p, c = u["prompt_tokens"], u["completion_tokens"]
    cr = u["prompt_tokens_details"]["cached_tokens"]
    cw = u["prompt_tokens_details"].get("cache_write_tokens", 0)
    r = u["completion_tokens_details"]["reasoning_tokens"]
    return {"total": u["total_tokens"], "input": p - cr - cw, "output": c - r, "reasoning": r,
            "cache": {"read": cr, "write": cw}}


def ledger_buckets(u: dict) -> dict:
    """What tokledger should store for one response: input excludes cache reads and writes;
    output includes reasoning; total = prompt + completion as served."""
    p, c = u["prompt_tokens"], u["completion_tokens"]
    cr = u["prompt_tokens_details"]["cached_tokens"]
    cw = u["prompt_tokens_details"].get("cache_write_tokens", 0)
    return {
        "input_tokens": p - cr - cw,
        "cache_creation_tokens": cw,
        "cache_read_tokens": cr,
        "output_tokens": c,
        "reasoning_tokens": u["completion_tokens_details"]["reasoning_tokens"],
        "total": p + c,
    }


def locate(messages: list) -> tuple[str | None, int, int]:
    """(script name, step index, index of the marker message) from a request's messages."""
    return mocklib.locate(messages, lambda m: m.get("role") == "tool")


def tool_schemas(tools: list) -> dict:
    """{name: JSON schema of its parameters} from a Chat Completions `tools` list."""
    out = {}
    for t in tools or []:
        if not isinstance(t, dict):
            continue
        f = t.get("function") if isinstance(t.get("function"), dict) else t
        if f.get("name"):
            out[f["name"]] = f.get("parameters") or {}
    return out


def _props(schema: dict) -> dict:
    return schema.get("properties") or {}


def _path_key(props: dict) -> str:
    """The name a file tool gives its path argument."""
    return "filePath" if "filePath" in props else ("file_path" if "file_path" in props
                                                   else "path")


def build_call(step: Step, schemas: dict) -> tuple[str, dict] | None:
    """(tool name, arguments) for a tool step, following the declared schemas."""
    if step.kind == "exec" and "bash" in schemas:
        props = _props(schemas["bash"])
        args = {"command": step.arg}
        if "description" in props:
            args["description"] = "e2e: " + step.label
        if "timeout" in props:
            args["timeout"] = 60000
        return "bash", args
    if step.kind == "write" and "write" in schemas:
        return "write", {_path_key(_props(schemas["write"])): step.arg,
                         "content": step.extra["content"]}
    if step.kind == "edit" and "edit" in schemas:
        return "edit", {_path_key(_props(schemas["edit"])): step.arg,
                        "oldString": step.extra["old"], "newString": step.extra["new"]}
    if step.kind == "task" and "task" in schemas:
        props = _props(schemas["task"])
        args = {"description": step.extra["description"], "prompt": step.arg}
        if "subagent_type" in props:
            args["subagent_type"] = step.extra["agent"]
        return "task", args
    return None


class MockOpenCode(mocklib.ScriptsMock):
    """The mock's state: the scripts, the timing, and the log of what was served. Use as a
    context manager (`mock.url`)."""

    def __init__(self, scripts: dict[str, list[Step]], timing: str = "realistic",
                 log_path: Path | None = None, seed: int = 11, model: str = "m1",
                 log_bodies: bool = False):
        super().__init__(Handler, scripts, timing, log_path, seed, model, log_bodies)


class Handler(mocklib.ScriptsHandler):
    server_version = "e2e-mock-opencode/1"
    ENDPOINT = "/chat/completions"
    WHAT = "chat completions"

    def answer(self, body: dict, t0: float):
        mock = self.mock
        msgs = body.get("messages") or []
        tools = body.get("tools") or []
        schemas = tool_schemas(tools)
        script, step_i, _ = locate(msgs)
        side = not tools
        mock.log_request({
            "method": "POST", "path": self.path, "t": t0, "model": body.get("model"),
            "stream": body.get("stream"), "stream_options": body.get("stream_options"),
            "n_messages": len(msgs), "script": script, "step": step_i, "side": side,
            "tools": sorted(schemas),
        }, body)
        step = text(TITLE, "side") if side else mock.step_for(script, step_i)
        self._serve(body, script, step_i, step, schemas, t0, side)

    def _serve(self, body, script, step_i, step: Step, schemas, t0, side):
        mock = self.mock
        serial = mock.next_serial()
        cid = f"chatcmpl-e2e-{serial:03d}"
        usage = usage_for(serial)
        rec = {"serial": serial, "script": script, "step": step_i, "kind": step.kind,
               "label": step.label, "response_id": cid, "usage": usage,
               "total": usage["prompt_tokens"] + usage["completion_tokens"],
               "side": side, "t_request": t0}
        call = None
        if step.kind != "text":
            call = build_call(step, schemas)
            if call is None:
                step = text(f"mock: the request declares no tool for {step.kind}", "no-tool")
            else:
                call_id = f"call_e2e_{script or 'x'}_{step_i}_{serial:03d}"
                rec.update(call_id=call_id, tool=call[0], arguments=call[1])
        rec["kind"] = step.kind
        model = body.get("model") or mock.model
        created = int(t0)

        def chunk(choices, pause=True, **more):
            self.send_sse({"id": cid, "object": "chat.completion.chunk", "created": created,
                           "model": model, "choices": choices, **more}, pause=pause)

        with self.sse_stream(rec):
            chunk([{"index": 0, "delta": {"role": "assistant", "content": ""},
                    "finish_reason": None}], pause=False)
            if call is None:
                for w in re.findall(r"\S+\s*", step.arg) or [step.arg]:
                    chunk([{"index": 0, "delta": {"content": w}, "finish_reason": None}])
                rec["t_item_done"] = time.time()
                chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])
                chunk([], usage=usage)
            else:
                name, args = call
                a = json.dumps(args)
                chunk([{"index": 0, "delta": {"tool_calls": [{
                    "index": 0, "id": rec["call_id"], "type": "function",
                    "function": {"name": name, "arguments": ""}}]},
                    "finish_reason": None}])
                for i in range(0, len(a), 40):
                    chunk([{"index": 0, "delta": {"tool_calls": [{
                        "index": 0, "function": {"arguments": a[i:i + 40]}}]},
                        "finish_reason": None}])
                chunk([{"index": 0, "delta": {}, "finish_reason": "tool_calls"}])
                rec["t_item_done"] = time.time()
                mock.after_call()
                chunk([], pause=False, usage=usage)
            self.send_sse("[DONE]", pause=False)
            rec["t_completed"] = time.time()
        mock.log_served(rec)
