"""`make bench`: the portal against a bare Flask app, under the same gunicorn.

Both apps run as gunicorn subprocesses with identical settings (``-w 2 -k
sync``, access log off, no config file) on 127.0.0.1. For each, a second
process (``wrk``, or a threaded Python client when wrk is unavailable) loads
the case page and the petition signature POST for a bounded time after a
warm-up, and the script prints requests/s, p50 and p99, then the ratio
portal/bare against the targets (POST >= 0.5, GET >= 0.6). Missed targets are
reported, never asserted: the exit status says only whether the harness ran.

POSTs must really succeed to count: the status of every response is tallied
and the rows written during the measured run are counted in each database,
so a run of 400s cannot pass for a fast one.

Configuration: BENCH_SECONDS, BENCH_WARMUP, BENCH_THREADS, BENCH_CONNECTIONS, BENCH_ROUNDS,
BENCH_WORKERS (or the matching options, see ``--help``).
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
#: The venv's executables, whichever python runs this script (not resolved:
#: the venv's python is a symlink to the system one).
BIN = Path(sys.executable).parent

CASE_ID = "sonia-dahmani"
CASE_PATH = f"/cases/{CASE_ID}"
POST_PATH = f"{CASE_PATH}/act/petition"
#: The portal picks its section by Host; the bare app ignores it.
HOST = "fr.localhost"
TARGETS = {"POST": 0.5, "GET": 0.6}
ENDPOINTS = {"GET": "case page", "POST": "signature"}


# -- configuration --------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    seconds: int
    warmup: int
    threads: int
    connections: int
    workers: int
    rounds: int
    loadgen: str
    keep: bool


def parse_args(argv: list[str] | None = None) -> Settings:
    env = os.environ
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(env.get("BENCH_SECONDS", "10")), help="measured seconds per run (BENCH_SECONDS, 10)")
    parser.add_argument("--warmup", type=int, default=int(env.get("BENCH_WARMUP", "2")), help="warm-up seconds before each run (BENCH_WARMUP, 2)")
    parser.add_argument("--threads", type=int, default=int(env.get("BENCH_THREADS", "2")), help="load generator threads (BENCH_THREADS, 2)")
    parser.add_argument("--connections", type=int, default=int(env.get("BENCH_CONNECTIONS", "16")), help="concurrent connections (BENCH_CONNECTIONS, 16)")
    parser.add_argument("--workers", type=int, default=int(env.get("BENCH_WORKERS", "2")), help="gunicorn workers for both apps (BENCH_WORKERS, 2)")
    parser.add_argument("--rounds", type=int, default=int(env.get("BENCH_ROUNDS", "1")), help="measurements per app and endpoint; the median is shown (BENCH_ROUNDS, 1)")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto", help="load generator (auto: wrk, else Python)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, logs, Lua scripts)")
    a = parser.parse_args(argv)
    if min(a.seconds, a.threads, a.connections, a.workers, a.rounds) < 1 or a.warmup < 0:
        parser.error("seconds, threads, connections, workers and rounds must be >= 1, warmup >= 0")
    return Settings(a.seconds, a.warmup, a.threads, max(a.connections, a.threads), a.workers, a.rounds, a.loadgen, a.keep)


# -- the servers ----------------------------------------------------------------


@dataclass
class Server:
    """One app under test: its gunicorn process, port and database."""

    name: str
    port: int
    database: Path
    #: Counts the rows one successful signature adds.
    count_sql: str
    log: Path
    process: subprocess.Popen[bytes] | None = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env() -> dict[str, str]:
    """The caller's environment without anything that would make the two
    gunicorns differ (GUNICORN_CMD_ARGS) or point the portal elsewhere."""
    drop = ("GUNICORN_CMD_ARGS", "DATABASE_URL", "SECRET_KEY", "FLASK_APP")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("ECRIRE_")}


def prepare_portal(tmp: Path) -> tuple[dict[str, str], Path]:
    """A fresh instance folder, migrated and loaded with the demo data,
    exactly as `make setup` does."""
    instance = tmp / "portal-instance"
    env = clean_env() | {"ECRIRE_INSTANCE": str(instance), "FLASK_APP": "wsgi"}
    for command in (["db", "upgrade"], ["demo", "load"]):
        done = subprocess.run([str(BIN / "flask"), *command], check=False, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return env, instance / "ecrire.sqlite3"


def start_gunicorn(server: Server, target: str, chdir: Path, env: dict[str, str], settings: Settings, tmp: Path) -> None:
    """The same command line for both apps. An explicit empty config file
    keeps gunicorn from reading the repository's ``gunicorn.conf.py`` (whose
    access log would slow the portal side only); no access log is the default."""
    empty_config = tmp / "gunicorn.bench.conf.py"
    empty_config.write_text("# Deliberately empty: every setting is on the command line.\n")
    command = [
        str(BIN / "gunicorn"),
        "-c", str(empty_config),
        "--chdir", str(chdir),
        "-w", str(settings.workers),
        "-k", "sync",
        "-b", f"127.0.0.1:{server.port}",
        "--error-logfile", str(server.log),
        "--log-level", "warning",
        target,
    ]  # fmt: skip
    server.process = subprocess.Popen(command, cwd=chdir, env=env, stdin=subprocess.DEVNULL)


def stop(server: Server) -> None:
    """SIGTERM (graceful), then SIGKILL if it lingers; only our own child."""
    process = server.process
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def _log_tail(server: Server, lines: int = 30) -> str:
    try:
        return "\n".join(server.log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# -- plain HTTP (readiness, token, checks) -------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def fetch(port: int, method: str, path: str, headers: dict[str, str] | None = None, body: str | None = None) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
        response = conn.getresponse()
        return Reply(response.status, response.getheaders(), response.read())
    finally:
        conn.close()


def wait_ready(server: Server, timeout: float = 60) -> None:
    """Until the case page answers 200 (which also warms the portal's
    caches once), or the process dies, or time runs out."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name}: gunicorn exited with {server.process.returncode}\n{_log_tail(server)}")
        try:
            reply = fetch(server.port, "GET", CASE_PATH)
            if reply.status == 200:
                return
            last = f"HTTP {reply.status}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise RuntimeError(f"{server.name}: not ready after {timeout:.0f}s ({last})\n{_log_tail(server)}")


@dataclass(frozen=True)
class Visitor:
    """What one GET gives a browser: the session cookie its CSRF token is tied to."""

    cookie: str
    token: str
    page_bytes: int


def visit(server: Server) -> Visitor:
    reply = fetch(server.port, "GET", CASE_PATH)
    cookies = [v.split(";", 1)[0] for k, v in reply.headers if k.lower() == "set-cookie" and v.startswith("session=")]
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', reply.body)
    if reply.status != 200 or not cookies or not match:
        raise RuntimeError(f"{server.name}: case page gave no session cookie or CSRF token (HTTP {reply.status})")
    return Visitor(cookies[-1], match.group(1).decode(), len(reply.body))


def form_prefix(visitor: Visitor) -> str:
    """The url-encoded form minus the email, which the load generator adds."""
    return urlencode({"csrf_token": visitor.token, "name": "Camille Bench", "country": "FR", "consent": "y"})


def signature_email(run_id: str, thread: int | str, n: int | str) -> str:
    return f"bench-{run_id}-{thread}-{n}%40example.org"


def check_post(server: Server, visitor: Visitor, run_id: str) -> None:
    """One signature by hand before loading: a 400/422 here means the
    measurement would only time error pages."""
    body = f"{form_prefix(visitor)}&email={signature_email(run_id, 'check', 0)}"
    headers = {"Cookie": visitor.cookie, "Content-Type": "application/x-www-form-urlencoded"}
    reply = fetch(server.port, "POST", POST_PATH, headers, body)
    if reply.status != 303:
        snippet = reply.body[:400].decode(errors="replace")
        raise RuntimeError(f"{server.name}: a valid signature got HTTP {reply.status}, not 303\n{snippet}")


def count_rows(server: Server) -> int:
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=15) as conn:
        return int(conn.execute(server.count_sql).fetchone()[0])


# -- load generators -----------------------------------------------------------------


@dataclass
class Measure:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    statuses: dict[str, int]
    socket_errors: str = ""


@dataclass(frozen=True)
class Load:
    """One load to generate: what to send and for how long."""

    port: int
    method: str
    path: str
    cookie: str | None
    body_prefix: str | None
    run_id: str
    seconds: int


LUA = r"""-- Generated by bench/run.py for one load; run id given as script argument.
local method, path, host, cookie, body_prefix = %(method)s, %(path)s, %(host)s, %(cookie)s, %(body_prefix)s
local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("tid", count)
  table.insert(threads, thread)
end

function init(args)
  run_id = args[1] or "run"
  n = 0
  statuses = {}
  wrk.headers["Host"] = host
  if cookie ~= "" then wrk.headers["Cookie"] = cookie end
  if method == "POST" then
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  else
    fixed = wrk.format("GET", path)
  end
end

function request()
  if method ~= "POST" then return fixed end
  n = n + 1
  -- Unique per run, thread and request: the portal counts a supporter once.
  local body = body_prefix .. "&email=bench-" .. run_id .. "-" .. tid .. "-" .. n .. "%%40example.org"
  return wrk.format("POST", path, nil, body)
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for key, value in pairs(thread:get("statuses") or {}) do total[key] = (total[key] or 0) + value end
  end
  local parts = {}
  for key, value in pairs(total) do table.insert(parts, key .. "=" .. value) end
  io.write("BENCH_STATUS " .. table.concat(parts, " ") .. "\n")
end
"""


def lua_string(value: str) -> str:
    if not value.isascii() or not value.isprintable():
        raise ValueError(f"not a plain ASCII value for a Lua literal: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> Measure:
    """Requests/sec, the 50% and 99% lines of ``--latency``, the request
    total, socket errors and the Lua ``done`` status tally."""

    def find(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise ValueError(f"wrk output lacks /{pattern}/:\n{output}")
        return match

    statuses: dict[str, int] = {}
    for pair in find(r"^BENCH_STATUS ?(.*)$").group(1).split():
        key, _, value = pair.partition("=")
        statuses[key] = int(value)
    errors = re.search(r"^\s*Socket errors: (.*)$", output, re.MULTILINE)
    return Measure(
        rps=float(find(r"^Requests/sec:\s+([\d.]+)").group(1)),
        p50_ms=_duration_ms(find(r"^\s+50%\s+(\S+)").group(1)),
        p99_ms=_duration_ms(find(r"^\s+99%\s+(\S+)").group(1)),
        requests=int(find(r"^\s+(\d+) requests in").group(1)),
        statuses=dict(sorted(statuses.items())),
        socket_errors=errors.group(1) if errors else "",
    )


class Wrk:
    name = "wrk"

    def __init__(self, executable: str, tmp: Path, settings: Settings) -> None:
        self.executable = executable
        self.tmp = tmp
        self.settings = settings

    def run(self, load: Load) -> Measure:
        script = self.tmp / f"load-{load.port}-{load.method.lower()}.lua"
        script.write_text(
            LUA
            % {
                "method": lua_string(load.method),
                "path": lua_string(load.path),
                "host": lua_string(HOST),
                "cookie": lua_string(load.cookie or ""),
                "body_prefix": lua_string(load.body_prefix or ""),
            }
        )
        command = [
            self.executable, "--latency", "--timeout", "10s",
            "-t", str(self.settings.threads), "-c", str(self.settings.connections), "-d", f"{load.seconds}s",
            "-s", str(script), f"http://127.0.0.1:{load.port}{load.path}", "--", load.run_id,
        ]  # fmt: skip
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=load.seconds + 60)
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return parse_wrk(done.stdout)


class PythonLoad:
    """Fallback when wrk cannot be had: one thread per connection with
    http.client (which reconnects when a sync worker closes the
    connection). The GIL makes it a weaker, noisier client than wrk; its
    figures are lower bounds, and the output says it was used."""

    def __init__(self, settings: Settings, why: str) -> None:
        self.settings = settings
        self.name = f"python, one thread per connection ({why})"

    def run(self, load: Load) -> Measure:
        deadline = time.monotonic() + load.seconds
        latencies: list[list[float]] = [[] for _ in range(self.settings.connections)]
        statuses: list[Counter[str]] = [Counter() for _ in range(self.settings.connections)]
        errors = Counter[str]()
        lock = threading.Lock()

        def worker(index: int) -> None:
            headers = {"Host": HOST}
            if load.cookie:
                headers["Cookie"] = load.cookie
            if load.method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn = http.client.HTTPConnection("127.0.0.1", load.port, timeout=10)
            n = 0
            while time.monotonic() < deadline:
                n += 1
                body = f"{load.body_prefix}&email={signature_email(load.run_id, index + 1, n)}" if load.method == "POST" else None
                started = time.perf_counter()
                try:
                    conn.request(load.method, load.path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        errors[type(exc).__name__] += 1
                    conn.close()
                    continue
                latencies[index].append((time.perf_counter() - started) * 1000)
                statuses[index][str(response.status)] += 1
                if response.will_close:
                    conn.close()
            conn.close()

        started = time.monotonic()
        workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(self.settings.connections)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        elapsed = time.monotonic() - started
        merged = sorted(x for per in latencies for x in per)
        total: Counter[str] = sum(statuses, Counter())
        return Measure(
            rps=len(merged) / elapsed if elapsed else 0.0,
            p50_ms=_percentile(merged, 50),
            p99_ms=_percentile(merged, 99),
            requests=len(merged),
            statuses=dict(sorted(total.items())),
            socket_errors=", ".join(f"{k} {v}" for k, v in errors.items()),
        )


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(pct / 100 * (len(values) - 1)))]


def find_wrk() -> str | None:
    """wrk from PATH, else from apt (``apt-get update`` only if the plain
    install fails); None if it still cannot be had."""
    found = shutil.which("wrk")
    if found or shutil.which("apt-get") is None:
        return found
    print("wrk not found; trying `apt-get install -y wrk` ...", flush=True)
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}

    def apt(*args: str) -> int:
        return subprocess.run(["apt-get", *args], check=False, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode

    try:
        if apt("install", "-y", "wrk") != 0:
            apt("update")
            apt("install", "-y", "wrk")
    except OSError:
        return None
    return shutil.which("wrk")


# -- orchestration -----------------------------------------------------------------


@dataclass
class Row:
    app: str
    method: str
    measure: Measure
    rows_added: int | None = None
    page_bytes: int | None = None
    warnings: list[str] = field(default_factory=list)
    round: int = 0


def measure(server: Server, method: str, loadgen: Wrk | PythonLoad, settings: Settings, visitor: Visitor, run_id: str) -> Row:
    """Warm up, then measure one endpoint of one app and check the answers."""
    post = method == "POST"
    load = Load(
        port=server.port,
        method=method,
        path=POST_PATH if post else CASE_PATH,
        # The case page is measured as a first visit (no cookie), so each
        # request makes a CSRF token and a session, as for a shared link.
        cookie=visitor.cookie if post else None,
        body_prefix=form_prefix(visitor) if post else None,
        run_id=run_id,
        seconds=settings.seconds,
    )
    print(f"  {server.name:6} {method:4} {ENDPOINTS[method]:10} warm-up {settings.warmup}s, measure {settings.seconds}s ...", flush=True)
    if settings.warmup:
        loadgen.run(replace(load, run_id=f"{run_id}w", seconds=settings.warmup))
    before = count_rows(server) if post else None
    result = loadgen.run(load)
    row = Row(server.name, method, result, page_bytes=None if post else visitor.page_bytes)
    expected = "303" if post else "200"
    wrong = {k: v for k, v in result.statuses.items() if k != expected}
    if wrong:
        row.warnings.append(f"{sum(wrong.values())} responses were not {expected}: {wrong}")
    if result.socket_errors and re.search(r"[1-9]", result.socket_errors):
        row.warnings.append(f"socket errors: {result.socket_errors}")
    if post and before is not None:
        row.rows_added = count_rows(server) - before
        if row.rows_added < result.statuses.get("303", 0):
            row.warnings.append(f"only {row.rows_added} rows added for {result.statuses.get('303', 0)} answers 303")
    return row


def median_row(rows: list[Row]) -> Row:
    """The round with the median req/s (the lower one of an even count)."""
    ranked = sorted(rows, key=lambda r: r.measure.rps)
    return ranked[(len(ranked) - 1) // 2]


def print_report(rows: list[Row], settings: Settings, loadgen_name: str) -> list[dict[str, object]]:
    """The table (median round per app and endpoint when there are several;
    statuses and rows summed over all rounds), warnings, then the ratios."""
    print()
    print(
        f"Load: {loadgen_name}, {settings.threads} threads, {settings.connections} connections, "
        f"{settings.seconds}s measured after {settings.warmup}s warm-up, {settings.rounds} round(s); "
        f"gunicorn -w {settings.workers} -k sync; {os.cpu_count()} CPUs shared by servers and load generator."
    )
    spread = settings.rounds > 1
    header = (
        f"{'app':7} {'endpoint':16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9}  {'statuses':20} {'rows+':>7} {'bytes':>7}"
        + ("  req/s min-max" if spread else "")
    )
    print(header)
    print("-" * len(header))
    medians: dict[tuple[str, str], Row] = {}
    for method, endpoint in ENDPOINTS.items():
        for app in ("portal", "bare"):
            group = [r for r in rows if r.app == app and r.method == method]
            if not group:
                continue
            row = medians[(app, method)] = median_row(group)
            m = row.measure
            statuses: Counter[str] = sum((Counter(r.measure.statuses) for r in group), Counter())
            added = None if row.rows_added is None else sum(r.rows_added or 0 for r in group)
            print(
                f"{app:7} {method + ' ' + endpoint:16} {m.rps:9.1f} {m.p50_ms:8.2f} {m.p99_ms:8.2f} "
                f"{sum(r.measure.requests for r in group):9d}  {' '.join(f'{k}:{v}' for k, v in sorted(statuses.items())) or '-':20} "
                f"{'' if added is None else added:>7} {'' if row.page_bytes is None else row.page_bytes:>7}"
                + (f"  {min(r.measure.rps for r in group):.0f}-{max(r.measure.rps for r in group):.0f}" if spread else "")
            )
    for row in rows:
        for warning in row.warnings:
            print(f"  WARNING {row.app} {row.method} (round {row.round + 1}): {warning}")
    print()
    ratios: list[dict[str, object]] = []
    for method, target in TARGETS.items():
        portal, bare = medians.get(("portal", method)), medians.get(("bare", method))
        if portal is None or bare is None or bare.measure.rps <= 0:
            print(f"portal/bare {method:4} {ENDPOINTS[method]:10} not measured")
            continue
        ratio = portal.measure.rps / bare.measure.rps
        verdict = "met" if ratio >= target else "NOT met"
        print(f"portal/bare {method:4} {ENDPOINTS[method]:10} req/s ratio {ratio:5.2f}   target >= {target:.1f}   {verdict}")
        ratios.append({"method": method, "ratio": round(ratio, 3), "target": target, "met": ratio >= target})
    return ratios


def save(rows: list[Row], ratios: list[dict[str, object]], settings: Settings, loadgen_name: str) -> Path:
    """A JSON copy in bench/results/ (ignored by git) to compare runs."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    data = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "settings": asdict(settings),
        "loadgen": loadgen_name,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "rows": [asdict(r) for r in rows],
        "ratios": ratios,
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """So `kill` runs the same clean-up as Ctrl-C."""

    def handler(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    wrk = find_wrk() if settings.loadgen in ("auto", "wrk") else None
    if settings.loadgen == "wrk" and wrk is None:
        print("wrk is not available (and could not be installed)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="ecrire-bench-"))
    if wrk:
        loadgen: Wrk | PythonLoad = Wrk(wrk, tmp, settings)
    else:
        why = "asked for" if settings.loadgen == "python" else "fallback: wrk unavailable"
        loadgen = PythonLoad(settings, why)
        print(f"NOTE: Python load generator ({why}); its figures are lower and noisier than wrk's.")
    run_id = secrets.token_hex(4)
    servers: list[Server] = []
    rows: list[Row] = []
    with sigterm_as_interrupt():
        try:
            print(f"Preparing the portal instance in {tmp} ...", flush=True)
            portal_env, portal_db = prepare_portal(tmp)
            portal = Server("portal", free_port(), portal_db, "SELECT COUNT(*) FROM actions", tmp / "portal.log")
            bare = Server("bare", free_port(), tmp / "bare.sqlite3", "SELECT COUNT(*) FROM signatures", tmp / "bare.log")
            servers = [portal, bare]
            bare_env = clean_env() | {"BENCH_BARE_DB": str(bare.database), "SECRET_KEY": secrets.token_hex(32)}
            start_gunicorn(portal, "wsgi:app", ROOT, portal_env, settings, tmp)
            start_gunicorn(bare, "bare_app:create_app()", BENCH, bare_env, settings, tmp)
            for server in servers:
                wait_ready(server)
            visitors = {s.name: visit(s) for s in servers}
            for server in servers:
                check_post(server, visitors[server.name], run_id)
            print(f"Both apps up (portal :{portal.port}, bare :{bare.port}); run id {run_id}.", flush=True)
            # Every GET before any POST, so the bare app's COUNT(*) always
            # reads the same small table; within an endpoint the apps take
            # turns going first, so a drift in the machine's load is shared.
            for method in ("GET", "POST"):
                for round_ in range(settings.rounds):
                    for server in servers if round_ % 2 == 0 else servers[::-1]:
                        row = measure(server, method, loadgen, settings, visitors[server.name], f"{run_id}r{round_}")
                        row.round = round_
                        rows.append(row)
        except KeyboardInterrupt:
            print("\nInterrupted; stopping the servers.", file=sys.stderr)
            return 130
        except (RuntimeError, ValueError, OSError, subprocess.SubprocessError) as exc:
            print(f"\nbench failed: {exc}", file=sys.stderr)
            return 1
        finally:
            for server in servers:
                stop(server)
            if settings.keep:
                print(f"Kept {tmp}")
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    ratios = print_report(rows, settings, loadgen.name)
    print(f"\nSaved {save(rows, ratios, settings, loadgen.name).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
