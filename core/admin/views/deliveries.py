"""The section's deliveries: counts by status and channel, the items that
need a person, held items waiting for their window; "retry now", "close
held bundles now", and the files channels produced for bundles (a printed
post batch, a hand-over pack).
"""
from __future__ import annotations

import os
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.security import safe_join

from core import bundles, delivery_report, outbox
from core.admin import audit, bp
from core.admin.access import can, requires, scope
from core.bundles import BUNDLE_KIND
from core.models import Delivery

#: Problem rows and held groups listed at most.
LIMIT = 200
#: Bundle rows with files listed (newest first).
FILES_LIMIT = 50


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the buttons carry no other input."""


def _portal() -> Any:
    return current_app.extensions["ecrire"]


@bp.get("/deliveries", endpoint="deliveries")
@requires("view")
def deliveries_page() -> Any:
    portal = _portal()
    where = scope().where
    with portal.db.session() as session:
        report = delivery_report.summary(session, lambda query: where(query, Delivery), limit=LIMIT)
        with_files = session.scalars(
            scope()
            .select(Delivery)
            .where(Delivery.kind == BUNDLE_KIND, Delivery.files.is_not(None))
            .order_by(Delivery.id.desc())
            .limit(FILES_LIMIT)
        ).all()
        retryable = session.scalars(
            scope()
            .select(Delivery)
            .where(Delivery.status == "pending", Delivery.batch_id.is_(None), Delivery.attempts > 0)
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(LIMIT)
        ).all()
    statuses = sorted({row.status for row in report.items} | {row.status for row in report.bundles})
    return render_template(
        "admin/deliveries.html",
        report=report,
        waiting_retry=retryable,
        with_files=[row for row in with_files if row.files],
        statuses=statuses,
        can_manage=can("manage"),
        bundle_kind=BUNDLE_KIND,
        retryable=outbox.RETRYABLE,
        form=ConfirmForm(),
    )


@bp.post("/deliveries/<int:delivery_id>/retry", endpoint="deliveries_retry")
@requires("manage")
def retry(delivery_id: int) -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    portal = _portal()
    with portal.db.session() as session:
        scope().get(session, Delivery, delivery_id)  # 404 for another section's row
    try:
        outbox.retry_now(portal, g.section.code, delivery_id)
    except LookupError:
        abort(404)
    except outbox.NotRetryable:
        flash(_("Delivery #%(id)d cannot be retried now: it is not waiting or failed.", id=delivery_id))
        return redirect(url_for("admin.deliveries"))
    with portal.db.writing() as session:
        audit.record(session, "delivery.retry", id=delivery_id)
    flash(_("Delivery #%(id)d will be tried again right away.", id=delivery_id))
    return redirect(url_for("admin.deliveries"))


@bp.post("/deliveries/close-bundles", endpoint="deliveries_close_bundles")
@requires("manage")
def close_bundles() -> Any:
    if not ConfirmForm().validate_on_submit():
        abort(400)
    portal = _portal()
    created = bundles.close_bundles(portal, force=True, section_code=g.section.code)
    with portal.db.writing() as session:
        audit.record(session, "delivery.close_bundles", ids=created)
    flash(ngettext("%(num)d bundle is ready to be sent.", "%(num)d bundles are ready to be sent.", len(created)))
    return redirect(url_for("admin.deliveries"))


@bp.get("/deliveries/<int:delivery_id>/files/<path:name>", endpoint="deliveries_file")
@requires("view")
def download(delivery_id: int, name: str) -> Any:
    """A file a channel produced for a bundle row of this section: only a
    name the row lists, and never outside the channel's folder."""
    portal = _portal()
    with portal.db.writing() as session:
        row = scope().get(session, Delivery, delivery_id)
        if not row.channel or name not in (row.files or []):
            abort(404)
        folder = outbox.files_dir(row.section_code, row.channel)
        path = safe_join(str(folder), name)
        if path is None or not os.path.isfile(path):
            abort(404)
        audit.record(session, "delivery.download", id=delivery_id, file=name)
    # send_from_directory joins safely again and answers 404 for a missing file.
    return send_from_directory(folder, name, as_attachment=True)
