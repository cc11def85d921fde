"""``flask`` commands for operators and section admins."""
from __future__ import annotations

import signal
import threading
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from core import (
    bundles,
    catalogue,
    moderation,
    outbox,
    plugin_check,
    plugin_state,
    scaffold,
    schema,
)
from core.models import Delivery


def _portal():
    return current_app.extensions["ecrire"]


db_cli = AppGroup("db", help="Database schema.")
plugins_cli = AppGroup("plugins", help="Installed plugins and where they are on.")
sections_cli = AppGroup("sections", help="Sections defined by the installed section plugins.")
cases_cli = AppGroup("cases", help="Cases and success stories from the case sources.")
demo_cli = AppGroup("demo", help="Demo data for a first run.")
deliveries_cli = AppGroup("deliveries", help="The delivery worker.")
moderation_cli = AppGroup("moderation", help="The moderation queue (until the web admin has one).")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply the core's and every plugin's migrations."""
    for name in schema.upgrade(_portal()):
        click.echo(f"migrations up to date: {name}")


@db_cli.command("pending")
def db_pending() -> None:
    """Exit 1 if any migration set is behind."""
    behind = [name for name, late in schema.pending(_portal()).items() if late]
    for name in behind:
        click.echo(f"pending migrations: {name}")
    raise SystemExit(1 if behind else 0)


@sections_cli.command("sync")
def sections_sync() -> None:
    """Create the sections the installed plugins define (keeps existing choices)."""
    portal = _portal()
    with portal.db.writing() as session:
        created = plugin_state.ensure_sections(session, portal.registry)
    for code in created:
        click.echo(f"section created: {code}")
    click.echo(f"{len(portal.registry.sections)} sections defined")


@sections_cli.command("list")
def sections_list() -> None:
    portal = _portal()
    for code, definition in sorted(portal.registry.sections.items()):
        hosts = ", ".join(h for h, c in portal.hosts.items() if c == code)
        click.echo(f"{code:8} {definition.display_name(definition.default_language)} | {'/'.join(definition.languages)} | {hosts}")


@plugins_cli.command("list")
def plugins_list() -> None:
    """Every installed plugin, its version, hooks and the sections it is on in."""
    portal = _portal()
    with portal.db.session() as session:
        rows = plugin_state.status(session, portal.registry)
    for row in rows:
        click.echo(f"{row.name} {row.version or ''}".rstrip())
        if row.description:
            click.echo(f"    {row.description}")
        click.echo(f"    hooks: {', '.join(row.hooks) or '-'}")
        click.echo(f"    on in: {', '.join(row.enabled_in) or '-'}")


def _set(section: str, plugin: str, enabled: bool) -> None:
    portal = _portal()
    try:
        with portal.db.writing() as session:
            plugin_state.set_enabled(session, portal.registry, section, plugin, enabled)
    except LookupError as exc:
        raise click.ClickException(str(exc.args[0])) from exc
    portal.forget_plugin_state()
    click.echo(f"{plugin} {'enabled' if enabled else 'disabled'} for {section}")


@plugins_cli.command("enable")
@click.argument("section")
@click.argument("plugin")
def plugins_enable(section: str, plugin: str) -> None:
    """Switch PLUGIN on for SECTION (takes effect within seconds, no restart)."""
    _set(section, plugin, True)


@plugins_cli.command("disable")
@click.argument("section")
@click.argument("plugin")
def plugins_disable(section: str, plugin: str) -> None:
    """Switch PLUGIN off for SECTION."""
    _set(section, plugin, False)


@cases_cli.command("sync")
def cases_sync() -> None:
    """Read every case source and store what it yields."""
    portal = _portal()
    with portal.db.writing() as session:
        report = catalogue.sync(session, portal.registry)
    portal.catalogue.invalidate()
    click.echo(f"{report.cases} cases, {report.stories} success stories stored; {report.withdrawn} withdrawn")


@demo_cli.command("load")
@click.pass_context
def demo_load(ctx: click.Context) -> None:
    """Sections and cases for a first run; safe to run again (keeps data)."""
    ctx.invoke(sections_sync)
    ctx.invoke(cases_sync)


@deliveries_cli.command("run")
@click.option("--once", is_flag=True, help="Deliver what is due, then exit.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between polls when nothing is due.")
@click.option("--batch", default=100, show_default=True, help="Items claimed at a time.")
def deliveries_run(once: bool, interval: float, batch: int) -> None:
    """Deliver due outbox items until stopped (Ctrl-C / SIGTERM); --once drains what is due and exits.

    A stop request is honoured between items, never between a send and its
    mark; the rest of the claimed batch is handed back for the next worker.
    """
    portal = _portal()
    stop = threading.Event()
    previous: dict[int, Any] = {}

    def request_stop(signum: int, _frame: Any) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: the operator insists
        stop.set()
        click.echo(f"{signal.Signals(signum).name}: stopping after the current item", err=True)

    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[signum] = signal.signal(signum, request_stop)
        except ValueError:  # not the main thread (an embedding test): no signals
            pass
    def log_batch(report: outbox.WorkerReport, seconds: float) -> None:
        for error in report.errors:
            click.echo(f"  {error}", err=True)
        if report.handled or report.released:
            click.echo(
                f"batch: {report.delivered} done, {report.retrying} to retry, {report.failed} failed"
                f"{f', {report.released} handed back' if report.released else ''}"
                f" in {seconds:.2f}s",
                err=True,
            )

    total = outbox.WorkerReport()
    try:
        while True:
            total.add(outbox.drain(portal, batch, should_stop=stop.is_set, on_batch=log_batch))
            if once or stop.is_set():
                break
            stop.wait(interval)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    click.echo(f"delivered {total.delivered}, retrying {total.retrying}, failed {total.failed}")


@deliveries_cli.command("status")
@click.option("--limit", default=50, show_default=True, help="Failed and unrouted items listed at most.")
def deliveries_status(limit: int) -> None:
    """Counts by status and channel, then the failed and unrouted items with
    their last error: the admin's view until the web admin has one."""
    portal = _portal()
    with portal.db.session() as session:
        counts = session.execute(
            select(Delivery.status, Delivery.channel, func.count())
            .where(Delivery.kind != bundles.BUNDLE_KIND)
            .group_by(Delivery.status, Delivery.channel)
        ).all()
        bundle_counts = session.execute(
            select(Delivery.status, func.count()).where(Delivery.kind == bundles.BUNDLE_KIND).group_by(Delivery.status)
        ).all()
        problems = session.scalars(
            select(Delivery)
            .where(Delivery.status.in_(("failed", "unrouted")))
            .order_by(Delivery.status, Delivery.id)
            .limit(limit)
        ).all()
    by_status: dict[str, int] = {}
    for status, channel, count in sorted(counts, key=lambda r: (r[0], r[1] or "")):
        by_status[status] = by_status.get(status, 0) + count
        click.echo(f"{status:9} {channel or '-':20} {count}")
    click.echo(", ".join(f"{status} {count}" for status, count in sorted(by_status.items())) or "no deliveries")
    if bundle_counts:
        click.echo("bundles: " + ", ".join(f"{status} {count}" for status, count in sorted(bundle_counts)))
    for row in problems:
        when = row.updated_at.strftime("%Y-%m-%d %H:%M") if row.updated_at else "?"
        click.echo(
            f"{row.status} #{row.id} {row.section_code} {row.case_id or '-'} {row.kind} via {row.channel or '-'}"
            f" ({row.attempts} attempts, {when}): {row.last_error or 'no route'}"
        )


@deliveries_cli.command("bundle")
@click.option("--now", "force", is_flag=True, help="Close every held item's bundle now, not only ended windows.")
@click.option("--section", default=None, help="Only this section's held items.")
def deliveries_bundle(force: bool, section: str | None) -> None:
    """Close held items into bundles (the worker does this for ended windows;
    --now closes open ones too, say for a hand-over today)."""
    created = bundles.close_bundles(_portal(), force=force, section_code=section)
    click.echo(f"{len(created)} bundle(s) ready for the worker")


@moderation_cli.command("list")
@click.argument("section")
def moderation_list(section: str) -> None:
    """Actions of SECTION waiting for a moderator, oldest first."""
    items = moderation.pending(_portal(), section)
    for item in items:
        text = " | ".join(f"{k}: {v}" for k, v in sorted(item.payload.items()) if k != "language")
        click.echo(f"#{item.id} {item.created_at:%Y-%m-%d %H:%M} {item.case_id} {item.action_type}: {text}")
    click.echo(f"{len(items)} waiting")


@moderation_cli.command("approve")
@click.argument("section")
@click.argument("action_ids", nargs=-1, type=int, required=True)
def moderation_approve(section: str, action_ids: tuple[int, ...]) -> None:
    """Approve actions: they are counted and queued for delivery."""
    for action_id in action_ids:
        try:
            moderation.approve(_portal(), section, action_id)
        except moderation.ModerationError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"#{action_id} approved")


@moderation_cli.command("reject")
@click.argument("section")
@click.argument("action_id", type=int)
@click.option("--reason", required=True, help="Why (kept with the action).")
def moderation_reject(section: str, action_id: int, reason: str) -> None:
    try:
        moderation.reject(_portal(), section, action_id, reason)
    except moderation.ModerationError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"#{action_id} rejected")


plugins_cli.add_command(scaffold.new_command)
plugins_cli.add_command(plugin_check.check_command)


def register(app: Flask) -> None:
    for group in (db_cli, plugins_cli, sections_cli, cases_cli, demo_cli, deliveries_cli, moderation_cli):
        app.cli.add_command(group)
