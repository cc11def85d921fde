"""Applying Alembic migrations: the core's, then each plugin's.

Each plugin that ships a ``migrations/`` folder gets its own version table
(``alembic_version_<plugin>``) so plugins never share a migration history
with the core or with each other. A plugin's ``migrations/env.py`` is just::

    from core.toolkit import run_migrations
    run_migrations()
"""
from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

CORE_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CORE_VERSION_TABLE = "alembic_version"


def alembic_config(engine: Engine, script_location: Path, version_table: str, metadata=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["engine"] = engine
    config.attributes["version_table"] = version_table
    config.attributes["target_metadata"] = metadata
    return config


def migration_sets(portal) -> list[tuple[str, Config]]:
    """(name, config) for the core and every plugin that has migrations."""
    from core.models import Base

    engine = portal.db.engine
    sets = [("core", alembic_config(engine, CORE_MIGRATIONS, CORE_VERSION_TABLE, Base.metadata))]
    for name, info in sorted(portal.registry.plugins.items()):
        folder = info.resource_dir("migrations")
        if folder is not None and (folder / "env.py").exists():
            sets.append((name, alembic_config(engine, folder, f"alembic_version_{name}")))
    return sets


def upgrade(portal) -> list[str]:
    done = []
    for name, config in migration_sets(portal):
        command.upgrade(config, "head")
        done.append(name)
    return done


def pending(portal) -> dict[str, bool]:
    """Whether each migration set is behind its head revision."""
    result = {}
    with portal.db.engine.connect() as conn:
        for name, config in migration_sets(portal):
            heads = set(ScriptDirectory.from_config(config).get_heads())
            ctx = MigrationContext.configure(conn, opts={"version_table": config.attributes["version_table"]})
            result[name] = set(ctx.get_current_heads()) != heads
    return result


def run_migrations() -> None:
    """The body of every ``env.py``: online migrations on the app's engine."""
    config = context.config
    engine: Engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=config.attributes.get("target_metadata"),
            version_table=config.attributes["version_table"],
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
