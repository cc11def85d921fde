"""Supporters' rights and the section's retention rules.

*Access*: everything stored about an address in one section, as JSON.
*Erasure*: the supporter row is kept (so counts and "already signed" still
hold) but emptied; each action's payload goes through its action type's
``erase``; deliveries already made stay recorded as made, without their
content, and those not made yet are cancelled. The same erasure runs for
supporters past their section's retention (``flask privacy purge``, and
the delivery worker once a day).

Retention is counted from the end of the campaign in which the supporter
last acted: the first campaign close date (day and month of the section's
``campaign.closes``) on or after that action.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.models import Action, ConsentRecord, Delivery, PrivacyRequest, Supporter, utcnow
from core.types import SectionDefinition

ERASED = "(erased)"
#: Delivery states in which nothing has been sent yet.
NOT_SENT = ("pending", "held", "bundled", "unrouted", "failed")
#: How long a section has to answer a request.
ANSWER_WITHIN = dt.timedelta(days=30)


@dataclass
class ErasureReport:
    supporters: int = 0
    actions: int = 0
    consents: int = 0
    deliveries_cancelled: int = 0
    deliveries_already_made: int = 0
    emails: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "supporters": self.supporters,
            "actions": self.actions,
            "consents": self.consents,
            "deliveries_cancelled": self.deliveries_cancelled,
            "deliveries_already_made": self.deliveries_already_made,
        }


def normalise(email: str) -> str:
    return email.strip().lower()


def _supporter(session: Session, section_code: str, email: str) -> Supporter | None:
    return session.scalar(
        select(Supporter).where(
            Supporter.section_code == section_code, Supporter.email == normalise(email), Supporter.erased_at.is_(None)
        )
    )


def export(session: Session, section_code: str, email: str) -> dict[str, Any] | None:
    """What the section holds about ``email`` (None: nothing)."""
    supporter = _supporter(session, section_code, email)
    if supporter is None:
        return None
    actions = session.scalars(select(Action).where(Action.supporter_id == supporter.id).order_by(Action.id)).all()
    action_ids = [a.id for a in actions]
    deliveries = (
        session.scalars(select(Delivery).where(Delivery.action_id.in_(action_ids)).order_by(Delivery.id)).all()
        if action_ids
        else []
    )
    consents = session.scalars(select(ConsentRecord).where(ConsentRecord.supporter_id == supporter.id)).all()
    return {
        "section": section_code,
        "supporter": {
            "email": supporter.email,
            "name": supporter.name,
            "country": supporter.country,
            "first_seen": supporter.created_at.isoformat(),
        },
        "actions": [
            {
                "id": a.id,
                "case": a.case_id,
                "type": a.action_type,
                "status": a.status,
                "at": a.created_at.isoformat(),
                "content": dict(a.payload),
            }
            for a in actions
        ],
        "deliveries": [
            {"action": d.action_id, "kind": d.kind, "to": (d.recipient or {}).get("name"), "status": d.status, "channel": d.channel}
            for d in deliveries
        ],
        "consents": [
            {
                "purpose": c.purpose,
                "wording": c.wording,
                "version": c.wording_version,
                "given": c.given,
                "at": c.created_at.isoformat(),
            }
            for c in consents
        ],
    }


def erase_supporters(session: Session, portal, section_code: str, supporter_ids: list[int]) -> ErasureReport:
    """Erase the personal data of these supporters of one section."""
    report = ErasureReport()
    if not supporter_ids:
        return report
    now = utcnow()
    action_types = portal.action_types(section_code)
    supporters = session.scalars(
        select(Supporter).where(Supporter.section_code == section_code, Supporter.id.in_(supporter_ids), Supporter.erased_at.is_(None))
    ).all()
    for supporter in supporters:
        report.emails.append(supporter.email)
        supporter.email, supporter.name, supporter.country, supporter.erased_at = f"{ERASED}#{supporter.id}", "", "", now
        report.supporters += 1
    ids = [s.id for s in supporters]
    if not ids:
        return report
    actions = session.scalars(select(Action).where(Action.section_code == section_code, Action.supporter_id.in_(ids))).all()
    for action in actions:
        kind = action_types.get(action.action_type)
        action.payload = dict(kind.erase(action.payload)) if kind else {}
        report.actions += 1
    action_ids = [a.id for a in actions]
    if action_ids:
        report.deliveries_cancelled = session.execute(
            update(Delivery)
            .where(Delivery.action_id.in_(action_ids), Delivery.status.in_(NOT_SENT))
            .values(status="cancelled", body={}, last_error="erased at the supporter's request or by retention", updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        report.deliveries_already_made = session.execute(
            update(Delivery)
            .where(Delivery.action_id.in_(action_ids), Delivery.status.notin_(NOT_SENT + ("cancelled",)))
            .values(body={"erased": True}, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    report.consents = session.execute(
        update(ConsentRecord)
        .where(ConsentRecord.supporter_id.in_(ids))
        .values(request={})
        .execution_options(synchronize_session=False)
    ).rowcount
    return report


def erase(session: Session, portal, section_code: str, email: str) -> ErasureReport:
    supporter = _supporter(session, section_code, email)
    return erase_supporters(session, portal, section_code, [supporter.id] if supporter else [])


def campaign_end_after(section: SectionDefinition, when: dt.datetime) -> dt.date:
    """The first campaign close (the section's close day and month) on or
    after ``when``."""
    closes = section.campaign.closes
    day = when.date()
    for year in (day.year, day.year + 1):
        try:
            candidate = closes.replace(year=year)
        except ValueError:  # 29 February
            candidate = dt.date(year, 2, 28)
        if candidate >= day:
            return candidate
    return closes


def past_retention(session: Session, section: SectionDefinition, now: dt.datetime) -> list[int]:
    """Supporters of ``section`` whose data is past its retention period."""
    keep = dt.timedelta(days=section.legal.retention_days)
    last_actions = session.execute(
        select(Supporter.id, func.max(Action.created_at))
        .join(Action, Action.supporter_id == Supporter.id, isouter=True)
        .where(Supporter.section_code == section.code, Supporter.erased_at.is_(None))
        .group_by(Supporter.id)
    ).all()
    due = []
    for supporter_id, last in last_actions:
        if last is None:
            continue
        if last.tzinfo is None:
            last = last.replace(tzinfo=dt.timezone.utc)
        end = campaign_end_after(section, last)
        if dt.datetime.combine(end, dt.time.max, tzinfo=dt.timezone.utc) + keep < now:
            due.append(supporter_id)
    return due


@dataclass(frozen=True)
class PurgeReport:
    #: Supporters past the retention period.
    supporters: int
    #: Actions never confirmed (address check, parent) within the section's
    #: ``unverified_days``.
    unconfirmed: int


def expired_unconfirmed(session: Session, section: SectionDefinition, now: dt.datetime) -> list[int]:
    cutoff = now - dt.timedelta(days=section.legal.unverified_days)
    return list(
        session.scalars(
            select(Action.id).where(
                Action.section_code == section.code, Action.status == "unverified", Action.created_at < cutoff
            )
        )
    )


def expire_unconfirmed(session: Session, portal, section_code: str, action_ids: list[int]) -> None:
    """Never confirmed: the actions are kept as "expired" (never counted),
    their content and their supporters' data erased, unless a supporter also
    has other actions."""
    if not action_ids:
        return
    action_types = portal.action_types(section_code)
    actions = session.scalars(select(Action).where(Action.id.in_(action_ids))).all()
    for action in actions:
        kind = action_types.get(action.action_type)
        action.status, action.payload = "expired", dict(kind.erase(action.payload)) if kind else {}
    supporters = {a.supporter_id for a in actions if a.supporter_id is not None}
    with_others = set(
        session.scalars(
            select(Action.supporter_id).where(Action.supporter_id.in_(supporters), Action.status != "expired")
        )
    )
    erase_supporters(session, portal, section_code, sorted(supporters - with_others))


def unconfirmed_count(session: Session, section_code: str) -> int:
    """Actions waiting for a link to be opened: shown apart from the counts."""
    return session.scalar(
        select(func.count()).where(Action.section_code == section_code, Action.status == "unverified")
    ) or 0


def purge(
    portal, *, now: dt.datetime | None = None, dry_run: bool = False, section_code: str | None = None
) -> dict[str, PurgeReport]:
    """Erase supporters past retention and expire unconfirmed actions, per
    section (only say how many, with ``dry_run``)."""
    now = now or utcnow()
    done: dict[str, PurgeReport] = {}
    for code, section in sorted(portal.registry.sections.items()):
        if section_code not in (None, code):
            continue
        with portal.db.writing() as session:
            due = past_retention(session, section, now)
            unconfirmed = expired_unconfirmed(session, section, now)
            if not dry_run:
                expire_unconfirmed(session, portal, code, unconfirmed)
                erase_supporters(session, portal, code, due)
        done[code] = PurgeReport(len(due), len(unconfirmed))
    return done


def open_request(session: Session, section_code: str, kind: str, email: str, language: str) -> PrivacyRequest:
    now = utcnow()
    request = PrivacyRequest(
        section_code=section_code,
        kind=kind,
        email=normalise(email),
        status="requested",
        language=language,
        requested_at=now,
        due_at=now + ANSWER_WITHIN,
    )
    session.add(request)
    session.flush()
    return request
