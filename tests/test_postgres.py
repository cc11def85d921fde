"""The same portal on a real PostgreSQL server (DATABASE_URL)."""
from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import select

from core import counters, schema
from core.models import Action
from tests.conftest import TEST_CONFIG, load_demo_data, section_client, sign, text_of
from tests.test_counters import count_concurrently


@pytest.fixture
def pg_app(postgres, tmp_path, monkeypatch):
    from core.app import create_app

    monkeypatch.setenv("ECRIRE_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", postgres.create_database(f"t_{uuid.uuid4().hex[:12]}"))
    app = create_app(TEST_CONFIG)
    assert app.extensions["ecrire"].db.dialect == "postgresql"
    schema.upgrade(app.extensions["ecrire"])
    load_demo_data(app)
    yield app
    app.extensions["ecrire"].db.dispose()


def test_sign_and_count_on_postgresql(pg_app):
    fr = section_client(pg_app, "fr.localhost")
    assert sign(fr).status_code == 303
    assert sign(fr).status_code == 303  # the same email: counted once
    sign(section_client(pg_app, "be.localhost"), email="b@example.org")
    assert "France : 1 action" in text_of(fr.get("/cases/sonia-dahmani"))
    with pg_app.extensions["ecrire"].db.session() as session:
        assert len(session.scalars(select(Action)).all()) == 2


def test_concurrent_increments_on_postgresql_lose_nothing(pg_app):
    assert count_concurrently(pg_app.extensions["ecrire"], writers=8, each=50) == 400


def test_concurrent_duplicate_signatures_count_once_on_postgresql(pg_app):
    """Two requests from the same supporter at the same moment."""
    barrier = threading.Barrier(6)
    results = []

    def signer():
        client = section_client(pg_app, "fr.localhost")
        from tests.conftest import csrf_token

        token = csrf_token(client, "/cases/damisoa")
        barrier.wait()
        response = client.post(
            "/cases/damisoa/act/petition",
            data={"csrf_token": token, "name": "Sam", "email": "same@example.org", "country": "FR", "consent": "y",
                  "legal-petition-of_age": "adult"},
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=signer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [303] * 6
    portal = pg_app.extensions["ecrire"]
    with portal.db.session() as session:
        assert counters.read(session).case("fr", "damisoa") == 1
