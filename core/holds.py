"""Releasing an action that was held: by a moderator's approval, by the
supporter's address check, by a parent's confirmation. Released, it is
counted and its deliverables are queued, exactly as if it had been
recorded then; or it moves on to the next hold (a moderated action whose
address was just checked waits for its moderator)."""
from __future__ import annotations

from core import counters
from core.actions import queue_deliveries
from core.models import Action, Supporter, utcnow
from core.types import ActionContext, RecordedAction, SupporterDetails


class HoldError(LookupError):
    """The action cannot be released."""


class NotInSection(HoldError):
    """No such action in this section: missing, or another section's (the
    two are reported alike, so an id tells nothing about other sections)."""


class AlreadyDecided(HoldError):
    """Someone released or decided on the action first."""


def held_row(session, section_code: str, action_id: int, expected: str) -> Action:
    # Locked on PostgreSQL, so two people cannot both release (and count) it.
    row = session.get(Action, action_id, with_for_update=True)
    if row is None or row.section_code != section_code:
        raise NotInSection(f"no action #{action_id} in section {section_code!r}")
    if row.status != expected:
        raise AlreadyDecided(f"action #{action_id} is already {row.status}")
    return row


def release_in(portal, session, section_code: str, action_id: int, *, expected: str, to: str) -> str:
    """Move a held action from ``expected`` to ``to`` in the caller's
    transaction; it is counted and its deliveries queued, unless ``to`` is
    ``recorded`` for a moderated type: then it waits as ``pending``."""
    section = portal.registry.sections[section_code]
    row = held_row(session, section_code, action_id, expected)
    action_type = portal.action_types(section_code).get(row.action_type)
    if action_type is None:
        raise HoldError(f"action type {row.action_type!r} is not enabled in section {section_code!r}")
    if to == "recorded" and action_type.moderated:
        row.status = "pending"
        return row.status
    language = row.payload.get("language") or section.default_language
    # A case hidden since the action was taken still gets it: hiding stops
    # new actions, not the ones already written.
    case = portal.catalogue.case(
        session, section, portal.case_sources(section_code), language, row.case_id, include_hidden=True
    )
    if case is None:
        raise HoldError(f"case {row.case_id!r} is no longer open in section {section_code!r}")
    row.status, row.decided_at = to, utcnow()
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
    return to


def release(portal, section_code: str, action_id: int, *, expected: str, to: str = "recorded") -> str:
    with portal.db.writing() as session:
        return release_in(portal, session, section_code, action_id, expected=expected, to=to)
