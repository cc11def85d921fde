"""The audit log: every change an admin makes, and every export of
personal data, with who, when and in which section."""
from __future__ import annotations

from typing import Any

from flask import g
from flask_login import current_user

from core.models import AuditEntry


def record(session: Any, action: str, *, section_code: str | None = "current", **detail: Any) -> None:
    """Add an entry in the caller's transaction, so the log and the change
    are written together or not at all."""
    if section_code == "current":
        section_code = g.section.code
    session.add(
        AuditEntry(
            user_email=current_user.account.email if current_user.is_authenticated else "(command line)",
            section_code=section_code,
            action=action,
            detail=detail,
        )
    )
