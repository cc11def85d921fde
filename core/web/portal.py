"""Supporter pages: home, case page with its action panels, thank-you page,
success stories, privacy notice. Everything action-specific comes from the
action-type plugins enabled for the request's section."""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from babel import Locale
from flask import Blueprint, abort, g, make_response, redirect, render_template, request, send_from_directory, session, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from core import actions, legal, moderation
from core.models import ConsentRecord
from core.countries import country_name
from core.types import ActionContext, ActionRecord, ActionType, CaseView, PageContext, SectionDefinition
from core.web import sharing, template_hooks

log = logging.getLogger(__name__)
bp = Blueprint("portal", __name__)

#: How many case ids the session remembers for "next case" suggestions.
REMEMBERED_CASES = 50


def portal():
    from flask import current_app

    return current_app.extensions["ecrire"]


# -- request set-up ---------------------------------------------------------


#: The admin is complete in these languages, whatever the section's.
ADMIN_LANGUAGES = ("fr", "en")


def choose_language(section) -> str:
    """``?lang=`` (remembered), then the remembered choice, then the
    browser's preference among the section's languages (and, in the admin,
    French and English), then the section's default."""
    offered = tuple(section.languages)
    if request.blueprint == "admin":
        offered += tuple(code for code in ADMIN_LANGUAGES if code not in offered)
    asked = request.args.get("lang")
    if asked in offered:
        if session.get("lang") != asked:
            session["lang"] = asked
        return asked
    saved = session.get("lang")
    if saved in offered:
        return saved
    return request.accept_languages.best_match(offered) or section.default_language


def select_section() -> None:
    """Runs first on every request (before the CSRF check, so even its
    error page knows the section and language)."""
    if request.endpoint in {"static", "health"}:
        return
    section = portal().section_for_host(request.host)
    if section is None:
        g.unknown_host = True
        abort(404)
    g.section = section
    g.hooks = portal().hooks(section.code)
    g.language = choose_language(section)


def page_context(case: CaseView | None = None) -> dict[str, Any]:
    section = g.section

    def hook(place: str) -> Markup:
        ctx = PageContext(place=place, section=section, language=g.language, case=case, endpoint=request.endpoint)
        return template_hooks.render(portal(), g.hooks, place, ctx)

    switch = []
    for language in section.languages:
        args = dict(request.view_args or {}, lang=language)
        switch.append((language, url_for(request.endpoint or "portal.home", **args), language == g.language))
    campaign = section.campaign
    return {
        "section": section,
        "section_name": section.display_name(g.language),
        "language": g.language,
        "language_switch": switch,
        "language_names": {code: language_name(code) for code in section.languages},
        "section_plugin": portal().registry.section_plugin[section.code],
        "hook": hook,
        "campaign_opens": format_date(campaign.opens, "long"),
        "campaign_closes": format_date(campaign.closes, "long"),
        "country_name": lambda code: country_name(code, g.language),
    }


@functools.lru_cache(maxsize=64)
def language_name(code: str) -> str:
    """A language's own name for itself, for the language switch."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def _sources() -> set[str]:
    return portal().case_sources(g.section.code)


def _case_or_404(case_id: str) -> CaseView:
    case = find_case(case_id)
    if case is None:
        abort(404)
    return case


def _offered(case: CaseView) -> list[tuple[ActionType, ActionContext]]:
    offered = []
    for action_type in portal().action_types(g.section.code).values():
        ctx = ActionContext(g.section, case, g.language, portal().settings_for(g.section.code, action_type.name))
        try:
            if action_type.available_for(ctx):
                offered.append((action_type, ctx))
        except Exception:
            log.exception("action type %r failed in available_for", action_type.name)
    return offered


def _panel(action_type: ActionType, ctx: ActionContext, submitted) -> Markup:
    """A submitted form is rendered with its errors; a blank one comes from
    the panel cache (built only when the cache has none)."""
    if submitted is not None:
        return _render_panel(action_type, ctx, lambda: submitted)
    if not action_type.cache_panel:
        return _render_panel(action_type, ctx, lambda: action_type.make_form(ctx))
    key = (g.section.code, ctx.case.id, action_type.name, g.language)
    return portal().panels.get(key, lambda: _render_panel(action_type, ctx, lambda: action_type.make_form(ctx)))


def _render_panel(action_type: ActionType, ctx: ActionContext, form: Callable[[], Any]) -> Markup:
    """One action's panel; a plugin whose form or template fails is left
    out and logged by name rather than taking the case page down."""
    case = ctx.case
    extra = action_type.translations.template_globals() if action_type.translations else {}
    try:
        return Markup(
            render_template(
                action_type.template,
                form=form(),
                case=case,
                action=action_type,
                submit_url=url_for("portal.take_action", case_id=case.id, action_name=action_type.name),
                **extra,
            )
        )
    except Exception:
        log.exception("action type %r failed to render %s", action_type.name, action_type.template)
        return Markup('<p class="panel-error">{}</p>').format(_("This action is not available right now."))


def _counts(fresh: bool = False):
    with portal().db.session() as db_session:
        return portal().counts.get(db_session, fresh=fresh)


class WorldView:
    """World totals: a plugin's answer to ``ecrire_world_counts`` (the
    federation hub's figures) when there is one, else this database's sums.
    A case the plugin does not know keeps its local world count."""

    def __init__(self, counts, answered=None) -> None:
        self._counts = counts
        self._answered = answered
        self.total = answered.total if answered is not None else counts.world()
        self.updated_at = answered.updated_at if answered is not None else None

    def case(self, case_id: str) -> int:
        if self._answered is not None and case_id in self._answered.cases:
            return int(self._answered.cases[case_id])
        return self._counts.case_world(case_id)


def world_counts(counts) -> WorldView:
    """The request's section's world totals (see :class:`WorldView`)."""
    answered = None
    try:
        answered = g.hooks.ecrire_world_counts()
    except Exception:
        log.exception("ecrire_world_counts failed: showing this deployment's own totals")
    return WorldView(counts, answered)


# -- pages --------------------------------------------------------------------


@bp.get("/")
def home() -> str:
    with portal().db.session() as db_session:
        cases = portal().catalogue.cases(db_session, g.section, _sources(), g.language)
        stories = portal().catalogue.stories(db_session, g.section, _sources(), g.language)
    counts = _counts()
    code = g.section.code
    return render_template(
        "home.html",
        cases=[(case, counts.case(code, case.id)) for case in cases],
        section_total=counts.section(code),
        section_goal=sum(case.goal or 0 for case in cases),
        world_total=world_counts(counts).total,
        stories=stories[:3],
        more_stories=len(stories) > 3,
        **page_context(),
    )


def _case_page(case: CaseView, forms: dict[str, Any], status: int = 200):
    counts = _counts()
    panels = []
    for action_type, ctx in _offered(case):
        panels.append((action_type, _panel(action_type, ctx, forms.get(action_type.name))))
    body = render_template(
        "case.html",
        case=case,
        panels=panels,
        section_count=counts.case(g.section.code, case.id),
        world_count=world_counts(counts).case(case.id),
        form_errors=status == 422,
        open_action=next(iter(forms), None) or request.args.get("act"),
        **page_context(case),
    )
    return body, status


@bp.get("/cases/<case_id>")
def case_page(case_id: str):
    return _case_page(_case_or_404(case_id), {})


@bp.get("/cases/<case_id>/act/<action_name>")
def action_form(case_id: str, action_name: str) -> Response:
    return redirect(url_for("portal.case_page", case_id=case_id, act=action_name, _anchor=f"act-{action_name}"))


@bp.post("/cases/<case_id>/act/<action_name>")
def take_action(case_id: str, action_name: str):
    case = _case_or_404(case_id)
    offered = {action_type.name: (action_type, ctx) for action_type, ctx in _offered(case)}
    if action_name not in offered:
        abort(404)
    action_type, ctx = offered[action_name]
    form = action_type.make_form(ctx, request.form)
    rules = legal.LegalForm.for_section(g.section, action_name, request.form) if action_type.collects_personal_data else None
    g.legal_form = rules
    valid = form.validate()
    if not (rules is None or rules.validate()) or not valid:
        return _case_page(case, {action_name: form}, status=422)
    step = action_type.review(form, ctx)
    if step is not None:  # e.g. a preview before sending
        return step
    data = action_type.record(form, ctx)
    decision = legal.decide(rules) if rules is not None else legal.Decision("now")
    if decision.mode == "anonymous":  # too young to consent: counted, nothing personal kept
        data = ActionRecord(None, action_type.erase(data.payload), data.count)

    # Built before the write transaction, which only fills in the ids.
    proofs = legal.consent_records(g.section, g.language, form, rules, decision) if rules is not None else []

    def consents(db_session, action_id: int, supporter_id: int | None) -> None:
        if proofs:
            rows = [{**proof, "action_id": action_id, "supporter_id": supporter_id} for proof in proofs]
            db_session.execute(ConsentRecord.__table__.insert(), rows)

    hold = "unverified" if decision.mode in ("verify", "parent") else None
    with portal().db.session() as db_session:  # read before the write transaction
        routing = portal().catalogue.routing_override(db_session, g.section.code, case.id)
    outcome = actions.record(portal().db, g.hooks, action_type, ctx, data, hold=hold, also=consents, routing=routing)
    mailed = None
    if not outcome.repeated or (hold and actions.status_of(portal().db, outcome.action_id) == hold):
        # a repeat of a still unconfirmed action sends its link again
        mailed = _send_confirmations(decision, outcome.action_id, data, case)
    acted = [c for c in session.get("acted", []) if c != case.id][-REMEMBERED_CASES + 1 :]
    session["acted"] = [*acted, case.id]
    session["last_action"] = {
        "case": case.id,
        "action": action_name,
        "repeated": outcome.repeated,
        "mode": decision.mode,
        "mailed": mailed,
    }
    return redirect(url_for("portal.thanks", case_id=case.id, action_name=action_name), code=303)


def _send_confirmations(decision, action_id: int, data: ActionRecord, case: CaseView) -> bool | None:
    """Email the links a held action or a newsletter sign-up waits for;
    None when none was needed, else whether the mail went out."""
    from core.web import confirmations

    email = data.supporter.email if data.supporter else None
    if decision.mode == "parent" and decision.parent_email:
        return confirmations.send_link([confirmations.PARENT], action_id, decision.parent_email, case.person)
    purposes = []
    if decision.mode == "verify":
        purposes.append(confirmations.ADDRESS)
    if decision.newsletter and g.section.legal.double_opt_in:
        purposes.append(confirmations.NEWSLETTER)
    if purposes and email:
        return confirmations.send_link(purposes, action_id, email, case.person)
    return None


@bp.app_template_global()
def legal_fields(action_name: str) -> Markup:
    """The section's legal questions, inside the form of ``action_name``:
    the submitted answers with their errors after a failed send, else blank
    (blank panels are cached and shared)."""
    form = getattr(g, "legal_form", None)
    if form is None or form.action_name != action_name:
        form = legal.LegalForm.for_section(g.section, action_name)
    return legal.fields_markup(form)


@bp.app_template_global()
def legal_hidden() -> Markup:
    """The submitted legal answers as hidden inputs, for an intermediate
    step (a letter's preview) whose final submission must bring them back."""
    form = getattr(g, "legal_form", None)
    return legal.hidden_markup(form) if form is not None else Markup("")


@bp.get("/cases/<case_id>/act/<action_name>/thanks")
def thanks(case_id: str, action_name: str):
    case = _case_or_404(case_id)
    action_type = portal().action_types(g.section.code).get(action_name)
    last = session.get("last_action") or {}
    if action_type is None or last.get("case") != case.id or last.get("action") != action_name:
        # Nothing was just done here (a bookmark, a reload in another tab).
        return redirect(url_for("portal.case_page", case_id=case.id))
    counts = _counts(fresh=True)
    with portal().db.session() as db_session:
        cases = portal().catalogue.cases(db_session, g.section, _sources(), g.language)
    acted = set(session.get("acted", []))
    next_case = next((c for c in cases if c.id not in acted), None)
    case_url = url_for("portal.case_page", case_id=case.id, _external=True)
    share_text = _("I acted for %(person)s with Write for Rights. You can too, in under a minute:", person=case.person)
    if case.hashtag:
        share_text = f"{share_text} {case.hashtag}"
    return render_template(
        "thanks.html",
        case=case,
        action=action_type,
        repeated=bool(last.get("repeated")),
        mode=last.get("mode", "now"),
        mailed=last.get("mailed"),
        section_count=counts.case(g.section.code, case.id),
        world_count=world_counts(counts).case(case.id),
        next_case=next_case,
        share_links=sharing.links(case_url, share_text),
        **page_context(case),
    )


def render_page(template: str, case: CaseView | None = None, translations: Any = None, **context: Any) -> str:
    """Render a full page of the section's portal (header, language switch,
    template hooks) from a plugin's template that extends ``base.html``.

    With ``translations`` (the plugin's ``PluginTranslations``) the template
    gets ``plugin_gettext``/``plugin_ngettext``; it binds them to ``_``
    inside its own blocks (``{% set _ = plugin_gettext %}``), because a
    context-wide ``_`` would also replace the core's in ``base.html``."""
    if translations is not None:
        context.update(plugin_gettext=translations.gettext, plugin_ngettext=translations.ngettext)
    return render_template(template, case=case, **page_context(case), **context)


def current_section() -> SectionDefinition:
    """The request's section (for a plugin's own views)."""
    return g.section


def current_language() -> str:
    return g.language


def find_case(case_id: str) -> CaseView | None:
    """A case open in the request's section, in the page language."""
    with portal().db.session() as db_session:
        return portal().catalogue.case(db_session, g.section, _sources(), g.language, case_id)


def approved_actions(case_id: str, action_type: str, limit: int = 100) -> list[dict[str, Any]]:
    """Payloads of the approved (moderated) actions of a type on a case in
    the request's section, newest first: what a public wall shows."""
    return moderation.approved(portal(), g.section.code, case_id, action_type, limit)


@bp.get("/counts.json")
def counts_json() -> Response:
    """Counts for the live counters: cached by browsers and proxies for a
    few seconds, read from the shared snapshot (never COUNT(*))."""
    counts = _counts()
    code = g.section.code
    with portal().db.session() as db_session:
        cases = portal().catalogue.cases(db_session, g.section, _sources(), g.language)
    world = world_counts(counts)
    body = {
        "section": counts.section(code),
        "world": world.total,
        "cases": {c.id: {"section": counts.case(code, c.id), "world": world.case(c.id), "goal": c.goal} for c in cases},
    }
    response = make_response(body)
    response.cache_control.public = True
    response.cache_control.max_age = 15
    return response


@bp.get("/stories")
def stories() -> str:
    with portal().db.session() as db_session:
        found = portal().catalogue.stories(db_session, g.section, _sources(), g.language)
    return render_template("stories.html", stories=found, **page_context())


@bp.get("/privacy")
def privacy() -> str:
    legal = g.section.legal
    notice = legal.privacy_notice.get(g.language) or legal.privacy_notice.get(g.section.default_language, "")
    return render_template("privacy.html", notice=notice, controller=legal.controller, **page_context())


@bp.get("/section.css")
def section_css() -> Response:
    response = make_response(render_template("section.css", branding=g.section.branding))
    response.mimetype = "text/css"
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.get("/plugin-static/<plugin>/<path:filename>")
def plugin_static(plugin: str, filename: str) -> Response:
    """Static files a plugin ships in its ``static/`` folder (logos, icons)."""
    info = portal().registry.plugins.get(plugin)
    folder = info.resource_dir("static") if info else None
    if folder is None:
        abort(404)
    response = send_from_directory(folder, filename, max_age=3600)
    return response
