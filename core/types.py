"""The objects that travel through hooks.

These are the public, typed vocabulary shared by the core and every plugin.
They are plain frozen dataclasses so a plugin can build them without touching
the database, and the core can change its storage without breaking plugins.
Outside plugins import them from :mod:`core.toolkit`, never from here.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from markupsafe import Markup

if TYPE_CHECKING:  # pragma: no cover
    from wtforms import Form


# --------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Branding:
    """How a section's portal looks. Colours are CSS colour strings."""

    primary_colour: str = "#111111"
    accent_colour: str = "#ffdd00"
    text_on_accent: str = "#111111"
    #: Path of the logo inside the section plugin's ``static/`` folder, or None.
    logo: str | None = None


@dataclass(frozen=True)
class LegalRules:
    """A section's legal rules, enforced by the core on every action that
    collects personal data (``ActionType.collects_personal_data``).

    ``consent_age``: the age from which a supporter may consent alone.
    ``age_check``: ``"declare"`` (a box: "I am N or older") or
    ``"birth_year"``. ``under_age``: what a younger supporter may do:
    ``"anonymous"`` (the action counts, nothing personal is kept) or
    ``"parent"`` (a parent confirms by a link sent to their address; until
    then the action is held). ``verify_email``: actions wait, counted
    apart, until the supporter opens a link; unconfirmed ones are erased
    after ``unverified_days``. ``newsletter``: offer a newsletter sign-up
    (never pre-ticked, separate from the action's consent), confirmed by a
    link when ``double_opt_in``. ``consent_wordings``: purpose ("action",
    "newsletter", "parent") -> language -> text, at ``wording_version``;
    the version is stored with every consent given.
    """

    consent_age: int = 16
    double_opt_in: bool = False
    retention_days: int = 365
    controller: str = ""
    #: Privacy notice per language code.
    privacy_notice: Mapping[str, str] = field(default_factory=dict)
    age_check: str = "declare"
    under_age: str = "anonymous"
    verify_email: bool = False
    unverified_days: int = 7
    newsletter: bool = False
    consent_wordings: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    wording_version: str = "1"


@dataclass(frozen=True)
class Campaign:
    """The dates a section's marathon runs, inclusive."""

    opens: dt.date
    closes: dt.date


@dataclass(frozen=True)
class SectionDefinition:
    """A national section: one tenant of the portal.

    ``code`` is stable (it is stored with every action); ``hosts`` are the
    host names (without port) that select this section, and can be
    overridden by the ``SECTION_HOSTS`` setting of a deployment.
    """

    code: str
    #: Display name per language code.
    name: Mapping[str, str]
    hosts: Sequence[str]
    languages: Sequence[str]
    default_language: str
    timezone: str
    #: ISO 3166-1 alpha-2 code of the section's country.
    country: str
    campaign: Campaign
    branding: Branding = Branding()
    legal: LegalRules = LegalRules()
    #: Plugins switched on when the section is first created.
    default_plugins: Sequence[str] = ()
    #: Settings per plugin name for this section (e.g. which petition
    #: fields are required, whether a message wall is shown). A plugin reads
    #: its own through ``ActionContext.settings``.
    plugin_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def display_name(self, language: str) -> str:
        return self.name.get(language) or self.name.get(self.default_language) or self.code


# --------------------------------------------------------------------------
# Cases and success stories (what case sources yield)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseText:
    """A case's text in one language. ``story`` paragraphs are separated by
    blank lines."""

    title: str
    summary: str
    story: str
    ask: str


@dataclass(frozen=True)
class Authority:
    """Who appeals about a case are addressed to. Texts are per language."""

    title: Mapping[str, str]
    salutation: Mapping[str, str] = field(default_factory=dict)
    closing: Mapping[str, str] = field(default_factory=dict)
    address: Sequence[str] = ()
    email: str | None = None


@dataclass(frozen=True)
class CaseData:
    """One person or group at risk, as a case source yields it.

    ``id`` is a stable slug: it is stored with every action, so a source must
    never reuse it for another case.
    """

    id: str
    person: str
    country: str
    year: int
    texts: Mapping[str, CaseText]
    goal: int | None = None
    colour: str = "#333333"
    hashtag: str | None = None
    authority: Authority | None = None
    position: int = 0
    #: The authority's social-media handle, for prepared posts (e.g. "@presidency").
    social_handle: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, position: int = 0, year: int | None = None) -> CaseData:
        """A case from its JSON form (a data file, a federation feed);
        ``position`` and ``year`` are defaults the data may override."""
        authority = data.get("authority")
        return cls(
            id=data["id"],
            person=data["person"],
            country=data["country"],
            year=data.get("year", year),
            texts={lang: CaseText(**text) for lang, text in data["texts"].items()},
            goal=data.get("goal"),
            colour=data.get("colour") or "#333333",
            hashtag=data.get("hashtag"),
            authority=Authority(**authority) if authority else None,
            position=data.get("position", position),
            social_handle=data.get("social_handle"),
        )


@dataclass(frozen=True)
class StoryText:
    title: str
    body: str
    quote: str | None = None
    quote_by: str | None = None


@dataclass(frozen=True)
class SuccessStory:
    """A past outcome the campaign contributed to."""

    id: str
    person: str
    country: str
    year: int | None
    outcome: str
    texts: Mapping[str, StoryText]
    position: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, position: int = 0) -> SuccessStory:
        """A story from its JSON form, like :meth:`CaseData.from_dict`."""
        return cls(
            id=data["id"],
            person=data["person"],
            country=data["country"],
            year=data.get("year"),
            outcome=data["outcome"],
            texts={lang: StoryText(**text) for lang, text in data["texts"].items()},
            position=data.get("position", position),
        )


# --------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseView:
    """A case as a page shows it: texts already chosen for the page language."""

    id: str
    person: str
    country: str
    year: int
    language: str
    text: CaseText
    goal: int | None
    colour: str
    hashtag: str | None
    authority: Authority | None
    social_handle: str | None = None

    @property
    def initials(self) -> str:
        words = [w for w in self.person.replace("-", " ").split() if w[:1].isalpha()]
        return "".join(w[0] for w in words[:2]).upper()


@dataclass(frozen=True)
class ActionContext:
    """Where an action happens: the request's section, case and language."""

    section: SectionDefinition
    case: CaseView
    language: str
    #: This section's settings for the plugin that provides the action.
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SupporterDetails:
    """Personal data an action collects. It stays in its section."""

    email: str
    name: str = ""
    country: str = ""


@dataclass(frozen=True)
class ActionRecord:
    """What an action type hands back to the core for a valid form.

    ``supporter`` is None for anonymous actions. ``payload`` must be
    JSON-serialisable; it is stored as is.
    """

    supporter: SupporterDetails | None
    payload: Mapping[str, Any] = field(default_factory=dict)
    #: How many actions this record stands for (an offline tally of letters
    #: written on paper reports many at once).
    count: int = 1


@dataclass(frozen=True)
class RecordedAction:
    """An action as stored, passed to ``deliverables`` and to routing."""

    id: int
    section_code: str
    case_id: str
    action_type: str
    payload: Mapping[str, Any]
    created_at: dt.datetime
    supporter: SupporterDetails | None


@dataclass(frozen=True)
class DeliveryRequest:
    """Something an action produces to be delivered (a letter, a message).

    The section's letter routing decides who receives it and by which
    channel; ``kind`` lets routing tell a letter from a card.
    """

    kind: str
    body: Mapping[str, Any]


class ActionType:
    """Base class for an action a supporter takes on a case.

    Subclass it in a plugin and return an instance from
    ``ecrire_action_types``. Class attributes say what it is; the methods
    have working defaults so a simple action only sets the attributes and
    ``record``.
    """

    #: Stable identifier, stored with every action and used in URLs.
    name: ClassVar[str]
    #: Short label for buttons and headings (use the plugin's lazy_gettext).
    label: ClassVar[Any]
    #: WTForms form class (derive from ``flask_wtf.FlaskForm`` for CSRF).
    form_class: ClassVar[type[Form]]
    #: Template (in the plugin's ``templates/`` folder) rendering the form
    #: panel; it receives ``form``, ``case``, ``action`` and ``submit_url``.
    template: ClassVar[str]
    #: Count one action per supporter and case; a repeat is recognised and
    #: not counted again.
    once_per_supporter: ClassVar[bool] = True
    #: Order on the case page: lower comes first.
    priority: ClassVar[int] = 100
    #: The plugin's ``PluginTranslations``: its template gets ``_`` from it.
    translations: ClassVar[Any] = None
    #: Reuse the blank panel's HTML across visitors for a few seconds (only
    #: its CSRF token differs). Set False if the panel depends on the visitor
    #: (their session, cookies or query string).
    cache_panel: ClassVar[bool] = True
    #: Hold the action for moderation: it is counted, and its deliverables
    #: are queued, only once a moderator approves it.
    moderated: ClassVar[bool] = False
    #: The form asks for an email address or a name: the section's legal
    #: rules apply (age, consent records, address check, newsletter). Its
    #: template must then call ``{{ legal_fields("<name>") }}`` inside the
    #: form (and ``{{ legal_hidden() }}`` in the form of a preview step).
    collects_personal_data: ClassVar[bool] = False

    def available_for(self, context: ActionContext) -> bool:
        """Whether this action is offered on this case in this section."""
        return True

    def make_form(self, context: ActionContext, formdata: Any = None) -> Form:
        """Build the form. Override to set choices or defaults per section."""
        return self.form_class(formdata=formdata)

    def review(self, form: Form, context: ActionContext) -> Any:
        """Called with a valid form before recording: return a response (a
        preview page, say) to show instead, or None to record now."""
        return None

    def record(self, form: Form, context: ActionContext) -> ActionRecord:
        """Turn a valid form into what is stored. Must be overridden."""
        raise NotImplementedError(f"{type(self).__name__}.record")

    def deliverables(self, action: RecordedAction, context: ActionContext) -> Sequence[DeliveryRequest]:
        """What this action produces for delivery (default: nothing)."""
        return ()

    def erase(self, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        """The payload once its writer's personal data is erased (on request
        or past the section's retention). The default keeps only the page
        language: override to keep more, never less."""
        return {key: payload[key] for key in ("language",) if key in payload}


# --------------------------------------------------------------------------
# Routing and delivery
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    name: str
    title: str = ""
    address: Sequence[str] = ()
    email: str | None = None


@dataclass(frozen=True)
class Route:
    """The letter-routing answer: who receives an item and by which channel.

    ``bundle`` True means items are held and sent together (a weekly post
    batch, an email digest, a hand-over) rather than one by one. Held items
    are closed into bundles when their window ends: windows of
    ``bundle_every`` (weekly by default, aligned on Mondays 00:00 UTC), or,
    with ``bundle_every=None``, only when an admin closes them (a hand-over
    on a chosen day). A bundle holds items of one kind for one recipient,
    at most the channel's ``batch_size`` of them.
    """

    recipient: Recipient
    channel: str
    bundle: bool = False
    bundle_every: dt.timedelta | None = dt.timedelta(days=7)


@dataclass(frozen=True)
class DeliveryItem:
    """One outbox row as a channel sees it.

    ``key`` is stable across retries: channels that can deduplicate (an
    email Message-ID, a webhook idempotency key) must use it.
    """

    id: int
    key: str
    section_code: str
    case_id: str | None
    kind: str
    recipient: Recipient
    body: Mapping[str, Any]
    attempt: int
    #: The channel plugin's settings for this section.
    settings: Mapping[str, Any] = field(default_factory=dict)
    #: The item's section, and the folder kept for this section and channel
    #: where the channel may write what it produces (set by the worker).
    section: SectionDefinition | None = None
    files_dir: Path | None = None


@dataclass(frozen=True)
class DeliveryBatch:
    """A closed bundle as a channel sees it: items of one ``kind``, on one
    case, for one recipient, in the order they were written.

    ``key`` is stable across retries, like an item's. ``section`` and
    ``case`` (in the section's default language; None if the case is gone)
    are there for letterheads and hand-over texts. ``files_dir`` is a folder
    kept for this section and channel where the channel may write what it
    produces (a print-ready PDF, a hand-over pack).
    """

    id: int
    key: str
    section: SectionDefinition
    case_id: str | None
    case: CaseView | None
    kind: str
    recipient: Recipient
    items: Sequence[DeliveryItem]
    attempt: int
    files_dir: Path
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivered:
    """Success. ``reference`` is shown to admins (a Message-ID, a receipt);
    ``files`` are paths, relative to the batch's ``files_dir``, of what the
    channel produced, offered for download in the admin."""

    reference: str = ""
    files: Sequence[str] = ()


@dataclass(frozen=True)
class RetryLater:
    """A temporary failure (server down, time-out): the item is retried."""

    reason: str


@dataclass(frozen=True)
class Undeliverable:
    """A permanent failure (invalid address): the item is not retried."""

    reason: str


DeliveryResult = Delivered | RetryLater | Undeliverable


class DeliveryChannel:
    """Base class for a way of delivering items. Return an instance from
    ``ecrire_delivery_channels``."""

    #: Stable identifier, named by routing answers.
    name: ClassVar[str]
    #: The most items one bundle holds; a larger window is split.
    batch_size: ClassVar[int] = 500

    def deliver(self, item: DeliveryItem) -> DeliveryResult:
        raise NotImplementedError(f"{type(self).__name__}.deliver")

    def deliver_batch(self, batch: DeliveryBatch) -> DeliveryResult:
        """Send a closed bundle at once. Channels that cannot bundle keep
        this default, and a route that bundles for them fails visibly."""
        return Undeliverable(f"channel {self.name!r} does not send bundles")


# --------------------------------------------------------------------------
# Template hooks
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PageContext:
    """What a template-hook implementation knows about the page."""

    place: str
    section: SectionDefinition
    language: str
    case: CaseView | None = None
    endpoint: str | None = None


@dataclass(frozen=True)
class Fragment:
    """Markup a plugin adds at a named place of a page.

    ``html`` is escaped unless it is a :class:`markupsafe.Markup`; fragments
    are ordered by ``priority`` (lower first), then by plugin name.
    """

    html: str | Markup
    priority: int = 100


# --------------------------------------------------------------------------
# Federation
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class WorldCounts:
    """Actions counted across every deployment of the campaign, as a
    plugin knows them (the hub's sum of its members' reports).

    ``cases`` maps a case id to its world total; ``total`` is the sum over
    every case; ``updated_at`` (ISO 8601) says how fresh the figures are.
    """

    total: int
    cases: Mapping[str, int] = field(default_factory=dict)
    updated_at: str | None = None
