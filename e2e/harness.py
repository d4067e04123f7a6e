"""What the real-agent suites share: a checked result counter, a temp HOME, where tokledger
and the agents (e2e/install.sh) are, agent runs bounded in time whose whole process group is
killed (only the processes this suite started), a mock model API served on 127.0.0.1 from a
thread, reading what an agent and tokledger left, the expected numbers from a mock's log, and
the checks of an analysis row that more than one suite makes. What the mocks share is in
mocklib.py."""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# tokledger's buckets, as `analysis sessions list` names them (beside `total`).
LEDGER_BUCKETS = ("input_tokens", "cache_creation_tokens", "cache_read_tokens",
                  "output_tokens", "reasoning_tokens")


def info(msg: str) -> None:
    print(f"     {msg}")


def tokledger_bin() -> str:
    return os.environ.get("TOKLEDGER_BIN", str(REPO / "target" / "release" / "tokledger"))


def analysis_run_argv(source_id: str, tool: str, *command: str) -> list[str]:
    """`tokledger analysis run` around an agent's command."""
    return [tokledger_bin(), "analysis", "run", "--source-id", source_id, "--tool", tool, "--",
            *command]


@functools.cache
def installed_agent(var: str) -> str:
    """The agent named by the environment variable `var` (CLAUDE_BIN, CODEX_BIN, GEMINI_JS,
    OPENCODE_BIN), else the one e2e/install.sh installs (it prints `VAR=path`)."""
    if os.environ.get(var):
        return os.environ[var]
    out = subprocess.run([str(HERE / "install.sh")], capture_output=True, text=True,
                         check=True, timeout=900).stdout
    m = re.search(rf"^{re.escape(var)}=(.+)$", out, re.M)
    if not m:
        raise SystemExit(f"e2e/install.sh printed no {var}")
    return m.group(1).strip()


def proxy_env(proxy_url: str) -> dict:
    """Every proxy variable pointing at `proxy_url` (a mocklib.ProxyTrap), except for
    127.0.0.1, where the mock is."""
    no_proxy = "127.0.0.1,localhost"
    return {"HTTP_PROXY": proxy_url, "HTTPS_PROXY": proxy_url, "ALL_PROXY": proxy_url,
            "http_proxy": proxy_url, "https_proxy": proxy_url, "all_proxy": proxy_url,
            "NO_PROXY": no_proxy, "no_proxy": no_proxy}


def arg_parser(doc: str) -> argparse.ArgumentParser:
    """The options every suite has: --timing and --keep (see parse_args)."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--timing", choices=("realistic", "late", "both"), default="both")
    ap.add_argument("--keep", action="store_true",
                    help="keep the sandboxes (TOKLEDGER_E2E_KEEP; their paths are printed)")
    return ap


def parse_args(ap: argparse.ArgumentParser, suite: str) -> argparse.Namespace:
    """Parses and applies --keep; gives `timings` (the timings to run, in order) and
    `tokledger` (the binary; without one the suite fails at once)."""
    args = ap.parse_args()
    if args.keep:
        os.environ["TOKLEDGER_E2E_KEEP"] = "1"
    args.timings = ("realistic", "late") if args.timing == "both" else (args.timing,)
    args.tokledger = tokledger_bin()
    if not os.access(args.tokledger, os.X_OK):
        print(f"FAIL {suite}: no tokledger binary at {args.tokledger} (set TOKLEDGER_BIN)")
        sys.exit(1)
    return args


# -- reading what an agent or tokledger left ---------------------------------------------------
def json_lines(path: Path) -> list[dict]:
    """The JSON objects among a file's lines (an agent's --json output); [] if unreadable."""
    out = []
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def tail(path: Path, n=25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def read_text(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def read_id(path: Path) -> str:
    """What a command wrote to `path` (an analysis id), stripped; "" if nothing."""
    return (read_text(path) or "").strip()


def read_env(path: Path) -> dict:
    """The variables in the output of `env` saved to `path` ({} if it was not written)."""
    envs = {}
    for line in (read_text(path) or "").splitlines():
        k, _, v = line.partition("=")
        envs[k] = v
    return envs


def sql_ro(db: Path):
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)


def tool_call_rows(db: Path, tool: str | None = None,
                   columns=("call_id", "name", "failed", "duration_ms", "file_path")) -> dict:
    """{call_id: {column: value}} from the ledger's tool_calls (only `tool`'s when given), for
    the `columns` it has."""
    if not db.exists():
        return {}
    con = sql_ro(db)
    try:
        cols = {r[1] for r in con.execute("PRAGMA table_info(tool_calls)")}
        if "call_id" not in cols:
            return {}
        want = [c for c in columns if c in cols]
        where = f" WHERE tool = '{tool}'" if tool and "tool" in cols else ""
        rows = con.execute(f"SELECT {', '.join(want)} FROM tool_calls{where}").fetchall()
        return {r[0]: dict(zip(want, r)) for r in rows}
    finally:
        con.close()


def stages_of(row: dict) -> list:
    """An analysis row's stages (a list, or the JSON text of one)."""
    s = row.get("stages", row.get("stages_json"))
    if isinstance(s, str):
        try:
            s = json.loads(s)
        except ValueError:
            s = None
    return s or []


class FileWatcher:
    """Polls files from a thread while the agent runs (every 5 ms, and once more at the end):
    a subclass's `poll` reads what each file has gained with `new_lines`."""

    def __init__(self):
        self._stop = threading.Event()
        self._offsets: dict[str, int] = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.poll()
        self._stop.set()
        self.thread.join(timeout=5)

    def _run(self):
        while not self._stop.is_set():
            self.poll()
            time.sleep(0.005)

    def poll(self):
        raise NotImplementedError

    def new_lines(self, path: str) -> list[str]:
        """The complete lines written to `path` since the last call."""
        try:
            with open(path, "rb") as f:
                f.seek(self._offsets.get(path, 0))
                data = f.read()
        except OSError:
            return []
        end = data.rfind(b"\n")
        if end < 0:
            return []
        self._offsets[path] = self._offsets.get(path, 0) + end + 1
        return data[:end].decode(errors="replace").splitlines()


class Checks:
    """Counts assertions; every failure is printed with what was expected and got."""

    def __init__(self, suite: str):
        self.suite = suite
        self.passed = 0
        self.failed = 0

    def eq(self, what: str, got, expected) -> bool:
        if got == expected:
            self.passed += 1
            print(f"ok   {self.suite}: {what} = {got!r}")
            return True
        self.failed += 1
        print(f"FAIL {self.suite}: {what}: expected {expected!r}, got {got!r}")
        return False

    def true(self, what: str, cond: bool, detail="") -> bool:
        return self.eq(what + (f" ({detail})" if detail else ""), bool(cond), True)

    def eq_exit(self, what: str, rc: int, log: Path, expected: int = 0) -> bool:
        """eq of an agent's exit code; when it is not the expected one, the end of the
        agent's log goes to stderr."""
        ok = self.eq(what, rc, expected)
        if not ok:
            print(tail(log), file=sys.stderr)
        return ok

    def eq_count(self, what: str, got, expected, unanchored=None) -> bool:
        """eq of a token count, saying when a wrong one is what an unanchored snapshot takes
        (what was on disk when the command ran: the responses before the one that issued
        it)."""
        ok = self.eq(what, got, expected)
        if not ok and unanchored is not None and got == unanchored:
            info(f"  ({got} = the unanchored count: through the response before the anchor)")
        return ok

    def summary(self) -> int:
        print(f"{self.suite}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0

    def guarded(self, what: str, fn, *args):
        """fn(*args); an exception (a tokledger command that failed, a parse error) is one
        failure, and the suite goes on."""
        try:
            return fn(*args)
        except Exception as e:  # noqa: BLE001
            traceback.print_exc()
            self.true(f"{what}: ran to its end", False, repr(e))
            return None

    def in_sandbox(self, what: str, name: str, scenario, *args):
        """scenario(sb, what, *args), guarded, in a new Sandbox(name), removed after."""
        sb = Sandbox(name)
        try:
            return self.guarded(what, scenario, sb, what, *args)
        finally:
            sb.cleanup()


class Observations:
    """What a suite reports beside its checks: the snapshots' waited_ms per timing, and
    findings about the agent (not tokledger failures)."""

    def __init__(self, say=info):
        self.say = say
        self.waited: dict[str, list[int]] = {}
        self.findings: list[str] = []

    def note(self, msg: str) -> None:
        self.findings.append(msg)
        print(f"NOTE {msg}")

    def recorder(self, timing: str):
        """A callback that records a snapshot's waited_ms under `timing`."""
        return lambda ms: self.waited.setdefault(timing, []).append(ms)

    def report(self, t0: float) -> None:
        for timing, ws in self.waited.items():
            self.say(f"waited_ms ({timing}, {len(ws)} snapshots): median "
                     f"{statistics.median(ws)}, max {max(ws)}; all {ws}")
        all_w = [x for ws in self.waited.values() for x in ws]
        if all_w:
            self.say(f"waited_ms (all): median {statistics.median(all_w)}, max {max(all_w)}")
        for f in self.findings:
            self.say(f"finding: {f}")
        self.say(f"total {time.time() - t0:.0f} s")


# -- expected numbers -------------------------------------------------------------------------
def sum_buckets(responses, ledger_buckets) -> dict:
    """tokledger's buckets and total summed over responses served (`ledger_buckets(usage)`
    maps one response's usage to them)."""
    tot = {k: 0 for k in LEDGER_BUCKETS}
    tot["total"] = 0
    for r in responses:
        for k, v in ledger_buckets(r["usage"]).items():
            tot[k] += v
    return tot


class ServedTotals:
    """The responses a mocklib.ScriptsMock served that count, in order, with their totals U
    and cumulative totals C (a snapshot counts through the response that issued its
    command)."""

    def __init__(self, served: list[dict], ledger_buckets):
        self.served = sorted(served, key=lambda r: r["serial"])
        self.ledger_buckets = ledger_buckets
        self.cum = {}
        c = 0
        for r in self.served:
            c += r["total"]
            self.cum[r["serial"]] = c

    def U(self, r: dict) -> int:
        return r["total"]

    def C(self, r: dict) -> int:
        return self.cum[r["serial"]]

    def step(self, script: str, label: str) -> dict | None:
        for r in self.served:
            if r["script"] == script and r["label"] == label:
                return r
        return None

    def steps(self, script: str, steps: list) -> dict[str, dict | None]:
        """{first word of each step's label (R1, …): its response served, or None}."""
        return {s.label.split()[0]: self.step(script, s.label) for s in steps}

    def buckets(self, rs=None) -> dict:
        return sum_buckets(self.served if rs is None else rs, self.ledger_buckets)

    def between(self, after: dict, upto: dict) -> list[dict]:
        return [r for r in self.served if after["serial"] < r["serial"] <= upto["serial"]]

    def analysis(self, first: dict, stages: list[tuple[str, dict]], last: dict):
        """What an analysis row holds when the command of `first` started it, those of
        `stages` ((name, response)) marked stages and that of `last` completed it: (expected
        snapshots for check_snapshots_whole, expected fields for check_fields)."""
        snaps = [{"kind": "baseline", "stage": None, "tokens": self.C(first),
                  "anchor_call_id": first["call_id"]}]
        snaps += [{"kind": "stage", "stage": name, "tokens": self.C(r),
                   "anchor_call_id": r["call_id"]} for name, r in stages]
        snaps += [{"kind": "final", "stage": None, "tokens": self.C(last),
                   "anchor_call_id": last["call_id"]}]
        previous = [first] + [r for _, r in stages]
        b = self.buckets(self.between(first, last))
        fields = {"tokens_baseline": self.C(first),
                  "stages": [{"stage": name, "tokens": self.C(r),
                              "delta": self.C(r) - self.C(prev)}
                             for (name, r), prev in zip(stages, previous)],
                  "tokens_final": self.C(last),
                  "tokens_check": self.C(last) - self.C(first),
                  "tokens_in": b["total"] - b["output_tokens"],
                  "tokens_out": b["output_tokens"],
                  "total_tokens": b["total"]}
        return snaps, fields


def print_served(say, tag: str, served: list[dict]) -> None:
    for r in served:
        say(f"{tag}: served #{r['serial']} {r['label']:<12} U={r['total']}"
            f" call_id={r.get('call_id')} usage={json.dumps(r['usage'])}")


# -- checks more than one suite makes ---------------------------------------------------------
def check_no_outside_traffic(checks: Checks, what: str, trap) -> None:
    checks.eq(f"{what}: outside connections attempted (proxy trap)", trap.targets(), [])


def check_event_log(checks: Checks, what: str, mock, steps: list[str]) -> None:
    """Of a mocklib.EventLogMock: each of `steps` served once, every request as scripted,
    no error in the mock."""
    for name in steps:
        checks.eq(f"{what}: {name} served once", len(mock.served(name)), 1)
    for r in mock.requests():
        for n in r.get("notes") or []:
            checks.true(f"{what}: request for {r.get('step')} as scripted", False, n)
    checks.eq(f"{what}: mock errors", [e for e in mock.log if e["kind"] == "error"], [])


def check_scripts_log(checks: Checks, tag: str, mock, off_script: tuple[str, ...]) -> None:
    """Of a mocklib.ScriptsMock: every request answered, no response with a label of
    `off_script` (the mock's fallbacks)."""
    checks.eq(f"{tag}: requests the mock could not answer",
              [(r["method"], r["path"], r["error"]) for r in mock.requests if r.get("error")],
              [])
    checks.eq(f"{tag}: responses served outside the scripts",
              [(r["serial"], r["label"]) for r in mock.served if r["label"] in off_script], [])


def printed_id(checks: Checks, tag: str, path: Path) -> str:
    """The analysis id `start` wrote to `path`, checked."""
    aid = read_id(path)
    checks.true(f"{tag}: start printed an id ({path.name})", aid.startswith("ANALYSIS-"),
                repr(aid))
    return aid


def check_one_session(checks: Checks, tag: str, sessions: list | None, what_count: str,
                      session_id: str | None, buckets: dict, so_far: str) -> None:
    """`analysis sessions list` lists one session (`what_count` says which), the agent's,
    with `buckets`."""
    checks.eq(f"{tag}: sessions list: {what_count}", None if sessions is None else len(sessions),
              1)
    s0 = (sessions or [{}])[0]
    checks.eq(f"{tag}: sessions list: session_id", s0.get("session_id"), session_id)
    check_session_buckets(checks, tag, s0, buckets, so_far)


def check_session_buckets(checks: Checks, tag: str, session: dict, buckets: dict,
                          so_far: str) -> None:
    """A row of `analysis sessions list` against summed buckets; `so_far` says what
    tokens_so_far sums."""
    checks.eq(f"{tag}: sessions list: tokens_so_far ({so_far})", session.get("tokens_so_far"),
              buckets["total"])
    for k in LEDGER_BUCKETS:
        checks.eq(f"{tag}: sessions list: {k}", session.get(k), buckets[k])


def check_snapshots_by_field(checks: Checks, what: str, row: dict, expect: list[tuple],
                             on_wait=None) -> None:
    """An analysis row's snapshots, one check per snapshot field. expect: [(kind, stage,
    tokens, anchor call id, unanchored count)]; `on_wait(ms)` gets each waited_ms."""
    snaps = row.get("snapshots")
    if not checks.true(f"{what}: show --json has `snapshots`", isinstance(snaps, list),
                       "absent" if snaps is None else type(snaps).__name__):
        return
    checks.eq(f"{what}: snapshot count", len(snaps), len(expect))
    for i, (kind, stage, tokens, anchor, unanchored) in enumerate(expect):
        if i >= len(snaps):
            break
        s = snaps[i]
        label = f"{what}: snapshot[{i}] {kind}{'/' + stage if stage else ''}"
        checks.eq(f"{label} kind", s.get("kind"), kind)
        checks.eq(f"{label} stage", s.get("stage"), stage)
        checks.eq_count(f"{label} tokens", s.get("tokens"), tokens, unanchored)
        checks.eq(f"{label} settled", s.get("settled"), True)
        checks.eq(f"{label} anchor_call_id", s.get("anchor_call_id"), anchor)
        w = s.get("waited_ms")
        checks.true(f"{label} waited_ms is an int ≥ 0",
                    isinstance(w, int) and not isinstance(w, bool) and w >= 0, repr(w))
        if on_wait and isinstance(w, int):
            on_wait(w)
    if "snapshots_settled" in row:
        checks.eq(f"{what}: snapshots_settled", row["snapshots_settled"], True)


def check_fields(checks: Checks, tag: str, row: dict, fields: dict) -> None:
    """An analysis row's fields (`stages` as [{stage, tokens, delta}])."""
    for k, v in fields.items():
        if k == "stages":
            got = [{"stage": s.get("stage"), "tokens": s.get("tokens"), "delta": s.get("delta")}
                   for s in stages_of(row)]
            checks.eq(f"{tag}: stages", got, v)
        else:
            checks.eq(f"{tag}: {k}", row.get(k), v)


def snapshots_by_id(sb: Sandbox, ids, say) -> dict:
    """{analysis id: {index: snapshot}} as the rows are now (before a read settles them)."""
    return {aid: dict(enumerate((sb.show_analysis(aid, say) or {}).get("snapshots") or []))
            for aid in ids}


def check_analysis(checks: Checks, tag: str, row: dict | None, session_id: str | None,
                   which_session: str, expected: tuple[list, dict], on_wait,
                   before: dict | None, say, fields: dict | None = None) -> bool:
    """A completed analysis row: bound to `session_id` (`which_session` says which it is),
    with `fields` and the `expected` (snapshots, fields) of ServedTotals.analysis; `before` is
    the row's snapshots right after the run. False when there is no row."""
    if row is None:
        checks.true(f"{tag}: the row exists", False)
        return False
    snaps, expected_fields = expected
    checks.eq(f"{tag}: status", row.get("status"), "completed")
    checks.eq(f"{tag}: usage_session_id ({which_session})", row.get("usage_session_id"),
              session_id)
    check_fields(checks, tag, row, {**(fields or {}), **expected_fields})
    check_snapshots_whole(checks, tag, row, snaps, on_wait, before, say)
    return True


def check_snapshots_whole(checks: Checks, tag: str, row: dict, expected: list[dict], on_wait,
                          before: dict | None, say) -> None:
    """An analysis row's snapshots, one check per snapshot. expected: [{kind, stage, tokens,
    anchor_call_id}] in order; `on_wait(ms)` gets each waited_ms; `before` ({index:
    snapshot}, as the row was right after the run) is said beside."""
    snaps = row.get("snapshots")
    if not isinstance(snaps, list):
        checks.eq(f"{tag}: snapshots (JSON key)",
                  "absent" if snaps is None else type(snaps).__name__,
                  f"a list of {len(expected)}")
        return
    checks.eq(f"{tag}: number of snapshots", len(snaps), len(expected))
    for i, exp in enumerate(expected):
        got = snaps[i] if i < len(snaps) else {}
        label = f"{tag}: snapshot {i} ({exp['kind']}{' ' + exp['stage'] if exp['stage'] else ''})"
        checks.eq(label, {k: got.get(k) for k in ("kind", "stage", "tokens", "settled",
                                                  "anchor_call_id")},
                  {**exp, "settled": True})
        w = got.get("waited_ms")
        checks.true(f"{label}: waited_ms is an integer",
                    isinstance(w, int) and not isinstance(w, bool), f"got {w!r}")
        if isinstance(w, int):
            on_wait(w)
        b = (before or {}).get(i)
        if b is not None:
            say(f"{label}: right after the run settled={b.get('settled')}"
                f" tokens={b.get('tokens')} waited_ms={b.get('waited_ms')}")


class Sandbox:
    """A temp HOME with a ledger and a bin dir holding `tokledger`, for one agent run."""

    def __init__(self, name: str):
        self.root = Path(tempfile.mkdtemp(prefix=f"tokledger-e2e-{name}-"))
        self.home = self.root / "home"
        self.work = self.root / "work"
        self.bin = self.root / "bin"
        for d in (self.home, self.work, self.bin):
            d.mkdir(parents=True)
        os.symlink(tokledger_bin(), self.bin / "tokledger")
        self.db = self.root / "ledger.db"
        # A login shell (Codex runs `bash -lc`) resets PATH from /etc/profile, then reads this.
        (self.home / ".profile").write_text(f'export PATH="{self.bin}:$PATH"\n')
        (self.home / ".bash_profile").write_text(f'export PATH="{self.bin}:$PATH"\n')

    def env(self, **extra) -> dict:
        env = {
            "HOME": str(self.home),
            "PATH": f"{self.bin}:/usr/local/bin:/usr/bin:/bin",
            "TOKLEDGER_DB": str(self.db),
            "LANG": "C.UTF-8",
            "TERM": "dumb",
        }
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def tokledger(self, *args, env_extra=None, timeout=60, check=True):
        env = self.env(**(env_extra or {}))
        p = subprocess.run(
            [tokledger_bin(), *args], env=env, cwd=self.work,
            capture_output=True, text=True, timeout=timeout,
        )
        if check and p.returncode != 0:
            raise RuntimeError(f"tokledger {' '.join(args)} exited {p.returncode}: {p.stderr}")
        return p

    def tokledger_json(self, *args, **kw):
        return json.loads(self.tokledger(*args, "--json", **kw).stdout)

    def try_json(self, *args, say=print):
        """`tokledger ARGS` (--json among them) parsed, or None (said, with its exit code and
        stderr) when it printed no JSON."""
        p = self.tokledger(*args, check=False)
        try:
            return json.loads(p.stdout)
        except ValueError:
            say(f"tokledger {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()[:300]}")
            return None

    def show_analysis(self, aid: str | None, say=print) -> dict | None:
        return self.try_json("analysis", "show", "--id", aid, "--json", say=say) if aid else None

    def sessions(self, tool: str, say=print) -> list | None:
        """`analysis sessions list` of `tool` (a read that also settles provisional
        snapshots)."""
        doc = self.try_json("analysis", "sessions", "list", "--json", "--tool", tool, say=say)
        return None if doc is None else doc.get("sessions", [])

    def analyses(self, *filters, say=print) -> list:
        doc = self.try_json("analysis", "list", "--json", *filters, say=say)
        return [] if doc is None else doc.get("analyses", [])

    def cleanup(self):
        if not os.environ.get("TOKLEDGER_E2E_KEEP"):
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            print(f"(kept {self.root})")


def run_agent(argv, env, cwd, timeout, log_path: Path) -> int:
    """Run an agent in its own process group; past `timeout` the group is killed."""
    with open(log_path, "wb") as log:
        p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            print(f"agent {argv[0]} killed after {timeout} s (log: {log_path})", file=sys.stderr)
            return -9
        finally:
            # Tools the agent left running in the background belong to its group too.
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class MockServer:
    """A ThreadingHTTPServer on 127.0.0.1 (a free port) whose requests go to `handler_cls`,
    which gets this object as `self.server.mock` (a mocklib.MockAPI hangs itself on it as
    `.state`)."""

    def __init__(self, handler_cls: type[BaseHTTPRequestHandler]):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
        self.httpd.daemon_threads = True
        self.httpd.mock = self
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
