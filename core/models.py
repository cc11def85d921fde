"""The database schema (SQLAlchemy 2 typed ORM).

Changes go through an Alembic migration in ``core/migrations``; a test
checks that the migrations produce exactly this schema. Personal data lives
only in ``supporters`` and is always scoped by section.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Section(Base):
    """A section known to this deployment; its definition comes from its plugin."""

    __tablename__ = "sections"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SectionPlugin(Base):
    """Whether a plugin is switched on for a section."""

    __tablename__ = "section_plugins"
    section_code: Mapped[str] = mapped_column(ForeignKey("sections.code", ondelete="CASCADE"), primary_key=True)
    plugin_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: Name of the case-source plugin that provides it.
    source: Mapped[str] = mapped_column(String(100), index=True)
    person: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    year: Mapped[int] = mapped_column(Integer)
    goal: Mapped[int | None] = mapped_column(Integer)
    colour: Mapped[str] = mapped_column(String(32), default="#333333")
    hashtag: Mapped[str | None] = mapped_column(String(100))
    social_handle: Mapped[str | None] = mapped_column(String(100))
    authority: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: False once the source stops providing it (its actions are kept).
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    texts: Mapped[list[CaseTextRow]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class CaseTextRow(Base):
    __tablename__ = "case_texts"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    story: Mapped[str] = mapped_column(Text)
    ask: Mapped[str] = mapped_column(Text)


class Story(Base):
    """A success story (a past outcome)."""

    __tablename__ = "success_stories"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    person: Mapped[str] = mapped_column(String(300))
    country: Mapped[str] = mapped_column(String(2))
    year: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    texts: Mapped[list[StoryTextRow]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class StoryTextRow(Base):
    __tablename__ = "story_texts"
    story_id: Mapped[str] = mapped_column(ForeignKey("success_stories.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    quote: Mapped[str | None] = mapped_column(Text)
    quote_by: Mapped[str | None] = mapped_column(String(300))


class Supporter(Base):
    """A person who acted, within one section (never shared across sections)."""

    __tablename__ = "supporters"
    __table_args__ = (UniqueConstraint("section_code", "email"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    section_code: Mapped[str] = mapped_column(ForeignKey("sections.code"))
    #: Normalised (trimmed, lower-cased) address.
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Set when the supporter's data was erased (on request or at the end of
    #: the retention period): the row stays so counts and dedupe still hold.
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Action(Base):
    """One action a supporter took: durable once the response says thanks."""

    __tablename__ = "actions"
    __table_args__ = (
        UniqueConstraint("section_code", "dedupe_key"),
        Index("ix_actions_section_case", "section_code", "case_id"),
        Index("ix_actions_section_status", "section_code", "status"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    section_code: Mapped[str] = mapped_column(ForeignKey("sections.code"))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    action_type: Mapped[str] = mapped_column(String(100))
    supporter_id: Mapped[int | None] = mapped_column(ForeignKey("supporters.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: How many actions this row stands for (an offline tally reports many).
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: recorded; or pending -> approved / rejected for moderated action types
    status: Mapped[str] = mapped_column(String(20), default="recorded")
    #: A moderator's reason for rejecting.
    note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set for actions counted once per supporter; unique within a section.
    dedupe_key: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CounterShard(Base):
    """Counts split over a few rows per key so concurrent writers do not
    queue on one hot row; reads add up a bounded number of rows."""

    __tablename__ = "counter_shards"
    section_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    action_type: Mapped[str] = mapped_column(String(100), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Delivery(Base):
    """The outbox: one row per item to deliver, written with its action."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_due", "status", "next_attempt_at"),
        Index("ix_deliveries_batch", "batch_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: Stable idempotency key, the same across retries.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"))
    section_code: Mapped[str] = mapped_column(ForeignKey("sections.code"))
    case_id: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    #: None while unrouted.
    channel: Mapped[str | None] = mapped_column(String(100))
    bundle: Mapped[bool] = mapped_column(Boolean, default=False)
    recipient: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: pending, sending, done, failed, unrouted; held (waiting for its
    #: bundle to close) and bundled (in a bundle row, which carries the
    #: sending state) for bundled routes. A bundle row has kind "bundle".
    status: Mapped[str] = mapped_column(String(20), default="pending")
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"))
    #: What the channel reported on success (a Message-ID, a receipt).
    reference: Mapped[str | None] = mapped_column(Text)
    #: Files the channel produced, relative to the section's channel folder.
    files: Mapped[list[str] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


# --------------------------------------------------------------------------
# The section admin
# --------------------------------------------------------------------------


class AdminUser(Base):
    """Someone who signs in to ``/admin``. What they may do is in their
    grants, except for global admins, who may do everything everywhere."""

    __tablename__ = "admin_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Normalised (trimmed, lower-cased) address: the sign-in name.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    #: argon2id hash (``core.admin.passwords``); never the password.
    password_hash: Mapped[str] = mapped_column(String(200))
    is_global: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    grants: Mapped[list[AdminGrant]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class AdminGrant(Base):
    """A role in one section: ``admin`` (everything in the section) or
    ``moderator`` (the moderation queue only)."""

    __tablename__ = "admin_grants"
    user_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"), primary_key=True)
    section_code: Mapped[str] = mapped_column(ForeignKey("sections.code", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))


class AuditEntry(Base):
    """Who did what, when, in which section (None: install-wide)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_section_at", "section_code", "at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: Kept as text too, so the log survives the account.
    user_email: Mapped[str] = mapped_column(String(320))
    section_code: Mapped[str | None] = mapped_column(String(32))
    #: A short stable verb: "plugin.enable", "export.personal", ...
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SignInAttempt(Base):
    """Failed sign-ins, by address and by client, for rate limiting across
    every worker process."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (Index("ix_sign_in_attempts_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PluginSettingsRow(Base):
    """A plugin's settings for a section, as an admin saved them; they take
    precedence over the section definition's ``plugin_settings``."""

    __tablename__ = "plugin_settings"
    section_code: Mapped[str] = mapped_column(ForeignKey("sections.code", ondelete="CASCADE"), primary_key=True)
    plugin_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(320))


class CaseOverride(Base):
    """A section's changes to a case from the case sources: hide it, set its
    goal, send its letters elsewhere."""

    __tablename__ = "case_overrides"
    section_code: Mapped[str] = mapped_column(ForeignKey("sections.code", ondelete="CASCADE"), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    goal: Mapped[int | None] = mapped_column(Integer)
    #: {"name", "title", "address": [...], "email", "channel"}: replaces
    #: the routing answer's recipient (and channel) for this case.
    routing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


# --------------------------------------------------------------------------
# Privacy: consent records and supporters' requests
# --------------------------------------------------------------------------


class ConsentRecord(Base):
    """Proof of a consent: the wording shown (its version and text), what
    was ticked, when, and the request it came with."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_supporter", "supporter_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    section_code: Mapped[str] = mapped_column(ForeignKey("sections.code"))
    supporter_id: Mapped[int | None] = mapped_column(ForeignKey("supporters.id"))
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"))
    #: "action" (the petition's own consent), "newsletter", "parent", "age".
    purpose: Mapped[str] = mapped_column(String(40))
    wording_version: Mapped[str] = mapped_column(String(40))
    wording: Mapped[str] = mapped_column(Text)
    given: Mapped[bool] = mapped_column(Boolean)
    language: Mapped[str] = mapped_column(String(16))
    #: What the request carried: path, user agent, client address.
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PrivacyRequest(Base):
    """A supporter's request to see or erase what is stored about them,
    answered within a month."""

    __tablename__ = "privacy_requests"
    __table_args__ = (Index("ix_privacy_requests_section_status", "section_code", "status"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    section_code: Mapped[str] = mapped_column(ForeignKey("sections.code"))
    #: "access" or "erasure".
    kind: Mapped[str] = mapped_column(String(20))
    #: Normalised address; replaced by "(erased)" once an erasure is done.
    email: Mapped[str] = mapped_column(String(320))
    #: requested (link sent) -> done; or expired
    status: Mapped[str] = mapped_column(String(20), default="requested")
    language: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: What was done: rows anonymised, deliveries kept as made, ...
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
