"""Bundled routes: items are held until their window closes, then sent as
one bundle that is retried, and marked, as a whole."""
from __future__ import annotations

import datetime as dt
import json
import textwrap

import pytest
from sqlalchemy import func, select

from core import bundles
from core.models import Delivery, utcnow
from core.testing import run_worker_once, section_client, take_action
from core.types import Route

#: A channel keeping each bundle it gets in a JSON-lines file, failing while
#: COLLECTOR_DOWN is set; and a routing sending letters to it, bundled.
COLLECTOR = textwrap.dedent(
    '''
    import json, os
    from core.toolkit import Delivered, DeliveryChannel, Recipient, RetryLater, Route, hookimpl

    class Collector(DeliveryChannel):
        name = "collector"
        batch_size = 3

        def deliver_batch(self, batch):
            if os.environ.get("COLLECTOR_DOWN"):
                return RetryLater("collector down")
            (batch.files_dir).mkdir(parents=True, exist_ok=True)
            (batch.files_dir / f"{batch.id}.txt").write_text("\\n".join(i.body["signature"] for i in batch.items))
            with open(os.environ["COLLECTOR_FILE"], "a") as out:
                out.write(json.dumps({"key": batch.key, "kind": batch.kind, "case": batch.case.person,
                                      "section": batch.section.code, "settings": dict(batch.settings),
                                      "items": [i.body["signature"] for i in batch.items]}) + "\\n")
            return Delivered(reference=f"batch {batch.key}", files=[f"{batch.id}.txt"])

    @hookimpl
    def ecrire_delivery_channels():
        return [Collector()]

    @hookimpl(tryfirst=True)  # before the section's own routing
    def ecrire_letter_routing(section, case, action, request):
        if request.kind == "letter":
            return Route(Recipient("Embassy"), channel="collector", bundle=True)
    '''
)


@pytest.fixture
def app(outside_plugin, make_app, tmp_path, monkeypatch):
    outside_plugin("ecrire-collector", {"collector/__init__.py": COLLECTOR}, {"collector": "collector"})
    monkeypatch.setenv("COLLECTOR_FILE", str(tmp_path / "bundles.jsonl"))
    monkeypatch.delenv("COLLECTOR_DOWN", raising=False)
    return make_app(plugins={"fr": ["collector"]}, ECRIRE_DELIVERY_FILES=str(tmp_path / "files"))


def write_letter(client, name: str):
    response = take_action(
        client, "sonia-dahmani", "letter",
        letter="Madame, Monsieur,\n\nLibérez Sonia Dahmani.", name=name, town="Lyon",
        email=f"{name}@example.org", consent="y", step="send",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


def received(tmp_path) -> list[dict]:
    path = tmp_path / "bundles.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def statuses(app) -> dict[str, int]:
    with app.extensions["ecrire"].db.session() as session:
        return dict(session.execute(select(Delivery.status, func.count()).where(Delivery.kind == "letter").group_by(Delivery.status)).all())


def test_weekly_windows_close_on_monday():
    route = Route(recipient=None, channel="x", bundle=True)
    wednesday = dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.timezone.utc)
    assert bundles.closes_at(route, wednesday) == dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)
    monday = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)
    assert bundles.closes_at(route, monday) == dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc)
    assert bundles.closes_at(Route(recipient=None, channel="x", bundle=True, bundle_every=None), monday) is None


def test_letters_wait_for_their_window_then_go_as_bundles(app, tmp_path):
    client = section_client(app, "fr.localhost")
    for n in range(7):
        write_letter(client, f"writer{n}")
    assert statuses(app) == {"held": 7}
    run_worker_once(app)
    assert received(tmp_path) == [], "the window is still open"

    portal = app.extensions["ecrire"]
    created = bundles.close_bundles(portal, now=utcnow() + dt.timedelta(days=8))
    assert len(created) == 3, "7 letters, at most 3 per bundle"
    report = run_worker_once(app)
    assert report.delivered == 3
    got = received(tmp_path)
    assert [len(b["items"]) for b in got] == [3, 3, 1]
    assert sum((b["items"] for b in got), []) == [f"writer{n}" for n in range(7)], "every letter once, in order"
    assert {b["case"] for b in got} == {"Sonia Dahmani"} and {b["kind"] for b in got} == {"letter"}
    assert statuses(app) == {"done": 7}
    with portal.db.session() as session:
        done = session.scalars(select(Delivery).where(Delivery.kind == bundles.BUNDLE_KIND)).all()
    assert all(row.status == "done" and row.reference.startswith("batch ") for row in done)
    assert all((tmp_path / "files" / "fr" / "collector" / row.files[0]).exists() for row in done)
    assert run_worker_once(app).handled == 0 and len(received(tmp_path)) == 3, "nothing sent twice"


def test_a_failing_bundle_is_retried_whole(app, tmp_path, monkeypatch):
    client = section_client(app, "fr.localhost")
    for n in range(2):
        write_letter(client, f"writer{n}")
    monkeypatch.setenv("COLLECTOR_DOWN", "1")
    app.test_cli_runner().invoke(args=["deliveries", "bundle", "--now"])
    report = run_worker_once(app)
    assert report.retrying == 1 and statuses(app) == {"bundled": 2}
    monkeypatch.delenv("COLLECTOR_DOWN")
    with app.extensions["ecrire"].db.writing() as session:  # the back-off has passed
        for row in session.scalars(select(Delivery).where(Delivery.kind == bundles.BUNDLE_KIND)):
            row.next_attempt_at = utcnow()
    assert run_worker_once(app).delivered == 1
    assert [b["items"] for b in received(tmp_path)] == [["writer0", "writer1"]]
    assert statuses(app) == {"done": 2}
    status = app.test_cli_runner().invoke(args=["deliveries", "status"]).output
    assert "done 2" in status and "bundles: done 1" in status
