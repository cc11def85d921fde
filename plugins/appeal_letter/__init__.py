"""Appeal letter to the authority a case names.

The supporter gets a model letter in their language (salutation and closing
from the case data), edits it, previews it and sends it: it is stored as
written and queued for the section's letter routing. Or they print it as a
PDF, post it themselves and tell us, so that letter counts too.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, redirect, request, url_for

from core.toolkit import (
    ActionContext,
    ActionRecord,
    ActionType,
    CaseView,
    DeliveryRequest,
    Markup,
    PageContext,
    RecordedAction,
    SupporterDetails,
    current_language,
    current_section,
    find_case,
    hookimpl,
    render_page,
)

from plugins.appeal_letter import pdf
from plugins.appeal_letter.forms import EDIT, LETTER_MAX, SEND, LetterForm, PostedForm, i18n
from plugins.appeal_letter.letter import addressee, model_letter, paragraphs, place_and_date, signature

_l = i18n.lazy_gettext


def _submit_url(case: CaseView, action_name: str) -> str:
    return url_for("portal.take_action", case_id=case.id, action_name=action_name)


class AppealLetter(ActionType):
    """Write to the authority: preview, then send (or print and post)."""

    name = "letter"
    label = _l("Write a letter")
    form_class = LetterForm
    template = "appeal_letter/form.html"
    once_per_supporter = True
    priority = 20
    collects_personal_data = True
    translations = i18n

    def available_for(self, context: ActionContext) -> bool:
        return context.case.authority is not None

    def make_form(self, context: ActionContext, formdata: Any = None) -> LetterForm:
        to = addressee(context)
        form = LetterForm(formdata=formdata)
        if formdata is None:
            form.letter.data = model_letter(context.case, to)
        form.set_letter_language(to.language)
        # Read by the panel template, which only receives the form and case.
        form.to = to  # type: ignore[attr-defined]
        form.letter_max = LETTER_MAX  # type: ignore[attr-defined]
        return form

    def review(self, form: LetterForm, context: ActionContext) -> Any:
        """Nothing is recorded unless the supporter pressed "Send"."""
        if form.step.data == SEND:
            return None
        if form.step.data == EDIT:
            return edit_page(form, context.case)
        return preview_page(form, context)

    def record(self, form: LetterForm, context: ActionContext) -> ActionRecord:
        initials_only = bool(form.initials_only.data)
        return ActionRecord(
            # The full name stays with the section (as for a petition); with
            # initials only it is in neither the letter nor what is delivered.
            supporter=SupporterDetails(email=form.email.data, name=form.name.data),
            payload={
                "letter": form.letter.data,
                "signature": signature(form.name.data, initials_only),
                "town": form.town.data,
                "initials_only": initials_only,
                "language": addressee(context).language,
            },
        )

    def deliverables(self, action: RecordedAction, context: ActionContext) -> list[DeliveryRequest]:
        payload = action.payload
        return [
            DeliveryRequest(
                kind="letter",
                body={
                    "text": payload["letter"],
                    "signature": payload["signature"],
                    "town": payload["town"],
                    "language": payload["language"],
                    "authority_title": addressee(context).title,
                },
            )
        ]


class PostedLetter(ActionType):
    """"I posted my letter myself": a printed letter counts too, once."""

    name = "letter-posted"
    label = _l("I posted my letter myself")
    form_class = PostedForm
    template = "appeal_letter/posted.html"
    once_per_supporter = True
    priority = 21
    collects_personal_data = True
    translations = i18n

    def available_for(self, context: ActionContext) -> bool:
        return context.case.authority is not None

    def make_form(self, context: ActionContext, formdata: Any = None) -> PostedForm:
        form = PostedForm(formdata=formdata)
        form.to = addressee(context)  # type: ignore[attr-defined]
        return form

    def record(self, form: PostedForm, context: ActionContext) -> ActionRecord:
        return ActionRecord(supporter=SupporterDetails(email=form.email.data), payload={"language": context.language})


LETTER = AppealLetter()
POSTED = PostedLetter()


# -- pages of the letter's own path ---------------------------------------------


def edit_page(form: LetterForm, case: CaseView) -> str:
    return render_page(
        "appeal_letter/edit.html",
        case=case,
        form=form,
        action=LETTER,
        submit_url=_submit_url(case, LETTER.name),
        translations=i18n,
    )


def preview_page(form: LetterForm, context: ActionContext) -> str:
    """The letter exactly as it will be sent, with the fields carried along
    as hidden inputs to send it, change it or print it."""
    case = context.case
    posted_form = POSTED.make_form(context)
    posted_form.email.data = form.email.data
    return render_page(
        "appeal_letter/preview.html",
        case=case,
        form=form,
        to=form.to,  # type: ignore[attr-defined]
        paragraphs=paragraphs(form.letter.data),
        signed=signature(form.name.data, bool(form.initials_only.data)),
        submit_url=_submit_url(case, LETTER.name),
        pdf_url=url_for("appeal_letter.letter_pdf", case_id=case.id),
        posted_form_data=posted_form,
        posted_url=_submit_url(case, POSTED.name),
        translations=i18n,
    )


bp = Blueprint("appeal_letter", __name__)


def _letter_context(case_id: str) -> ActionContext:
    case = find_case(case_id)
    if case is None or case.authority is None:
        abort(404)
    return ActionContext(section=current_section(), case=case, language=current_language())


@bp.get("/<case_id>/letter.pdf")
def letter_pdf_link(case_id: str) -> Response:
    """The PDF is made from a posted form (nothing personal in URLs); a
    bookmarked address leads back to the letter."""
    _letter_context(case_id)
    return redirect(url_for("portal.case_page", case_id=case_id, _anchor=f"act-{LETTER.name}"))


@bp.post("/<case_id>/letter.pdf")
def letter_pdf(case_id: str) -> Response | tuple[str, int]:
    """The letter as a printable A4 PDF, to post it yourself."""
    context = _letter_context(case_id)
    form = LETTER.make_form(context, request.form)
    if not form.validate():
        return edit_page(form, context.case), 422
    to = form.to  # type: ignore[attr-defined]
    signed = signature(form.name.data, bool(form.initials_only.data))
    document = pdf.render(
        pdf.PrintableLetter(
            address=to.address_block,
            sender=f"{signed} · {form.town.data}",
            place_and_date=place_and_date(context, form.town.data, to.language),
            text=form.letter.data,
            signature=signed,
            town=form.town.data,
            title=i18n.gettext("Letter to %(authority)s", authority=to.title),
            language=to.language,
        )
    )
    response = Response(document, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="letter-{context.case.id}.pdf"'
    response.headers["Cache-Control"] = "no-store"  # it carries the supporter's name
    return response


@hookimpl
def ecrire_action_types() -> list[ActionType]:
    return [LETTER, POSTED]


@hookimpl
def ecrire_blueprints() -> list[Blueprint]:
    return [bp]


#: Pages that show the letter form or its preview.
LETTER_PAGES = {"portal.case_page", "portal.take_action", "appeal_letter.letter_pdf"}


@hookimpl
def ecrire_template_fragment(place: str, context: PageContext) -> Markup | None:
    """The panel's small stylesheet, only where the letter is shown."""
    if place != "head" or context.endpoint not in LETTER_PAGES:
        return None
    href = url_for("portal.plugin_static", plugin="appeal_letter", filename="appeal_letter.css")
    return Markup('<link rel="stylesheet" href="{}">').format(href)

