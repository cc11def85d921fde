"""Blank action panels, rendered once and reused across visitors.

A case page shows every action's form; rendering them all on each view cost
more than the rest of the page. A blank panel differs between visitors only
by its CSRF token, so it is kept per (section, case, action, language) for a
few seconds and the token of the visitor is put in place of the one it was
rendered with. Action types whose panel depends on the visitor opt out
(``ActionType.cache_panel = False``).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable

from flask_wtf.csrf import generate_csrf
from markupsafe import Markup


class PanelCache:
    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, str, str]] = {}

    def get(self, key: Hashable, render: Callable[[], Markup]) -> Markup:
        token = generate_csrf()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] <= self.max_age:
            _taken, html, old_token = entry
            return Markup(html.replace(old_token, token))
        html = render()
        with self._lock:
            self._entries[key] = (now, str(html), token)
        return html
