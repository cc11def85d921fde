"""Declarative letter routing for section plugins.

Most sections route the same way: each kind of item (a letter, a card, a
signature) goes to the case's authority, to the embassy of the case's
country in the section's capital, or to a fixed address, by one channel,
one by one or bundled. A section states that as a :class:`RoutingPlan` and
answers ``ecrire_letter_routing`` with ``plan.route(section, case, request)``;
a section with odder rules writes the hook by hand. The addresses are the
section's data: the core holds none.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.types import CaseView, DeliveryRequest, Recipient, Route, SectionDefinition

#: Targets a rule may name instead of a fixed :class:`Recipient`.
AUTHORITY = "authority"
EMBASSY = "embassy"


@dataclass(frozen=True)
class RoutingRule:
    """Where one kind of item goes.

    ``to`` is ``AUTHORITY`` (the case's authority, else the embassy),
    ``EMBASSY`` (the embassy of the case's country, else the authority) or
    a fixed :class:`Recipient`. ``by_email_when_possible`` sends by
    ``email_channel`` instead of ``channel`` when the chosen recipient has an
    email address.
    """

    to: str | Recipient
    channel: str
    bundle: bool = False
    bundle_every: dt.timedelta | None = dt.timedelta(days=7)
    email_channel: str | None = None


@dataclass(frozen=True)
class RoutingPlan:
    """A section's routing: rules per item kind, and its embassies per
    ISO country code (the embassies *in the section's country*)."""

    rules: Mapping[str, RoutingRule]
    embassies: Mapping[str, Recipient] = field(default_factory=dict)

    def authority(self, section: SectionDefinition, case: CaseView) -> Recipient | None:
        authority = case.authority
        if authority is None or not (authority.address or authority.email):
            return None
        title = authority.title
        name = title.get(section.default_language) or title.get(case.language) or next(iter(title.values()), "")
        return Recipient(name=name, address=tuple(authority.address), email=authority.email)

    def recipient(self, rule: RoutingRule, section: SectionDefinition, case: CaseView) -> Recipient | None:
        if isinstance(rule.to, Recipient):
            return rule.to
        embassy = self.embassies.get(case.country)
        authority = self.authority(section, case)
        if rule.to == EMBASSY:
            return embassy or authority
        if rule.to == AUTHORITY:
            return authority or embassy
        raise ValueError(f"unknown routing target {rule.to!r}")

    def route(self, section: SectionDefinition, case: CaseView, request: DeliveryRequest) -> Route | None:
        """The route for an item, or None (stored as unrouted) when no rule
        covers its kind or no recipient is known."""
        rule = self.rules.get(request.kind)
        if rule is None:
            return None
        recipient = self.recipient(rule, section, case)
        if recipient is None:
            return None
        channel = rule.email_channel if rule.email_channel and recipient.email else rule.channel
        return Route(recipient=recipient, channel=channel, bundle=rule.bundle, bundle_every=rule.bundle_every)
