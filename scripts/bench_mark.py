#!/usr/bin/env python3
"""Benchmark: `analysis mark` on a large session after a few appended responses.

Usage: python3 scripts/bench_mark.py [--mb 150] [--append 20] [--runs 7] [--bin target/release/tokledger]

Builds nothing: run `cargo build --release` first. Writes under bench-out/mark/ (git-ignored).
Prints the first read of the session (`analysis start`, cold ledger), the median `mark` after
each batch of appended responses, their ratio, and checks the recorded deltas are exact.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import time

SESSION = "f0f0f0f0-0000-4000-8000-000000000001"
FILLER = "z" * 1500


def response(i, out_final=57):
    """Three streaming lines and a tool result; returns (text, exact total tokens)."""
    lines = []
    for out in (9, 9, out_final):
        lines.append(json.dumps({
            "type": "assistant", "sessionId": SESSION, "timestamp": "2026-03-05T10:00:00.000Z",
            "requestId": f"req_{i}", "cwd": "/bench",
            "message": {"id": f"msg_{i}", "model": "claude-sonnet-4-5-20250929",
                        "content": [{"type": "tool_use", "id": f"tu_{i}_{out}", "name": "Read", "input": {"file_path": "/x"}}],
                        "usage": {"input_tokens": 3, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 2000,
                                  "output_tokens": out}}}, separators=(",", ":")))
    lines.append(json.dumps({"type": "user", "sessionId": SESSION, "timestamp": "2026-03-05T10:00:01.000Z",
                             "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"tu_{i}_9",
                                                                     "content": FILLER}]}}, separators=(",", ":")))
    return "\n".join(lines) + "\n", 3 + 100 + 2000 + out_final


def run(cmd, env):
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {p.stderr}")
    return dt, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=150)
    ap.add_argument("--append", type=int, default=20)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--bin", default="target/release/tokledger")
    a = ap.parse_args()

    root = os.path.abspath("bench-out/mark")
    shutil.rmtree(root, ignore_errors=True)
    proj = os.path.join(root, "home/.claude/projects/-bench")
    os.makedirs(proj)
    path = os.path.join(proj, SESSION + ".jsonl")
    i = 0
    with open(path, "w") as f:
        while f.tell() < a.mb << 20:
            text, _ = response(i)
            f.write(text)
            i += 1
    env = {"HOME": os.path.join(root, "home"), "PATH": os.environ.get("PATH", ""),
           "TOKLEDGER_DB": os.path.join(root, "ledger.db")}
    binp = os.path.abspath(a.bin)
    first, out = run([binp, "analysis", "start", "--source-id", "bench", "--tool", "claude",
                      "--usage-session-id", SESSION], env)
    aid = out.strip()
    marks = []
    want_deltas = []
    for r in range(a.runs):
        added = 0
        with open(path, "a") as f:
            for _ in range(a.append):
                text, total = response(i)
                f.write(text)
                added += total
                i += 1
        want_deltas.append(added)
        dt, _ = run([binp, "analysis", "mark", "--id", aid, "--stage", f"s{r}"], env)
        marks.append(dt)
    _, shown = run([binp, "analysis", "show", "--id", aid, "--json"], env)
    got = [s["delta"] for s in json.loads(shown)["stages"]]
    size = os.path.getsize(path) / (1 << 20)
    med = statistics.median(marks)
    print(f"session: {size:.0f} MiB, {i} responses")
    print(f"first read (analysis start, cold ledger): {first * 1000:.0f} ms")
    print(f"mark after {a.append} appended responses: median {med * 1000:.1f} ms "
          f"(min {min(marks) * 1000:.1f}, max {max(marks) * 1000:.1f}, {a.runs} runs)")
    print(f"ratio mark / first read: {med / first:.4f}")
    print("deltas exact:", "OK" if got == want_deltas else f"MISMATCH {got} != {want_deltas}")


if __name__ == "__main__":
    main()
