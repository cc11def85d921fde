"""The printable letter a supporter posts themselves: the core's shared
letter layout (A4, the authority's address where a windowed envelope shows
it, the letter exactly as written), without a section letterhead since the
supporter sends it in their own name."""
from __future__ import annotations

from core.toolkit import PrintableLetter, render_letter

__all__ = ["PrintableLetter", "render"]


def render(letter: PrintableLetter) -> bytes:
    return render_letter(letter)
