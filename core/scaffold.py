"""``flask plugins new``: write a ready outside-plugin distribution (in progress)."""
from __future__ import annotations

import click


@click.command("new")
@click.argument("name")
@click.option("--kind", type=click.Choice(["action", "channel", "source", "section"]), required=True)
@click.option("--directory", type=click.Path(file_okay=False), default=".", show_default=True)
def new_command(name: str, kind: str, directory: str) -> None:
    """Write a new plugin distribution NAME of the given kind."""
    raise click.ClickException("not written yet")
