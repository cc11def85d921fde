"""What `make run` does: migrate, load the demo, and keep data on a re-run."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.script import ScriptDirectory
from alembic.migration import MigrationContext

from core.models import Base
from core.schema import CORE_MIGRATIONS
from tests.conftest import section_client, sign, text_of


def _core_objects(obj, name, type_, reflected, compare_to) -> bool:
    """Tables plugins create with their own migrations are not the core's."""
    return not (type_ == "table" and reflected and compare_to is None)


def test_migrations_build_exactly_the_models(app):
    engine = app.extensions["ecrire"].db.engine
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _core_objects})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_setup_commands_are_idempotent_and_keep_data(make_app):
    app = make_app(load_demo=False)
    runner = app.test_cli_runner()
    for command in (["db", "upgrade"], ["demo", "load"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, result.output
    assert "5 cases, 4 success stories" in result.output
    fr = section_client(app, "fr.localhost")
    sign(fr)
    runner.invoke(args=["plugins", "disable", "be", "petition"])
    for command in (["db", "upgrade"], ["demo", "load"]):
        assert runner.invoke(args=command).exit_code == 0
    assert "France : 1 action" in text_of(fr.get("/cases/sonia-dahmani"))
    # An admin's choice survives the re-run.
    assert "Signer la pétition" not in text_of(section_client(app, "be.localhost").get("/cases/sonia-dahmani"))
    assert runner.invoke(args=["db", "pending"]).exit_code == 0


def test_withdrawn_case_disappears_but_its_actions_stay(app, monkeypatch):
    from plugins import demo_cases

    fr = section_client(app, "fr.localhost")
    sign(fr, case_id="damisoa")
    original = demo_cases._load

    def without_damisoa():
        data = original()
        data["cases"] = [c for c in data["cases"] if c["id"] != "damisoa"]
        return data

    monkeypatch.setattr(demo_cases, "_load", without_damisoa)
    result = app.test_cli_runner().invoke(args=["cases", "sync"])
    assert "1 withdrawn" in result.output
    assert fr.get("/cases/damisoa").status_code == 404
    assert "Damisoa" not in text_of(fr.get("/"))
    counts = app.extensions["ecrire"].counts.get(app.extensions["ecrire"].db.session(), fresh=True)
    assert counts.case("fr", "damisoa") == 1


PLUGIN_MIGRATION = '''
from alembic import op
import sqlalchemy as sa

revision = "pc0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("postcard_printers", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(80)))


def downgrade():
    op.drop_table("postcard_printers")
'''


def test_plugin_migrations_run_with_their_own_version_table(outside_plugin, make_app):
    from sqlalchemy import inspect, text

    outside_plugin(
        "ecrire-printers",
        {
            "printers/__init__.py": '"""Postcard printers."""\n',
            "printers/migrations/env.py": "from core.toolkit import run_migrations\n\nrun_migrations()\n",
            "printers/migrations/script.py.mako": "",
            "printers/migrations/versions/pc0001_printers.py": PLUGIN_MIGRATION,
        },
        {"printers": "printers"},
    )
    app = make_app()
    runner = app.test_cli_runner()
    pending = runner.invoke(args=["db", "pending"])
    assert pending.exit_code == 1 and "pending migrations: printers" in pending.output
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "migrations up to date: printers" in result.output
    engine = app.extensions["ecrire"].db.engine
    tables = set(inspect(engine).get_table_names())
    assert {"postcard_printers", "alembic_version_printers", "alembic_version"} <= tables
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version_printers")).scalar() == "pc0001"
        core_version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    # the core's own history is untouched by the plugin's
    assert core_version == ScriptDirectory(str(CORE_MIGRATIONS)).get_current_head()
    assert runner.invoke(args=["db", "pending"]).exit_code == 0


def test_plugin_settings_come_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("ECRIRE_WEBHOOKS", '{"fr": {"url": "http://127.0.0.1:9/hook", "secret": "s"}}')
    monkeypatch.setenv("ECRIRE_SMTP_HOST", "mail.example.org")
    app = make_app()
    assert app.config["ECRIRE_WEBHOOKS"] == {"fr": {"url": "http://127.0.0.1:9/hook", "secret": "s"}}
    assert app.config["ECRIRE_SMTP_HOST"] == "mail.example.org"
