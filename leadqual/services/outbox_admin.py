"""What the on-call engineer asks of the outbox: what is waiting, what died and why, send it again.

Read side: `entries` returns plain frozen rows (no ORM objects leave this module). Write side:
`requeue` makes dead rows pending again, all of them or the ids named, in one transaction:
ids that do not name a dead row change nothing and are reported together.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select, update

from leadqual.db.models import OutboxMessage
from leadqual.errors import OutboxRowsNotFound
from leadqual.services import outbox
from leadqual.services.context import Context
from leadqual.services.delivery import CARD_NEVER_POSTED, DEAD, PENDING, WAITS_FOR_CARD


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One pending or dead outbox row, as `leadbot outbox list` shows it."""

    id: int
    kind: str
    status: str
    lead_id: int | None
    channel_id: str | None
    attempts: int
    next_attempt_at: datetime | None  # None for a dead row: nothing will try it again
    created_at: datetime
    last_error: str | None


def entries(ctx: Context, *, statuses: Collection[str] = (PENDING, DEAD), limit: int = 200) -> list[OutboxEntry]:
    """The rows with these statuses, oldest first (the order the worker sends them in), at most `limit`."""
    with ctx.reading() as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status.in_(list(statuses)))
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        return [
            OutboxEntry(
                r.id,
                r.kind,
                r.status,
                r.lead_id,
                r.channel_id,
                r.attempts,
                r.next_attempt_at if r.status == PENDING else None,
                r.created_at,
                r.last_error,
            )
            for r in rows
        ]


def requeue(ctx: Context, *, ids: Collection[int] | None = None, now: datetime | None = None) -> list[int]:
    """Make dead rows pending and due now (every dead row, or `ids`); returns the ids re-queued.

    A re-queued card brings back the updates and thread lines that died with it. A row that
    was tried keeps one attempt on record, so the worker looks for it in Slack before
    sending it again. Raise OutboxRowsNotFound, changing nothing, if an id is not a dead row.
    """
    now = now or ctx.now()
    with ctx.transaction() as session:
        query = select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.kind, OutboxMessage.lead_id)
        if ids is None:
            found = session.execute(query.where(OutboxMessage.status == DEAD).with_for_update()).all()
        else:
            wanted = sorted(set(ids))
            found = session.execute(query.where(OutboxMessage.id.in_(wanted)).with_for_update()).all()
            status_of = {row.id: row.status for row in found}
            unknown = [i for i in wanted if i not in status_of]
            not_dead = {i: status_of[i] for i in wanted if i in status_of and status_of[i] != DEAD}
            if unknown or not_dead:
                raise OutboxRowsNotFound(unknown, not_dead)
        chosen = {row.id for row in found}
        cards_of = [row.lead_id for row in found if row.kind == outbox.CARD and row.lead_id is not None]
        if cards_of:
            chosen.update(
                session.scalars(
                    select(OutboxMessage.id).where(
                        OutboxMessage.lead_id.in_(cards_of),
                        OutboxMessage.status == DEAD,
                        OutboxMessage.kind.in_(WAITS_FOR_CARD),
                        OutboxMessage.last_error == CARD_NEVER_POSTED,
                    )
                )
            )
        if not chosen:
            return []
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(sorted(chosen)))
            .values(
                status=PENDING,
                next_attempt_at=now,
                last_error=None,
                attempts=case((OutboxMessage.attempts > 0, 1), else_=0),
            )
        )
        return sorted(chosen)
