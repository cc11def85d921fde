"""The prepared post and the share addresses for a case.

Intents are plain links to each network's own share page: no script, no
pixel and no tracking parameter of ours, so nothing is learnt about who
shares where. Counting relies on the supporter's word instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from flask import url_for

from core.toolkit import CaseView

from plugins.share.forms import i18n

#: Keep the quoted ask short enough for a post on any network.
ASK_MAX = 180

_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s|$)", re.S)


@dataclass(frozen=True)
class Post:
    """A prepared post, in parts: some networks take the link separately."""

    message: str
    url: str
    tags: str

    @property
    def without_url(self) -> str:
        return "\n".join(part for part in (self.message, self.tags) if part)

    @property
    def text(self) -> str:
        return "\n".join(part for part in (self.message, self.url, self.tags) if part)


def brief_ask(ask: str) -> str:
    """The first sentence of the case's ask: the request itself, without
    the reasons that follow it."""
    ask = " ".join(ask.split())
    match = _FIRST_SENTENCE.match(ask)
    brief = match.group(1) if match else ask
    if len(brief) > ASK_MAX:
        brief = brief[:ASK_MAX].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return brief


def compose(case: CaseView) -> Post:
    """The post in the page language: the ask (to the official's account
    when the case names one), an invitation, the case page, the hashtag."""
    ask = brief_ask(case.text.ask)
    handle = (case.social_handle or "").strip()
    lines = []
    if ask and handle:
        lines.append(i18n.gettext("My message to %(handle)s: “%(ask)s”", handle=handle, ask=ask))
    elif ask:
        lines.append(i18n.gettext("My message to the authorities: “%(ask)s”", ask=ask))
    lines.append(i18n.gettext("Act for %(person)s with Write for Rights too, it takes under a minute:", person=case.person))
    url = url_for("portal.case_page", case_id=case.id, _external=True)
    return Post(message="\n".join(lines), url=url, tags=(case.hashtag or "").strip())


def _query(params: dict[str, str]) -> str:
    # %20 rather than "+": every network reads it as a space.
    return urlencode(params, quote_via=quote)


def links(case: CaseView, post: Post) -> list[tuple[str, str, bool]]:
    """(network, address, new tab) for each network, most used first. The
    networks' pages open in a new tab so the case page stays open for the
    confirmation; our Mastodon page and the mail app do not need one."""
    subject = i18n.gettext("Act for %(person)s with Write for Rights", person=case.person)
    return [
        ("Bluesky", "https://bsky.app/intent/compose?" + _query({"text": post.text}), True),
        # Mastodon has no single address: our own page asks for the supporter's server.
        ("Mastodon", url_for("share.mastodon", case_id=case.id), False),
        ("X", "https://x.com/intent/tweet?" + _query({"text": post.text}), True),
        ("Facebook", "https://www.facebook.com/sharer/sharer.php?" + _query({"u": post.url}), True),
        ("WhatsApp", "https://wa.me/?" + _query({"text": post.text}), True),
        ("Telegram", "https://t.me/share/url?" + _query({"url": post.url, "text": post.without_url}), True),
        ("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?" + _query({"url": post.url}), True),
        (i18n.gettext("Email"), "mailto:?" + _query({"subject": subject, "body": post.text}), False),
    ]


def mastodon_link(server: str, post: Post) -> str:
    """The share page every Mastodon server has (``/share?text=``)."""
    return f"https://{server}/share?" + _query({"text": post.text})
