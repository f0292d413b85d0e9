"""Queue Slack work (and CRM write-backs) in the same transaction as the change that caused it (transactional outbox).

Rows hold what to send, not rendered Block Kit: the worker renders the lead's current
state when it sends, so a card never shows stale data and `leadqual` stays Slack-free.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from leadqual.db import doorbell
from leadqual.db.models import OutboxMessage, outbox_table
from leadqual.statuses import OutboxKind, OutboxStatus

# The kinds, short to write at call sites.
CARD, CARD_UPDATE, THREAD, DM, EPHEMERAL = (
    OutboxKind.CARD,
    OutboxKind.CARD_UPDATE,
    OutboxKind.THREAD,
    OutboxKind.DM,
    OutboxKind.EPHEMERAL,
)
HUBSPOT, SALESFORCE = OutboxKind.HUBSPOT, OutboxKind.SALESFORCE
CRM_KINDS = frozenset({HUBSPOT, SALESFORCE})  # write-backs: delivered to a CRM, not to Slack
PENDING, SENT, DEAD = OutboxStatus


def enqueue(
    session: Session,
    kind: str,
    *,
    lead_id: int | None = None,
    channel_id: str | None = None,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    now: datetime,
) -> None:
    """Queue one Slack call, due at `now` (the service's clock); `dedupe_key` names it uniquely."""
    doorbell.queued(session)
    session.add(
        OutboxMessage(
            kind=kind,
            lead_id=lead_id,
            channel_id=channel_id,
            payload=payload or {},
            dedupe_key=dedupe_key,
            created_at=now,
            next_attempt_at=now,
        )
    )


def enqueue_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Queue many calls in one executemany (bulk intake)."""
    if rows:  # Core insert: the ORM bulk path costs ~5x for thousands of rows
        doorbell.queued(session)
        session.execute(insert(outbox_table), rows)
