"""The pack's hashes, shared by the channel (which records them) and
:mod:`plugins.handover_pack.verify` (which recomputes them). Standard
library only."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

MANIFEST = "manifest.json"


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def pack_hash(file_hashes: Iterable[str]) -> str:
    """One hash for the whole pack: order-free, so it does not depend on
    how the manifest lists the files."""
    return hashlib.sha256("\n".join(sorted(file_hashes)).encode("ascii")).hexdigest()
