"""The section's dashboard, the admin's landing page: actions per day per
case, totals by action type, goal progress, deliveries by status and the
section's share of the world total.

Totals come from the counters (``core.counters``), never from counting
actions; only the per-day series groups actions by date, over this
section's rows and the campaign's days.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core import delivery_report, privacy
from core.admin import bp, charts
from core.admin.access import can, requires, scope
from core.models import Action, Delivery, utcnow

#: Action statuses that count (pending and rejected ones do not).
COUNTED = ("recorded", "approved")


@dataclass(frozen=True)
class GoalProgress:
    case_id: str
    person: str
    count: int
    goal: int | None

    @property
    def percent(self) -> int | None:
        return None if not self.goal else round(100 * self.count / self.goal)


def _portal() -> Any:
    return current_app.extensions["ecrire"]


def campaign_days(opens: dt.date, closes: dt.date, today: dt.date) -> list[dt.date]:
    """The campaign's days so far (none before it opens)."""
    last = min(closes, today)
    return [opens + dt.timedelta(days=n) for n in range((last - opens).days + 1)] if last >= opens else []


def _as_date(value: Any) -> dt.date:
    """``date()`` is a string on SQLite and a date on PostgreSQL."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def actions_per_day(session: Any, days: list[dt.date]) -> dict[tuple[dt.date, str], int]:
    """Counted actions per (UTC day, case) of this section within ``days``
    (an offline tally row counts for its ``count``)."""
    if not days:
        return {}
    start = dt.datetime.combine(days[0], dt.time(), dt.timezone.utc)
    end = dt.datetime.combine(days[-1] + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    day = func.date(Action.created_at)
    query = (
        select(day, Action.case_id, func.sum(Action.count))
        .where(Action.status.in_(COUNTED), Action.created_at >= start, Action.created_at < end)
        .group_by(day, Action.case_id)
    )
    return {(_as_date(d), case_id): int(n or 0) for d, case_id, n in session.execute(scope().where(query, Action))}


@bp.get("/")
@requires("moderate")
def home() -> Any:
    """Moderators land on their queue; everyone else on the dashboard."""
    if not can("view"):
        return redirect(url_for("admin.moderation"))
    portal, section = _portal(), g.section
    code = section.code
    days = campaign_days(section.campaign.opens, section.campaign.closes, utcnow().date())
    with portal.db.session() as session:
        counts = portal.counts.get(session)
        cases = portal.catalogue.cases(session, section, portal.case_sources(code), g.language)
        per_day = actions_per_day(session, days)
        deliveries = delivery_report.summary(session, lambda query: scope().where(query, Delivery), limit=0)
    types = portal.action_types(code)
    by_type = counts.by_action_type(code)
    totals = sorted(
        ((str(types[name].label) if name in types else name, n) for name, n in by_type.items()),
        key=lambda item: (-item[1], item[0]),
    )
    known = {case.id for case in cases}
    # Actions on cases no longer open still have their day in the series.
    people = {case.id: case.person for case in cases}
    series_ids = [case.id for case in cases] + sorted({c for _d, c in per_day} - known)
    series = [charts.Series(people.get(cid, cid), [per_day.get((d, cid), 0) for d in days]) for cid in series_ids]
    chart = None
    if days:
        chart = charts.line_chart(
            days,
            series,
            title=_("Actions per day and per case"),
            description=_(
                "Actions taken each day from %(first)s to %(last)s, one line per case; the numbers are in the table below.",
                first=days[0].isoformat(),
                last=days[-1].isoformat(),
            ),
            chart_id="per-day",
        )
    section_total, world_total = counts.section(code), counts.world()
    with current_app.extensions["ecrire"].db.session() as session:
        unconfirmed = privacy.unconfirmed_count(session, code)
    share = round(100 * section_total / world_total, 1) if world_total else None
    return render_template(
        "admin/dashboard.html",
        chart=chart,
        days=days,
        series=series,
        totals=totals,
        section_total=section_total,
        world_total=world_total,
        share=share,
        goals=[GoalProgress(case.id, case.person, counts.case(code, case.id), case.goal) for case in cases],
        deliveries=deliveries.items_by_status,
        bundles=deliveries.bundles_by_status,
        unconfirmed=unconfirmed,
    )
