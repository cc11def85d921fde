"""Every hook a plugin can implement: the contract between core and plugins.

A plugin implements a hook by defining a function of the same name in the
module its ``ecrire.plugins`` entry point names (decorated with
``core.toolkit.hookimpl``). It may accept any subset of the arguments listed
here, so adding an argument later never breaks it. A function whose name
starts with ``ecrire_`` but is not listed here stops start-up.

Hooks marked *per section* are called only on the plugins enabled for the
request's section (and on that section's own plugin); the others are called
on every installed plugin. Each hook is documented with an example in
``docs/hooks.md``.
"""
from __future__ import annotations

from collections.abc import Iterable

import pluggy
from flask import Blueprint
from flask_wtf import FlaskForm
from markupsafe import Markup

from core.types import (
    ActionType,
    CaseData,
    CaseView,
    DeliveryChannel,
    DeliveryRequest,
    Fragment,
    PageContext,
    RecordedAction,
    Route,
    SectionDefinition,
    SuccessStory,
    WorldCounts,
)

PROJECT = "ecrire"
hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def ecrire_section() -> SectionDefinition | None:
    """Define a national section (a tenant of the portal).

    Called once at start-up on every installed plugin. A section plugin
    returns its :class:`SectionDefinition`; a plugin that defines none does
    not implement this hook. A section plugin is always active for its own
    section and never for another, so the other hooks it implements
    (routing, template fragments) are the section's own behaviour.
    """


@hookspec
def ecrire_cases() -> Iterable[CaseData]:
    """Yield the cases a case source provides.

    Called by ``flask cases sync`` on every installed plugin; the results are
    stored, so pages never call a source. A section shows the cases of the
    sources enabled for it. Case ids must be stable slugs.
    """


@hookspec
def ecrire_success_stories() -> Iterable[SuccessStory]:
    """Yield past outcomes (people freed, acquitted, protected) to show.

    Called with ``ecrire_cases`` by ``flask cases sync``; shown in the
    sections where the source is enabled.
    """


@hookspec
def ecrire_action_types() -> Iterable[ActionType]:
    """Return the action types this plugin offers (per section).

    An :class:`ActionType` names the action, its WTForms form, the template
    of its panel on the case page, how it is counted
    (``once_per_supporter``) and what it produces for delivery
    (``deliverables``). Names must be unique across plugins: a clash stops
    the request's section with an error naming both plugins.
    """


@hookspec
def ecrire_blueprints() -> Iterable[Blueprint]:
    """Return Flask blueprints with a plugin's own pages (a printable PDF, a
    public wall of messages).

    Called once at start-up on every installed plugin. Each blueprint is
    mounted under ``/x/<plugin name>/`` and answers only on the portals of
    sections where the plugin is enabled (404 elsewhere); CSRF protection
    applies to its forms. Views render full pages with
    ``core.toolkit.render_page``.
    """


@hookspec
def ecrire_delivery_channels() -> Iterable[DeliveryChannel]:
    """Return the delivery channels this plugin offers (per section).

    The delivery worker gives each due outbox item to the channel its route
    named; ``deliver`` returns :class:`Delivered`, :class:`RetryLater` (the
    item is retried with back-off) or :class:`Undeliverable` (it is not).
    """


@hookspec(firstresult=True)
def ecrire_letter_routing(
    section: SectionDefinition,
    case: CaseView,
    action: RecordedAction,
    request: DeliveryRequest,
) -> Route | None:
    """Decide who receives an item an action produced, and by which channel
    (per section, first answer wins).

    Called in the action's transaction for each :class:`DeliveryRequest` an
    action type returns. Return a :class:`Route`, or None to let another
    plugin answer. With no answer the item is stored as *unrouted* for an
    admin to see, never dropped.
    """


@hookspec
def ecrire_template_fragment(place: str, context: PageContext) -> Fragment | Markup | str | None:
    """Add markup at a named place of a page (per section).

    ``place`` is one of ``core.web.template_hooks.PLACES``. Return None to add
    nothing, a string (escaped), :class:`markupsafe.Markup` (trusted as is)
    or a :class:`Fragment` to set a priority. A plugin that raises is logged
    by name and left out of the page.
    """


@hookspec
def ecrire_settings_form(section: SectionDefinition) -> type[FlaskForm] | None:
    """Declare the settings a section admin may set for this plugin.

    Called on one plugin at a time, by the admin's settings page of that
    plugin in ``section`` (enabled there or not). Return a
    :class:`flask_wtf.FlaskForm` *subclass* (not an instance) whose field
    names are the setting keys, or None for no settings. The admin renders
    it, validates it and stores ``form.data`` per section; the plugin reads
    the values where it reads the section's settings
    (``ActionContext.settings``, ``DeliveryItem.settings``,
    ``core.toolkit.section_settings``), the stored ones over the section
    definition's ``plugin_settings``. Values must be JSON-serialisable.
    ``PasswordField`` fields are secrets: never shown back, kept when
    submitted empty. A plugin that raises gets an error box naming it on
    its settings page; the rest of the admin keeps working.
    """


@hookspec
def ecrire_api_blueprints() -> Iterable[Blueprint]:
    """Return Flask blueprints with a plugin's JSON endpoints, mounted under
    ``/api/v1`` + the blueprint's own ``url_prefix``.

    Called once at start-up on every installed plugin. Unlike
    ``ecrire_blueprints``, these views are exempt from CSRF protection (they
    are for machines, which authenticate otherwise, e.g. by signature) and
    every error they raise is answered in JSON. They answer only on the
    portals of sections where the plugin is enabled (404 elsewhere). A
    blueprint's CLI commands (``bp.cli``) are added to ``flask`` too.
    """


@hookspec(firstresult=True)
def ecrire_world_counts() -> WorldCounts | None:
    """Give the campaign's world totals (per section, first answer wins).

    Called when a page, ``/counts.json`` or ``/api/v1/counts`` shows a world
    total. Return a :class:`WorldCounts` (e.g. the federation hub's figures)
    or None to let the portal add up its own database. Keep it fast: it is
    called on page views (cache what you read).
    """
