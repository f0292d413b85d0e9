"""Lead intake: validate, deduplicate, score, store, and queue the card, in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadqual.db.models import Decision, Event, LeadRow
from leadqual.errors import InvalidLead
from leadqual.groups import Group
from leadqual.lead import Lead
from leadqual.scoring import Score, score
from leadqual.services import outbox
from leadqual.services.context import Context

OPEN_STATUSES = ("new", "claimed")
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
        return {"id": self.id, "external_id": self.external_id, "fit": self.fit, "intent": self.intent,
                "group": self.group.value, "duplicate": self.duplicate}


def validate_leads(records: Sequence[Any], *, where: Callable[[int], str] | None = None) -> list[Lead]:
    """Validate every record; raise InvalidLead listing all field errors (and which record)."""
    leads: list[Lead] = []
    errors: list[dict[str, Any]] = []
    for i, record in enumerate(records):
        try:
            leads.append(Lead.model_validate(record))
        except ValidationError as exc:
            for err in exc.errors(include_url=False, include_context=False, include_input=False):
                errors.append({"index": i, "where": where(i) if where else None,
                               "loc": list(err["loc"]), "msg": err["msg"].removeprefix("Value error, "),
                               "type": err["type"]})
    if errors:
        raise InvalidLead(errors, where=errors[0]["where"] or "")
    return leads


def ingest(ctx: Context, leads: Sequence[Lead], *, post: bool = True,
           progress: Callable[[int], None] | None = None) -> list[Ingested]:
    """Store new leads with their scores and queue their cards; duplicates are answered, not stored.

    The whole batch is one transaction: either every lead is stored or none is. A unique
    clash with a concurrent request for the same `external_id` retries, and then finds
    the other request's lead as a duplicate.
    """
    for attempt in range(3):
        try:
            with ctx.transaction() as session:
                return _ingest(ctx, session, leads, post=post, progress=progress)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _ingest(ctx: Context, session: Session, leads: Sequence[Lead], *, post: bool,
            progress: Callable[[int], None] | None) -> list[Ingested]:
    now = ctx.now()
    ruleset = ctx.ruleset(session)
    by_external = _existing(session, LeadRow.external_id, {ld.external_id for ld in leads if ld.external_id})
    emails = {ld.contact.email for ld in leads if ld.contact.email and not ld.outcome}
    by_email = _existing(session, LeadRow.email, emails, open_only=True)

    results: list[Ingested | None] = [None] * len(leads)
    new: list[tuple[int, Lead, Score, dict[str, Any]]] = []
    repeats: list[tuple[int, Lead, int]] = []  # (index, lead, index of its twin earlier in this batch)
    batch_external: dict[str, int] = {}
    batch_email: dict[str, int] = {}
    for i, lead in enumerate(leads):
        twin = _twin(lead, by_external, by_email, batch_external, batch_email)
        if isinstance(twin, Ingested):
            results[i] = twin
            continue
        if twin is not None:
            repeats.append((i, lead, twin))
            continue
        if lead.received_at is None:
            lead = lead.model_copy(update={"received_at": now})
        s = score(lead, ruleset)
        new.append((i, lead, s, _row(lead, s, now)))
        if lead.external_id:
            batch_external[lead.external_id] = i
        if lead.contact.email and not lead.outcome:
            batch_email[lead.contact.email] = i

    ids = _insert_leads(session, [row for _, _, _, row in new], progress=progress)
    index_to_id: dict[int, int] = {}
    events: list[dict[str, Any]] = []
    cards: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    for (i, lead, s, row), lead_id in zip(new, ids, strict=True):
        index_to_id[i] = lead_id
        results[i] = Ingested(lead_id, lead.external_id, s.fit, s.intent, s.group, duplicate=False)
        events.append({"lead_id": lead_id, "kind": "lead_received", "actor": lead.source, "at": now,
                       "data": {"group": s.group.value, "ruleset_version": s.ruleset_version}})
        if lead.outcome is not None:
            decisions.append({"lead_id": lead_id, "outcome": lead.outcome.status.value,
                              "reason": lead.outcome.reason, "details": {"imported": True}, "note": None,
                              "decided_by": lead.outcome.decided_by, "decided_at": row["decided_at"]})
            continue
        channel = ctx.config.channel_for(s.group)
        if post and channel:
            cards.append({"kind": outbox.CARD, "lead_id": lead_id, "channel_id": channel, "payload": {},
                          "dedupe_key": f"card:{lead_id}", "next_attempt_at": now, "created_at": now,
                          "status": "pending", "attempts": 0})
    for i, lead, twin_index in repeats:
        first = results[twin_index]
        assert first is not None
        results[i] = _as_duplicate(first, lead.external_id)
    if events:
        session.execute(insert(Event), events)
    if decisions:
        session.execute(insert(Decision), decisions)
    outbox.enqueue_many(session, cards)
    return [r for r in results if r is not None]


def _existing(session: Session, column: Any, values: set[str], *, open_only: bool = False) -> dict[str, Ingested]:
    found: dict[str, Ingested] = {}
    items = sorted(values)
    for start in range(0, len(items), CHUNK):
        query = select(column, LeadRow.id, LeadRow.external_id, LeadRow.fit, LeadRow.intent, LeadRow.group).where(
            column.in_(items[start:start + CHUNK]))
        if open_only:
            query = query.where(LeadRow.status.in_(OPEN_STATUSES))
        for key, lead_id, external_id, fit, intent, group in session.execute(query):
            found.setdefault(key, Ingested(lead_id, external_id, fit, intent, Group(group), duplicate=True))
    return found


def _twin(lead: Lead, by_external: dict[str, Ingested], by_email: dict[str, Ingested],
          batch_external: dict[str, int], batch_email: dict[str, int]) -> Ingested | int | None:
    """The stored lead (or earlier index in this batch) that this lead repeats, if any."""
    if lead.external_id:
        if lead.external_id in by_external:
            return by_external[lead.external_id]
        if lead.external_id in batch_external:
            return batch_external[lead.external_id]
    email = lead.contact.email
    if email and not lead.outcome:
        if email in by_email:
            return _as_duplicate(by_email[email], lead.external_id)
        if email in batch_email:
            return batch_email[email]
    return None


def _as_duplicate(found: Ingested, external_id: str | None) -> Ingested:
    return Ingested(found.id, external_id or found.external_id, found.fit, found.intent, found.group, True)


def _row(lead: Lead, s: Score, now: Any) -> dict[str, Any]:
    outcome = lead.outcome
    decided = outcome is not None
    status = outcome.status.value if outcome else "new"
    return {
        "external_id": lead.external_id,
        "email": lead.contact.email,
        "company_name": lead.company.name,
        "source": lead.source,
        "offer": lead.offer,
        "campaign": lead.campaign,
        "received_at": lead.received_at,
        "created_at": now,
        "payload": lead.model_dump(mode="json", exclude_none=True, exclude={"outcome"}),
        "fit": s.fit,
        "intent": s.intent,
        "group": s.group.value,
        "urgent": s.urgent,
        "segment": s.segment,
        "hits": [{"rule": h.rule_id, "kind": h.kind.value, "label": h.label, "points": h.points} for h in s.hits],
        "failed_must_haves": list(s.failed_must_haves),
        "ruleset_version": s.ruleset_version,
        "status": status,
        "outcome": outcome.status.value if outcome else None,
        "reason": outcome.reason if outcome else None,
        "decided_at": (outcome.decided_at or lead.received_at) if outcome else None,
        "decided_by": outcome.decided_by if outcome else None,
        "historical": decided,
        "sla_step": 0,
        "version": 1,
    }


def _insert_leads(session: Session, rows: list[dict[str, Any]],
                  progress: Callable[[int], None] | None) -> list[int]:
    ids: list[int] = []
    stmt = insert(LeadRow).returning(LeadRow.id, sort_by_parameter_order=True)
    for start in range(0, len(rows), 2000):
        chunk = rows[start:start + 2000]
        ids.extend(session.scalars(stmt, chunk).all())
        if progress:
            progress(len(chunk))
    return ids


def lead_from_row(row: LeadRow) -> Lead:
    """Rebuild the domain lead from its stored payload (for rescoring and backtests)."""
    return Lead.model_validate(row.payload)
