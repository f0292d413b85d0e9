"""Typed SQLAlchemy 2 models. The domain (`leadqual.lead`, `leadqual.scoring`) never imports these.

Times are stored as UTC. `UTCDateTime` hands back aware datetimes on SQLite too, so no
naive/aware mix-ups reach the services.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JsonType, list[Any]: JsonType}


class RulesetVersion(Base):
    """Every ruleset ever used. Exactly one is active; leads keep the version that scored them."""

    __tablename__ = "ruleset_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(80))
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    yaml_text: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    parent_version: Mapped[int | None] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(40))  # file | apply | rollback
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def joined_ids(ids: Iterable[str]) -> str:
    """Rule or must-have ids as stored in `LeadRow.fired_rules` / `must_haves_failed`: comma-joined, in order."""
    return ",".join(ids)


def split_ids(joined: str | None) -> list[str]:
    """The ids `joined_ids` joined."""
    return joined.split(",") if joined else []


class LeadRow(Base):
    """A lead as received, with the score that routed it and its current state."""

    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_email_open", "email", "status"),
        Index("ix_leads_received", "received_at"),
        Index("ix_leads_decided", "decided_at"),
        # The learner's page read (`analytics_evidence.decided_hits`) in (decided_at, id) order
        # from this index alone, never the wide rows: every column it reads is in the key.
        Index(
            "ix_leads_decided_hits",
            "decided_at",
            "id",
            "outcome",
            "segment",
            "received_at",
            "fired_rules",
            "must_haves_failed",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(300), unique=True)
    email: Mapped[str | None] = mapped_column(String(300))
    company_name: Mapped[str | None] = mapped_column(String(300))
    company_domain: Mapped[str | None] = mapped_column(String(300), index=True)  # the account, for owner-first routing
    source: Mapped[str | None] = mapped_column(String(300))
    offer: Mapped[str | None] = mapped_column(String(300))
    campaign: Mapped[str | None] = mapped_column(String(300))
    received_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    payload: Mapped[dict[str, Any]]

    # The score that routed the lead (explanation included) and the ruleset version behind it.
    fit: Mapped[int] = mapped_column(Integer)
    intent: Mapped[int] = mapped_column(Integer)
    group: Mapped[str] = mapped_column("score_group", String(32), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    segment: Mapped[str | None] = mapped_column(String(64))
    hits: Mapped[list[Any]]
    failed_must_haves: Mapped[list[Any]]
    # The same ids again, comma-joined (ids never contain a comma), written wherever `hits` and
    # `failed_must_haves` are (`joined_ids`): narrow columns the learner reads without JSON.
    fired_rules: Mapped[str] = mapped_column(Text, default="", server_default="")
    must_haves_failed: Mapped[str] = mapped_column(Text, default="", server_default="")
    ruleset_version: Mapped[int] = mapped_column(Integer)

    # Current state. status: new | claimed | qualified | not_qualified | nurture | needs_info
    status: Mapped[str] = mapped_column(String(32), default="new")
    owner_id: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    first_claimed_at: Mapped[datetime | None]
    first_action_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    follow_up_on: Mapped[datetime | None]
    historical: Mapped[bool] = mapped_column(Boolean, default=False)

    # Where its card lives in Slack, once posted.
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    suggested_owner: Mapped[str | None] = mapped_column(String(64))
    sla_step: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Claim(Base):
    """Who held a lead and when (the live owner is `LeadRow.owner_id`)."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime]
    released_at: Mapped[datetime | None]
    released_by: Mapped[str | None] = mapped_column(String(64))
    how: Mapped[str] = mapped_column(String(32), default="claim")  # claim | reassign | auto


class Decision(Base):
    """Every qualification decision; a reopened one is superseded, never deleted."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]
    note: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime]
    superseded_at: Mapped[datetime | None]


class Event(Base):
    """Append-only audit log. `key` makes retried Slack deliveries and double clicks no-ops."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    actor: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    key: Mapped[str | None] = mapped_column(String(200), unique=True)


class OutboxMessage(Base):
    """A Slack call queued in the same transaction as the change that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # card | card_update | thread | dm | digest
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    result_ts: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)


class DigestSend(Base):
    """One weekly digest per manager per ISO week: the uniqueness is the exactly-once guard.

    `created_at` is when a sender claimed it and `sent_at` when Slack took it; a claim left
    unsent past its lease (its sender died) may be taken over, so exactly once never
    becomes never.
    """

    __tablename__ = "digest_sends"
    __table_args__ = (UniqueConstraint("manager_id", "iso_week"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    manager_id: Mapped[str] = mapped_column(String(64))
    iso_week: Mapped[str] = mapped_column(String(10))
    ruleset_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class FollowUpSend(Base):
    """One follow-up DM per owner per local day: the uniqueness is the exactly-once guard.

    Claimed in the same transaction as the DM's outbox row, so a claimed day always has its
    DM queued (the outbox then delivers it exactly once) and no lease is needed.
    """

    __tablename__ = "follow_up_sends"
    __table_args__ = (UniqueConstraint("owner_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)  # the local day the DM is for
    leads: Mapped[int] = mapped_column(Integer, default=0)  # how many follow-ups it listed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProposalRow(Base):
    """A proposed rule change with its evidence, as shown in a digest; applying it is audited."""

    __tablename__ = "proposals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    ruleset_version: Mapped[int] = mapped_column(Integer)
    iso_week: Mapped[str | None] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | applied | rolled_back
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    applied_at: Mapped[datetime | None]
    applied_by: Mapped[str | None] = mapped_column(String(64))
    applied_version: Mapped[int | None] = mapped_column(Integer)


class RepStatus(Base):
    """Per-rep availability: away, and through which day (the rotation's credit is in `route_credit`)."""

    __tablename__ = "rep_status"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    away_until: Mapped[date | None] = mapped_column(Date)  # last day away (rep's zone); None: until back
    # Unused since the rotation's credit moved to `route_credit` (migration 0006): nothing reads
    # it and it is only ever 0. Kept (NOT NULL, no server default, hence default=0) rather than
    # dropped, as dropping a column is a migration with risk for no gain.
    credit: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RouteCredit(Base):
    """A rep's smooth weighted round robin credit in one route's rotation (a rep in two routes has two)."""

    __tablename__ = "route_credit"

    route: Mapped[str] = mapped_column(String(64), primary_key=True)  # the route's label: "#0", "priority"
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    credit: Mapped[int] = mapped_column(Integer, default=0)


# The Core tables behind the hot bulk inserts (typed as Table, unlike `Model.__table__`).
leads_table = Base.metadata.tables["leads"]
outbox_table = Base.metadata.tables["outbox"]


class PipelineStage(Base):
    """What happened after qualification (opportunity, won, lost): every stage reported, as history."""

    __tablename__ = "pipeline_stages"
    # One row per stage reached at a moment: a resent report is the same row, not a new one.
    __table_args__ = (UniqueConstraint("lead_id", "stage", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(16))  # opportunity | won | lost
    at: Mapped[datetime]
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    source: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class LeadPipeline(Base):
    """A lead's latest pipeline stage (by when it happened), for the digest's figures."""

    __tablename__ = "lead_pipeline"

    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), index=True)
    at: Mapped[datetime]
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    opportunity_at: Mapped[datetime | None]  # the first opportunity, kept when it is later won or lost
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
