"""Who may do what in the admin, and the one place queries are scoped.

Roles per section: ``admin`` (everything in the section) and ``moderator``
(the moderation queue only); global admins hold every capability in every
section, plus the install-wide ones. Each view states the capability it
needs with :func:`requires`; a test walks the URL map and fails on an admin
view that states none.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, g
from flask_login import current_user
from sqlalchemy import Select, select

from core.models import AdminUser

ADMIN, MODERATOR = "admin", "moderator"
ROLES = (ADMIN, MODERATOR)

#: Capabilities each role holds in its sections.
CAPABILITIES: dict[str, frozenset[str]] = {
    MODERATOR: frozenset({"moderate"}),
    ADMIN: frozenset({"moderate", "view", "manage", "personal_data", "audit"}),
}
#: Held by global admins only.
INSTALL = "install"
ALL = frozenset().union(*CAPABILITIES.values(), {INSTALL})

F = TypeVar("F", bound=Callable[..., Any])


def role_in(user: AdminUser, section_code: str) -> str | None:
    if not user.active:
        return None
    if user.is_global:
        return "global"
    return next((grant.role for grant in user.grants if grant.section_code == section_code), None)


def capabilities(user: Any, section_code: str) -> frozenset[str]:
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    role = role_in(user.account, section_code)
    if role == "global":
        return ALL
    return CAPABILITIES.get(role or "", frozenset())


def can(capability: str) -> bool:
    """Whether the signed-in user holds ``capability`` in this portal's section."""
    return capability in capabilities(current_user, g.section.code)


def requires(capability: str) -> Callable[[F], F]:
    """Guard a view: sign-in first, then 403 without the capability in the
    section this portal serves. The capability is kept on the view for the
    authorization tests."""
    if capability not in ALL:
        raise ValueError(f"unknown capability {capability!r}")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            from core.admin.auth import login_manager

            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not can(capability):
                abort(403)
            return view(*args, **kwargs)

        guarded.required_capability = capability  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def public(view: F) -> F:
    """Mark a view open to anyone (the sign-in page), so the authorization
    test knows it was not forgotten."""
    view.required_capability = None  # type: ignore[attr-defined]
    return view


class Scope:
    """Queries limited to one section: every admin query on section data
    goes through here, never through a hand-written filter in a view."""

    def __init__(self, section_code: str) -> None:
        self.section_code = section_code

    def select(self, *entities: Any) -> Select:
        """``select(*entities)`` filtered on the first entity's section."""
        return self.where(select(*entities), entities[0])

    def where(self, query: Select, model: Any) -> Select:
        column = getattr(model, "section_code", None)
        if column is None:
            column = getattr(getattr(model, "class_", None), "section_code", None)
        if column is None:
            raise TypeError(f"{model!r} has no section_code: it cannot be scoped")
        return query.where(column == self.section_code)

    def get(self, session: Any, model: Any, ident: Any) -> Any:
        """A row by primary key, or 404 when it is missing or another
        section's (the two look the same from outside)."""
        row = session.get(model, ident)
        if row is None or getattr(row, "section_code", None) != self.section_code:
            abort(404)
        return row


def scope() -> Scope:
    """The scope of the section this portal serves."""
    return Scope(g.section.code)
