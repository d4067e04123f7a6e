"""What the real-agent suites share: a checked result counter, a temp HOME, the tokledger
binary, a mock model API served on 127.0.0.1 from a thread, and agent runs bounded in time
whose whole process group is killed (only the processes this suite started)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def tokledger_bin() -> str:
    return os.environ.get("TOKLEDGER_BIN", str(REPO / "target" / "release" / "tokledger"))


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

    def summary(self) -> int:
        print(f"{self.suite}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


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
    which gets this object as `self.server.mock`."""

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
