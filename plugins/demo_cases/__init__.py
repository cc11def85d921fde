"""This year's cases and past success stories, read from ``cases.json``."""
from __future__ import annotations

import json
from pathlib import Path

from core.toolkit import CaseData, SuccessStory, hookimpl

DATA = Path(__file__).resolve().parent / "cases.json"


def _load() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


@hookimpl
def ecrire_cases():
    data = _load()
    return [CaseData.from_dict(case, position=n, year=data["campaign_year"]) for n, case in enumerate(data["cases"])]


@hookimpl
def ecrire_success_stories():
    return [SuccessStory.from_dict(story, position=n) for n, story in enumerate(_load()["success_stories"])]
