#!/usr/bin/env python3
"""Push benchmark: `tokledger push` of a large history's ledger to a real, local PostgreSQL.

Usage: scripts/bench_push.py [--mb 400] [--seed 1] [--runs 3] [--no-build]

1. bench-out/home/: the history of scripts/gen_history.py (shared with bench_report.sh; reused
   when --mb, --seed and the generator version match).
2. bench-out/push/ledger.db: read and priced once (`report daily`), not timed as a push.
3. A temporary PostgreSQL (initdb as an unprivileged user when run as root, 127.0.0.1, a free
   port, default durability settings), stopped at the end by its postmaster's pid.
4. Per run, into a fresh database: the first push (`push --no-read`: everything), then a
   no-op push (`--no-read`: one query), then a no-op push that also reads the transcripts
   first (a warm read: what a cron job pays). Medians are printed, with rows per second,
   and the server's totals are checked against the ledger's to the token and nano-dollar.

Python 3.11, standard library only; psql (postgresql-client) for the checks.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out"
HOME_DIR = OUT / "home"
WORK = OUT / "push"
USER, PASSWORD = "bench", "bench-pw"


def say(msg: str) -> None:
    print(f"bench_push: {msg}", file=sys.stderr, flush=True)


def gen_matches(mb: float, seed: int) -> bool:
    exp = HOME_DIR / "expected.json"
    if not exp.is_file():
        return False
    g = json.loads(exp.read_text()).get("generator", {})
    m = re.search(r"^GENERATOR_VERSION = (\d+)", (ROOT / "scripts/gen_history.py").read_text(), re.M)
    return (float(g.get("mb", -1)) == mb and int(g.get("seed", -1)) == seed
            and m is not None and int(g.get("version", -1)) == int(m.group(1)))


def bin_dir() -> Path:
    found = []
    base = Path("/usr/lib/postgresql")
    for d in base.iterdir() if base.is_dir() else []:
        if d.name.isdigit() and (d / "bin/initdb").is_file() and (d / "bin/postgres").is_file():
            found.append((int(d.name), d / "bin"))
    if not found:
        sys.exit("bench_push: no PostgreSQL under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    return max(found)[1]


def demote():
    """uid/gid to run the server as: ourselves, or (as root) postgres / tokledger-pg."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "tokledger-pg"):
        try:
            p = pwd.getpwnam(name)
            return p.pw_uid, p.pw_gid
        except KeyError:
            pass
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    "tokledger-pg"], check=True)
    p = pwd.getpwnam("tokledger-pg")
    return p.pw_uid, p.pw_gid


class Postgres:
    def __init__(self) -> None:
        self.bin = bin_dir()
        self.ids = demote()
        self.dir = Path(tempfile.mkdtemp(prefix="tokledger-bench-pg-"))
        os.chmod(self.dir, 0o755)
        self.root = self.dir / "pg"
        self.root.mkdir()
        pw = self.root / "pw"
        pw.write_text(PASSWORD)
        if self.ids:
            for p in (self.root, pw):
                os.chown(p, *self.ids)
        self._run([str(self.bin / "initdb"), "-D", str(self.root / "data"), "-U", USER, "-E", "UTF8",
                   "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256",
                   f"--pwfile={pw}"], check=True, capture_output=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        log = open(self.root / "log", "wb")
        self.proc = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.root / "data"), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-k", str(self.root)],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, cwd=self.root,
            preexec_fn=self._drop, env={})
        deadline = time.monotonic() + 30
        while self.psql("postgres", "SELECT 1", check=False) is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit("bench_push: postgres did not start:\n" + (self.root / "log").read_text())
            time.sleep(0.1)

    def _drop(self) -> None:
        if self.ids:
            os.setgid(self.ids[1])
            os.setuid(self.ids[0])

    def _run(self, args, **kw):
        return subprocess.run(args, preexec_fn=self._drop, cwd=self.root, env={}, **kw)

    def url(self, db: str) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{db}"

    def psql(self, db: str, sql: str, check: bool = True):
        r = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", self.url(db), "-c", sql],
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            if check:
                sys.exit(f"bench_push: psql failed: {r.stderr}")
            return None
        return r.stdout.strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


SUMS = ("count(*), sum(input_tokens), sum(cache_creation_tokens), sum(cache_read_tokens), "
        "sum(output_tokens), sum(reasoning_tokens), sum(coalesce(cost_nusd, 0))")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    os.chdir(ROOT)
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet"], check=True)
    exe = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release/tokledger"
    OUT.mkdir(exist_ok=True)
    if gen_matches(a.mb, a.seed):
        say(f"reusing {HOME_DIR} (--mb {a.mb:g} --seed {a.seed})")
    else:
        say(f"generating {HOME_DIR} (--mb {a.mb:g} --seed {a.seed})")
        shutil.rmtree(HOME_DIR, ignore_errors=True)
        subprocess.run([sys.executable, "scripts/gen_history.py", str(HOME_DIR), "--mb", str(a.mb),
                        "--seed", str(a.seed)], check=True)
    history = sum(f.stat().st_size for f in HOME_DIR.rglob("*") if f.is_file())
    WORK.mkdir(exist_ok=True)
    db = WORK / "ledger.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(HOME_DIR), "TOKLEDGER_DB": str(db)}
    t = time.monotonic()
    # A report reads and prices everything (as a push's own read would).
    subprocess.run([str(exe), "-q", "report", "daily", "--json"], env=env,
                   stdout=subprocess.DEVNULL, check=True)
    say(f"ledger read in {time.monotonic() - t:.1f} s ({db.stat().st_size / 2**20:.0f} MiB)")
    led = sqlite3.connect(db)
    local = led.execute(f"SELECT {SUMS} FROM usage_events").fetchone()
    calls = led.execute("SELECT count(*) FROM tool_calls").fetchone()[0]
    led.close()

    pg = Postgres()
    first, noop, warm, rows = [], [], [], 0
    try:
        for run in range(a.runs):
            # A fresh database (server side) and destination (ledger side) per run.
            name = f"bench{run}"
            pg.psql("postgres", f"CREATE DATABASE {name}")
            c = sqlite3.connect(db)
            c.execute("DELETE FROM push_destinations")
            c.commit()
            c.close()

            def push(*extra: str) -> tuple[float, dict]:
                t = time.monotonic()
                r = subprocess.run([str(exe), "-q", "push", "--to", pg.url(name), "--machine", "bench",
                                    "--json", *extra], env=env, capture_output=True, text=True)
                dt = time.monotonic() - t
                if r.returncode != 0:
                    sys.exit(f"bench_push: push failed ({r.returncode}): {r.stderr}")
                return dt, json.loads(r.stdout)

            dt, out = push("--no-read")
            rows = sum(out["pushed"].values())
            first.append(dt)
            dt, out = push("--no-read")
            assert sum(out["pushed"].values()) == 0, out
            noop.append(dt)
            dt, out = push()
            assert sum(out["pushed"].values()) == 0, out
            warm.append(dt)
            server = pg.psql(name, f"SELECT {SUMS} FROM tokledger_usage").split("|")
            scalls = pg.psql(name, "SELECT count(*) FROM tokledger_tool_calls")
            if [int(x) for x in server] != [int(x) for x in local] or int(scalls) != calls:
                sys.exit(f"bench_push: server totals {server} {scalls} != ledger {local} {calls}")
            say(f"run {run + 1}: first {first[-1]:.2f} s, no-op {noop[-1] * 1000:.0f} ms, "
                f"no-op with read {warm[-1] * 1000:.0f} ms; totals match")
    finally:
        pg.stop()
    m = statistics.median
    print(f"history: {history / 2**20:.0f} MiB; ledger: {local[0]} responses, {calls} tool calls, "
          f"{rows} rows pushed in all")
    print(f"first push (--no-read): median {m(first):.2f} s over {a.runs} runs "
          f"({rows / m(first):,.0f} rows/s)")
    print(f"no-op push (--no-read): median {m(noop) * 1000:.0f} ms")
    print(f"no-op push with a warm read of the transcripts: median {m(warm) * 1000:.0f} ms")
    print("server totals = ledger totals (responses, tokens per bucket, nano-USD, tool calls): yes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
