"""Lease outbox rows to a delivery worker and record what Slack answered.

Several workers may drain one outbox. A worker *leases* rows: they stay `pending` but their
`next_attempt_at` moves to the end of the lease, so nobody else finds them due; if the worker
dies, the lease runs out and another worker takes over. On PostgreSQL the leasing query uses
`FOR UPDATE SKIP LOCKED`, so concurrent workers never pick the same row; on SQLite the
transaction starts with `BEGIN IMMEDIATE`, which serialises writers (SKIP LOCKED compiles to
nothing there).

Order: each channel is a queue by row id. Only the *head* of a channel (its oldest pending
row) can be leased, so one worker at a time owns a channel, pacing stays per channel across
workers, and a card always goes out before the updates and thread lines queued after it. A
`card_update` or `thread` row also waits until its lead's card has a `message_ts`.

The lease's end (`Lease.until`) doubles as a fencing token: retry and release only touch a
row that still carries it, so a worker that lost its lease cannot reschedule someone else's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from leadqual.db.models import LeadRow, OutboxMessage
from leadqual.services import outbox
from leadqual.services.context import Context
from leadqual.statuses import OutboxStatus

PENDING, SENT, DEAD = OutboxStatus

DEFAULT_LEASE = timedelta(minutes=2)
# Transient failures (Slack down, 5xx, network) are retried until a message is this old, so an
# outage of hours heals by itself; permanent refusals (channel_not_found, ...) go dead at once.
DEFAULT_GIVE_UP_AFTER = timedelta(hours=24)
WAITS_FOR_CARD = (outbox.CARD_UPDATE, outbox.THREAD)
CARD_NEVER_POSTED = "its card was never posted"


@dataclass(frozen=True, slots=True)
class Lease:
    """One outbox row held by a worker until `until` (which is also the row's fencing token)."""

    id: int
    kind: str
    lead_id: int | None
    channel_id: str | None
    payload: dict[str, Any]
    attempts: int  # including this one
    created_at: datetime
    until: datetime
    worker_id: str

    @property
    def tried_before(self) -> bool:
        """An earlier attempt may have reached Slack (a crash or an error after sending)."""
        return self.attempts > 1


def lease_due(
    ctx: Context,
    *,
    limit: int,
    worker_id: str,
    now: datetime | None = None,
    lease: timedelta = DEFAULT_LEASE,
    per_channel: int = 1,
    held: Collection[int] = (),
    kinds: Collection[str] | None = None,
    except_kinds: Collection[str] = (),
) -> list[Lease]:
    """Lease up to `limit` due rows in id order per channel, holding at most `per_channel` per channel.

    `held` names rows this worker already leases and has not finished: they count towards
    `per_channel` and do not block the rows queued behind them, so a worker reads ahead on
    the channels it owns. `kinds` / `except_kinds` narrow the lease to some kinds (the worker
    leases Slack rows and each CRM's write-backs separately, so neither crowds out the other).
    """
    now = now or ctx.now()
    until = now + lease
    taken: list[OutboxMessage] = []
    with ctx.transaction() as session:
        skip = set(held)
        room = _room_per_channel(session, skip, per_channel)
        while len(taken) < limit:
            full = {channel for channel, left in room.items() if left <= 0}
            rows = _due_heads(
                session, now=now, limit=limit - len(taken), skip=skip, full=full, kinds=kinds, except_kinds=except_kinds
            )
            ready = _ready(session, rows, now=now)
            for row in ready:
                row.next_attempt_at = until
                row.attempts += 1
                if row.channel_id is not None:
                    room[row.channel_id] = room.get(row.channel_id, per_channel) - 1
            skip.update(row.id for row in ready)
            taken.extend(ready)
            # A channel advances one row per round; stop when no channel can take another.
            if not any(row.channel_id is not None and room[row.channel_id] > 0 for row in ready):
                break
        session.flush()
        return [
            Lease(
                id=r.id,
                kind=r.kind,
                lead_id=r.lead_id,
                channel_id=r.channel_id,
                payload=dict(r.payload),
                attempts=r.attempts,
                created_at=r.created_at,
                until=until,
                worker_id=worker_id,
            )
            for r in sorted(taken, key=lambda r: r.id)
        ]


def _room_per_channel(session: Session, held: set[int], per_channel: int) -> dict[str, int]:
    if not held:
        return {}
    counted = session.execute(
        select(OutboxMessage.channel_id, func.count())
        .where(OutboxMessage.id.in_(held), OutboxMessage.channel_id.is_not(None))
        .group_by(OutboxMessage.channel_id)
    )
    return {channel: per_channel - int(n) for channel, n in counted if channel is not None}


def _due_heads(
    session: Session,
    *,
    now: datetime,
    limit: int,
    skip: set[int],
    full: set[str],
    kinds: Collection[str] | None = None,
    except_kinds: Collection[str] = (),
) -> list[OutboxMessage]:
    """Due rows that are the oldest pending row of their channel (rows in `skip` aside), locked."""
    heads = select(func.min(OutboxMessage.id)).where(
        OutboxMessage.status == PENDING, OutboxMessage.channel_id.is_not(None)
    )
    if skip:
        heads = heads.where(OutboxMessage.id.not_in(skip))
    heads = heads.group_by(OutboxMessage.channel_id)
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == PENDING,
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.channel_id.is_(None) | OutboxMessage.id.in_(heads),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if full:
        query = query.where(OutboxMessage.channel_id.is_(None) | OutboxMessage.channel_id.not_in(full))
    return list(session.scalars(_of_kinds(query, kinds, except_kinds)))


def _of_kinds(query: Any, kinds: Collection[str] | None, except_kinds: Collection[str]) -> Any:
    if kinds is not None:
        query = query.where(OutboxMessage.kind.in_(list(kinds)))
    if except_kinds:
        query = query.where(OutboxMessage.kind.not_in(list(except_kinds)))
    return query


def _ready(session: Session, rows: list[OutboxMessage], *, now: datetime) -> list[OutboxMessage]:
    """Drop rows that must wait for their lead's card; settle those whose card will never come."""
    lead_ids = {r.lead_id for r in rows if r.kind in WAITS_FOR_CARD and r.lead_id is not None}
    if not lead_ids:
        return rows
    posted = {
        lead_id: channel
        for lead_id, ts, channel in session.execute(
            select(LeadRow.id, LeadRow.message_ts, LeadRow.channel_id).where(LeadRow.id.in_(lead_ids))
        )
        if ts
    }
    card_status = {
        lead_id: status
        for lead_id, status in session.execute(
            select(OutboxMessage.lead_id, OutboxMessage.status).where(
                OutboxMessage.kind == outbox.CARD, OutboxMessage.lead_id.in_(lead_ids - posted.keys())
            )
        )
    }
    ready = []
    for row in rows:
        if row.kind in WAITS_FOR_CARD and row.lead_id in posted and row.channel_id is None:
            # Queued before the card existed: it goes out in the card's channel, in id order there.
            row.channel_id = posted[row.lead_id]
        if row.kind not in WAITS_FOR_CARD or row.lead_id in posted or row.lead_id is None:
            ready.append(row)
        elif card_status.get(row.lead_id) == PENDING:
            continue  # the card is on its way; this row keeps its place at the head of its channel
        elif card_status.get(row.lead_id) == DEAD:
            _settle(row, status=DEAD, error=CARD_NEVER_POSTED, now=now)
        else:
            # Nothing to update or thread under (e.g. a lead that was never routed to Slack).
            _settle(row, status=SENT, error="skipped: the lead has no card in Slack", now=now)
    return ready


def _settle(row: OutboxMessage, *, status: str, error: str, now: datetime) -> None:
    row.status = status
    row.last_error = error
    if status == SENT:
        row.sent_at = now


def mark_sent(
    ctx: Context,
    row_id: int,
    ts: str | None,
    *,
    channel_id: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Record that Slack accepted the row (a card also records where it lives); False if already settled.

    Applies even when the lease ran out: Slack has the message, and the database must say so
    before anyone else tries again.
    """
    now = now or ctx.now()
    with ctx.transaction() as session:
        row = session.get(OutboxMessage, row_id, with_for_update=True)
        if row is None or row.status != PENDING:
            return False
        row.status = SENT
        row.sent_at = now
        row.result_ts = ts
        row.last_error = None
        if row.kind == outbox.CARD and row.lead_id is not None and ts:
            card_channel = channel_id or row.channel_id
            session.execute(
                update(LeadRow).where(LeadRow.id == row.lead_id).values(channel_id=card_channel, message_ts=ts)
            )
            # Updates queued before the card existed had no channel; they join the card's channel
            # queue now, so they keep their id order with the thread lines queued after them.
            # (They waited for this card, so no worker holds them.)
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.lead_id == row.lead_id,
                    OutboxMessage.status == PENDING,
                    OutboxMessage.channel_id.is_(None),
                    OutboxMessage.kind.in_(WAITS_FOR_CARD),
                )
                .values(channel_id=card_channel)
            )
        return True


def retry_later(
    ctx: Context,
    row_id: int,
    delay: timedelta,
    error: str,
    *,
    until: datetime | None = None,
    counts: bool = True,
    now: datetime | None = None,
) -> bool:
    """Put a leased row back for another attempt after `delay`; `counts=False` (rate limits) gives the attempt back.

    With `until` (the lease's token) nothing changes if the row was leased again meanwhile.
    """
    now = now or ctx.now()
    with ctx.transaction() as session:
        query = update(OutboxMessage).where(OutboxMessage.id == row_id, OutboxMessage.status == PENDING)
        if until is not None:
            query = query.where(OutboxMessage.next_attempt_at == until)
        values: dict[str, Any] = {"next_attempt_at": now + delay, "last_error": error[:2000]}
        if not counts:
            values["attempts"] = case((OutboxMessage.attempts > 0, OutboxMessage.attempts - 1), else_=0)
        return bool(session.execute(query.values(**values)).rowcount)  # type: ignore[attr-defined]


def release(ctx: Context, leases: Iterable[Lease], *, now: datetime | None = None) -> int:
    """Hand back leased rows that were never sent (shutdown): due at once, attempt given back."""
    now = now or ctx.now()
    released = 0
    with ctx.transaction() as session:
        for lease in leases:
            result = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == lease.id,
                    OutboxMessage.status == PENDING,
                    OutboxMessage.next_attempt_at == lease.until,
                )
                .values(next_attempt_at=now, attempts=lease.attempts - 1)
            )
            released += result.rowcount  # type: ignore[attr-defined]
    return released


def mark_dead(ctx: Context, row_id: int, error: str, *, now: datetime | None = None) -> bool:
    """Give up on a row (`leadbot outbox` shows it); a dead card takes its updates and thread lines along."""
    now = now or ctx.now()
    with ctx.transaction() as session:
        row = session.get(OutboxMessage, row_id, with_for_update=True)
        if row is None or row.status != PENDING:
            return False
        row.status = DEAD
        row.last_error = error[:2000]
        if row.kind == outbox.CARD and row.lead_id is not None:
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.lead_id == row.lead_id,
                    OutboxMessage.status == PENDING,
                    OutboxMessage.kind.in_(WAITS_FOR_CARD),
                )
                .values(status=DEAD, last_error=CARD_NEVER_POSTED)
            )
        return True


def counts(ctx: Context) -> dict[str, int]:
    """How many outbox rows are pending, sent and dead."""
    with ctx.reading() as session:
        found = {
            status: n
            for status, n in session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
        }
    return {status: int(found.get(status, 0)) for status in (PENDING, SENT, DEAD)}


def has_pending(
    ctx: Context,
    *,
    due_by: datetime | None = None,
    kinds: Collection[str] | None = None,
    except_kinds: Collection[str] = (),
) -> bool:
    """Whether any row (of `kinds`, not of `except_kinds`) is pending, and due by `due_by` when given."""
    query = _of_kinds(select(OutboxMessage.id).where(OutboxMessage.status == PENDING), kinds, except_kinds)
    if due_by is not None:
        query = query.where(OutboxMessage.next_attempt_at <= due_by)
    with ctx.reading() as session:
        return session.scalar(query.limit(1)) is not None
