"""Hand-over pack channel: a petition's signatures as a PDF, a CSV and a
manifest that proves what was handed over.

A section routes petition signatures (deliverables of kind ``"signature"``,
body ``{"name", "country"}``) to the channel ``"handover"`` with
``bundle=True, bundle_every=None``: they are held until an admin closes the
bundle on hand-over day (``flask deliveries bundle --now [--section X]``),
then the worker writes one pack per bundle into the batch's files folder::

    <files_dir>/<bundle key made safe>/petition.pdf
                                      /signatures.csv
                                      /manifest.json

The PDF carries the case's ask, the authority, the section, the total, the
date and the list "name — country" (country named in the section's default
language); the CSV has the columns ``name,country`` (ISO code, UTF-8 with a
BOM). No email address is ever written: signatures carry none, the
authority's is left out, and a name that looks like an address is masked.

``manifest.json`` records the SHA-256 of each file and a pack hash (see
:mod:`plugins.handover_pack.verify`); the delivery's reference is
``sha256:<pack hash>``. Prove a pack later with::

    python -m plugins.handover_pack.verify <pack folder>

A retry of the same bundle rewrites the same folder (built aside, then
renamed into place), so a crash never leaves two packs nor a half-written
one under the final name. Texts print in the section's default language.
"""
from __future__ import annotations

import datetime as dt
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from babel import UnknownLocaleError
from flask_babel import force_locale

from core.toolkit import (
    Delivered,
    DeliveryBatch,
    DeliveryChannel,
    DeliveryItem,
    DeliveryResult,
    PluginTranslations,
    Undeliverable,
    country_name,
    hookimpl,
)
from plugins.handover_pack.hashes import MANIFEST, file_hash, pack_hash
from plugins.handover_pack.pack import (
    CSV_NAME,
    PDF_NAME,
    Signature,
    Texts,
    clean_name,
    long_date,
    manifest_bytes,
    render_csv,
    render_pdf,
    today_in,
)

i18n = PluginTranslations(__file__)
_ = i18n.gettext

KIND = "signature"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def pack_folder_name(key: str) -> str:
    """A bundle key ("bundle:fr:42") as a folder name ("bundle-fr-42")."""
    return _UNSAFE.sub("-", key).strip(".-") or "pack"


def _texts(batch: DeliveryBatch, language: str, count: int) -> Texts:
    """Every printed string, in the section's language."""
    case = batch.case
    recipient = batch.recipient
    section_name = batch.section.display_name(language)
    with force_locale(language):
        title = _("Petition for %(person)s", person=case.person) if case else _("Petition")
        return Texts(
            language=language,
            title=title,
            ask_heading=_("What we ask"),
            ask=(case.text.ask.strip() if case else ""),
            to_heading=_("Handed over to"),
            recipient=[recipient.name, recipient.title, *recipient.address],
            handed_over_by=_("Handed over by %(section)s", section=section_name),
            total=i18n.ngettext("%(num)d signature", "%(num)d signatures", count),
            date=_("Date: %(date)s", date=long_date(today_in(batch.section.timezone), language)),
            list_heading=_("Signatures"),
            page_label=lambda page, pages: _page_label(language, page, pages),
        )


def _page_label(language: str, page: int, pages: int) -> str:
    with force_locale(language):
        return _("Page %(page)d of %(pages)d", page=page, pages=pages)


def _country_label(language: str) -> Callable[[str], str]:
    def label(code: str) -> str:
        try:
            return country_name(code, language)
        except (UnknownLocaleError, ValueError):  # an odd language: the code as stored
            return code

    return label


def _replace_folder(built: Path, target: Path) -> None:
    """Put ``built`` at ``target``, replacing an earlier attempt's folder:
    at every moment at most one pack has the final name."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        target.rename(old)
    built.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _clear_leftovers(files_dir: Path, name: str) -> None:
    """Folders a crashed attempt left aside (hidden, never a pack)."""
    for stale in files_dir.glob(f".{name}.*"):
        shutil.rmtree(stale, ignore_errors=True)


class HandoverPack(DeliveryChannel):
    """Writes one hand-over pack per closed bundle of signatures."""

    name = "handover"
    #: A pack is the whole list: never split a hand-over.
    batch_size = 1_000_000

    def deliver(self, item: DeliveryItem) -> DeliveryResult:
        return Undeliverable("hand-over packs need a bundled route")

    def deliver_batch(self, batch: DeliveryBatch) -> DeliveryResult:
        if batch.kind != KIND:
            return Undeliverable(f"hand-over packs hold petition signatures, not {batch.kind!r} items")
        language = batch.section.default_language
        signatures = [
            Signature(clean_name(item.body.get("name")), str(item.body.get("country") or "").strip().upper())
            for item in batch.items
        ]
        pdf = render_pdf(_texts(batch, language, len(signatures)), signatures, _country_label(language))
        csv_bytes = render_csv(signatures)

        name = pack_folder_name(batch.key)
        batch.files_dir.mkdir(parents=True, exist_ok=True)
        _clear_leftovers(batch.files_dir, name)
        built = batch.files_dir / f".{name}.tmp-{uuid.uuid4().hex[:8]}"
        built.mkdir()
        (built / PDF_NAME).write_bytes(pdf)
        (built / CSV_NAME).write_bytes(csv_bytes)
        hashes = {PDF_NAME: file_hash(built / PDF_NAME), CSV_NAME: file_hash(built / CSV_NAME)}
        pack = pack_hash(hashes.values())
        case = batch.case
        manifest = {
            "format": 1,
            "bundle": batch.key,
            "section": {"code": batch.section.code, "name": batch.section.display_name(language)},
            "case": {"id": batch.case_id, "person": case.person if case else None},
            # The authority's email is left out: no address in a pack.
            "recipient": {
                "name": batch.recipient.name,
                "title": batch.recipient.title,
                "address": list(batch.recipient.address),
            },
            "count": len(signatures),
            "language": language,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "files": hashes,
            "pack_sha256": pack,
        }
        (built / MANIFEST).write_bytes(manifest_bytes(manifest))
        _replace_folder(built, batch.files_dir / name)
        return Delivered(reference=f"sha256:{pack}", files=[f"{name}/{PDF_NAME}", f"{name}/{CSV_NAME}", f"{name}/{MANIFEST}"])


@hookimpl
def ecrire_delivery_channels() -> list[DeliveryChannel]:
    return [HandoverPack()]
