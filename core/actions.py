"""Recording an action: supporter, action, counter and outbox rows in one
transaction, so an acknowledged action is never half-stored."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import bundles, counters
from core.database import Database
from core.models import Action, CaseOverride, Delivery, Supporter, utcnow
from core.plugins import SectionHooks
from core.types import ActionContext, ActionRecord, ActionType, Recipient, RecordedAction, Route, SupporterDetails


@dataclass(frozen=True)
class Outcome:
    action_id: int
    #: True when this supporter had already taken this action on this case:
    #: nothing new was stored or counted.
    repeated: bool


def normalise_email(email: str) -> str:
    return email.strip().lower()


def status_of(db: Database, action_id: int) -> str | None:
    with db.session() as session:
        return session.scalar(select(Action.status).where(Action.id == action_id))


def _supporter_upsert(db: Database):
    table = Supporter.__table__
    stmt = db.insert(table).values({name: bindparam(name) for name in ("section_code", "email", "name", "country", "created_at")})
    # A no-op update so RETURNING gives the id of an existing supporter too.
    stmt = stmt.on_conflict_do_update(index_elements=["section_code", "email"], set_={"email": stmt.excluded.email})
    return stmt.returning(table.c.id)


_ACTION_COLUMNS = ("section_code", "case_id", "action_type", "supporter_id", "payload", "count", "status", "dedupe_key", "created_at")


def _action_insert(db: Database):
    table = Action.__table__
    return db.insert(table).values({name: bindparam(name) for name in _ACTION_COLUMNS}).returning(table.c.id)


def _action_insert_once(db: Database):
    """The insert that does nothing when the supporter already did it."""
    table = Action.__table__
    stmt = db.insert(table).values({name: bindparam(name) for name in _ACTION_COLUMNS})
    return stmt.on_conflict_do_nothing(index_elements=["section_code", "dedupe_key"]).returning(table.c.id)


def _supporter_id(db: Database, session: Session, section_code: str, details: SupporterDetails) -> int:
    params = {
        "section_code": section_code,
        "email": normalise_email(details.email),
        "name": details.name.strip(),
        "country": details.country,
        "created_at": utcnow(),
    }
    return session.execute(db.statement(_supporter_upsert), params).scalar_one()


def _dedupe_key(action_type: ActionType, context: ActionContext, supporter_id: int | None) -> str | None:
    if not action_type.once_per_supporter or supporter_id is None:
        return None
    return f"{action_type.name}:{context.case.id}:{supporter_id}"


#: ``routing`` not given: read the case's override in the transaction.
LOOK_UP = object()

#: Called in the action's transaction with (session, action id, supporter
#: id) to write rows that must exist exactly when the action does (consent
#: records).
AlsoWrite = Callable[[Session, int, "int | None"], None]


def record(
    db: Database,
    hooks: SectionHooks,
    action_type: ActionType,
    context: ActionContext,
    data: ActionRecord,
    *,
    hold: str | None = None,
    also: AlsoWrite | None = None,
    routing: Mapping[str, Any] | None | object = LOOK_UP,
) -> Outcome:
    """Store an action and, unless it is held (``hold``: a status such as
    ``unverified``; moderated types are held as ``pending``), count it and
    queue its deliveries, all in one transaction. ``routing`` is the
    section's override for the case when the caller has it at hand."""
    try:
        return _record(db, hooks, action_type, context, data, hold, also, routing)
    except IntegrityError:
        # A concurrent request by the same supporter won the race; it is
        # the same action, so answer as for a repeat.
        outcome = _record(db, hooks, action_type, context, data, hold, also, routing)
        if not outcome.repeated:
            raise
        return outcome


def _record(
    db: Database,
    hooks: SectionHooks,
    action_type: ActionType,
    context: ActionContext,
    data: ActionRecord,
    hold: str | None,
    also: AlsoWrite | None,
    routing: Mapping[str, Any] | None | object,
) -> Outcome:
    # Core statements rather than ORM objects: this is the hot write path,
    # and the shorter the transaction, the less other writers wait for it.
    section_code = context.section.code
    created_at = utcnow()
    payload = dict(data.payload)
    with db.writing() as session:
        supporter_id = _supporter_id(db, session, section_code, data.supporter) if data.supporter else None
        key = _dedupe_key(action_type, context, supporter_id)
        params = {
            "section_code": section_code,
            "case_id": context.case.id,
            "action_type": action_type.name,
            "supporter_id": supporter_id,
            "payload": payload,
            "count": data.count,
            "status": hold or ("pending" if action_type.moderated else "recorded"),
            "dedupe_key": key,
            "created_at": created_at,
        }
        stmt = db.statement(_action_insert if key is None else _action_insert_once)
        action_id = session.execute(stmt, params).scalar()
        if action_id is None:  # this supporter already did it: nothing is counted
            existing = session.scalar(select(Action.id).where(Action.section_code == section_code, Action.dedupe_key == key))
            return Outcome(existing, repeated=True)
        if also is not None:
            also(session, action_id, supporter_id)
        if hold or action_type.moderated:  # counted and delivered once released
            return Outcome(action_id, repeated=False)
        counters.increment(db, session, section_code, context.case.id, action_type.name, by=data.count)
        recorded = RecordedAction(
            id=action_id,
            section_code=section_code,
            case_id=context.case.id,
            action_type=action_type.name,
            payload=payload,
            created_at=created_at,
            supporter=data.supporter,
        )
        queue_deliveries(session, hooks, action_type, context, recorded, routing)
        return Outcome(action_id, repeated=False)


def queue_deliveries(
    session: Session,
    hooks: SectionHooks,
    action_type: ActionType,
    context: ActionContext,
    action: RecordedAction,
    routing: Mapping[str, Any] | None | object = LOOK_UP,
) -> None:
    now = utcnow()
    requests = list(action_type.deliverables(action, context))
    if requests and routing is LOOK_UP:
        row = session.get(CaseOverride, (action.section_code, action.case_id))
        routing = row.routing if row is not None else None
    override = _override_route(routing) if requests else None
    rows = []
    for index, request in enumerate(requests):
        route = hooks.ecrire_letter_routing(section=context.section, case=context.case, action=action, request=request)
        if override is not None:
            # The section admin's recipient and channel for this case; the
            # routing answer still decides how items are bundled.
            route = (
                dataclasses.replace(route, recipient=override.recipient, channel=override.channel)
                if route is not None
                else override
            )
        if route is None:
            status, due = "unrouted", None
        elif route.bundle:
            status, due = "held", bundles.closes_at(route, now)
        else:
            status, due = "pending", now
        rows.append(
            {
                "key": f"{action.section_code}:{action.id}:{index}",
                "action_id": action.id,
                "section_code": action.section_code,
                "case_id": action.case_id,
                "kind": request.kind,
                "channel": route.channel if route else None,
                "bundle": route.bundle if route else False,
                "recipient": _recipient_json(route),
                "body": dict(request.body),
                "status": status,
                "attempts": 0,
                "next_attempt_at": due,
                "created_at": now,
                "updated_at": now,
            }
        )
    if rows:  # a bulk insert: no unit-of-work flush on the supporter's request
        session.execute(Delivery.__table__.insert(), rows)


def _override_route(routing: Any) -> Route | None:
    """The section's own recipient for a case (``CaseOverride.routing``)."""
    if not routing or not routing.get("channel"):
        return None
    recipient = Recipient(
        name=routing.get("name") or "",
        title=routing.get("title") or "",
        address=tuple(routing.get("address") or ()),
        email=routing.get("email") or None,
    )
    return Route(recipient=recipient, channel=routing["channel"], bundle=False)


def _recipient_json(route) -> dict | None:
    if route is None:
        return None
    r = route.recipient
    return {"name": r.name, "title": r.title, "address": list(r.address), "email": r.email}
