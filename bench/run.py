"""`make bench`: the portal against a bare Flask app, under the same gunicorn.

Both apps run as gunicorn subprocesses with identical settings (``-w 2 -k
sync``, access log off, no config file) on 127.0.0.1. For each, a second
process (``wrk``, or a threaded Python client when wrk is unavailable) loads
the case page and the POST of every supporter action (petition, appeal
letter, solidarity message, share confirmation, offline tally) for a bounded
time after a warm-up, and the script prints requests/s, p50 and p99, then the
ratio portal/bare against the targets (each POST >= 0.5, GET >= 0.6). The bare
app has one write, the petition signature: it is the baseline of every
portal POST. Missed targets are reported, never asserted: the exit status
says only whether the harness ran.

POSTs must really succeed to count: the status of every response is tallied
and the rows written during the measured run are counted in each database
(the portal's per action type), so a run of 400s cannot pass for a fast one.

Configuration: BENCH_SECONDS, BENCH_WARMUP, BENCH_THREADS, BENCH_CONNECTIONS, BENCH_ROUNDS,
BENCH_WORKERS, BENCH_ONLY, BENCH_SHARE_POOL (or the matching options, see ``--help``).
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import json
import math
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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
#: The venv's executables, whichever python runs this script (not resolved:
#: the venv's python is a symlink to the system one).
BIN = Path(sys.executable).parent

CASE_ID = "sonia-dahmani"
CASE_PATH = f"/cases/{CASE_ID}"
#: The portal picks its section by Host; the bare app ignores it.
HOST = "fr.localhost"
TARGETS = {"POST": 0.5, "GET": 0.6}
GET_LABEL = "GET case page"
#: The bare app's only write, the baseline of every portal POST.
BASELINE_LABEL = "POST signature"

#: A letter of a few hundred characters of plain text (no markup), as a
#: supporter would send after editing the model letter.
LETTER_TEXT = (
    "Madame, Monsieur,\n\n"
    "Je vous écris au sujet de Sonia Dahmani, avocate et chroniqueuse, emprisonnée pour avoir dénoncé "
    "l’injustice. Personne ne devrait être détenu pour avoir exprimé une opinion. Je vous demande de la "
    "libérer immédiatement et sans condition, et de garantir d’ici là qu’elle soit traitée avec humanité "
    "et puisse voir sa famille et ses avocats.\n\n"
    "Veuillez agréer, Madame, Monsieur, l’expression de mes salutations respectueuses."
)


@dataclass(frozen=True)
class Action:
    """One supporter action's POST: the form as a browser submits it (the
    submitted names, not the element ids), minus the CSRF token and the
    per-request email address, which are added for each request."""

    key: str
    #: The name in the URL and in ``actions.action_type``.
    action_type: str
    fields: tuple[tuple[str, str], ...]
    csrf_field: str = "csrf_token"
    #: When set, every request gets a different address in this field (the
    #: portal counts a supporter once per action and case).
    email_field: str = ""
    #: Counted once per browser session and case: every request needs a
    #: session of its own, from a pool of (cookie, token) pairs fetched first.
    session_each: bool = False
    note: str = ""

    @property
    def path(self) -> str:
        return f"{CASE_PATH}/act/{self.action_type}"

    @property
    def label(self) -> str:
        return f"POST {self.action_type}"

    def body_prefix(self, token: str | None) -> str:
        pairs = ([(self.csrf_field, token)] if token is not None else []) + list(self.fields)
        return urlencode(pairs)


ACTIONS = (
    Action(
        "petition", "petition",
        (("name", "Camille Bench"), ("country", "FR"), ("consent", "y"), ("legal-petition-of_age", "adult")),
        email_field="email",
        note="an adult: consent records written with the signature",
    ),
    Action(
        "letter", "letter",
        (("letter", LETTER_TEXT), ("name", "Camille Bench"), ("town", "Lyon"), ("consent", "y"), ("step", "send"),
         ("legal-letter-of_age", "adult")),
        email_field="email",
        note="step=send: stored and queued for delivery, no preview",
    ),
    Action(
        "solidarity", "solidarity",
        (("message", "Courage Sonia, nous pensons à vous et nous ne vous oublions pas."), ("first_name", "Camille"), ("town", "Lyon")),
        note="anonymous, stored pending moderation",
    ),
    Action(
        "share", "share",
        (("share-posted", "y"),),
        csrf_field="share-csrf_token",
        session_each=True,
        note="once per session and case: one pooled session per request",
    ),
    Action(
        "tally", "offline-tally",
        (("tally-letters", "25"), ("tally-group", "Bench school"), ("tally-kind", "school"), ("tally-town", "Lyon")),
        csrf_field="tally-csrf_token",
        email_field="tally-email",
    ),
)  # fmt: skip
ACTION_BY_NAME = {a.key: a for a in ACTIONS} | {a.action_type: a for a in ACTIONS}
#: The bare app's signature takes the petition's form, field for field.
BASELINE = ACTION_BY_NAME["petition"]
SELECTABLE = ("get", *(a.key for a in ACTIONS))

#: Share pool: at least this many sessions (BENCH_SHARE_POOL), more when
#: the warm-up's rate says the measured run will need more, never more than
#: POOL_CAP (the run is shortened instead).
DEFAULT_SHARE_POOL = 3000
POOL_MARGIN = 1.5
POOL_CAP = 20000
WARMUP_POOL = 64


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
    only: tuple[str, ...] = SELECTABLE
    share_pool: int = DEFAULT_SHARE_POOL

    @property
    def actions(self) -> tuple[Action, ...]:
        return tuple(a for a in ACTIONS if a.key in self.only)


def parse_only(text: str) -> tuple[str, ...]:
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if not names or names == ["all"]:
        return SELECTABLE
    wanted = set()
    for name in names:
        if name == "post":
            wanted.update(a.key for a in ACTIONS)
        elif name == "get":
            wanted.add("get")
        elif name in ACTION_BY_NAME:
            wanted.add(ACTION_BY_NAME[name].key)
        else:
            raise argparse.ArgumentTypeError(f"unknown measurement {name!r} (choose from {', '.join(SELECTABLE)}, post, all)")
    return tuple(n for n in SELECTABLE if n in wanted)


def parse_args(argv: list[str] | None = None) -> Settings:
    env = os.environ
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=int(env.get("BENCH_SECONDS", "10")), help="measured seconds per run (BENCH_SECONDS, 10)")
    parser.add_argument("--warmup", type=int, default=int(env.get("BENCH_WARMUP", "2")), help="warm-up seconds before each run (BENCH_WARMUP, 2)")
    parser.add_argument("--threads", type=int, default=int(env.get("BENCH_THREADS", "2")), help="load generator threads (BENCH_THREADS, 2)")
    parser.add_argument("--connections", type=int, default=int(env.get("BENCH_CONNECTIONS", "16")), help="concurrent connections (BENCH_CONNECTIONS, 16)")
    parser.add_argument("--workers", type=int, default=int(env.get("BENCH_WORKERS", "2")), help="gunicorn workers for both apps (BENCH_WORKERS, 2)")
    parser.add_argument("--rounds", type=int, default=int(env.get("BENCH_ROUNDS", "1")), help="measurements per app and endpoint; the median is shown (BENCH_ROUNDS, 1)")
    parser.add_argument(
        "--only", type=parse_only, default=env.get("BENCH_ONLY", "all"),
        help=f"comma-separated subset to measure: {', '.join(SELECTABLE)} (or post: every action; BENCH_ONLY, all)",
    )  # fmt: skip
    parser.add_argument(
        "--share-pool", type=int, default=int(env.get("BENCH_SHARE_POOL", str(DEFAULT_SHARE_POOL))),
        help=f"least number of sessions fetched for the share POST, one per request (BENCH_SHARE_POOL, {DEFAULT_SHARE_POOL}; "
        f"more if the warm-up rate needs it, at most {POOL_CAP})",
    )  # fmt: skip
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto", help="load generator (auto: wrk, else Python)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, logs, Lua scripts)")
    a = parser.parse_args(argv)
    if min(a.seconds, a.threads, a.connections, a.workers, a.rounds, a.share_pool) < 1 or a.warmup < 0:
        parser.error("seconds, threads, connections, workers, rounds and share-pool must be >= 1, warmup >= 0")
    return Settings(
        a.seconds, a.warmup, a.threads, max(a.connections, a.threads), a.workers, a.rounds, a.loadgen, a.keep,
        a.only, min(a.share_pool, POOL_CAP),
    )  # fmt: skip


# -- the servers ----------------------------------------------------------------


@dataclass
class Server:
    """One app under test: its gunicorn process, port and database."""

    name: str
    port: int
    database: Path
    #: Counts the rows of one action type (named :type; the bare app has one kind).
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
    env = clean_env() | {"ECRIRE_INSTANCE": str(instance), "FLASK_APP": "wsgi", "ECRIRE_SECURE_COOKIES": "0"}
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


def visit_many(server: Server, count: int, parallel: int) -> list[Visitor]:
    """``count`` first visits, each with a session (and CSRF token) of its
    own, fetched ``parallel`` at a time."""
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as executor:
        return list(executor.map(lambda _i: visit(server), range(count)))


def unique_email(run_id: str, thread: int | str, n: int | str) -> str:
    """Url-encoded, as it goes into a form body."""
    return f"bench-{run_id}-{thread}-{n}%40example.org"


def check_post(server: Server, action: Action, visitor: Visitor, run_id: str) -> None:
    """One action by hand before loading: a 400/422 here means the
    measurement would only time error pages."""
    body = action.body_prefix(visitor.token)
    if action.email_field:
        body += f"&{action.email_field}={unique_email(run_id, 'check', 0)}"
    headers = {"Cookie": visitor.cookie, "Content-Type": "application/x-www-form-urlencoded"}
    reply = fetch(server.port, "POST", action.path, headers, body)
    if reply.status != 303:
        snippet = reply.body[:400].decode(errors="replace")
        errors = [m.decode(errors="replace") for m in re.findall(rb'class="field-error"[^>]*>([^<]+)', reply.body)]
        raise RuntimeError(
            f"{server.name}: a valid {action.label} got HTTP {reply.status}, not 303"
            + (f"; field errors: {errors}" if errors else f"\n{snippet}")
        )


def count_rows(server: Server, action: Action) -> int:
    """Rows of this action type (the bare app has only signatures)."""
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=15) as conn:
        return int(conn.execute(server.count_sql, {"type": action.action_type}).fetchone()[0])


def rows_by_type(server: Server) -> Counter[tuple[str, str]]:
    """The portal's actions rows per (action type, status)."""
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=15) as conn:
        rows = conn.execute("SELECT action_type, status, COUNT(*) FROM actions GROUP BY action_type, status").fetchall()
    return Counter({(str(t), str(s)): int(n) for t, s, n in rows})


# -- load generators -----------------------------------------------------------------


@dataclass
class Measure:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    statuses: dict[str, int]
    socket_errors: str = ""
    #: With a session pool: requests sent (answered or in flight at the
    #: end), and how many of them had to reuse a session already used.
    sent: int | None = None
    reused: int | None = None


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
    #: The form field that gets a different address on every request ("": none).
    email_field: str = ""
    #: (cookie, CSRF token) pairs, one per request: the cookie and token
    #: above are then unused, and ``csrf_field`` gets the pair's token.
    pool: tuple[tuple[str, str], ...] = ()
    csrf_field: str = "csrf_token"
    label: str = "load"


LUA = r"""-- Generated by bench/run.py for one load; run id given as script argument.
local method, path, host, cookie, body_prefix = %(method)s, %(path)s, %(host)s, %(cookie)s, %(body_prefix)s
local email_field, csrf_field, thread_count = %(email_field)s, %(csrf_field)s, %(threads)d
-- Session pool, one "cookie<TAB>token" line per request (empty: one fixed cookie).
local pool = {}
for c, t in string.gmatch(%(pool)s, "([^\t\n]+)\t([^\n]+)\n") do pool[#pool + 1] = {c, t} end
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
  reused = 0
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
  local body = body_prefix
  if email_field ~= "" then
    -- Unique per run, thread and request: the portal counts a supporter once.
    body = body .. "&" .. email_field .. "=bench-" .. run_id .. "-" .. tid .. "-" .. n .. "%%40example.org"
  end
  if #pool == 0 then return wrk.format("POST", path, nil, body) end
  -- Thread tid takes pairs tid, tid + thread_count, ...: no two requests
  -- share a session until the pool runs out (then it wraps, and says so).
  local i = (n - 1) * thread_count + tid
  if i > #pool then
    reused = reused + 1
    i = (i - 1) %% #pool + 1
  end
  local pair = pool[i]
  local headers = {["Host"] = host, ["Cookie"] = pair[1], ["Content-Type"] = "application/x-www-form-urlencoded"}
  return wrk.format("POST", path, headers, body .. "&" .. csrf_field .. "=" .. pair[2])
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  local sent, again = 0, 0
  for _, thread in ipairs(threads) do
    for key, value in pairs(thread:get("statuses") or {}) do total[key] = (total[key] or 0) + value end
    sent = sent + (thread:get("n") or 0)
    again = again + (thread:get("reused") or 0)
  end
  local parts = {}
  for key, value in pairs(total) do table.insert(parts, key .. "=" .. value) end
  io.write("BENCH_STATUS " .. table.concat(parts, " ") .. "\n")
  if #pool > 0 then io.write("BENCH_POOL " .. sent .. " " .. again .. "\n") end
end
"""


def lua_string(value: str) -> str:
    if not value.isascii() or not value.isprintable():
        raise ValueError(f"not a plain ASCII value for a Lua literal: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_pool(pool: tuple[tuple[str, str], ...]) -> str:
    """The pool as one long-bracket string (a table constructor of tens of
    thousands of entries would hit LuaJIT's constant limits)."""
    lines = []
    for cookie, token in pool:
        token = quote(token, safe="")
        for value in (cookie, token):
            if not value or not value.isascii() or not value.isprintable() or re.search(r"[\s\]]", value):
                raise ValueError(f"unexpected character in a pooled cookie or token: {value!r}")
        lines.append(f"{cookie}\t{token}\n")
    return "[==[\n" + "".join(lines) + "]==]"


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> Measure:
    """Requests/sec, the 50% and 99% lines of ``--latency``, the request
    total, socket errors, the Lua ``done`` status tally and pool use."""

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
    pool = re.search(r"^BENCH_POOL (\d+) (\d+)$", output, re.MULTILINE)
    return Measure(
        rps=float(find(r"^Requests/sec:\s+([\d.]+)").group(1)),
        p50_ms=_duration_ms(find(r"^\s+50%\s+(\S+)").group(1)),
        p99_ms=_duration_ms(find(r"^\s+99%\s+(\S+)").group(1)),
        requests=int(find(r"^\s+(\d+) requests in").group(1)),
        statuses=dict(sorted(statuses.items())),
        socket_errors=errors.group(1) if errors else "",
        sent=int(pool.group(1)) if pool else None,
        reused=int(pool.group(2)) if pool else None,
    )


class Wrk:
    name = "wrk"

    def __init__(self, executable: str, tmp: Path, settings: Settings) -> None:
        self.executable = executable
        self.tmp = tmp
        self.settings = settings

    def run(self, load: Load) -> Measure:
        slug = re.sub(r"[^a-z0-9]+", "-", load.label.lower()).strip("-")
        script = self.tmp / f"load-{load.port}-{slug}-{load.run_id}.lua"
        script.write_text(
            LUA
            % {
                "method": lua_string(load.method),
                "path": lua_string(load.path),
                "host": lua_string(HOST),
                "cookie": lua_string(load.cookie or ""),
                "body_prefix": lua_string(load.body_prefix or ""),
                "email_field": lua_string(load.email_field),
                "csrf_field": lua_string(load.csrf_field),
                "threads": self.settings.threads,
                "pool": lua_pool(load.pool),
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
        taken = itertools.count()  # next() is atomic under the GIL
        sent = [0] * self.settings.connections

        def worker(index: int) -> None:
            base = {"Host": HOST}
            if load.cookie:
                base["Cookie"] = load.cookie
            if load.method == "POST":
                base["Content-Type"] = "application/x-www-form-urlencoded"
            conn = http.client.HTTPConnection("127.0.0.1", load.port, timeout=10)
            n = 0
            while time.monotonic() < deadline:
                n += 1
                headers, body = base, None
                if load.method == "POST":
                    body = load.body_prefix or ""
                    if load.email_field:
                        body += f"&{load.email_field}={unique_email(load.run_id, index + 1, n)}"
                    if load.pool:
                        cookie, token = load.pool[next(taken) % len(load.pool)]
                        headers = base | {"Cookie": cookie}
                        body += f"&{load.csrf_field}={quote(token, safe='')}"
                sent[index] += 1
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
        total_sent = sum(sent)
        return Measure(
            rps=len(merged) / elapsed if elapsed else 0.0,
            p50_ms=_percentile(merged, 50),
            p99_ms=_percentile(merged, 99),
            requests=len(merged),
            statuses=dict(sorted(total.items())),
            socket_errors=", ".join(f"{k} {v}" for k, v in errors.items()),
            sent=total_sent if load.pool else None,
            reused=max(0, total_sent - len(load.pool)) if load.pool else None,
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
    #: As printed: "GET case page", "POST signature" (bare), "POST letter" ...
    endpoint: str
    method: str
    measure: Measure
    rows_added: int | None = None
    page_bytes: int | None = None
    seconds: int = 0
    #: Sessions in the pool (share POST only).
    pool: int | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    round: int = 0


def _pairs(visitors: list[Visitor]) -> tuple[tuple[str, str], ...]:
    return tuple((v.cookie, v.token) for v in visitors)


def measure(
    server: Server,
    action: Action | None,
    loadgen: Wrk | PythonLoad,
    settings: Settings,
    visitor: Visitor,
    run_id: str,
    rate_hint: float | None = None,
) -> Row:
    """Warm up, then measure one endpoint of one app and check the answers:
    the case page (``action`` None) or an action's POST (on the bare app,
    always its signature)."""
    post = action is not None
    if action is None:
        label, method = GET_LABEL, "GET"
    else:
        label, method = (BASELINE_LABEL if server.name == "bare" else action.label), "POST"
    pooled = action is not None and action.session_each
    load = Load(
        port=server.port,
        method=method,
        path=action.path if action else CASE_PATH,
        # The case page is measured as a first visit (no cookie), so each
        # request makes a CSRF token and a session, as for a shared link.
        cookie=visitor.cookie if post else None,
        body_prefix=action.body_prefix(None if pooled else visitor.token) if action else None,
        run_id=run_id,
        seconds=settings.seconds,
        email_field=action.email_field if action else "",
        csrf_field=action.csrf_field if action else "csrf_token",
        label=f"{server.name} {label}",
    )
    print(f"  {server.name:6} {label:18} warm-up {settings.warmup}s, measure {settings.seconds}s ...", flush=True)
    notes: list[str] = []
    if pooled:
        # Counted once per session and case: a session per request, fetched
        # before the measured run, as many as the warm-up's rate says the
        # run will use (with a margin), at least --share-pool.
        seconds, rate = settings.seconds, rate_hint
        if settings.warmup:
            # The warm-up may reuse its few sessions: its answers are not counted.
            warm_pool = _pairs(visit_many(server, WARMUP_POOL, settings.connections))
            warm = loadgen.run(replace(load, run_id=f"{run_id}w", seconds=settings.warmup, pool=warm_pool)).rps
            # A short warm-up starts cold and underestimates: the previous
            # portal POST's rate is the better guess when it is higher.
            rate = max(warm, rate_hint or 0.0)
        size = settings.share_pool
        if rate:
            size = max(size, math.ceil(rate * seconds * POOL_MARGIN) + settings.connections)
            if size > POOL_CAP:
                size = POOL_CAP
                seconds = max(1, int((POOL_CAP - settings.connections) / (rate * POOL_MARGIN)))
                notes.append(f"measured {seconds}s only: the pool is capped at {POOL_CAP} sessions")
        started = time.monotonic()
        pool = _pairs(visit_many(server, size, settings.connections))
        notes.append(
            f"pool of {size} sessions (one per request) fetched in {time.monotonic() - started:.1f}s before the run"
            + (f", sized for {rate:.0f} req/s x {seconds}s x {POOL_MARGIN}" if rate else ", no rate known to size it")
        )
        load = replace(load, pool=pool, seconds=seconds)
    elif settings.warmup:
        loadgen.run(replace(load, run_id=f"{run_id}w", seconds=settings.warmup))
    before = count_rows(server, action) if action else None
    result = loadgen.run(load)
    row = Row(
        server.name, label, method, result,
        page_bytes=None if post else visitor.page_bytes, seconds=load.seconds,
        pool=len(load.pool) if pooled else None, notes=notes,
    )  # fmt: skip
    expected = "303" if post else "200"
    wrong = {k: v for k, v in result.statuses.items() if k != expected}
    if wrong:
        row.warnings.append(f"{sum(wrong.values())} responses were not {expected}: {wrong}")
    if result.socket_errors and re.search(r"[1-9]", result.socket_errors):
        row.warnings.append(f"socket errors: {result.socket_errors}")
    if action and before is not None:
        row.rows_added = count_rows(server, action) - before
        if row.rows_added < result.statuses.get("303", 0):
            row.warnings.append(f"only {row.rows_added} rows added for {result.statuses.get('303', 0)} answers 303")
    if pooled:
        if result.reused:
            row.warnings.append(
                f"the pool ran out: {result.reused} of {result.sent} requests reused a session; the portal counts "
                "them again (its count-once mark is in the session cookie, which the load generator never "
                "updates), so those 303s are not first shares: raise --share-pool"
            )
        elif result.sent is not None:
            row.notes.append(f"{result.sent} requests sent, each with a session of its own; no session reused")
    return row


def median_row(rows: list[Row]) -> Row:
    """The round with the median req/s (the lower one of an even count)."""
    ranked = sorted(rows, key=lambda r: r.measure.rps)
    return ranked[(len(ranked) - 1) // 2]


def print_report(
    rows: list[Row], settings: Settings, loadgen_name: str, portal_rows: Counter[tuple[str, str]] | None = None
) -> list[dict[str, object]]:
    """The table (median round per app and endpoint when there are several;
    statuses and rows summed over all rounds), warnings and notes, the
    portal's new rows by type, then the ratios."""
    print()
    print(
        f"Load: {loadgen_name}, {settings.threads} threads, {settings.connections} connections, "
        f"{settings.seconds}s measured after {settings.warmup}s warm-up, {settings.rounds} round(s); "
        f"gunicorn -w {settings.workers} -k sync; {os.cpu_count()} CPUs shared by servers and load generator."
    )
    try:
        load1, load5, _load15 = os.getloadavg()
        print(f"Load average at the end: {load1:.1f} (1 min), {load5:.1f} (5 min).")
    except OSError:
        pass
    spread = settings.rounds > 1
    header = (
        f"{'app':7} {'endpoint':18} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9}  {'statuses':20} {'rows+':>7} {'bytes':>7}"
        + ("  req/s min-max" if spread else "")
    )
    print(header)
    print("-" * len(header))
    order = [("portal", GET_LABEL), ("bare", GET_LABEL), ("bare", BASELINE_LABEL)]
    order += [("portal", a.label) for a in ACTIONS]
    medians: dict[tuple[str, str], Row] = {}
    for app, endpoint in order:
        group = [r for r in rows if r.app == app and r.endpoint == endpoint]
        if not group:
            continue
        row = medians[(app, endpoint)] = median_row(group)
        m = row.measure
        statuses: Counter[str] = sum((Counter(r.measure.statuses) for r in group), Counter())
        added = None if row.rows_added is None else sum(r.rows_added or 0 for r in group)
        print(
            f"{app:7} {endpoint:18} {m.rps:9.1f} {m.p50_ms:8.2f} {m.p99_ms:8.2f} "
            f"{sum(r.measure.requests for r in group):9d}  {' '.join(f'{k}:{v}' for k, v in sorted(statuses.items())) or '-':20} "
            f"{'' if added is None else added:>7} {'' if row.page_bytes is None else row.page_bytes:>7}"
            + (f"  {min(r.measure.rps for r in group):.0f}-{max(r.measure.rps for r in group):.0f}" if spread else "")
        )
    if any(r.method == "POST" and r.app == "portal" for r in rows):
        print(f"(bare {BASELINE_LABEL}: the bare app's only write, the baseline of every portal POST below.)")
    for row in rows:
        for warning in row.warnings:
            print(f"  WARNING {row.app} {row.endpoint} (round {row.round + 1}): {warning}")
    for row in rows:
        for note in row.notes:
            print(f"  note {row.app} {row.endpoint} (round {row.round + 1}): {note}")
    if portal_rows:
        print("\nPortal rows added to `actions` during the whole run (checks, warm-ups and measured runs):")
        for (action_type, status), n in sorted(portal_rows.items()):
            print(f"  {action_type:16} {status:10} {n:7d}")
    print()
    print(f"Ratios of req/s, portal / bare; every portal POST against the same bare baseline, bare {BASELINE_LABEL}:")
    ratios: list[dict[str, object]] = []
    pairs = [(GET_LABEL, GET_LABEL, TARGETS["GET"])] if "get" in settings.only else []
    pairs += [(a.label, BASELINE_LABEL, TARGETS["POST"]) for a in settings.actions]
    for portal_label, bare_label, target in pairs:
        portal, bare = medians.get(("portal", portal_label)), medians.get(("bare", bare_label))
        what = f"portal {portal_label:18} / bare {bare_label:14}"
        if portal is None or bare is None or bare.measure.rps <= 0:
            print(f"{what}  not measured")
            continue
        ratio = portal.measure.rps / bare.measure.rps
        verdict = "met" if ratio >= target else "NOT met"
        print(f"{what}  req/s ratio {ratio:5.2f}   target >= {target:.1f}   {verdict}")
        ratios.append(
            {"portal": portal_label, "bare": bare_label, "ratio": round(ratio, 3), "target": target, "met": ratio >= target}
        )
    return ratios


def save(
    rows: list[Row],
    ratios: list[dict[str, object]],
    settings: Settings,
    loadgen_name: str,
    portal_rows: Counter[tuple[str, str]] | None = None,
) -> Path:
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
        "portal_rows_added": [
            {"action_type": t, "status": s, "rows": n} for (t, s), n in sorted((portal_rows or Counter()).items())
        ],
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
    portal_rows: Counter[tuple[str, str]] = Counter()
    with sigterm_as_interrupt():
        try:
            print(f"Measuring: {', '.join(settings.only)}.")
            print(f"Preparing the portal instance in {tmp} ...", flush=True)
            portal_env, portal_db = prepare_portal(tmp)
            portal = Server(
                "portal", free_port(), portal_db, "SELECT COUNT(*) FROM actions WHERE action_type = :type", tmp / "portal.log"
            )
            # The bare app has one kind of row: every baseline POST is a signature.
            bare = Server("bare", free_port(), tmp / "bare.sqlite3", "SELECT COUNT(*) FROM signatures", tmp / "bare.log")
            servers = [portal, bare]
            bare_env = clean_env() | {"BENCH_BARE_DB": str(bare.database), "SECRET_KEY": secrets.token_hex(32)}
            start_gunicorn(portal, "wsgi:app", ROOT, portal_env, settings, tmp)
            start_gunicorn(bare, "bare_app:create_app()", BENCH, bare_env, settings, tmp)
            for server in servers:
                wait_ready(server)
            visitors = {s.name: visit(s) for s in servers}
            at_start = rows_by_type(portal)
            if settings.actions:
                check_post(bare, BASELINE, visitors["bare"], run_id)
            for action in settings.actions:
                check_post(portal, action, visitors["portal"], run_id)
            print(f"Both apps up (portal :{portal.port}, bare :{bare.port}); run id {run_id}.", flush=True)
            # Every GET before any POST, so the bare app's COUNT(*) always
            # reads the same small table; within an endpoint the apps take
            # turns going first, so a drift in the machine's load is shared.
            if "get" in settings.only:
                for round_ in range(settings.rounds):
                    for server in servers if round_ % 2 == 0 else servers[::-1]:
                        row = measure(server, None, loadgen, settings, visitors[server.name], f"{run_id}g{round_}")
                        row.round = round_
                        rows.append(row)
            # The bare baseline, then each portal action, in reverse order
            # in odd rounds.
            posts = [(bare, BASELINE), *((portal, a) for a in settings.actions)] if settings.actions else []
            rate_hint: float | None = None
            for round_ in range(settings.rounds):
                for server, action in posts if round_ % 2 == 0 else posts[::-1]:
                    row = measure(
                        server, action, loadgen, settings, visitors[server.name], f"{run_id}{action.key[:3]}{round_}", rate_hint
                    )
                    row.round = round_
                    rows.append(row)
                    if server is portal:
                        rate_hint = row.measure.rps
            portal_rows = rows_by_type(portal)
            portal_rows.subtract(at_start)
            portal_rows = +portal_rows
        except KeyboardInterrupt:
            print("\nInterrupted; stopping the servers.", file=sys.stderr)
            return 130
        except (RuntimeError, ValueError, OSError, subprocess.SubprocessError, sqlite3.Error) as exc:
            print(f"\nbench failed: {exc}", file=sys.stderr)
            return 1
        finally:
            for server in servers:
                stop(server)
            if settings.keep:
                print(f"Kept {tmp}")
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    ratios = print_report(rows, settings, loadgen.name, portal_rows)
    print(f"\nSaved {save(rows, ratios, settings, loadgen.name, portal_rows).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
