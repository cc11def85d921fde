"""The moderation queue for action types that hold actions for review
(``ActionType.moderated``): an action is counted, and its deliverables are
queued, only when a moderator approves it."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from core.holds import AlreadyDecided, HoldError, NotInSection, held_row, release_in
from core.models import Action, Supporter, utcnow
from core.types import SupporterDetails

__all__ = ["AlreadyDecided", "ModerationError", "NotInSection"]


#: A moderation decision that cannot be made (see ``core.holds``).
ModerationError = HoldError


@dataclass(frozen=True)
class PendingAction:
    id: int
    case_id: str
    action_type: str
    payload: dict[str, Any]
    created_at: dt.datetime
    #: The writer's personal data: only filled in when asked for (section
    #: admins), and None for anonymous actions.
    supporter: SupporterDetails | None = None


def pending(portal, section_code: str, limit: int = 200, *, personal_data: bool = False) -> list[PendingAction]:
    """The oldest ``limit`` actions waiting for a decision; the writers'
    details only with ``personal_data`` (moderators never need them)."""
    with portal.db.session() as session:
        query = (
            select(Action, Supporter)
            .outerjoin(Supporter, (Supporter.id == Action.supporter_id) & (Supporter.section_code == Action.section_code))
            .where(Action.section_code == section_code, Action.status == "pending")
            .order_by(Action.id)
            .limit(limit)
        )
        found = []
        for r, s in session.execute(query):
            details = SupporterDetails(s.email, s.name, s.country) if personal_data and s is not None else None
            found.append(PendingAction(r.id, r.case_id, r.action_type, dict(r.payload), r.created_at, details))
        return found


def pending_count(portal, section_code: str) -> int:
    """How many actions wait (the queue's length, not a total of actions)."""
    with portal.db.session() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(Action).where(Action.section_code == section_code, Action.status == "pending")
            )
            or 0
        )


def check_in_section(session, section_code: str, action_ids: Iterable[int]) -> None:
    """Raise :class:`NotInSection` unless every id is an action of the
    section (any status): a bulk decision checks all ids before changing any."""
    ids = set(action_ids)
    found = set(session.scalars(select(Action.id).where(Action.id.in_(ids), Action.section_code == section_code)))
    missing = sorted(ids - found)
    if missing:
        raise NotInSection(f"no action #{missing[0]} in section {section_code!r}")


def approve(portal, section_code: str, action_id: int) -> None:
    with portal.db.writing() as session:
        approve_in(portal, session, section_code, action_id)


def approve_in(portal, session, section_code: str, action_id: int) -> None:
    """Approve in the caller's transaction (the admin writes its audit entry
    in the same one): counted, and its deliverables queued."""
    release_in(portal, session, section_code, action_id, expected="pending", to="approved")


def reject(portal, section_code: str, action_id: int, reason: str) -> None:
    with portal.db.writing() as session:
        reject_in(session, section_code, action_id, reason)


def reject_in(session, section_code: str, action_id: int, reason: str) -> None:
    """Reject in the caller's transaction; the reason is kept with the action."""
    if not reason.strip():
        raise ModerationError("a rejection needs a reason")
    row = held_row(session, section_code, action_id, "pending")
    row.status, row.note, row.decided_at = "rejected", reason.strip(), utcnow()


def approved(portal, section_code: str, case_id: str, action_type: str, limit: int = 100) -> list[dict[str, Any]]:
    """Payloads of approved actions on a case, newest first (for a public wall)."""
    with portal.db.session() as session:
        rows = session.scalars(
            select(Action.payload)
            .where(
                Action.section_code == section_code,
                Action.case_id == case_id,
                Action.action_type == action_type,
                Action.status == "approved",
            )
            .order_by(Action.id.desc())
            .limit(limit)
        )
        return [dict(p) for p in rows]
