"""``flask plugins check``: what a section's CI runs against its plugins (in progress)."""
from __future__ import annotations

import click


@click.command("check")
def check_command() -> None:
    """Check every installed plugin; exit non-zero when something is wrong."""
    raise click.ClickException("not written yet")
