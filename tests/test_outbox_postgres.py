"""Two delivery workers on a real PostgreSQL server drain 10,000 items
together (``SELECT ... FOR UPDATE SKIP LOCKED``): each is delivered once."""
from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections import Counter

from sqlalchemy import func, select

from core import plugin_state, schema
from core.models import Delivery
from core.testing import TEST_CONFIG, load_demo_data
from tests.test_outbox_worker import ROOT, add_items, install_target, lines, worker_env

ITEMS = 10_000


def test_two_workers_drain_10000_items_each_delivered_once(postgres, outside_plugin, tmp_path, monkeypatch):
    from core.app import create_app

    site = install_target(outside_plugin)
    url = postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("ECRIRE_INSTANCE", str(tmp_path / "instance"))
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
    portal = app.extensions["ecrire"]
    assert portal.db.dialect == "postgresql"
    try:
        schema.upgrade(portal)
        load_demo_data(app)
        with portal.db.writing() as session:
            plugin_state.set_enabled(session, portal.registry, "fr", "filetarget", True)
        keys = add_items(portal.db, ITEMS)

        target = tmp_path / "target.txt"
        env = worker_env(site, url, tmp_path / "instance", target)
        command = [sys.executable, "-m", "flask", "deliveries", "run", "--once", "--batch", "100"]
        started = time.monotonic()
        workers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(2)]
        outputs = [worker.communicate(timeout=240) for worker in workers]
        elapsed = time.monotonic() - started
        for worker, (_out, err) in zip(workers, outputs):
            assert worker.returncode == 0, err[-2000:]

        received = Counter(lines(target))
        twice = {key: n for key, n in received.items() if n > 1}
        shares = [out.strip().splitlines()[-1] for out, _err in outputs]
        message = (f"{ITEMS} items, 2 workers on PostgreSQL: {elapsed:.1f} s ({ITEMS / elapsed:.0f} items/s, "
                   f"process start-up included); {len(received)} distinct keys, {len(twice)} delivered twice; "
                   f"workers: {shares}")
        print("\n" + message)
        assert not twice, message
        assert set(received) == set(keys), message
        assert all(int(s.split()[1].rstrip(",")) > 0 for s in shares), "one worker did all the work: " + message
        with portal.db.session() as session:
            by_status = dict(session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
        assert by_status == {"done": ITEMS}, message
    finally:
        portal.db.dispose()
