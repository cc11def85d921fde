"""Named places in pages where plugins add markup (``ecrire_template_fragment``).

Contributions are ordered by their priority, never by install order, and
escaped unless the plugin returned ``Markup``. A place name a template uses
must be listed here: an unknown one raises, so a typo cannot hide a hook.
"""
from __future__ import annotations

from markupsafe import Markup, escape

from core.types import Fragment, PageContext

#: Every place a template may name, and what it is for.
PLACES = {
    "head": "inside <head>, after the core styles",
    "header": "end of the site header, after the language switch",
    "home_top": "home page, above the cases",
    "home_bottom": "home page, below the success stories",
    "case_after_story": "case page, after the story and the ask",
    "case_after_actions": "case page, after the action panels",
    "thanks": "thank-you page, after the share links",
    "footer": "site footer",
}


class UnknownPlace(LookupError):
    pass


def render(portal, hooks, place: str, context: PageContext) -> Markup:
    if place not in PLACES:
        raise UnknownPlace(f"template hook place {place!r} is not one of {sorted(PLACES)}")
    parts: list[tuple[int, str, Markup]] = []
    for plugin, result in portal.registry.call_each(hooks.ecrire_template_fragment, place=place, context=context):
        if result is None:
            continue
        fragment = result if isinstance(result, Fragment) else Fragment(result)
        parts.append((fragment.priority, plugin, escape(fragment.html)))
    return Markup("").join(html for _, _, html in sorted(parts, key=lambda p: (p[0], p[1])))
