"""The section's dashboard (being built): the admin's landing page."""
from __future__ import annotations

from flask import g, redirect, render_template, url_for

from core.admin import bp
from core.admin.access import can, requires


@bp.get("/")
@requires("moderate")
def home():
    """Moderators land on their queue; everyone else on the dashboard."""
    if not can("view") and "admin.moderation" in bp_views():
        return redirect(url_for("admin.moderation"))
    return render_template("admin/dashboard.html", section=g.section)


def bp_views() -> set[str]:
    from flask import current_app

    return set(current_app.view_functions)
