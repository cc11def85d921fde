"""``flask`` commands for operators and section admins."""
from __future__ import annotations

import signal
import threading
import time
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from core import (
    bundles,
    catalogue,
    delivery_report,
    moderation,
    outbox,
    plugin_check,
    plugin_state,
    privacy,
    scaffold,
    schema,
)
from core.models import PrivacyRequest


def _portal():
    return current_app.extensions["ecrire"]


db_cli = AppGroup("db", help="Database schema.")
plugins_cli = AppGroup("plugins", help="Installed plugins and where they are on.")
sections_cli = AppGroup("sections", help="Sections defined by the installed section plugins.")
cases_cli = AppGroup("cases", help="Cases and success stories from the case sources.")
demo_cli = AppGroup("demo", help="Demo data for a first run.")
deliveries_cli = AppGroup("deliveries", help="The delivery worker.")
privacy_cli = AppGroup("privacy", help="Supporters' data: retention and requests.")
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
    try:
        plugin_state.switch(_portal(), section, plugin, enabled)
    except LookupError as exc:
        raise click.ClickException(str(exc.args[0])) from exc
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
    """Sections and cases for a first run; safe to run again (keeps data).
    With no admin account yet, a demo global admin is created and its
    password written to the instance folder (demo-admin.txt), so a newcomer
    can open /admin at once."""
    ctx.invoke(sections_sync)
    ctx.invoke(cases_sync)
    _demo_admin()


DEMO_ADMIN = "admin@demo.localhost"


def _demo_admin() -> None:
    import secrets
    from pathlib import Path

    from core.admin.auth import create_account
    from core.models import AdminUser

    portal = _portal()
    with portal.db.writing() as session:
        if session.scalar(select(AdminUser.id).limit(1)) is not None:
            return
        password = secrets.token_urlsafe(12)
        create_account(session, DEMO_ADMIN, "Demo admin", password, True, [])
    note = Path(current_app.instance_path) / "demo-admin.txt"
    note.parent.mkdir(parents=True, exist_ok=True)
    note.touch(mode=0o600)
    note.write_text(f"{DEMO_ADMIN}\n{password}\n")
    click.echo(f"demo admin (all sections): {DEMO_ADMIN}, password in {note}")


#: How often the long-running worker also applies the sections' retention.
PURGE_EVERY = 24 * 3600.0


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
    last_purge = 0.0
    try:
        while True:
            if not once and time.monotonic() - last_purge >= PURGE_EVERY:  # the daily retention pass
                last_purge = time.monotonic()
                for code, report in privacy.purge(portal).items():
                    if report.supporters or report.unconfirmed:
                        click.echo(f"privacy: {code}: erased {report.supporters} supporter(s), "
                                   f"expired {report.unconfirmed} unconfirmed action(s)", err=True)
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
    with _portal().db.session() as session:
        report = delivery_report.summary(session, limit=limit)
    for row in report.items:
        click.echo(f"{row.status:9} {row.channel or '-':20} {row.count}")
    click.echo(", ".join(f"{status} {count}" for status, count in report.items_by_status.items()) or "no deliveries")
    if report.bundles:
        click.echo("bundles: " + ", ".join(f"{status} {count}" for status, count in report.bundles_by_status.items()))
    for row in report.problems:
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


@privacy_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Only say how many supporters would be erased.")
@click.option("--section", default=None, help="Only this section.")
def privacy_purge(dry_run: bool, section: str | None) -> None:
    """Erase the personal data of supporters past their section's retention
    period (counts are kept)."""
    done = privacy.purge(_portal(), dry_run=dry_run, section_code=section)
    verb = "would erase" if dry_run else "erased"
    for code, report in done.items():
        click.echo(f"{code}: {verb} {report.supporters} supporter(s), {report.unconfirmed} unconfirmed action(s)")


@privacy_cli.command("requests")
@click.option("--section", default=None, help="Only this section.")
def privacy_requests(section: str | None) -> None:
    """Supporters' requests not carried out yet, with their deadline."""
    with _portal().db.session() as session:
        query = select(PrivacyRequest).where(PrivacyRequest.status == "requested").order_by(PrivacyRequest.due_at)
        if section:
            query = query.where(PrivacyRequest.section_code == section)
        for row in session.scalars(query):
            click.echo(f"#{row.id} {row.section_code} {row.kind} requested {row.requested_at:%Y-%m-%d}, due {row.due_at:%Y-%m-%d}")


def register(app: Flask) -> None:
    for group in (db_cli, plugins_cli, sections_cli, cases_cli, demo_cli, deliveries_cli, moderation_cli, privacy_cli):
        app.cli.add_command(group)
