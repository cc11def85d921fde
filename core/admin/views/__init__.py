"""The admin's pages, one module per area. Each view is guarded with
``core.admin.access.requires``; the menu shows only what the signed-in user
may open."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from core.admin import bp

#: The menu: (endpoint, label, capability needed).
MENU = (
    ("admin.home", _l("Dashboard"), "view"),
    ("admin.moderation", _l("Moderation"), "moderate"),
    ("admin.cases", _l("Cases"), "manage"),
    ("admin.plugins", _l("Plugins"), "manage"),
    ("admin.deliveries", _l("Deliveries"), "view"),
    ("admin.exports", _l("Exports"), "view"),
    ("admin.privacy_requests", _l("Privacy requests"), "personal_data"),
    ("admin.audit_log", _l("Audit log"), "audit"),
    ("admin.accounts", _l("Accounts"), "install"),
)


@bp.app_context_processor
def admin_menu() -> dict:
    return {"admin_menu": [entry for entry in MENU if entry[0] in current_app.view_functions]}


from core.admin.views import (  # noqa: E402,F401  (each registers its routes)
    accounts,
    audit_log,
    cases,
    dashboard,
    deliveries,
    exports,
    moderation,
    plugins,
    privacy,
)
