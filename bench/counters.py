"""Does sharding the action counter keep writers off one hot row? Measured on
a real PostgreSQL server.

The issue: a +1-per-action counter row makes every concurrent signature on
the same case queue for that row's lock until the previous transaction
commits (the UK petitions site hit this in 2019). ``core.counters`` spreads
each key over ``SHARDS`` rows instead. This script starts a throw-away server
(``tests/postgres_server.py``, Unix socket only), migrates a database and
loads the demo sections and cases, then for each shard count runs, for a
bounded time, W writer processes doing what a signature does to ONE hot case
(insert an ``Action``, ``counters.increment``, commit, all in
``db.writing()``) while R reader processes loop over ``counters.read``.

Writers and readers are separate processes, each with its own engine: with
threads the GIL would serialise the clients and hide any queueing in the
server. While the scenario runs, ``pg_stat_activity`` is sampled to count
backends waiting on a lock (the queue itself), and ``/proc/stat`` gives how
busy the machine's cores were and /proc/<pid>/stat how much of that was
PostgreSQL, the benchmark, or other programs: on a small machine the clients,
not the row, may be what limits throughput, and a test run elsewhere on a
shared machine can halve a round, so such rounds are left out of the summary.

Nothing is asserted: the table says whether the final counter sum equals the
number of committed transactions ("ok"/"MISMATCH").

    .venv/bin/python bench/counters.py

Configuration (environment): BENCH_SECONDS (8), BENCH_WRITERS (16),
BENCH_READERS (2), BENCH_SHARDS ("1,8,32"), BENCH_ROUNDS (3, interleaved;
medians of the quiet rounds are reported), BENCH_FSYNC ("off"; "on" makes
each commit flush WAL to disk while the row lock is held, as in production).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field, fields
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.postgres_server import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECTION = "fr"
CASE_ID = "sonia-dahmani"


@dataclass(frozen=True)
class Settings:
    seconds: float
    writers: int
    readers: int
    shard_counts: tuple[int, ...]
    rounds: int
    fsync: bool

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            seconds=float(env.get("BENCH_SECONDS", "8")),
            writers=int(env.get("BENCH_WRITERS", "16")),
            readers=int(env.get("BENCH_READERS", "2")),
            shard_counts=tuple(int(s) for s in env.get("BENCH_SHARDS", "1,8,32").split(",")),
            rounds=int(env.get("BENCH_ROUNDS", "3")),
            fsync=env.get("BENCH_FSYNC", "off").lower() in {"1", "on", "yes", "true"},
        )


@dataclass
class WorkerResult:
    """What one process measured; latencies in seconds."""

    role: str
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    elapsed: float = 0.0
    cpu: float = 0.0
    #: The first failure, so a table full of failures says why.
    error: str = ""


@dataclass(frozen=True)
class Scenario:
    shards: int
    writer_tps: float
    writer_p50: float
    writer_p99: float
    reader_ps: float
    reader_p50: float
    reader_p99: float
    committed: int
    failures: int
    counted: int
    stored: int
    lock_waiters: float
    cpu_busy: float
    client_cpu: float
    server_cpu: float
    error: str = ""

    @property
    def other_cpu(self) -> float:
        """Share of the cores used by neither the benchmark nor PostgreSQL."""
        return max(0.0, self.cpu_busy - self.client_cpu - self.server_cpu)


# -- worker processes -------------------------------------------------------------


def _worker(role: str, index: int, url: str, shards: int, seconds: float, barrier: Barrier, results: mp.Queue) -> None:
    """One writer or reader: own engine, wait for everyone, then loop for
    ``seconds``. Runs in a fresh (spawned) interpreter, so ``SHARDS`` is set
    here and engines are never shared across a fork."""
    from sqlalchemy import bindparam, text

    from core import counters
    from core.database import Database
    from core.models import Action, utcnow

    counters.SHARDS = shards
    db = Database(url)
    # Built once, with bind parameters, like the project's prebuilt statements.
    row = {"section_code": SECTION, "case_id": CASE_ID, "action_type": f"bench-{shards}", "payload": {}, "status": "recorded"}
    actions = Action.__table__
    columns = [*row, "dedupe_key", "created_at"]
    insert = db.insert(actions).values({name: bindparam(name) for name in columns}).returning(actions.c.id)
    with db.session() as session:  # connect before the clock starts
        session.execute(text("SELECT 1"))
    result = WorkerResult(role)
    barrier.wait()
    cpu0, start = time.process_time(), time.monotonic()
    deadline = start + seconds
    n = 0
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        try:
            if role == "writer":
                n += 1
                with db.writing() as session:
                    # As core.actions._record does: the action, then the counter,
                    # then commit (the shard row stays locked until the commit).
                    session.execute(insert, {**row, "dedupe_key": f"bench:{shards}:{index}:{n}", "created_at": utcnow()})
                    counters.increment(db, session, SECTION, CASE_ID, f"bench-{shards}")
            else:
                with db.session() as session:
                    counters.read(session)
        except Exception as exc:  # noqa: BLE001 - a failed transaction is a result, not a crash
            result.failures += 1
            result.error = result.error or f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            continue
        result.latencies.append(time.perf_counter() - t0)
    result.elapsed = time.monotonic() - start
    result.cpu = time.process_time() - cpu0
    db.dispose()
    results.put(result)


# -- measuring the whole machine --------------------------------------------------


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies over all cores, from /proc/stat."""
    # user nice system idle iowait irq softirq steal (guest time is already in user)
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = ticks[3] + ticks[4]
    return sum(ticks) - idle, sum(ticks)


def _server_cpu(server: PostgresServer) -> float:
    """CPU seconds used so far by the postmaster and its children, including
    backends that have exited (counted in the postmaster's cutime/cstime)."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = int((server.data / "postmaster.pid").read_text().split()[0])
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process has just exited
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / tick


class LockSampler(threading.Thread):
    """Counts backends waiting on a heavyweight lock (a writer queued behind
    another's uncommitted row) every 20 ms."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        from core.database import Database

        self.db = Database(url)
        self.stop = threading.Event()
        self.samples: list[int] = []

    def run(self) -> None:
        from sqlalchemy import text

        query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
        with self.db.engine.connect() as conn:
            while not self.stop.wait(0.02):
                self.samples.append(conn.execute(query).scalar_one())
                conn.rollback()  # a fresh snapshot of pg_stat_activity each time

    def mean(self) -> float:
        return sum(self.samples) / len(self.samples) if self.samples else 0.0


# -- one scenario -----------------------------------------------------------------


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_scenario(server: PostgresServer, url: str, shards: int, settings: Settings) -> Scenario:
    from sqlalchemy import func, select, text

    from core import counters
    from core.database import Database
    from core.models import Action

    db = Database(url)
    with db.writing() as session:  # every scenario starts from the same empty tables
        session.execute(text("TRUNCATE counter_shards, actions CASCADE"))
    ctx = mp.get_context("spawn")
    parties = settings.writers + settings.readers
    barrier = ctx.Barrier(parties + 1)
    results: mp.Queue = ctx.Queue()
    roles = ["writer"] * settings.writers + ["reader"] * settings.readers
    procs = [
        ctx.Process(target=_worker, args=(role, i, url, shards, settings.seconds, barrier, results))
        for i, role in enumerate(roles)
    ]
    for proc in procs:
        proc.start()
    sampler = LockSampler(url)
    try:
        barrier.wait(timeout=120)
        sampler.start()
        busy0, total0 = _cpu_times()
        server0, parent0 = _server_cpu(server), time.process_time()
        collected = [results.get(timeout=settings.seconds + 120) for _ in procs]
        busy1, total1 = _cpu_times()
        server1, parent1 = _server_cpu(server), time.process_time()
    finally:
        sampler.stop.set()
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
    sampler.join()
    sampler.db.dispose()

    writers = [r for r in collected if r.role == "writer"]
    readers = [r for r in collected if r.role == "reader"]
    w_lat = [x for r in writers for x in r.latencies]
    r_lat = [x for r in readers for x in r.latencies]
    elapsed = max(r.elapsed for r in collected)
    with db.session() as session:
        counted = counters.read(session).by_key.get((SECTION, CASE_ID, f"bench-{shards}"), 0)
        stored = session.scalar(select(func.count()).select_from(Action).where(Action.action_type == f"bench-{shards}"))
    db.dispose()
    committed = len(w_lat)
    return Scenario(
        shards=shards,
        writer_tps=committed / elapsed,
        writer_p50=_quantile(w_lat, 0.5) * 1000,
        writer_p99=_quantile(w_lat, 0.99) * 1000,
        reader_ps=len(r_lat) / elapsed,
        reader_p50=_quantile(r_lat, 0.5) * 1000,
        reader_p99=_quantile(r_lat, 0.99) * 1000,
        committed=committed,
        failures=sum(r.failures for r in writers + readers),
        counted=counted,
        stored=stored or 0,
        lock_waiters=sampler.mean(),
        cpu_busy=(busy1 - busy0) / max(1, total1 - total0),
        client_cpu=(sum(r.cpu for r in collected) + parent1 - parent0) / elapsed / (os.cpu_count() or 1),
        server_cpu=(server1 - server0) / elapsed / (os.cpu_count() or 1),
        error=next((r.error for r in collected if r.error), ""),
    )


# -- set-up and report ------------------------------------------------------------


def prepare_database(server: PostgresServer, instance: Path) -> str:
    """A migrated database with the demo sections and cases, as ``flask demo
    load`` leaves it."""
    import logging

    url = server.create_database(f"bench_{uuid.uuid4().hex[:12]}")
    os.environ["DATABASE_URL"] = url
    os.environ["ECRIRE_INSTANCE"] = str(instance)
    from core import catalogue, plugin_state, schema
    from core.app import create_app

    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app({"SECRET_KEY": "bench"})
    portal = app.extensions["ecrire"]
    schema.upgrade(portal)
    with portal.db.writing() as session:
        plugin_state.ensure_sections(session, portal.registry)
        catalogue.sync(session, portal.registry)
    portal.db.dispose()
    return url


def set_fsync(url: str, on: bool) -> None:
    """The test server runs with fsync=off; turning it on (a reload setting)
    makes each commit wait for the disk while its row locks are held."""
    from sqlalchemy import text

    from core.database import Database

    db = Database(url)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"ALTER SYSTEM SET fsync = {'on' if on else 'off'}"))
        conn.execute(text("SELECT pg_reload_conf()"))
        time.sleep(0.2)
        print(f"server fsync = {conn.execute(text('SHOW fsync')).scalar_one()}")
    db.dispose()


COLUMNS = (
    f"{'shards':>6} {'write tx/s':>20} {'w p50 ms':>9} {'w p99 ms':>9} {'reads/s':>8} {'r p50 ms':>9} {'r p99 ms':>9} "
    f"{'lock wait':>9} {'cpu busy':>8} {'clients':>7} {'server':>6} {'other':>5} {'fail':>4}  sum check"
)


def _line(r: Scenario, tps: str | None = None) -> str:
    # The counter and the action rows must both match what writers saw committed.
    ok = r.counted == r.stored == r.committed
    check = "ok" if ok else f"MISMATCH ({r.counted} counted, {r.stored} stored, {r.committed} committed)"
    return (
        f"{r.shards:>6} {tps or f'{r.writer_tps:.0f}':>20} {r.writer_p50:>9.2f} {r.writer_p99:>9.2f} {r.reader_ps:>8.0f} "
        f"{r.reader_p50:>9.2f} {r.reader_p99:>9.2f} {r.lock_waiters:>9.1f} {r.cpu_busy:>8.0%} {r.client_cpu:>7.0%} "
        f"{r.server_cpu:>6.0%} {r.other_cpu:>5.0%} {r.failures:>4}  {check}"
    )


#: Rounds where other programs used more of the cores than this are left out
#: of the summary (unless every round was that busy): on a shared 2-core
#: machine a test run elsewhere halves a round's throughput.
QUIET = 0.10


def _quiet(rounds: list[Scenario]) -> list[Scenario]:
    return [r for r in rounds if r.other_cpu <= QUIET] or rounds


def _median(rounds: list[Scenario]) -> Scenario:
    """The median of each figure over the quiet rounds; counts are summed over
    every round so the sum check covers them all."""
    used = _quiet(rounds)

    def med(name: str) -> float:
        return statistics.median(getattr(r, name) for r in used)

    summed = {name: sum(getattr(r, name) for r in rounds) for name in ("committed", "failures", "counted", "stored")}
    floats = {f.name: med(f.name) for f in fields(Scenario) if f.name not in summed and f.name not in {"shards", "error"}}
    error = next((r.error for r in rounds if r.error), "")
    return Scenario(shards=rounds[0].shards, error=error, **floats, **summed)  # type: ignore[arg-type]


def _lower(before: float, after: float) -> str:
    ratio = before / after
    return f"{ratio:.2f}x lower" if ratio >= 1 else f"{1 / ratio:.2f}x higher"


def report(settings: Settings, results: dict[int, list[Scenario]]) -> None:
    cores = os.cpu_count() or 1
    print(
        f"\n{settings.writers} writer + {settings.readers} reader processes on one hot key ({SECTION}/{CASE_ID}), "
        f"{settings.seconds:g} s x {settings.rounds} interleaved rounds per shard count, {cores} cores, "
        f"fsync {'on' if settings.fsync else 'off'}.\nMedians over the rounds where other programs used <= {QUIET:.0%} "
        "of the cores (all rounds if none); write tx/s: median [min-max] and rounds used."
    )
    print(COLUMNS)
    print("-" * len(COLUMNS))
    rows = {shards: _median(rounds) for shards, rounds in results.items()}
    for shards, row in rows.items():
        used = _quiet(results[shards])
        spread = [r.writer_tps for r in used]
        print(_line(row, f"{row.writer_tps:.0f} [{min(spread):.0f}-{max(spread):.0f}] {len(used)}/{len(results[shards])}"))
    print(
        "lock wait: mean number of backends waiting on a lock, i.e. writers queued behind another's row; "
        "cpu busy: all cores; clients / server / other: share of all cores used by the benchmark processes / "
        "PostgreSQL / anything else on the machine (other load makes a round noisy)."
    )
    base = rows.get(1)
    if base is None:
        return
    noisy = {shards for shards, rounds in results.items() if not any(r.other_cpu <= QUIET for r in rounds)}
    for row in rows.values():
        if row is not base:
            unquiet = sorted(noisy & {1, row.shards})
            caveat = f" (no quiet round for {' and '.join(map(str, unquiet))} shard(s): unreliable)" if unquiet else ""
            print(
                f"{row.shards} shards vs 1 row: {row.writer_tps / base.writer_tps:.2f}x the write throughput; "
                f"write p50 {_lower(base.writer_p50, row.writer_p50)}, p99 {_lower(base.writer_p99, row.writer_p99)}; "
                + (f"read p99 {_lower(base.reader_p99, row.reader_p99)}; " if settings.readers else "")
                + f"writers queued on a lock {base.lock_waiters:.1f} -> {row.lock_waiters:.1f} of {settings.writers}{caveat}"
            )
    if max(r.cpu_busy for r in rows.values()) > 0.9:
        print(
            f"note: the {cores} cores were >90% busy: throughput is bounded by CPU (PostgreSQL backends plus Python "
            "clients, run as processes so the GIL is not the limit) as much as by the row lock, so compare the "
            "latency and lock-wait columns, not only tx/s."
        )
    if settings.readers:
        print(
            "note: readers take no row locks (MVCC snapshot), so the hot row cannot block them; their latency follows "
            "their share of the CPU, which is larger when writers sleep in the lock queue (1 row) than when they run."
        )


def main() -> int:
    from tests.postgres_server import PostgresServer, find_bindir

    settings = Settings.from_env()
    bindir = find_bindir()
    if bindir is None:
        print("PostgreSQL server binaries not found (apt-get install postgresql)", file=sys.stderr)
        return 2
    server = PostgresServer(bindir).start()
    try:
        with tempfile.TemporaryDirectory(prefix="ecrire-bench-") as instance:
            url = prepare_database(server, Path(instance))
            set_fsync(url, settings.fsync)
            results: dict[int, list[Scenario]] = {shards: [] for shards in settings.shard_counts}
            print(COLUMNS)
            # Interleaved rounds, so a burst of other load on the machine does
            # not land on one shard count only.
            for _ in range(settings.rounds):
                for shards in settings.shard_counts:
                    scenario = run_scenario(server, url, shards, settings)
                    results[shards].append(scenario)
                    print(_line(scenario), flush=True)
                    if scenario.error:
                        print(f"       first failure: {scenario.error}", flush=True)
            report(settings, results)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
