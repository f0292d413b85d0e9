"""Duplicates speak: a duplicate of an open lead adds a line to that lead's card thread.

Called by intake inside its transaction. The line is an outbox `thread` row in the card's
channel (so it follows the card); the audit event is keyed by the lead and the duplicate's
content, so the same duplicate sent again (a retried request) is not told twice, card or not.
The same contact twice in one batch speaks too, so a resend of that batch says nothing new. Resends of the same
`external_id` are retries, not news: intake answers them without a line.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadqual.db.models import Event, LeadRow
from leadqual.duplicates import what_is_new
from leadqual.services import outbox
from leadqual.services.lead_changes import card_channel
from leadqual.statuses import IntakeEvent


def speak(session: Session, duplicates: Sequence[tuple[int, dict[str, Any]]], *, now: datetime) -> None:
    """For each (stored lead id, prepared duplicate row): an audit event and a thread line on its card."""
    keyed: dict[str, tuple[int, dict[str, Any], str]] = {}
    for lead_id, row in duplicates:
        text = str(row["payload"])  # the lead as stored (JSON text)
        # What the sender sent, not when it arrived: intake stamps a missing received_at with now,
        # and a resend of the same request must hash the same.
        sent = _as_sent(json.loads(text))
        digest = hashlib.sha256(json.dumps(sent, sort_keys=True).encode()).hexdigest()[:24]
        key = f"duplicate:{lead_id}:{digest}"
        keyed.setdefault(key, (lead_id, row, text))
    if not keyed:
        return
    done = set(session.scalars(select(Event.key).where(Event.key.in_(list(keyed)))))
    for key, (lead_id, row, text) in keyed.items():
        if key in done:
            continue
        lead = session.get(LeadRow, lead_id)
        if lead is None or _same(_as_sent(lead.payload or {}), _as_sent(json.loads(text))):
            continue  # gone, or the very lead sent again (a retried request without an external id)
        new = what_is_new(lead.payload or {}, json.loads(text))
        data = {"source": row["source"], "external_id": row["external_id"], **new.as_json()}
        session.add(Event(lead_id=lead_id, kind=IntakeEvent.DUPLICATE, actor=None, at=now, data=data, key=key))
        channel = card_channel(session, lead)
        if channel is None:
            continue
        line = {"event": IntakeEvent.DUPLICATE.value, "actor": None, "at": now.isoformat(), **data}
        outbox.enqueue(
            session, outbox.THREAD, lead_id=lead_id, channel_id=channel, payload=line, dedupe_key=key, now=now
        )


def _as_sent(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != "received_at"}


def _same(stored: Any, sent: Any) -> bool:
    """Whether a stored payload is `sent` again, allowing for how the database gave it back.

    PostgreSQL's jsonb keeps a number as the decimal it was written as, so a float sent as
    -6.042740126082157e+16 comes back as the integer -60427401260821570, which Python does not
    count equal to the float; numbers are compared as floats.
    """
    if isinstance(stored, dict) and isinstance(sent, dict):
        return stored.keys() == sent.keys() and all(_same(stored[k], sent[k]) for k in stored)
    if isinstance(stored, list) and isinstance(sent, list):
        return len(stored) == len(sent) and all(_same(a, b) for a, b in zip(stored, sent, strict=True))
    if _number(stored) and _number(sent):
        return float(stored) == float(sent)
    return bool(stored == sent)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
