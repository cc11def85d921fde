"""The stable API for plugins: import from here, not from other core modules.

Everything named in ``__all__`` keeps working across minor releases; a
change that breaks it is announced a release ahead (see ``docs/hooks.md``).
Other core modules are internal and may change at any time.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pluggy
from flask_babel import Domain
from markupsafe import Markup

from core.api import (
    canonical_json,
    deployment_id,
    instance_folder,
    local_counts,
    portal_database,
    published_catalogue,
    served_sections,
)
from core.countries import CountryField, country_choices, country_name
from core.fields import SupporterEmailField, strip_whitespace
from core.hookspecs import PROJECT
from core.letter_pdf import (
    LETTER_FONT,
    Letterhead,
    PrintableLetter,
    draw_letter,
    draw_letterhead,
    letter_canvas,
    register_letter_fonts,
    render_letter,
    wrap_text,
)
from core.mail import SmtpSettings, send as send_mail, setting as config_setting
from core.letter_routing import AUTHORITY, EMBASSY, RoutingPlan, RoutingRule
from core.plugin_settings import section_settings
from core.schema import run_migrations
from core.signing import (
    DEPLOYMENT_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_PREFIX,
    TIMESTAMP_HEADER,
    sign,
    verify_signature,
)
from core.web.portal import approved_actions, current_language, current_section, find_case, render_page
from core.types import (
    ActionContext,
    ActionRecord,
    ActionType,
    Authority,
    Branding,
    Campaign,
    CaseData,
    CaseText,
    CaseView,
    Delivered,
    DeliveryBatch,
    DeliveryChannel,
    DeliveryItem,
    DeliveryRequest,
    DeliveryResult,
    Fragment,
    LegalRules,
    PageContext,
    Recipient,
    RecordedAction,
    RetryLater,
    Route,
    SectionDefinition,
    StoryText,
    SuccessStory,
    SupporterDetails,
    Undeliverable,
    WorldCounts,
)

#: Decorate hook implementations with this.
hookimpl = pluggy.HookimplMarker(PROJECT)


class PluginTranslations:
    """A plugin's own translation domain, read from ``translations/`` next
    to the module that creates it, so a plugin's strings never fall back to
    the core's catalog.

    Usage in a plugin package's ``__init__.py``::

        i18n = PluginTranslations(__file__)
        _ = i18n.gettext
        _l = i18n.lazy_gettext
    """

    def __init__(self, module_file: str) -> None:
        self.directory = Path(module_file).resolve().parent / "translations"
        self.domain = Domain(translation_directories=[str(self.directory)], domain="messages")

    def gettext(self, string: str, **variables: Any) -> str:
        return self.domain.gettext(string, **variables)

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        return self.domain.ngettext(singular, plural, num, **variables)

    def lazy_gettext(self, string: str, **variables: Any) -> Any:
        return self.domain.lazy_gettext(string, **variables)

    def template_globals(self) -> dict[str, Any]:
        """``_``/``gettext``/``ngettext`` for a plugin's own templates."""
        return {"_": self.gettext, "gettext": self.gettext, "ngettext": self.ngettext}


__all__ = [
    "SmtpSettings",
    "config_setting",
    "send_mail",
    "DEPLOYMENT_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "SIGNATURE_PREFIX",
    "WorldCounts",
    "canonical_json",
    "deployment_id",
    "instance_folder",
    "local_counts",
    "portal_database",
    "published_catalogue",
    "served_sections",
    "sign",
    "verify_signature",
    "AUTHORITY",
    "EMBASSY",
    "RoutingPlan",
    "RoutingRule",
    "ActionContext",
    "ActionRecord",
    "ActionType",
    "Authority",
    "Branding",
    "Campaign",
    "CaseData",
    "CaseText",
    "CaseView",
    "CountryField",
    "Delivered",
    "DeliveryBatch",
    "DeliveryChannel",
    "DeliveryItem",
    "DeliveryRequest",
    "DeliveryResult",
    "LETTER_FONT",
    "Fragment",
    "LegalRules",
    "Letterhead",
    "Markup",
    "PageContext",
    "PluginTranslations",
    "PrintableLetter",
    "Recipient",
    "RecordedAction",
    "RetryLater",
    "Route",
    "SectionDefinition",
    "StoryText",
    "SuccessStory",
    "SupporterEmailField",
    "SupporterDetails",
    "Undeliverable",
    "approved_actions",
    "country_choices",
    "country_name",
    "current_language",
    "current_section",
    "draw_letter",
    "draw_letterhead",
    "find_case",
    "hookimpl",
    "letter_canvas",
    "register_letter_fonts",
    "render_page",
    "render_letter",
    "run_migrations",
    "section_settings",
    "strip_whitespace",
    "wrap_text",
]
