"""The moderation queue for action types that hold actions for review
(``ActionType.moderated``): an action is counted, and its deliverables are
queued, only when a moderator approves it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core import counters
from core.actions import queue_deliveries
from core.models import Action, Supporter, utcnow
from core.types import ActionContext, RecordedAction, SupporterDetails


class ModerationError(LookupError):
    """The action is not in this section's queue (or no longer)."""


@dataclass(frozen=True)
class PendingAction:
    id: int
    case_id: str
    action_type: str
    payload: dict[str, Any]
    created_at: dt.datetime


def pending(portal, section_code: str, limit: int = 200) -> list[PendingAction]:
    with portal.db.session() as session:
        rows = session.scalars(
            select(Action)
            .where(Action.section_code == section_code, Action.status == "pending")
            .order_by(Action.id)
            .limit(limit)
        )
        return [PendingAction(r.id, r.case_id, r.action_type, dict(r.payload), r.created_at) for r in rows]


def _pending_row(session, section_code: str, action_id: int) -> Action:
    row = session.get(Action, action_id)
    # Another section's action is reported exactly like a missing one.
    if row is None or row.section_code != section_code:
        raise ModerationError(f"no action #{action_id} in section {section_code!r}")
    if row.status != "pending":
        raise ModerationError(f"action #{action_id} is already {row.status}")
    return row


def approve(portal, section_code: str, action_id: int) -> None:
    section = portal.registry.sections[section_code]
    action_type = None
    with portal.db.writing() as session:
        row = _pending_row(session, section_code, action_id)
        action_type = portal.action_types(section_code).get(row.action_type)
        if action_type is None:
            raise ModerationError(f"action type {row.action_type!r} is not enabled in section {section_code!r}")
        language = row.payload.get("language") or section.default_language
        case = portal.catalogue.case(session, section, portal.case_sources(section_code), language, row.case_id)
        if case is None:
            raise ModerationError(f"case {row.case_id!r} is no longer open in section {section_code!r}")
        row.status, row.decided_at = "approved", utcnow()
        counters.increment(portal.db, session, section_code, row.case_id, row.action_type, by=row.count)
        supporter = session.get(Supporter, row.supporter_id) if row.supporter_id else None
        recorded = RecordedAction(
            id=row.id,
            section_code=section_code,
            case_id=row.case_id,
            action_type=row.action_type,
            payload=dict(row.payload),
            created_at=row.created_at,
            supporter=SupporterDetails(supporter.email, supporter.name, supporter.country) if supporter else None,
        )
        context = ActionContext(section, case, language, portal.settings_for(section_code, row.action_type))
        queue_deliveries(session, portal.hooks(section_code), action_type, context, recorded)


def reject(portal, section_code: str, action_id: int, reason: str) -> None:
    if not reason.strip():
        raise ModerationError("a rejection needs a reason")
    with portal.db.writing() as session:
        row = _pending_row(session, section_code, action_id)
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
