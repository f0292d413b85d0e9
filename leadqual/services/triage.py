"""Triage a lead in Slack's words: claim, release, reassign, decide, reopen (the card's read model: services.cards).

Every change happens in one transaction that also writes its audit Event and queues the
card update and the thread line in the outbox, so Slack shows exactly what was stored.

Concurrency: claiming is one conditional UPDATE (`... WHERE owner_id IS NULL AND outcome IS
NULL`), so of many simultaneous clicks exactly one wins on PostgreSQL and on SQLite. Other
changes lock the lead row first (`SELECT ... FOR UPDATE`; SQLite's BEGIN IMMEDIATE serialises
writers anyway). Idempotency: callers pass a `key` per Slack delivery (action or view id);
a change whose key is already in the event log is not applied again.
"""

from __future__ import annotations

from sqlalchemy import func, literal, select, update
from sqlalchemy.orm import Session

from leadqual.calendar import local_midnight
from leadqual.db.models import Claim, Decision, LeadRow, UTCDateTime
from leadqual.decisions import DecisionInput, Problem, check_decision
from leadqual.errors import AlreadyClaimed, AlreadyDecided, InvalidDecision, LeadNotFound, NotManager, NotOwner
from leadqual.follow_ups import FollowUpRef
from leadqual.lead import Outcome
from leadqual.readmodels import Applied, LeadCard
from leadqual.services import follow_up_questions, follow_ups
from leadqual.services.cards import card_for
from leadqual.services.context import Context
from leadqual.services.lead_changes import (
    card_channel,
    close_claims,
    get_lead,
    lock_lead,
    log_change,
    seen_key,
    supersede,
    undecide,
)
from leadqual.statuses import LeadEvent, LeadStatus

# Event kinds written by this module (the audit log and the thread lines use them).
CLAIMED, RELEASED, REASSIGNED, DECIDED, REOPENED = (
    LeadEvent.CLAIMED,
    LeadEvent.RELEASED,
    LeadEvent.REASSIGNED,
    LeadEvent.DECIDED,
    LeadEvent.REOPENED,
)


def check(ctx: Context, decision: DecisionInput) -> dict[str, Problem]:
    """Return {field: what is wrong} for a decision, judged exactly as `decide` will judge it.

    The modal's submission is checked with this before the ack, so every error (a buying
    motion the active ruleset no longer has included) lands on its field, not in an ephemeral.
    """
    with ctx.reading() as session:
        return _problems(ctx, session, decision)


def _problems(ctx: Context, session: Session, decision: DecisionInput) -> dict[str, Problem]:
    motions = {s.id for s in ctx.ruleset(session).spec.segments}
    return check_decision(decision, config=ctx.config, today=ctx.today(), motions=motions)


# ---------------------------------------------------------------------------
# Changes
# ---------------------------------------------------------------------------


def claim(ctx: Context, *, lead_id: int, user_id: str, key: str | None = None) -> Applied:
    """Make `user_id` the owner of an unclaimed, undecided lead.

    Raise AlreadyClaimed (naming the owner), AlreadyDecided or LeadNotFound. Claiming a lead
    you already own changes nothing.
    """
    with ctx.transaction() as session:
        if seen_key(session, key):
            return Applied(card_for(ctx, session, get_lead(session, lead_id)), changed=False)
        changed = _claim(ctx, session, lead_id, user_id, key=key)
        return Applied(card_for(ctx, session, get_lead(session, lead_id)), changed=changed)


def release(ctx: Context, *, lead_id: int, user_id: str, key: str | None = None) -> Applied:
    """Give a claimed lead back to the queue; only its owner or a manager may."""
    with ctx.transaction() as session:
        row = lock_lead(session, lead_id)
        if seen_key(session, key) or row.owner_id is None:
            return Applied(card_for(ctx, session, row), changed=False)
        if row.outcome is not None:
            raise AlreadyDecided(Outcome(row.outcome).label)
        if row.owner_id != user_id and not ctx.is_manager(user_id):
            raise NotOwner(row.owner_id)
        now = ctx.now()
        previous = row.owner_id
        close_claims(session, lead_id, now, user_id)
        row.owner_id = None
        row.status = LeadStatus.NEW
        row.claimed_at = None
        row.sla_step = 0  # back in the queue: the SLA ladder starts again (timed from this release)
        row.version += 1
        log_change(ctx, session, row, RELEASED, user_id, key, now, {"owner": previous})
        return Applied(card_for(ctx, session, row), changed=True)


def reassign(ctx: Context, *, lead_id: int, user_id: str, to_user: str, key: str | None = None) -> Applied:
    """Make `to_user` the owner of an undecided lead; only a manager may (or the SLA ladder, as one)."""
    if not ctx.is_manager(user_id):
        raise NotManager()
    with ctx.transaction() as session:
        row = lock_lead(session, lead_id)
        if seen_key(session, key) or row.owner_id == to_user:
            return Applied(card_for(ctx, session, row), changed=False)
        if row.outcome is not None:
            raise AlreadyDecided(Outcome(row.outcome).label)
        now = ctx.now()
        previous = row.owner_id
        close_claims(session, lead_id, now, user_id)
        session.add(Claim(lead_id=lead_id, user_id=to_user, claimed_at=now, how="reassign"))
        row.owner_id = to_user
        row.status = LeadStatus.CLAIMED
        row.claimed_at = now
        row.first_claimed_at = row.first_claimed_at or now
        row.version += 1
        log_change(ctx, session, row, REASSIGNED, user_id, key, now, {"from": previous, "to": to_user})
        return Applied(card_for(ctx, session, row), changed=True)


def begin_decision(ctx: Context, *, lead_id: int, user_id: str, key: str | None = None) -> LeadCard:
    """Check `user_id` may decide on the lead before a modal opens; an unclaimed lead is claimed first.

    Raise AlreadyDecided, NotOwner (naming the owner) or AlreadyClaimed.
    """
    with ctx.transaction() as session:
        row = get_lead(session, lead_id)
        if row.outcome is not None:
            raise AlreadyDecided(Outcome(row.outcome).label)
        if row.owner_id is None:
            _claim(ctx, session, lead_id, user_id, key=key, allow_manager=ctx.is_manager(user_id))
            session.refresh(row)
        elif row.owner_id != user_id and not ctx.is_manager(user_id):
            raise NotOwner(row.owner_id)
        return card_for(ctx, session, row)


def decide(
    ctx: Context,
    *,
    lead_id: int,
    user_id: str,
    decision: DecisionInput,
    key: str | None = None,
    follow_up: FollowUpRef | None = None,
) -> Applied:
    """Store a qualification decision on the lead and queue the card update and the thread line.

    The owner or a manager may decide on a claimed lead; an unclaimed one is claimed by the
    decider first. Raise InvalidDecision, AlreadyDecided, NotOwner, AlreadyClaimed, LeadNotFound.
    A decision from a follow-up's reminder (`follow_up`) replaces the lead's decision while that
    follow-up still stands (else FollowUpNoLongerDue), and records the follow-up as done.
    """
    with ctx.transaction() as session:
        errors = _problems(ctx, session, decision)
        if errors:
            raise InvalidDecision(errors)
        row = lock_lead(session, lead_id)
        if seen_key(session, key):
            return Applied(card_for(ctx, session, row), changed=False)
        now = ctx.now()
        if follow_up is not None:  # as the reminder showed it, so still decided: this decision replaces that one
            follow_ups.check_standing(ctx, session, row, follow_up, user_id)
            follow_ups.acted_on_due(ctx, session, row, user_id, key, now, via="decision")
            supersede(session, lead_id, now)
        elif row.outcome is not None:
            raise AlreadyDecided(Outcome(row.outcome).label)
        is_manager = ctx.is_manager(user_id)
        if row.owner_id is None:
            _claim(ctx, session, lead_id, user_id, key=None, allow_manager=is_manager)
            session.refresh(row)
        elif row.owner_id != user_id and not is_manager:
            raise NotOwner(row.owner_id)
        next_date = decision.follow_up_on or (decision.next_step_on if decision.outcome is Outcome.QUALIFIED else None)
        note = (decision.note or "").strip() or None
        record = Decision(
            lead_id=lead_id,
            outcome=decision.outcome.value,
            reason=decision.reason,
            details=decision.details(),
            note=note,
            decided_by=user_id,
            decided_at=now,
        )
        session.add(record)
        row.outcome = decision.outcome.value
        row.status = decision.outcome.value
        row.reason = decision.reason if decision.outcome is Outcome.NOT_QUALIFIED else None
        row.decided_at = now
        row.decided_by = user_id
        row.first_action_at = row.first_action_at or now
        row.follow_up_on = local_midnight(next_date, ctx.config.tz) if next_date else None
        row.version += 1
        session.flush()
        reason = ctx.config.reason(decision.reason) if decision.reason else None
        log_change(
            ctx,
            session,
            row,
            DECIDED,
            user_id,
            key,
            now,
            {"decision_id": record.id, "outcome": decision.outcome.value, "reason": row.reason},
            thread={
                "outcome": decision.outcome.value,
                "reason": row.reason,
                "reason_label": reason.label if reason and row.reason else None,
                "note": note,
                **decision.details(),
            },
        )
        # After the decision's own line (same channel, queued later): the questions for what is unknown.
        follow_up_questions.queue_questions(ctx, session, row, decision, channel=card_channel(session, row), now=now)
        return Applied(card_for(ctx, session, row), changed=True)


def reopen(ctx: Context, *, lead_id: int, user_id: str, key: str | None = None) -> Applied:
    """Undo the lead's decision (kept, marked superseded) so it can be decided again.

    Its owner, the rep who decided, or a manager may; statistics then count the next decision only.
    A follow-up due on the lead counts as done: reopening is how a rep acts on it from the card.
    """
    with ctx.transaction() as session:
        row = lock_lead(session, lead_id)
        if seen_key(session, key) or row.outcome is None:
            return Applied(card_for(ctx, session, row), changed=False)
        if user_id not in (row.owner_id, row.decided_by) and not ctx.is_manager(user_id):
            holder = row.owner_id or row.decided_by
            raise NotOwner(holder) if holder else NotManager()
        now = ctx.now()
        previous = row.outcome
        follow_ups.acted_on_due(ctx, session, row, user_id, key, now, via="reopen")  # acting on it: done
        undecide(session, row, now)
        if row.owner_id is None:
            row.sla_step = 0  # back in the queue unclaimed: the SLA ladder starts again
        row.version += 1
        log_change(ctx, session, row, REOPENED, user_id, key, now, {"previous": previous})
        return Applied(card_for(ctx, session, row), changed=True)


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _claim(
    ctx: Context, session: Session, lead_id: int, user_id: str, *, key: str | None, allow_manager: bool = False
) -> bool:
    """The atomic claim; True when this call took the lead, False when the caller already held it."""
    now = literal(ctx.now(), UTCDateTime())
    result = session.execute(
        update(LeadRow)
        .where(LeadRow.id == lead_id, LeadRow.owner_id.is_(None), LeadRow.outcome.is_(None))
        .values(
            owner_id=user_id,
            status=LeadStatus.CLAIMED,
            claimed_at=now,
            first_claimed_at=func.coalesce(LeadRow.first_claimed_at, now),
            first_action_at=func.coalesce(LeadRow.first_action_at, now),
            version=LeadRow.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        found = session.execute(select(LeadRow.owner_id, LeadRow.outcome).where(LeadRow.id == lead_id)).first()
        if found is None:
            raise LeadNotFound(lead_id)
        owner, outcome = found
        if outcome is not None:
            raise AlreadyDecided(Outcome(outcome).label)
        if owner == user_id or (owner is not None and allow_manager):
            return False
        if owner is None:  # released between our UPDATE and this read: try again
            return _claim(ctx, session, lead_id, user_id, key=key, allow_manager=allow_manager)
        raise AlreadyClaimed(owner)
    row = get_lead(session, lead_id)
    session.refresh(row)
    session.add(Claim(lead_id=lead_id, user_id=user_id, claimed_at=ctx.now(), how="claim"))
    log_change(ctx, session, row, CLAIMED, user_id, key, ctx.now(), {})
    return True
