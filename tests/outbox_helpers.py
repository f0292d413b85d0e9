"""Helpers for the delivery, worker and SLA tests: leads with queued cards, and a plain renderer.

`plain_render` stands in for the interactive app's `bot.slack.messages.render_outbox` where a
test is about delivery, not about how a card looks: it returns the same shapes (card ->
chat.postMessage kwargs, card_update -> chat.update kwargs, thread -> a reply, dm -> a message
to the user), read from the lead's current row.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadqual.db.models import LeadRow, OutboxMessage
from leadqual.services import outbox
from leadqual.services.context import Context
from leadqual.services.intake import ingest, validate_leads

_serial = itertools.count(1)

PRIORITY: dict[str, Any] = {
    "source": "web_form",
    "offer": "rfq",
    "company": {"name": "Acme Metals", "industry": "metals", "country": "US", "region": "TX", "employees": 850},
    "contact": {"name": "Dana Ruiz", "title": "Maintenance Manager"},
    "signals": [{"type": "rfq_request"}, {"type": "page_view", "value": "/pricing"}],
    "need": {"scope": "replacement", "problem": "Pump failed on line 3", "needed_by": "2026-12-15"},
}


def lead_records(n: int) -> list[dict[str, Any]]:
    """`n` distinct Priority leads."""
    out = []
    for _ in range(n):
        i = next(_serial)
        stamp = time.monotonic_ns()
        out.append(
            {
                **PRIORITY,
                "external_id": f"t-{i}-{stamp}",
                "contact": {**PRIORITY["contact"], "email": f"dana{i}.{stamp}@acmemetals.com"},
            }
        )
    return out


def ingest_leads(ctx: Context, n: int, *, post: bool = True) -> list[int]:
    """Ingest `n` Priority leads (their cards queued for the default channel when `post`)."""
    return [r.id for r in ingest(ctx, validate_leads(lead_records(n)), post=post)]


def leads_with_cards(ctx: Context, channels: list[str], per_channel: int) -> dict[int, str]:
    """Leads whose cards are queued round-robin over `channels`; lead id -> channel."""
    ids = ingest_leads(ctx, len(channels) * per_channel, post=False)
    where = {lead_id: channels[i % len(channels)] for i, lead_id in enumerate(ids)}
    for lead_id, channel in where.items():
        queue(ctx, outbox.CARD, lead_id=lead_id, channel_id=channel, dedupe_key=f"card:{lead_id}")
    return where


def queue(
    ctx: Context,
    kind: str,
    *,
    lead_id: int | None = None,
    channel_id: str | None = None,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> None:
    """Queue one outbox row stamped with the context's clock (due now)."""
    now = ctx.now()
    with ctx.transaction() as session:
        outbox.enqueue_many(
            session,
            [
                {
                    "kind": kind,
                    "lead_id": lead_id,
                    "channel_id": channel_id,
                    "payload": payload or {},
                    "dedupe_key": dedupe_key,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            ],
        )


def outbox_rows(ctx: Context, **filters: Any) -> list[OutboxMessage]:
    with ctx.session_factory() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for key, value in filters.items():
            query = query.where(getattr(OutboxMessage, key) == value)
        return list(session.scalars(query))


def status_counts(ctx: Context) -> dict[str, int]:
    with ctx.session_factory() as session:
        return {
            status: n
            for status, n in session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
        }


def lead(ctx: Context, lead_id: int) -> LeadRow:
    with ctx.session_factory() as session:
        row = session.get(LeadRow, lead_id)
        assert row is not None
        return row


def plain_render(ctx: Context, session: Session, row: OutboxMessage) -> dict[str, Any] | None:
    """Minimal chat.* kwargs for an outbox row, from the lead's current state."""
    found = session.get(LeadRow, row.lead_id) if row.lead_id is not None else None
    text = str(row.payload.get("text") or "")
    if row.kind == outbox.CARD:
        assert found is not None
        return {
            "channel": row.channel_id,
            "text": f"Lead {found.id}: {found.company_name}",
            "metadata": {"event_type": "leadbot_card", "event_payload": {"outbox_id": row.id}},
        }
    if row.kind == outbox.CARD_UPDATE:
        assert found is not None
        return {"channel": found.channel_id, "ts": found.message_ts, "text": f"Lead {found.id}: {found.status}"}
    if row.kind == outbox.THREAD:
        assert found is not None
        return {"channel": found.channel_id, "thread_ts": found.message_ts, "text": text or "update"}
    if row.kind == outbox.DM:
        return {"channel": row.channel_id, "text": text or "note"}
    return None
