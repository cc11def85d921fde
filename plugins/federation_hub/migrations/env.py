from core.toolkit import run_migrations

run_migrations()
