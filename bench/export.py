"""`make bench`: the streaming CSV export of 1,000,000 actions, in flat memory.

Fills a throw-away SQLite database (and PostgreSQL when its server binaries
are installed) with ``--rows`` actions of the ``fr`` section, each with its
supporter, by bulk inserts: the first ``--small`` actions are on one case,
the rest on the others. Then, each in a fresh subprocess, it measures:

- ``app``: the real admin export (sign-in, POST /admin/exports with personal
  data) through the Flask test client, reading the whole streamed response;
- ``app, 1 case``: the same, filtered on the small case (``--small`` rows):
  with a streaming export its peak memory is about the same as for the
  full export;
- ``bare``: the same query written with the csv module to /dev/null through
  SQLAlchemy Core, without Flask: the floor.

Printed per run: rows, seconds, rows/s, the RSS just before the export,
the peak RSS during it (the kernel's VmHWM, reset when the export starts)
and the growth between them; and ``resource.getrusage().ru_maxrss`` read
after the export, the whole process's peak: on Linux it keeps the parent's
peak across exec (this script's, while filling the database), so it is an
upper bound, and VmHWM is the export's own figure. Figures are reported, never
asserted; the exit status says only whether it ran.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECTION = "fr"
HOST = "fr.localhost"
ADMIN_EMAIL = "bench@example.org"
ADMIN_PASSWORD = "bench password, long enough"
CONFIG = {"SECRET_KEY": "bench", "PLUGIN_STATE_SECONDS": 60, "CASE_CACHE_SECONDS": 60, "COUNTER_CACHE_SECONDS": 60}


def peak_rss_mb() -> float:
    """The process's peak RSS (ru_maxrss, KiB on Linux). Linux keeps the
    parent's across exec: :func:`window_peak_mb` is the export's alone."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak() -> bool:
    """Reset the kernel's peak RSS of this process (VmHWM), so what follows
    is measured without sign-in's argon2 (64 MiB) or start-up."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def window_peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# -- filling the database ----------------------------------------------------------


def make_app(url: str):
    from core.app import create_app

    return create_app({**CONFIG, "DATABASE_URL": url})


def prepare(url: str) -> list[str]:
    """Migrate, create the sections and cases, and the admin account; the
    section's case ids, in catalogue order."""
    from sqlalchemy import select

    from core import catalogue, plugin_state, schema
    from core.admin.auth import create_account
    from core.models import Case

    app = make_app(url)
    portal = app.extensions["ecrire"]
    schema.upgrade(portal)
    with portal.db.writing() as session:
        plugin_state.ensure_sections(session, portal.registry)
        catalogue.sync(session, portal.registry)
    with app.app_context(), portal.db.writing() as session:
        create_account(session, ADMIN_EMAIL, "Bench", ADMIN_PASSWORD, True, [])
    with app.test_request_context(headers={"Host": HOST}):
        app.preprocess_request()
        from flask import g

        with portal.db.session() as session:
            cases = [c.id for c in portal.catalogue.cases(session, g.section, portal.case_sources(SECTION), "fr")]
    if not cases:
        with portal.db.session() as session:
            cases = list(session.scalars(select(Case.id).order_by(Case.id)))
    portal.db.dispose()
    return cases


def supporter_rows(rows: int) -> Iterator[tuple]:
    names = ("Camille Martin", "Lou Bernard", "=HYPERLINK(\"x\")", "Noa Petit", "@mention")
    for i in range(1, rows + 1):
        yield (i, SECTION, f"supporter{i}@example.org", names[i % len(names)], "FR", "2026-11-20 10:00:00.000000")


def action_rows(rows: int, small: int, cases: list[str]) -> Iterator[tuple]:
    """The first ``small`` on the first case, the rest spread over the others."""
    others = cases[1:] or cases
    for i in range(1, rows + 1):
        case = cases[0] if i <= small else others[i % len(others)]
        second = i % 86400
        created = f"2026-11-{20 + i % 5:02d} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}.000000"
        yield (i, SECTION, case, "petition", i, '{"language": "fr"}', 1, "recorded", created)


ACTION_COLUMNS = "id, section_code, case_id, action_type, supporter_id, payload, count, status, created_at"
SUPPORTER_COLUMNS = "id, section_code, email, name, country, created_at"


def fill_sqlite(path: str, rows: int, small: int, cases: list[str]) -> None:
    import sqlite3

    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    with connection:
        connection.executemany(f"INSERT INTO supporters ({SUPPORTER_COLUMNS}) VALUES (?,?,?,?,?,?)", supporter_rows(rows))
        connection.executemany(f"INSERT INTO actions ({ACTION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)", action_rows(rows, small, cases))
    connection.execute("ANALYZE")
    connection.close()


def fill_postgres(dsn: str, rows: int, small: int, cases: list[str]) -> None:
    import psycopg

    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY supporters ({SUPPORTER_COLUMNS}) FROM STDIN") as copy:
            for row in supporter_rows(rows):
                copy.write_row(row)
        with cursor.copy(f"COPY actions ({ACTION_COLUMNS}) FROM STDIN") as copy:
            for row in action_rows(rows, small, cases):
                copy.write_row(row)
        cursor.execute("SELECT setval(pg_get_serial_sequence('actions', 'id'), %s)", (rows,))
        cursor.execute("SELECT setval(pg_get_serial_sequence('supporters', 'id'), %s)", (rows,))
        cursor.execute("ANALYZE")


# -- one measurement, in its own process ---------------------------------------------


def measure_app(url: str, case_id: str) -> dict:
    import re

    app = make_app(url)
    client = app.test_client()
    headers = {"Host": HOST}
    token = lambda html: re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)  # noqa: E731
    page = client.get("/admin/sign-in", headers=headers).get_data(as_text=True)
    signed = client.post("/admin/sign-in", headers=headers,
                         data={"csrf_token": token(page), "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert signed.status_code == 302, signed.status_code
    form = client.get("/admin/exports", headers=headers).get_data(as_text=True)
    started_rss = current_rss_mb()
    reset_peak()
    started = time.perf_counter()
    response = client.post("/admin/exports", headers=headers, buffered=False,
                           data={"csrf_token": token(form), "case_id": case_id, "personal": "y"})
    assert response.status_code == 200, response.status_code
    lines = size = 0
    for chunk in response.response:
        lines += chunk.count(b"\n")
        size += len(chunk)
    response.close()
    return {"rows": lines - 1, "bytes": size, "seconds": time.perf_counter() - started, "start_rss_mb": started_rss}


def measure_bare(url: str, case_id: str) -> dict:
    import csv

    from sqlalchemy import create_engine

    from core.admin.access import Scope
    from core.exports import ExportFilters, export_query

    engine = create_engine(url)
    query = export_query(Scope(SECTION), ExportFilters(case_id=case_id or None, personal=True))
    started_rss = current_rss_mb()
    reset_peak()
    started = time.perf_counter()
    lines = 0
    with engine.connect() as connection, open(os.devnull, "w", newline="") as sink:
        writer = csv.writer(sink)
        result = connection.execution_options(stream_results=True, yield_per=2000).execute(query)
        for rows in result.partitions():
            writer.writerows(rows)
            lines += len(rows)
    return {"rows": lines, "bytes": None, "seconds": time.perf_counter() - started, "start_rss_mb": started_rss}


def child(mode: str, url: str, case_id: str) -> None:
    result = (measure_app if mode == "app" else measure_bare)(url, case_id)
    result["export_peak_mb"] = window_peak_mb()
    result["ru_maxrss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def run_child(mode: str, url: str, case_id: str) -> dict:
    env = {**os.environ, "ECRIRE_SECURE_COOKIES": "0"}
    output = subprocess.run([sys.executable, __file__, "--child", mode, url, case_id],
                            check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(output.strip().splitlines()[-1])


# -- the report -----------------------------------------------------------------------


def report(database: str, url: str, cases: list[str], rows: int, small: int) -> None:
    runs = [
        (f"app, all ({rows:,} rows)", "app", ""),
        (f"app, 1 case ({small:,} rows)", "app", cases[0]),
        (f"bare csv, all ({rows:,} rows)", "bare", ""),
    ]
    print(f"\n{database}: streaming export with personal data (MB: RSS before the export, peak during it, growth)")
    print(f"  {'run':32} {'rows':>10} {'s':>7} {'rows/s':>8} {'before':>7} {'peak':>7} {'growth':>7} {'ru_maxrss':>9}")
    for label, mode, case_id in runs:
        r = run_child(mode, url, case_id)
        growth = r["export_peak_mb"] - r["start_rss_mb"]
        print(f"  {label:32} {r['rows']:>10,} {r['seconds']:>7.2f} {r['rows'] / r['seconds']:>8,.0f} "
              f"{r['start_rss_mb']:>7.1f} {r['export_peak_mb']:>7.1f} {growth:>+7.1f} {r['ru_maxrss_mb']:>9.1f}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_EXPORT_ROWS", 1_000_000)))
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "URL", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    small = min(args.small, args.rows)
    with tempfile.TemporaryDirectory(prefix="ecrire-bench-export-") as folder:
        os.environ["ECRIRE_INSTANCE"] = str(Path(folder) / "instance")
        path = Path(folder) / "export.sqlite3"
        url = f"sqlite:///{path}"
        started = time.perf_counter()
        cases = prepare(url)
        fill_sqlite(str(path), args.rows, small, cases)
        print(f"SQLite: {args.rows:,} actions and supporters inserted in {time.perf_counter() - started:.1f} s")
        report("SQLite", url, cases, args.rows, small)
        if not args.no_postgres:
            postgres(args.rows, small)
    return 0


def postgres(rows: int, small: int) -> None:
    from tests.postgres_server import PostgresServer, find_bindir

    bindir = find_bindir()
    try:
        import psycopg  # noqa: F401
    except ImportError:
        bindir = None
    if bindir is None:
        print("\nPostgreSQL: not installed, skipped")
        return
    server = PostgresServer(bindir).start()
    try:
        url = server.create_database("bench_export")
        started = time.perf_counter()
        cases = prepare(url)
        dsn = f"dbname=bench_export user=app host={server.folder}"
        fill_postgres(dsn, rows, small, cases)
        print(f"\nPostgreSQL: {rows:,} actions and supporters inserted in {time.perf_counter() - started:.1f} s")
        report("PostgreSQL", url, cases, rows, small)
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
