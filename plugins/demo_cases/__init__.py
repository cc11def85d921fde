"""This year's cases and past success stories, read from ``cases.json``."""
from __future__ import annotations

import json
from pathlib import Path

from core.toolkit import Authority, CaseData, CaseText, StoryText, SuccessStory, hookimpl

DATA = Path(__file__).resolve().parent / "cases.json"


def _load() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


@hookimpl
def ecrire_cases():
    data = _load()
    for position, case in enumerate(data["cases"]):
        authority = case.get("authority")
        yield CaseData(
            id=case["id"],
            person=case["person"],
            country=case["country"],
            year=data["campaign_year"],
            texts={lang: CaseText(**text) for lang, text in case["texts"].items()},
            goal=case.get("goal"),
            colour=case.get("colour", "#333333"),
            hashtag=case.get("hashtag"),
            social_handle=case.get("social_handle"),
            authority=Authority(**authority) if authority else None,
            position=position,
        )


@hookimpl
def ecrire_success_stories():
    for position, story in enumerate(_load()["success_stories"]):
        yield SuccessStory(
            id=story["id"],
            person=story["person"],
            country=story["country"],
            year=story.get("year"),
            outcome=story["outcome"],
            texts={lang: StoryText(**text) for lang, text in story["texts"].items()},
            position=position,
        )
