"""Needs info comes back: "Info received" returns the lead to its owner, and a reminder chases what is still missing.

Info received supersedes the Needs info decision (kept, like a reopen) and leaves the lead
claimed and undecided with the same owner, in one transaction with its audit event
(`LeadEvent.INFO_RECEIVED`), the card update, the thread line naming what arrived and the
CRM write-back. Only the owner or a manager may; a lead no longer waiting is refused
(`NotWaitingForInfo`) and nothing changes.

The reminder: a lead still in Needs info `follow_ups.needs_info_days` after the decision
gets one DM to its owner per waiting period (per Needs info decision). The guard is the
audit event's unique `key` (`needs_info_reminder:{lead}:{decision}`) and the DM row's
dedupe key, taken with the lead row locked, so two workers never both send it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, cast, exists, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadqual.db.models import Decision, Event, LeadRow, UTCDateTime
from leadqual.decisions import MISSING_DETAILS, Problem
from leadqual.errors import InvalidDecision, NotOwner, NotWaitingForInfo
from leadqual.lead import Outcome
from leadqual.readmodels import Applied, LeadCard
from leadqual.services import outbox
from leadqual.services.cards import card_for
from leadqual.services.context import Context
from leadqual.services.lead_changes import get_lead, lock_lead, log_change, seen_key, undecide
from leadqual.statuses import LeadEvent

log = logging.getLogger(__name__)

INFO_RECEIVED = LeadEvent.INFO_RECEIVED
REMINDER = "needs_info_reminder"  # audit event kind (not a triage step: no thread line)


@dataclass(frozen=True, slots=True)
class Reminded:
    """A reminder queued for a lead still waiting for info."""

    lead_id: int
    owner_id: str
    decision_id: int


def begin_info_received(ctx: Context, *, lead_id: int, user_id: str) -> LeadCard:
    """Check `user_id` may mark the lead's info received before the modal opens; raise NotWaitingForInfo or NotOwner."""
    with ctx.reading() as session:
        row = get_lead(session, lead_id)
        _check(ctx, row, user_id)
        return card_for(ctx, session, row)


def info_received(
    ctx: Context,
    *,
    lead_id: int,
    user_id: str,
    arrived: tuple[str, ...],
    note: str | None = None,
    key: str | None = None,
) -> Applied:
    """Put a Needs-info lead back to its owner, claimed and undecided, recording what arrived.

    Raise InvalidDecision (nothing or an unknown detail ticked), NotWaitingForInfo, NotOwner, LeadNotFound.
    """
    if not arrived:
        raise InvalidDecision({"arrived": Problem.REQUIRED})
    if any(a not in MISSING_DETAILS for a in arrived):
        raise InvalidDecision({"arrived": Problem.NOT_LISTED})
    with ctx.transaction() as session:
        row = lock_lead(session, lead_id)
        if seen_key(session, key):
            return Applied(card_for(ctx, session, row), changed=False)
        _check(ctx, row, user_id)
        now = ctx.now()
        waiting = _waiting_decision(session, lead_id)
        missing = [str(m) for m in (waiting.details.get("missing") or ())] if waiting else []
        row.owner_id = row.owner_id or row.decided_by
        undecide(session, row, now)
        row.claimed_at = row.claimed_at or (now if row.owner_id else None)
        row.version += 1
        still = [m for m in missing if m not in arrived]
        note = (note or "").strip() or None
        log_change(
            ctx,
            session,
            row,
            INFO_RECEIVED,
            user_id,
            key,
            now,
            {"arrived": list(arrived), "still_missing": still, "owner": row.owner_id},
            thread={"note": note},
        )
        return Applied(card_for(ctx, session, row), changed=True)


def _check(ctx: Context, row: LeadRow, user_id: str) -> None:
    if row.outcome != Outcome.NEEDS_INFO:
        raise NotWaitingForInfo(row.id, row.outcome or row.status)
    holder = row.owner_id or row.decided_by
    if user_id != holder and not ctx.is_manager(user_id):
        raise NotOwner(holder)


def _waiting_decision(session: Session, lead_id: int) -> Decision | None:
    return session.scalar(
        select(Decision)
        .where(Decision.lead_id == lead_id, Decision.superseded_at.is_(None), Decision.outcome == Outcome.NEEDS_INFO)
        .order_by(Decision.id.desc())
        .limit(1)
    )


# ---------------------------------------------------------------------------
# The reminder
# ---------------------------------------------------------------------------


def reminder_key(lead_id: int, decision_id: int) -> str:
    return f"{REMINDER}:{lead_id}:{decision_id}"


def needs_info_reminders(ctx: Context, *, now: datetime | None = None) -> list[Reminded]:
    """Queue a DM to the owner of every lead waiting for info `needs_info_days` or longer; once per waiting period."""
    now = now or ctx.now()
    days = ctx.config.follow_ups.needs_info_days
    cutoff = now - timedelta(days=days)
    # The key as SQL (`||` on both engines), so leads already reminded for this wait are left out by the index.
    key = literal(f"{REMINDER}:") + cast(LeadRow.id, String) + literal(":") + cast(Decision.id, String)
    with ctx.reading() as session:
        due = session.execute(
            select(LeadRow.id, Decision.id)
            .join(Decision, (Decision.lead_id == LeadRow.id) & Decision.superseded_at.is_(None))
            .where(
                LeadRow.outcome == Outcome.NEEDS_INFO,
                LeadRow.historical.is_(False),  # imported history waits for nobody: no reminders
                Decision.outcome == Outcome.NEEDS_INFO,
                Decision.decided_at <= literal(cutoff, UTCDateTime()),
                ~exists(select(Event.id).where(Event.key == key)),
            )
            .order_by(LeadRow.id)
        ).all()
    reminded = []
    for lead_id, decision_id in due:
        try:
            found = _remind(ctx, lead_id, decision_id, days=days, now=now)
        except IntegrityError:  # another worker took this reminder between our check and our insert
            found = None
        if found is not None:
            reminded.append(found)
    return reminded


def _remind(ctx: Context, lead_id: int, decision_id: int, *, days: int, now: datetime) -> Reminded | None:
    key = reminder_key(lead_id, decision_id)
    with ctx.transaction() as session:
        row = lock_lead(session, lead_id)
        waiting = _waiting_decision(session, lead_id)
        if row.outcome != Outcome.NEEDS_INFO or waiting is None or waiting.id != decision_id or seen_key(session, key):
            return None  # info came back, or another worker sent it, since we looked
        owner = row.owner_id or waiting.decided_by
        if owner is None:
            return None
        session.add(
            Event(lead_id=lead_id, kind=REMINDER, actor=None, at=now, key=key, data={"owner": owner, "days": days})
        )
        outbox.enqueue(
            session,
            outbox.DM,
            lead_id=lead_id,
            channel_id=owner,
            payload={
                "needs_info": "reminder",
                "user": owner,
                "days": days,
                "missing": [str(m) for m in waiting.details.get("missing") or ()],
                "decided_at": waiting.decided_at.isoformat(),
            },
            dedupe_key=key,
            now=now,
        )
        session.flush()
        log.info("needs info: reminded %s about lead %d after %d days", owner, lead_id, days)
        return Reminded(lead_id, owner, decision_id)
