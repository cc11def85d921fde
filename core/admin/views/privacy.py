"""Supporters' requests about their data, with the one-month deadline."""
from __future__ import annotations

from flask import render_template
from sqlalchemy import case

from core.admin import bp
from core.admin.access import requires, scope
from core.models import PrivacyRequest, utcnow


@bp.get("/privacy-requests")
@requires("personal_data")
def privacy_requests():
    """Open requests first, the nearest deadline first; then the done ones."""
    from flask import current_app

    with current_app.extensions["ecrire"].db.session() as session:
        rows = session.scalars(
            scope()
            .select(PrivacyRequest)
            .order_by(case((PrivacyRequest.status == "requested", 0), else_=1), PrivacyRequest.due_at)
            .limit(500)
        ).all()
    return render_template("admin/privacy_requests.html", rows=rows, now=utcnow())
