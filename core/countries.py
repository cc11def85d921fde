"""Country names in the page language, from the CLDR data Babel ships."""
from __future__ import annotations

import functools
import unicodedata

from babel import Locale


def _sort_key(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=64)
def country_choices(language: str) -> tuple[tuple[str, str], ...]:
    """(ISO code, name) pairs for a country select, sorted for readers of
    ``language``. Regions (``001``), the EU and unknown (``ZZ``) are left out."""
    names = Locale.parse(language).territories
    pairs = [
        (code, name)
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in {"ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"}
    ]
    return tuple(sorted(pairs, key=lambda p: _sort_key(p[1])))


def country_name(code: str, language: str) -> str:
    return Locale.parse(language).territories.get(code, code)
