"""What CRM intake needs beyond `intake.ingest`: which deliveries were seen, which leads exist.

A CRM's event id is recorded in the audit log (`events.key`, unique) in the transaction that
stores its lead (`record_events_in`, passed to `ingest` as `also`), so a redelivered event is
answered without fetching the contact again, and a crash can neither store the lead without
its receipt nor the receipt without its lead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from leadqual.db.models import Event, LeadRow
from leadqual.services.context import Context

CHUNK = 500


def _key(crm: str, event_id: str) -> str:
    return f"{crm}:event:{event_id}"


def seen_events(ctx: Context, crm: str, event_ids: Iterable[str]) -> set[str]:
    """The event ids of `crm` already taken."""
    keys = {_key(crm, e): e for e in event_ids}
    found: set[str] = set()
    items = sorted(keys)
    with ctx.reading() as session:
        for start in range(0, len(items), CHUNK):
            query = select(Event.key).where(Event.key.in_(items[start : start + CHUNK]))
            found.update(keys[k] for k in session.scalars(query) if k is not None)
    return found


def record_events(ctx: Context, crm: str, events: Mapping[str, int | None]) -> None:
    """Remember event ids (with the lead each one named) in a transaction of their own."""
    if events:
        with ctx.transaction() as session:
            record_events_in(session, crm, events, now=ctx.now())


def record_events_in(session: Session, crm: str, events: Mapping[str, int | None], *, now: datetime) -> None:
    """Remember event ids in the caller's transaction; a concurrent duplicate is ignored."""
    if not events:
        return
    rows = [
        {
            "kind": f"{crm}_event",
            "actor": crm,
            "at": now,
            "lead_id": lead_id,
            "data": {"event_id": event_id},
            "key": _key(crm, event_id),
        }
        for event_id, lead_id in events.items()
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(Event).on_conflict_do_nothing(index_elements=["key"]), rows)


def stored_leads(ctx: Context, external_ids: Iterable[str]) -> dict[str, int]:
    """external_id -> lead id for those already stored."""
    items = sorted(set(external_ids))
    found: dict[str, int] = {}
    with ctx.reading() as session:
        for start in range(0, len(items), CHUNK):
            rows = session.execute(
                select(LeadRow.external_id, LeadRow.id).where(LeadRow.external_id.in_(items[start : start + CHUNK]))
            )
            found.update({external_id: lead_id for external_id, lead_id in rows if external_id})
    return found


def _link_key(opportunity_id: str) -> str:
    return f"salesforce:opportunity:{opportunity_id}"


def link_opportunity_in(session: Session, opportunity_id: str, lead_id: str, *, now: datetime) -> bool:
    """Remember which Salesforce Lead an Opportunity was converted from; False when already known."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = cast(Table, Event.__table__)
    stmt = (
        insert(table)
        .values(
            kind="salesforce_conversion",
            actor="salesforce",
            at=now,
            data={"opportunity_id": opportunity_id, "lead_id": lead_id},
            key=_link_key(opportunity_id),
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.id)
    )
    return session.execute(stmt).first() is not None


def linked_leads_in(session: Session, opportunity_ids: Iterable[str]) -> dict[str, str]:
    """Opportunity id -> the Salesforce Lead Id it was converted from, for those a converted Lead named."""
    keys = {_link_key(o): o for o in opportunity_ids}
    if not keys:
        return {}
    rows = session.execute(select(Event.key, Event.data).where(Event.key.in_(sorted(keys))))
    return {keys[key]: str(data["lead_id"]) for key, data in rows if key in keys and data}
