"""The section admin at ``/admin`` on each section's portal.

The section is the portal's (chosen by host, like every page), so an admin
URL can only ever name its own section; ``access`` decides who may do what
there and ``access.scope`` is the one place queries are limited to it.
"""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("admin", __name__, url_prefix="/admin")


def init_app(app: Flask) -> None:
    from core.admin import auth, views  # noqa: F401  (views register their routes on bp)

    auth.init_app(app)
    app.register_blueprint(bp)
