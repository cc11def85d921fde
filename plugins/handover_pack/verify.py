"""Prove a hand-over pack: recompute its hashes and compare with its manifest.

Usage::

    python -m plugins.handover_pack.verify <pack folder>

prints ``OK sha256:<pack hash>`` and exits 0 when every file listed in
``manifest.json`` still has the recorded SHA-256 and the pack hash matches;
otherwise prints which file differs (or is missing) and exits 1.

The pack hash is the SHA-256 of the sorted hex digests of the pack's files
(``petition.pdf``, ``signatures.csv``), joined by newlines, so anyone can
recompute it with ``sha256sum`` and a shell: the reference recorded for the
delivery (``sha256:<pack hash>``) then proves what was handed over.

Standard library only, so a section can run it on any machine.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from plugins.handover_pack.hashes import MANIFEST, file_hash, pack_hash

__all__ = ["MANIFEST", "file_hash", "main", "pack_hash", "verify"]

def verify(folder: Path) -> list[str]:
    """The problems found; empty when the pack is intact."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return [f"{MANIFEST} is missing"]
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        recorded: dict[str, str] = dict(manifest["files"])
        recorded_pack = str(manifest["pack_sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{MANIFEST} is unreadable: {exc}"]
    problems = []
    for name, expected in sorted(recorded.items()):
        path = folder / name
        if Path(name).is_absolute() or ".." in Path(name).parts or not path.is_file():
            problems.append(f"{name} is missing")
        elif file_hash(path) != expected:
            problems.append(f"{name} differs from the manifest")
    if not problems and pack_hash(recorded.values()) != recorded_pack:
        problems.append(f"{MANIFEST} differs: its pack hash does not match its file hashes")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m plugins.handover_pack.verify <pack folder>", file=sys.stderr)
        return 2
    folder = Path(args[0])
    problems = verify(folder)
    if problems:
        for problem in problems:
            print(f"FAILED {problem}")
        return 1
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    print(f"OK sha256:{manifest['pack_sha256']}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
