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

from core.countries import CountryField, country_choices, country_name
from core.fields import SupporterEmailField, strip_whitespace
from core.hookspecs import PROJECT
from core.schema import run_migrations
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
    "Fragment",
    "LegalRules",
    "Markup",
    "PageContext",
    "PluginTranslations",
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
    "find_case",
    "hookimpl",
    "render_page",
    "run_migrations",
    "strip_whitespace",
]
