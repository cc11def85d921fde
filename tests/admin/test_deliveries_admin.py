"""The admin's Deliveries page: counts, failed items with their error,
retry now, closing held bundles, and downloading what channels produced."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select, update

from core.models import AuditEntry, Delivery, utcnow
from core.testing import run_worker_once
from tests.admin.conftest import create_accounts, post_form, sign_in
from tests.conftest import text_of
from tests.test_outbox_worker import add_items, install_target

PAGE = "/admin/deliveries"


@pytest.fixture
def app(outside_plugin, make_app, tmp_path, monkeypatch):
    """fr delivers through the "target" channel (a file of delivered keys)."""
    install_target(outside_plugin)
    monkeypatch.setenv("TARGET_FILE", str(tmp_path / "target.txt"))
    monkeypatch.setenv("TARGET_MODE", "ok")
    app = make_app(plugins={"fr": ["filetarget"]}, ECRIRE_DELIVERY_FILES=str(tmp_path / "files"))
    create_accounts(app)
    return app


def db(app):
    return app.extensions["ecrire"].db


def row(app, delivery_id: int) -> Delivery:
    with db(app).session() as session:
        return session.get(Delivery, delivery_id)


def ids_of(app, keys: list[str]) -> list[int]:
    with db(app).session() as session:
        return list(session.scalars(select(Delivery.id).where(Delivery.key.in_(keys)).order_by(Delivery.id)))


def fail(app, key: str, error: str, attempts: int = 8) -> int:
    with db(app).writing() as session:
        session.execute(update(Delivery).where(Delivery.key == key).values(status="failed", attempts=attempts, last_error=error))
    return ids_of(app, [key])[0]


def audit(app, verb: str) -> list[dict]:
    with db(app).session() as session:
        return [e.detail for e in session.scalars(select(AuditEntry).where(AuditEntry.action == verb))]


def add_bundle(app, section: str, files: list[str], channel: str = "target") -> int:
    now = utcnow()
    with db(app).writing() as session:
        result = session.execute(
            insert(Delivery).values(
                key=f"bundle:{section}:{len(files)}:{files[0]}", section_code=section, case_id="damisoa", kind="bundle",
                channel=channel, bundle=False, recipient={"name": "Ambassade"}, body={"kind": "letter", "count": 2},
                status="done", files=files, attempts=1, next_attempt_at=now, created_at=now, updated_at=now,
            )
        )
        return result.inserted_primary_key[0]


def test_failed_item_shows_its_error_and_retry_now_delivers_it(app, tmp_path):
    keys = add_items(db(app), 3)
    failed_id = fail(app, keys[0], "target down (attempt 8)")
    admin = sign_in(app, "fr.localhost", "fr-admin@example.org")
    page = admin.get(PAGE)
    assert page.status_code == 200
    text = text_of(page)
    assert "pending target 2" in text and "failed target 1" in text
    assert f"{failed_id} failed letter – target 8" in text and "target down (attempt 8)" in text
    assert "Retry now" in text

    response = post_form(admin, f"{PAGE}/{failed_id}/retry", page=PAGE)
    assert response.status_code == 302
    assert f"Delivery #{failed_id} will be tried again right away." in text_of(admin.get(PAGE))
    retried = row(app, failed_id)
    # Due now, attempts start again (see outbox.retry_now); the last error stays until the next attempt.
    assert (retried.status, retried.attempts, retried.last_error) == ("pending", 0, "target down (attempt 8)")
    assert retried.next_attempt_at.replace(tzinfo=dt.timezone.utc) <= utcnow()
    assert audit(app, "delivery.retry") == [{"id": failed_id}]

    assert run_worker_once(app).delivered == 3
    assert sorted((tmp_path / "target.txt").read_text().split()) == sorted(keys)
    assert row(app, failed_id).status == "done"
    assert "No failed or unrouted deliveries." in text_of(admin.get(PAGE))


def test_retry_is_for_managers_of_the_same_section_and_waiting_rows(app):
    keys = add_items(db(app), 2)
    failed_id = fail(app, keys[0], "boom")
    done_id = ids_of(app, [keys[1]])[0]
    with db(app).writing() as session:
        session.execute(update(Delivery).where(Delivery.id == done_id).values(status="done"))
    be_admin = sign_in(app, "be.localhost", "be-admin@example.org")
    assert "boom" not in be_admin.get(PAGE).get_data(as_text=True)
    assert post_form(be_admin, f"{PAGE}/{failed_id}/retry", page=PAGE).status_code == 404
    assert sign_in(app, "fr.localhost", "fr-moderator@example.org").get(PAGE).status_code == 403
    admin = sign_in(app, "fr.localhost", "fr-admin@example.org")
    response = post_form(admin, f"{PAGE}/{done_id}/retry", page=PAGE)
    assert "cannot be retried now" in text_of(admin.get(response.headers["Location"]))
    assert row(app, failed_id).status == "failed" and row(app, done_id).status == "done"
    assert audit(app, "delivery.retry") == []


def test_held_items_show_when_their_window_closes_and_can_be_closed_now(app):
    keys = add_items(db(app), 2, prefix="held")
    closes = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)
    with db(app).writing() as session:
        session.execute(update(Delivery).where(Delivery.key.in_(keys)).values(status="held", next_attempt_at=closes, case_id="damisoa"))
    admin = sign_in(app, "fr.localhost", "fr-admin@example.org")
    page = admin.get(PAGE)
    assert 'datetime="2026-11-30T00:00:00' in page.get_data(as_text=True)
    assert "target letter damisoa" in text_of(page)
    response = post_form(admin, f"{PAGE}/close-bundles", page=PAGE)
    assert "1 bundle is ready to be sent." in text_of(admin.get(response.headers["Location"]))
    assert {row(app, i).status for i in ids_of(app, keys)} == {"bundled"}
    [detail] = audit(app, "delivery.close_bundles")
    assert len(detail["ids"]) == 1
    assert "bundled target 2" in text_of(admin.get(PAGE))  # items, and the bundle row apart
    # A bundle that fails is retried whole, its items with it.
    with db(app).writing() as session:
        session.execute(update(Delivery).where(Delivery.id == detail["ids"][0]).values(status="failed", last_error="closed"))
        session.execute(update(Delivery).where(Delivery.batch_id == detail["ids"][0]).values(status="failed"))
    post_form(admin, f"{PAGE}/{detail['ids'][0]}/retry", page=PAGE)
    assert row(app, detail["ids"][0]).status == "pending"
    assert {row(app, i).status for i in ids_of(app, keys)} == {"bundled"}


def test_bundle_files_download_only_inside_the_section_and_folder(app, tmp_path):
    folder = tmp_path / "files" / "fr" / "target"
    folder.mkdir(parents=True)
    (folder / "batch-1.pdf").write_bytes(b"%PDF-1.4 printed post batch")
    secret = tmp_path / "files" / "be" / "target"
    secret.mkdir(parents=True)
    (secret / "theirs.pdf").write_bytes(b"%PDF-1.4 Belgian batch")
    fr_bundle = add_bundle(app, "fr", ["batch-1.pdf"])
    be_bundle = add_bundle(app, "be", ["theirs.pdf"])
    sneaky = add_bundle(app, "fr", ["../../be/target/theirs.pdf"])

    admin = sign_in(app, "fr.localhost", "fr-admin@example.org")
    page = admin.get(PAGE).get_data(as_text=True)
    link = f"{PAGE}/{fr_bundle}/files/batch-1.pdf"
    assert f'href="{link}"' in page
    download = admin.get(link)
    assert download.status_code == 200 and download.data == b"%PDF-1.4 printed post batch"
    assert "attachment" in download.headers["Content-Disposition"]
    assert audit(app, "delivery.download") == [{"id": fr_bundle, "file": "batch-1.pdf"}]

    assert admin.get(f"{PAGE}/{be_bundle}/files/theirs.pdf").status_code == 404  # another section's row
    assert admin.get(f"{PAGE}/{sneaky}/files/../../be/target/theirs.pdf").status_code == 404
    assert admin.get(f"{PAGE}/{sneaky}/files/..%2F..%2Fbe%2Ftarget%2Ftheirs.pdf").status_code == 404
    assert admin.get(f"{PAGE}/{fr_bundle}/files/other.pdf").status_code == 404  # not listed on the row
    assert len(audit(app, "delivery.download")) == 1
    # The Belgian admin gets theirs on their own portal; a moderator gets nothing.
    be_admin = sign_in(app, "be.localhost", "be-admin@example.org")
    assert be_admin.get(f"{PAGE}/{be_bundle}/files/theirs.pdf").data == b"%PDF-1.4 Belgian batch"
    assert sign_in(app, "fr.localhost", "fr-moderator@example.org").get(link).status_code == 403
