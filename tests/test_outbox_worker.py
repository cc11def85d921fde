"""The delivery worker as a real process: killed with SIGKILL mid-batch and
restarted, it loses nothing; retries back off; permanent failures stop."""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update

from core import outbox
from core.models import Delivery, utcnow
from core.testing import run_worker_once

ROOT = Path(__file__).resolve().parents[1]

#: A channel whose "target" is a file: one line per item key, appended with
#: O_APPEND (atomic per line across processes). It cannot deduplicate, so a
#: key seen twice in the file is a real duplicate delivery.
TARGET = textwrap.dedent(
    '''
    """A delivery channel writing each item's key to the file TARGET_FILE."""
    import os, time
    from core.toolkit import Delivered, DeliveryChannel, RetryLater, Undeliverable, hookimpl

    class FileTarget(DeliveryChannel):
        name = "target"

        def deliver(self, item):
            mode = os.environ.get("TARGET_MODE", "ok")
            if mode == "down":
                return RetryLater(f"target down (attempt {item.attempt})")
            if mode == "bad":
                return Undeliverable("no such target")
            fd = os.open(os.environ["TARGET_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, (item.key + "\\n").encode())
            finally:
                os.close(fd)
            time.sleep(float(os.environ.get("TARGET_SLEEP", "0")))
            return Delivered(reference=item.key)

    @hookimpl
    def ecrire_delivery_channels():
        return [FileTarget()]
    '''
)


def install_target(outside_plugin) -> str:
    """Install the target channel plugin; returns its site folder."""
    return outside_plugin("ecrire-target", {"filetarget/__init__.py": TARGET}, {"filetarget": "filetarget"})


def add_items(db, count: int, section: str = "fr", prefix: str = "item") -> list[str]:
    """Insert ``count`` pending, due outbox rows routed to the target channel."""
    now = utcnow()
    keys = [f"{prefix}-{i:05d}" for i in range(count)]
    rows = [
        {"key": key, "section_code": section, "case_id": None, "kind": "letter", "channel": "target", "bundle": False,
         "recipient": {"name": "Target"}, "body": {"n": i}, "status": "pending", "attempts": 0,
         "next_attempt_at": now, "created_at": now, "updated_at": now}
        for i, key in enumerate(keys)
    ]
    with db.writing() as session:
        for start in range(0, len(rows), 1000):
            session.execute(insert(Delivery), rows[start : start + 1000])
    return keys


def worker_env(site: str, database_url: str, instance: Path, target: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        FLASK_APP="wsgi",
        DATABASE_URL=database_url,
        ECRIRE_INSTANCE=str(instance),
        PYTHONPATH=os.pathsep.join([site, str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        TARGET_FILE=str(target),
        **extra,
    )
    return env


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "deliveries", "run", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def statuses(db) -> dict[str, int]:
    with db.session() as session:
        return dict(session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())


@pytest.fixture
def target_app(outside_plugin, make_app, tmp_path, monkeypatch):
    site = install_target(outside_plugin)
    app = make_app(plugins={"fr": ["filetarget"]})
    target = tmp_path / "target.txt"
    monkeypatch.setenv("TARGET_FILE", str(target))
    return app, site, target


def test_worker_killed_mid_batch_loses_nothing(target_app, tmp_path):
    app, site, target = target_app
    db = app.extensions["ecrire"].db
    keys = add_items(db, 300)
    lease = 2.0
    env = worker_env(site, app.config["DATABASE_URL"], tmp_path / "instance", target,
                     TARGET_SLEEP="0.01", ECRIRE_DELIVERY_LEASE_SECONDS=str(lease))

    worker = start_worker(env, "--interval", "0.2")
    deadline = time.monotonic() + 30
    while len(lines(target)) < 120 and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.01)
    assert worker.poll() is None, f"the worker ended early: {worker.communicate()}"
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=10)
    killed_at = time.monotonic()

    delivered_before = len(lines(target))
    at_kill = statuses(db)
    in_flight = at_kill.get("sending", 0)  # claimed, not marked: the only ones that can come twice
    assert 0 < delivered_before < 300 and in_flight > 0, (delivered_before, at_kill)

    time.sleep(max(0.0, lease + 0.2 - (time.monotonic() - killed_at)))
    restarted = subprocess.run(
        [sys.executable, "-m", "flask", "deliveries", "run", "--once"],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert restarted.returncode == 0, restarted.stderr

    received = Counter(lines(target))
    duplicates = sum(n - 1 for n in received.values() if n > 1)
    message = (f"kill -9 after {delivered_before} of 300 delivered, {in_flight} claimed but not marked; "
               f"after restart: {len(received)} distinct, duplicates: {duplicates}")
    print("\n" + message)
    assert set(received) == set(keys), "lost: " + message
    assert duplicates <= in_flight, message
    assert statuses(db) == {"done": 300}, message


def test_sigterm_stops_between_items_and_hands_back_the_batch(target_app, tmp_path):
    app, site, target = target_app
    db = app.extensions["ecrire"].db
    add_items(db, 200)
    env = worker_env(site, app.config["DATABASE_URL"], tmp_path / "instance", target, TARGET_SLEEP="0.01")
    worker = start_worker(env, "--interval", "0.2")
    deadline = time.monotonic() + 30
    while len(lines(target)) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=20)
    assert worker.returncode == 0, err
    assert "SIGTERM" in err and "handed back" in err
    now = statuses(db)
    sent = len(lines(target))
    assert "sending" not in now, now  # nothing left waiting for a lease
    assert now.get("done") == sent and now.get("pending") == 200 - sent, (now, sent)
    assert f"delivered {sent}," in out


def test_backoff_grows_exponentially_with_jitter():
    for attempt, base in ((1, 30), (2, 60), (3, 120), (4, 240)):
        waits = [outbox.backoff(attempt).total_seconds() for _ in range(200)]
        assert all(base * 0.8 <= w <= base * 1.2 for w in waits), (attempt, min(waits), max(waits))
        assert len(set(waits)) > 100  # jittered, not one fixed delay


def make_due(db) -> None:
    with db.writing() as session:
        session.execute(update(Delivery).values(next_attempt_at=utcnow() - dt.timedelta(seconds=1)))


def only_row(db) -> Delivery:
    with db.session() as session:
        [row] = session.scalars(select(Delivery)).all()
        return row


def test_retry_until_the_limit_then_failed_with_last_error(target_app, monkeypatch):
    app, _site, target = target_app
    db = app.extensions["ecrire"].db
    add_items(db, 1)
    monkeypatch.setenv("TARGET_MODE", "down")
    report = run_worker_once(app)
    assert (report.retrying, report.failed) == (1, 0)
    row = only_row(db)
    wait = (row.next_attempt_at.replace(tzinfo=dt.UTC) if row.next_attempt_at.tzinfo is None else row.next_attempt_at) - utcnow()
    assert (row.status, row.attempts) == ("pending", 1)
    assert dt.timedelta(seconds=20) <= wait <= dt.timedelta(seconds=36), wait
    assert run_worker_once(app).handled == 0  # not due yet

    for attempt in range(2, outbox.MAX_ATTEMPTS + 1):
        make_due(db)
        report = run_worker_once(app)
        assert report.handled == 1
    row = only_row(db)
    assert (row.status, row.attempts) == ("failed", outbox.MAX_ATTEMPTS)
    assert row.last_error == f"target down (attempt {outbox.MAX_ATTEMPTS})"
    make_due(db)
    assert run_worker_once(app).handled == 0  # failed is final
    assert not target.exists()

    result = app.test_cli_runner().invoke(args=["deliveries", "status"])
    assert result.exit_code == 0, result.output
    assert "failed    target" in result.output
    assert f"failed #{row.id} fr - letter via target ({outbox.MAX_ATTEMPTS} attempts" in result.output
    assert f"target down (attempt {outbox.MAX_ATTEMPTS})" in result.output


def test_permanent_failure_is_not_retried(target_app, monkeypatch):
    app, _site, _target = target_app
    db = app.extensions["ecrire"].db
    add_items(db, 1)
    monkeypatch.setenv("TARGET_MODE", "bad")
    assert run_worker_once(app).failed == 1
    row = only_row(db)
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "no such target")
    make_due(db)
    assert run_worker_once(app).handled == 0


def test_status_lists_unrouted_items(target_app):
    app, _site, _target = target_app
    db = app.extensions["ecrire"].db
    add_items(db, 3)
    with db.writing() as session:
        session.execute(update(Delivery).where(Delivery.key == "item-00001").values(status="unrouted", channel=None))
    output = app.test_cli_runner().invoke(args=["deliveries", "status"]).output
    assert "pending   target               2" in output
    assert "unrouted  -                    1" in output
    assert "pending 2, unrouted 1" in output
    assert "unrouted #2 fr - letter via - (0 attempts" in output and "no route" in output


def test_lease_is_configurable(target_app, monkeypatch):
    app, _site, _target = target_app
    monkeypatch.delenv(outbox.LEASE_SETTING, raising=False)
    with app.app_context():
        assert outbox.lease() == outbox.LEASE
        monkeypatch.setenv(outbox.LEASE_SETTING, "3")
        assert outbox.lease() == dt.timedelta(seconds=3)
        app.config[outbox.LEASE_SETTING] = 7
        assert outbox.lease() == dt.timedelta(seconds=7)
