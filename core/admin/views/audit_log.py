"""Admin pages: the audit log of the section, newest first.

Section admins see their section's entries only; a global admin also sees
the install-wide ones (accounts, sections) on any section's portal.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, g, render_template, request
from flask_login import current_user
from sqlalchemy import Select, or_, select

from core.admin import bp
from core.admin.access import requires, scope
from core.models import AuditEntry

PER_PAGE = 50


def _visible(query: Select) -> Select:
    """Scoped to the section; global admins add the install-wide entries
    (section None), never another section's."""
    scoped = scope()
    if current_user.account.is_global:
        return query.where(or_(AuditEntry.section_code == scoped.section_code, AuditEntry.section_code.is_(None)))
    return scoped.where(query, AuditEntry)


@bp.get("/audit-log")
@requires("audit")
def audit_log() -> Any:
    page = request.args.get("page", 1, type=int) or 1
    page = max(page, 1)
    verb = request.args.get("action", "").strip()
    portal = current_app.extensions["ecrire"]
    with portal.db.session() as session:
        verbs = list(session.scalars(_visible(select(AuditEntry.action).distinct()).order_by(AuditEntry.action)))
        query = _visible(select(AuditEntry))
        if verb:
            query = query.where(AuditEntry.action == verb)
        # One row more than a page tells whether there is a next page, without COUNT(*).
        rows = list(
            session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE + 1))
        )
    return render_template(
        "admin/audit_log.html",
        entries=rows[:PER_PAGE],
        verbs=verbs,
        verb=verb,
        page=page,
        has_next=len(rows) > PER_PAGE,
        section_code=g.section.code,
    )
