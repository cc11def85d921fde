"""Share links for the common networks: plain links, no scripts or pixels."""
from __future__ import annotations

from urllib.parse import quote, urlencode

from flask_babel import gettext as _


def links(url: str, text: str) -> list[tuple[str, str]]:
    """(network name, share address) pairs for a page and a prepared text."""
    both = f"{text} {url}"
    return [
        ("Bluesky", "https://bsky.app/intent/compose?" + urlencode({"text": both})),
        ("Mastodon", "https://mastodonshare.com/?" + urlencode({"text": text, "url": url})),
        ("X", "https://twitter.com/intent/tweet?" + urlencode({"text": text, "url": url})),
        ("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})),
        ("WhatsApp", "https://wa.me/?" + urlencode({"text": both})),
        ("Telegram", "https://t.me/share/url?" + urlencode({"url": url, "text": text})),
        (_("Email"), "mailto:?subject=" + quote(text) + "&body=" + quote(both)),
    ]
