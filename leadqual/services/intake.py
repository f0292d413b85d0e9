"""Lead intake: validate, deduplicate, score, store, and queue the card, in one transaction.

Intake runs in two steps so a large import can use every core:

- `prepare` (pure, per lead): validate, fill `received_at`, score, and build the row to store;
- `store` (one transaction): drop duplicates, reserve ids, insert leads, decisions and card
  outbox rows with executemany, and write one audit event for the batch.

`ingest` does both in-process (HTTP intake, Slack's /lead); `leadbot import` prepares in
worker processes (leadqual.importing) and stores in the main one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadqual.db.engine import RawJSON
from leadqual.db.models import Decision, Event, LeadRow, joined_ids, leads_table
from leadqual.errors import InvalidLead
from leadqual.groups import Group
from leadqual.lead import Lead
from leadqual.scoring import Ruleset, score
from leadqual.services import duplicates, outbox
from leadqual.services.assignment import Assigner
from leadqual.services.context import Context
from leadqual.statuses import LeadStatus

OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.CLAIMED)
# More work for intake's transaction, given the session and what was stored (see `ingest`).
Also = Callable[[Session, "list[Ingested]"], None]
CHUNK = 500


@dataclass(frozen=True, slots=True)
class Ingested:
    """What intake answers for each lead (the `POST /leads` response item)."""

    id: int
    external_id: str | None
    fit: int
    intent: int
    group: Group
    duplicate: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "external_id": self.external_id,
            "fit": self.fit,
            "intent": self.intent,
            "group": self.group.value,
            "duplicate": self.duplicate,
        }


def validate_leads(records: Sequence[Any], *, where: Callable[[int], str] | None = None) -> list[Lead]:
    """Validate every record; raise InvalidLead listing all field errors (and which record)."""
    leads: list[Lead] = []
    errors: list[dict[str, Any]] = []
    for i, record in enumerate(records):
        try:
            leads.append(Lead.model_validate(record))
        except ValidationError as exc:
            errors.extend(field_errors(exc, index=i, where=where(i) if where else None))
    if errors:
        raise InvalidLead(errors, where=errors[0]["where"] or "")
    return leads


def field_errors(exc: ValidationError, *, index: int, where: str | None) -> list[dict[str, Any]]:
    """Pydantic's errors as plain dicts: index, where (file:line), loc, msg, type."""
    return [
        {
            "index": index,
            "where": where,
            "loc": list(err["loc"]),
            "msg": err["msg"].removeprefix("Value error, "),
            "type": err["type"],
        }
        for err in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def prepare(lead: Lead, ruleset: Ruleset, now: datetime) -> dict[str, Any]:
    """Score a lead and build its row (all columns, same keys for every lead, ready for executemany)."""
    if lead.received_at is None:
        lead = lead.model_copy(update={"received_at": now})
    s = score(lead, ruleset)
    outcome = lead.outcome
    return {
        "id": None,
        "external_id": lead.external_id,
        "email": lead.contact.email,
        "company_name": lead.company.name,
        "company_domain": lead.company.domain,
        "source": lead.source,
        "offer": lead.offer,
        "campaign": lead.campaign,
        "received_at": lead.received_at,
        "created_at": now,
        "payload": RawJSON(lead.model_dump_json(exclude_none=True, exclude={"outcome"})),
        "fit": s.fit,
        "intent": s.intent,
        "score_group": s.group.value,  # the column behind LeadRow.group (Core insert)
        "urgent": s.urgent,
        "segment": s.segment,
        "hits": RawJSON("[" + ",".join(h.json for h in s.hits) + "]"),
        "failed_must_haves": list(s.failed_must_haves),
        "fired_rules": joined_ids(h.rule_id for h in s.hits),
        "must_haves_failed": joined_ids(s.failed_must_haves),
        "ruleset_version": s.ruleset_version,
        "status": outcome.status.value if outcome else LeadStatus.NEW,
        "outcome": outcome.status.value if outcome else None,
        "reason": outcome.reason if outcome else None,
        "decided_at": (outcome.decided_at or lead.received_at) if outcome else None,
        "decided_by": outcome.decided_by if outcome else None,
        "historical": outcome is not None,
        "suggested_owner": None,
        "sla_step": 0,
        "version": 1,
    }


def ingest(
    ctx: Context,
    leads: Sequence[Lead],
    *,
    post: bool = True,
    source: str = "intake",
    progress: Callable[[int], None] | None = None,
    also: Also | None = None,
) -> list[Ingested]:
    """Store new leads with their scores and queue their cards; duplicates are answered, not stored.

    `also` runs in the same transaction, after the leads are stored (a CRM's delivery receipts).
    """
    ruleset, now = ctx.active_ruleset(), ctx.now()
    rows = [prepare(lead, ruleset, now) for lead in leads]
    return store(ctx, rows, post=post, source=source, progress=progress, also=also)


def store(
    ctx: Context,
    rows: list[dict[str, Any]],
    *,
    post: bool = True,
    source: str = "intake",
    progress: Callable[[int], None] | None = None,
    also: Also | None = None,
) -> list[Ingested]:
    """Store prepared rows in one transaction: either every new lead is stored or none is.

    A unique clash with a concurrent request for the same `external_id` retries, and then
    finds the other request's lead as a duplicate.
    """
    for attempt in range(3):
        try:
            with ctx.transaction() as session:
                # A retry overwrites each row's id and suggested owner, so rows need no copying.
                results = _store(ctx, session, rows, post=post, source=source, progress=progress)
                if also is not None:
                    also(session, results)
                return results
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _store(
    ctx: Context,
    session: Session,
    rows: list[dict[str, Any]],
    *,
    post: bool,
    source: str,
    progress: Callable[[int], None] | None,
) -> list[Ingested]:
    now = ctx.now()
    by_external = _existing(session, LeadRow.external_id, {r["external_id"] for r in rows if r["external_id"]})
    emails = {r["email"] for r in rows if r["email"] and not r["historical"]}
    by_email = _existing(session, LeadRow.email, emails, open_only=True)

    results: list[Ingested | None] = [None] * len(rows)
    new: list[tuple[int, dict[str, Any]]] = []
    repeats: list[tuple[int, dict[str, Any], int]] = []  # (index, row, index of its twin earlier in this batch)
    batch_external: dict[str, int] = {}
    batch_email: dict[str, int] = {}
    speaking: list[tuple[int, dict[str, Any]]] = []  # (open lead, its duplicate): a line in its thread
    for i, row in enumerate(rows):
        twin = _twin(row, by_external, by_email, batch_external, batch_email)
        if isinstance(twin, Ingested):
            results[i] = twin
            if post and not (row["external_id"] and row["external_id"] in by_external):
                speaking.append((twin.id, row))  # a new submission of an open lead, not a resend
            # Found by email, this row's external id now means that stored lead for the rest of the
            # batch; otherwise a later row with the same id was stored as new, and a resend of the
            # same request answered the first row with that new lead (not idempotent).
            if row["external_id"]:
                batch_external.setdefault(row["external_id"], i)
        elif twin is not None:
            repeats.append((i, row, twin))
        else:
            new.append((i, row))
            if row["external_id"]:
                batch_external[row["external_id"]] = i
            if row["email"] and not row["historical"]:
                batch_email[row["email"]] = i

    ids = _allocate_ids(session, len(new))
    assign = Assigner(session, ctx.config, now, domains=(r["company_domain"] for _, r in new) if post else ())
    cards: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    for (i, row), lead_id in zip(new, ids, strict=True):
        row["id"] = lead_id
        group = Group(row["score_group"])
        results[i] = Ingested(lead_id, row["external_id"], row["fit"], row["intent"], group, duplicate=False)
        if row["historical"]:
            decisions.append(
                {
                    "lead_id": lead_id,
                    "outcome": row["outcome"],
                    "reason": row["reason"],
                    "details": {"imported": True},
                    "note": None,
                    "decided_by": row["decided_by"],
                    "decided_at": row["decided_at"],
                }
            )
            continue
        route = assign.route_for_row(row) if post else None
        if route is not None and route.channel:
            row["suggested_owner"] = assign.suggest(route, lead_id=lead_id, domain=row["company_domain"])
            cards.append(
                {
                    "kind": outbox.CARD,
                    "lead_id": lead_id,
                    "channel_id": route.channel,
                    "payload": {},
                    "dedupe_key": f"card:{lead_id}",
                    "next_attempt_at": now,
                    "created_at": now,
                    "status": outbox.PENDING,
                    "attempts": 0,
                }
            )
    for i, row, twin_index in repeats:
        first = results[twin_index]
        assert first is not None
        results[i] = _as_duplicate(first, row["external_id"])
        resent = row["external_id"] and row["external_id"] == rows[twin_index]["external_id"]
        if post and not resent:
            speaking.append((first.id, row))  # the same contact twice in one batch: the second speaks
    _insert_leads(session, [row for _, row in new], progress=progress)
    assign.write_events()  # the skips name their leads: after the leads exist
    if new:  # the lead rows are the receipts; the audit log gets one line per batch
        session.add(
            Event(
                kind="leads_received",
                actor=source,
                at=now,
                data={
                    "count": len(new),
                    "first_id": ids[0],
                    "last_id": ids[-1],
                    "ruleset_version": new[0][1]["ruleset_version"],
                },
            )
        )
    if decisions:
        session.execute(insert(Decision), decisions)
    outbox.enqueue_many(session, cards)
    duplicates.speak(session, speaking, now=now)
    return [r for r in results if r is not None]


def _existing(session: Session, column: Any, values: set[str], *, open_only: bool = False) -> dict[str, Ingested]:
    found: dict[str, Ingested] = {}
    items = sorted(values)
    for start in range(0, len(items), CHUNK):
        query = select(column, LeadRow.id, LeadRow.external_id, LeadRow.fit, LeadRow.intent, LeadRow.group).where(
            column.in_(items[start : start + CHUNK])
        )
        if open_only:
            query = query.where(LeadRow.status.in_(OPEN_STATUSES))
        # The oldest lead wins when several share a key: the same answer on every engine and every resend.
        query = query.order_by(LeadRow.id)
        for key, lead_id, external_id, fit, intent, group in session.execute(query):
            found.setdefault(key, Ingested(lead_id, external_id, fit, intent, Group(group), duplicate=True))
    return found


def _twin(
    row: dict[str, Any],
    by_external: dict[str, Ingested],
    by_email: dict[str, Ingested],
    batch_external: dict[str, int],
    batch_email: dict[str, int],
) -> Ingested | int | None:
    """The stored lead (or earlier index in this batch) that this row repeats, if any."""
    external_id, email = row["external_id"], row["email"]
    if external_id:
        if external_id in by_external:
            return by_external[external_id]
        if external_id in batch_external:
            return batch_external[external_id]
    if email and not row["historical"]:
        if email in by_email:
            return _as_duplicate(by_email[email], external_id)
        if email in batch_email:
            return batch_email[email]
    return None


def _as_duplicate(found: Ingested, external_id: str | None) -> Ingested:
    return Ingested(found.id, external_id or found.external_id, found.fit, found.intent, found.group, True)


def _allocate_ids(session: Session, n: int) -> list[int]:
    """Reserve `n` lead ids up front, so rows insert with plain executemany (no RETURNING)."""
    if n == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return list(
            session.scalars(
                text("SELECT nextval(pg_get_serial_sequence('leads', 'id')) FROM generate_series(1, :n)"), {"n": n}
            )
        )
    # SQLite: this transaction began with BEGIN IMMEDIATE and holds the only write lock.
    start = (session.scalar(select(func.max(LeadRow.id))) or 0) + 1
    return list(range(start, start + n))


def _insert_leads(session: Session, rows: list[dict[str, Any]], progress: Callable[[int], None] | None) -> None:
    stmt = insert(leads_table)  # Core, not the ORM bulk path: ~3x faster for thousands of rows
    for start in range(0, len(rows), 2000):
        chunk = rows[start : start + 2000]
        session.execute(stmt, chunk)
        if progress:
            progress(len(chunk))
