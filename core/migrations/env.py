from core.schema import run_migrations

run_migrations()
