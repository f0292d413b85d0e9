"""The one path every change to a lead takes: lock it, skip a repeated delivery, audit it, tell Slack and the CRM.

Triage, follow-ups and Needs info each decide *what* changes; these functions are *how*: the
lead row locked (`SELECT ... FOR UPDATE`; SQLite's BEGIN IMMEDIATE serialises writers anyway),
the Slack delivery's key checked against the audit log, and in the same transaction the audit
event, the CRM write-back and, when the lead has a card, the card update and a thread line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import literal, select, update
from sqlalchemy.orm import Session

from leadqual.crm.changes import ChangeKind
from leadqual.db.models import Claim, Decision, Event, LeadRow, OutboxMessage, UTCDateTime
from leadqual.errors import LeadNotFound
from leadqual.services import outbox, writeback
from leadqual.services.context import Context
from leadqual.statuses import LeadEvent, LeadStatus

# What the lead's CRM hears of each (DESIGN.md, write-back): a reassignment is a claim by the new owner.
_WRITTEN_BACK: dict[str, ChangeKind] = {
    LeadEvent.CLAIMED: ChangeKind.CLAIM,
    LeadEvent.REASSIGNED: ChangeKind.CLAIM,
    LeadEvent.DECIDED: ChangeKind.DECISION,
    LeadEvent.REOPENED: ChangeKind.REOPEN,
    LeadEvent.INFO_RECEIVED: ChangeKind.REOPEN,  # claimed and undecided again
}


def get_lead(session: Session, lead_id: int) -> LeadRow:
    row = session.get(LeadRow, lead_id)
    if row is None:
        raise LeadNotFound(lead_id)
    return row


def lock_lead(session: Session, lead_id: int) -> LeadRow:
    # FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write lock.
    row = session.scalar(
        select(LeadRow).where(LeadRow.id == lead_id).with_for_update().execution_options(populate_existing=True)
    )
    if row is None:
        raise LeadNotFound(lead_id)
    return row


def seen_key(session: Session, key: str | None) -> bool:
    return key is not None and session.scalar(select(Event.id).where(Event.key == key)) is not None


def supersede(session: Session, lead_id: int, now: datetime) -> None:
    """Mark the lead's current decision superseded (kept; statistics count the final one only)."""
    session.execute(
        update(Decision)
        .where(Decision.lead_id == lead_id, Decision.superseded_at.is_(None))
        .values(superseded_at=literal(now, UTCDateTime()))
    )


def undecide(session: Session, row: LeadRow, now: datetime) -> None:
    """Take the lead's decision back (kept, superseded): open again, with its owner if it has one."""
    supersede(session, row.id, now)
    row.outcome = None
    row.reason = None
    row.decided_at = None
    row.decided_by = None
    row.follow_up_on = None
    row.status = LeadStatus.CLAIMED if row.owner_id else LeadStatus.NEW


def close_claims(session: Session, lead_id: int, now: datetime, by: str) -> None:
    session.execute(
        update(Claim)
        .where(Claim.lead_id == lead_id, Claim.released_at.is_(None))
        .values(released_at=literal(now, UTCDateTime()), released_by=by)
    )


def log_change(
    ctx: Context,
    session: Session,
    row: LeadRow,
    kind: str,
    actor: str,
    key: str | None,
    now: datetime,
    data: dict[str, Any],
    *,
    thread: dict[str, Any] | None = None,
) -> None:
    """Write the audit event, queue the CRM write-back and, when the lead has a card, its update and a thread line."""
    session.add(Event(lead_id=row.id, kind=kind, actor=actor, at=now, data=data, key=key))
    change = _WRITTEN_BACK.get(kind)
    if change is not None:
        writeback.queue_write_back(session, row, change, owner_id=row.owner_id, now=now, crm_config=ctx.config.crm)
    channel = card_channel(session, row)
    if channel is None:
        return
    line = {"event": kind, "actor": actor, "at": now.isoformat(), **data, **(thread or {})}
    # Same channel as the card: the outbox sends each channel in order, so these follow the card.
    outbox.enqueue(
        session,
        outbox.CARD_UPDATE,
        lead_id=row.id,
        channel_id=channel,
        payload={"version": row.version},
        dedupe_key=f"card_update:{row.id}:v{row.version}",
        now=now,
    )
    outbox.enqueue(
        session,
        outbox.THREAD,
        lead_id=row.id,
        channel_id=channel,
        payload=line,
        dedupe_key=f"thread:{row.id}:v{row.version}",
        now=now,
    )


def card_channel(session: Session, row: LeadRow) -> str | None:
    """The channel of the lead's card, posted or queued; None when it has none (history, Poor fit, --no-post)."""
    if row.message_ts and row.channel_id:
        return row.channel_id
    found = session.execute(
        select(OutboxMessage.channel_id, OutboxMessage.status).where(OutboxMessage.dedupe_key == f"card:{row.id}")
    ).first()
    if found is None or found.status == outbox.DEAD:
        return None
    return found.channel_id
