"""Every string a supporter can see is translated: the catalogs are checked
against what the code and templates actually use, so a new string that was
never added to a catalog fails here."""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
#: French and English complete everywhere, the admin included.
LANGUAGES = ("fr", "en")
#: The other languages of the sections (Dutch for Belgium; German and
#: Italian for Switzerland): every string of the supporter path.
SUPPORTER_LANGUAGES = ("nl", "de", "it")
#: Seen by section admins only, in French or English.
ADMIN_ONLY = ("admin/", "web/templates/admin/")


def domains() -> list[tuple[str, Path, Path]]:
    found = [("core", ROOT / "core", ROOT / "translations")]
    for folder in sorted((ROOT / "plugins").iterdir()) + sorted((ROOT / "sections").iterdir()):
        if (folder / "translations").is_dir():
            found.append((folder.name, folder, folder / "translations"))
    return found


def used_messages(source: Path, supporter_path_only: bool = False) -> set[str]:
    """The strings the code and templates under ``source`` use; with
    ``supporter_path_only``, those outside the admin."""
    messages = set()
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(source), METHODS, keywords=KEYWORDS, options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    ):
        if supporter_path_only and filename.replace("\\", "/").startswith(ADMIN_ONLY):
            continue
        messages.add(message[0] if isinstance(message, tuple) else message)
    return messages


@pytest.mark.parametrize("name, source, catalogs", domains(), ids=[d[0] for d in domains()])
@pytest.mark.parametrize("language", LANGUAGES + SUPPORTER_LANGUAGES)
def test_every_used_string_is_translated(name, source, catalogs, language):
    used = used_messages(source, supporter_path_only=language in SUPPORTER_LANGUAGES)
    assert used, f"no translatable strings found in {source}"
    path = catalogs / language / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"{name} has no {language} catalog"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    missing = []
    for msgid in sorted(used):
        message = catalog.get(msgid) if isinstance(msgid, str) else None
        if message is None:
            message = next((m for m in catalog if (m.id[0] if isinstance(m.id, tuple) else m.id) == msgid), None)
        strings = message.string if message else None
        if not message or message.fuzzy or not strings or (isinstance(strings, tuple) and not all(strings)):
            missing.append(msgid)
    assert not missing, f"{name}/{language}: untranslated: {missing}"
