"""Cases and success stories: stored from the case sources, read by pages.

Sources are called only by ``flask cases sync``; pages read the stored copy
through a per-process cache, so a slow or broken source never slows a page.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Case, CaseOverride, CaseTextRow, Story, StoryTextRow
from core.plugins import PluginError, PluginRegistry
from core.types import Authority, CaseData, CaseText, CaseView, SectionDefinition, StoryText, SuccessStory


@dataclass(frozen=True)
class SyncReport:
    cases: int
    stories: int
    withdrawn: int


def _authority_to_json(authority: Authority | None) -> dict | None:
    return dataclasses.asdict(authority) if authority else None


def _authority_from_json(data: dict | None) -> Authority | None:
    return Authority(**data) if data else None


def _collect(registry: PluginRegistry, caller, kind: type) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    seen: dict[str, str] = {}
    for plugin, items in registry.call_each(caller, isolate=False):
        for item in items or ():
            if not isinstance(item, kind):
                raise PluginError(plugin, f"{caller.name} yielded {type(item).__name__}, expected {kind.__name__}")
            if item.id in seen:
                raise PluginError(plugin, f"id {item.id!r} is also provided by {seen[item.id]!r}")
            seen[item.id] = plugin
            found.append((plugin, item))
    return found


def _store(session: Session, model: type, text_model: type, found: list[tuple[str, Any]], fields: dict) -> int:
    """Upsert what the sources yielded into ``model`` (texts replaced);
    rows no source yields any more are marked inactive, never deleted,
    since actions refer to them. Returns how many were withdrawn."""
    yielded = {item.id for _, item in found}
    withdrawn = 0
    for row in session.scalars(select(model).where(model.active.is_(True))):
        if row.id not in yielded:
            row.active = False
            withdrawn += 1
    for source, data in found:
        row = session.get(model, data.id)
        if row is None:
            row = model(id=data.id)
            session.add(row)
        row.source, row.active = source, True
        for column, value in fields.items():
            setattr(row, column, value(data) if callable(value) else getattr(data, column))
        row.texts = [text_model(language=lang, **dataclasses.asdict(text)) for lang, text in data.texts.items()]
    return withdrawn


def sync(session: Session, registry: PluginRegistry) -> SyncReport:
    """Store what every case source yields."""
    cases = _collect(registry, registry.pm.hook.ecrire_cases, CaseData)
    stories = _collect(registry, registry.pm.hook.ecrire_success_stories, SuccessStory)
    common = dict.fromkeys(("person", "country", "year", "position"))
    withdrawn = _store(
        session, Case, CaseTextRow, cases,
        {**common, **dict.fromkeys(("goal", "colour", "hashtag", "social_handle")), "authority": lambda d: _authority_to_json(d.authority)},
    )
    _store(session, Story, StoryTextRow, stories, {**common, "outcome": None})
    return SyncReport(cases=len(cases), stories=len(stories), withdrawn=withdrawn)


def pick_language(available: Iterable[str], wanted: str, section: SectionDefinition) -> str:
    """The page language if the text exists in it, else the section's
    default, else another section language, else any."""
    available = sorted(available)
    for language in (wanted, section.default_language, *section.languages):
        if language in available:
            return language
    return available[0]


@dataclass(frozen=True)
class _StoredCase:
    source: str
    person: str
    country: str
    year: int
    goal: int | None
    colour: str
    hashtag: str | None
    authority: Authority | None
    texts: dict[str, CaseText]
    social_handle: str | None


@dataclass(frozen=True)
class StoryView:
    id: str
    person: str
    country: str
    year: int | None
    outcome: str
    language: str
    texts: dict[str, StoryText]
    text: StoryText | None = None


@dataclass(frozen=True)
class Override:
    """A section's changes to a case (``CaseOverride``), as pages apply them."""

    hidden: bool = False
    goal: int | None = None
    #: Where the case's items go in this section instead (see
    #: ``core.actions.queue_deliveries``).
    routing: Mapping[str, Any] | None = None


class Catalogue:
    """Read side: active cases and stories, with each section's overrides
    (hidden cases left out, goals replaced), cached per process;
    ``invalidate`` after a change."""

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._loaded_at = -1e9
        self._cases: dict[str, _StoredCase] = {}
        self._stories: list[tuple[str, StoryView]] = []
        self._overrides: dict[tuple[str, str], Override] = {}

    def _refresh(self, session: Session) -> None:
        if time.monotonic() - self._loaded_at <= self.max_age:
            return
        cases: dict[str, _StoredCase] = {}
        for row in session.scalars(select(Case).where(Case.active.is_(True)).order_by(Case.position, Case.id)):
            cases[row.id] = _StoredCase(
                row.source, row.person, row.country, row.year, row.goal, row.colour, row.hashtag,
                _authority_from_json(row.authority),
                {t.language: CaseText(t.title, t.summary, t.story, t.ask) for t in row.texts},
                row.social_handle,
            )
        stories = []
        for row in session.scalars(select(Story).where(Story.active.is_(True)).order_by(Story.position, Story.id)):
            texts = {t.language: StoryText(t.title, t.body, t.quote, t.quote_by) for t in row.texts}
            if texts:
                stories.append((row.source, StoryView(row.id, row.person, row.country, row.year, row.outcome, "", texts)))
        overrides = {
            (row.section_code, row.case_id): Override(bool(row.hidden), row.goal, row.routing or None)
            for row in session.scalars(
                select(CaseOverride).where(
                    CaseOverride.hidden.is_(True) | CaseOverride.goal.is_not(None) | CaseOverride.routing.is_not(None)
                )
            )
        }
        with self._lock:
            self._cases, self._stories, self._overrides = cases, stories, overrides
            self._loaded_at = time.monotonic()

    def invalidate(self) -> None:
        self._loaded_at = -1e9

    def routing_override(self, session: Session, section_code: str, case_id: str) -> Mapping[str, Any] | None:
        """The section's own recipient for a case, from the cache: read on
        every action, so it costs no query inside the write transaction."""
        self._refresh(session)
        override = self._overrides.get((section_code, case_id))
        return override.routing if override is not None else None

    def _view(self, case_id: str, stored: _StoredCase, language: str, section: SectionDefinition) -> CaseView:
        chosen = pick_language(stored.texts, language, section)
        override = self._overrides.get((section.code, case_id))
        goal = override.goal if override is not None and override.goal is not None else stored.goal
        return CaseView(
            id=case_id, person=stored.person, country=stored.country, year=stored.year, language=chosen,
            text=stored.texts[chosen], goal=goal, colour=stored.colour, hashtag=stored.hashtag,
            authority=stored.authority, social_handle=stored.social_handle,
        )

    def _shown(self, section: SectionDefinition, case_id: str, include_hidden: bool) -> bool:
        if include_hidden:
            return True
        override = self._overrides.get((section.code, case_id))
        return override is None or not override.hidden

    def cases(
        self, session: Session, section: SectionDefinition, sources: set[str], language: str, *, include_hidden: bool = False
    ) -> list[CaseView]:
        """The section's cases; those it hides only with ``include_hidden`` (the admin)."""
        self._refresh(session)
        return [
            self._view(cid, c, language, section)
            for cid, c in self._cases.items()
            if c.source in sources and c.texts and self._shown(section, cid, include_hidden)
        ]

    def case(
        self, session: Session, section: SectionDefinition, sources: set[str], language: str, case_id: str,
        *, include_hidden: bool = False,
    ) -> CaseView | None:
        self._refresh(session)
        stored = self._cases.get(case_id)
        if stored is None or stored.source not in sources or not stored.texts:
            return None
        if not self._shown(section, case_id, include_hidden):
            return None
        return self._view(case_id, stored, language, section)

    def source_goal(self, session: Session, case_id: str) -> int | None:
        """The goal the case source set, before any section's override."""
        self._refresh(session)
        stored = self._cases.get(case_id)
        return stored.goal if stored is not None else None

    def stories(self, session: Session, section: SectionDefinition, sources: set[str], language: str) -> Sequence[StoryView]:
        self._refresh(session)
        views = []
        for source, story in self._stories:
            if source in sources:
                chosen = pick_language(story.texts, language, section)
                views.append(dataclasses.replace(story, language=chosen, text=story.texts[chosen]))
        return views
