"""Follow-ups that come due: the owner's daily reminder (exactly once per day), Done and Snooze a week.

The reminder: for each owner with follow-ups due by the local day, one transaction claims
the day's guard row (unique owner and day), queues the DM in the outbox and records a
`follow_up_due` event per lead and due day (unique event key). Of any number of workers
racing, exactly one insert of the guard commits; the others roll back with nothing queued.

Done clears the lead's follow-up date; Snooze a week moves it (`leadqual.follow_ups`). Both
are refused, with nothing changed, to a rep who does not own the lead (managers may) and
when the follow-up changed since the reminder was sent (the button carries its due day and
the lead's version then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadqual.calendar import local_midnight
from leadqual.db.models import Event, FollowUpSend, LeadRow
from leadqual.errors import FollowUpNoLongerDue, LeadNotFound, NotOwner
from leadqual.follow_ups import (
    DueFollowUp,
    FollowUpRef,
    FollowUpReminder,
    RepOverdue,
    is_overdue,
    overdue_from,
    snoozed_until,
    what_changed,
)
from leadqual.lead import Outcome
from leadqual.readmodels import Applied, LeadCard
from leadqual.services import lead_changes, outbox
from leadqual.services.cards import card_for
from leadqual.services.context import Context
from leadqual.statuses import FollowUpEvent, LeadEvent

DONE, SNOOZED, DUE = LeadEvent.FOLLOW_UP_DONE, LeadEvent.FOLLOW_UP_SNOOZED, FollowUpEvent.DUE
SHOWN = 20  # leads in one reminder: 2 blocks each within Slack's 50 (the rest are counted, and in App Home)
FOLLOWED_UP = (Outcome.NURTURE.value, Outcome.QUALIFIED.value)
owner_of_lead = func.coalesce(LeadRow.owner_id, LeadRow.decided_by)


@dataclass
class ReminderRun:
    """What one run of the daily reminder did, owner by owner."""

    day: date
    sent: list[str] = field(default_factory=list)  # a DM was queued by this run
    skipped: list[str] = field(default_factory=list)  # that day's DM was already queued (another run or worker)


def due_key(lead_id: int, due: date) -> str:
    return f"follow_up_due:{lead_id}:{due.isoformat()}"


def due_day(ctx: Context, row: LeadRow) -> date | None:
    """The local day a lead's follow-up is due, or None when it has none."""
    return row.follow_up_on.astimezone(ctx.config.tz).date() if row.follow_up_on else None


def _due_conditions(ctx: Context, day: date) -> list[ColumnElement[bool]]:
    """Decided leads with a follow-up due on or before `day` (local) and someone to remind."""
    return [
        LeadRow.outcome.in_(FOLLOWED_UP),
        LeadRow.follow_up_on.is_not(None),
        LeadRow.follow_up_on < local_midnight(day + timedelta(days=1), ctx.config.tz),
        owner_of_lead.is_not(None),
    ]


def _due_query(ctx: Context, day: date) -> Select[Any]:
    """The leads of `_due_conditions`, oldest follow-up first."""
    return select(LeadRow).where(*_due_conditions(ctx, day)).order_by(LeadRow.follow_up_on, LeadRow.id)


def owners_due(ctx: Context, day: date) -> list[str]:
    """Owners with follow-ups due by `day`."""
    with ctx.reading() as session:
        return sorted({str(r) for r in session.scalars(select(owner_of_lead).where(*_due_conditions(ctx, day)))})


def owners_waiting(ctx: Context, day: date) -> list[str]:
    """Owners with follow-ups due by `day` whose DM for `day` is not queued yet (a catch-up's work)."""
    with ctx.reading() as session:
        sent = set(session.scalars(select(FollowUpSend.owner_id).where(FollowUpSend.day == day)))
    return [o for o in owners_due(ctx, day) if o not in sent]


def first_due_day(ctx: Context) -> date | None:
    """The earliest local day any open follow-up is due (the demo jumps to it)."""
    with ctx.reading() as session:
        first = session.scalar(
            select(func.min(LeadRow.follow_up_on)).where(*_due_conditions(ctx, date.max - timedelta(days=1)))
        )
    return first.astimezone(ctx.config.tz).date() if first is not None else None


def send_reminders(ctx: Context, *, day: date | None = None) -> ReminderRun:
    """Queue each owner's follow-up DM for `day` (default today, local), once per owner and day."""
    day = day or ctx.today()
    run = ReminderRun(day)
    for owner in owners_due(ctx, day):
        try:
            with ctx.transaction() as session:
                if _remind(ctx, session, owner, day):
                    run.sent.append(owner)
        except IntegrityError:  # another run or worker holds this owner's day: its DM is queued
            run.skipped.append(owner)
    return run


def _remind(ctx: Context, session: Session, owner: str, day: date) -> bool:
    query = _due_query(ctx, day).where(owner_of_lead == owner)
    rows = session.scalars(query.limit(SHOWN)).all()
    if not rows:
        return False
    more = (session.scalar(select(func.count()).select_from(query.subquery())) or 0) - len(rows)
    now = ctx.now()
    # The guard first: a racing run fails here (unique owner and day) and rolls all of this back.
    session.execute(insert(FollowUpSend), [{"owner_id": owner, "day": day, "leads": len(rows), "created_at": now}])
    items = []
    keys = {due_key(r.id, d) for r in rows if (d := due_day(ctx, r))}
    seen = set(session.scalars(select(Event.key).where(Event.key.in_(keys))))
    for row in rows:
        due = due_day(ctx, row)
        assert due is not None
        items.append({"lead": row.id, "due": due.isoformat(), "version": row.version})
        if due_key(row.id, due) not in seen:
            session.add(
                Event(
                    lead_id=row.id,
                    kind=DUE,
                    actor=None,
                    at=now,
                    data={"due": due.isoformat(), "owner": owner},
                    key=due_key(row.id, due),
                )
            )
    outbox.enqueue(
        session,
        outbox.DM,
        channel_id=owner,
        payload={"user": owner, "follow_ups": {"day": day.isoformat(), "items": items, "more": more}},
        dedupe_key=f"follow_ups:{owner}:{day.isoformat()}",
        now=now,
    )
    return True


def reminder(
    ctx: Context, session: Session, *, owner: str, day: date, items: list[dict[str, object]], more: int = 0
) -> FollowUpReminder:
    """The reminder a queued DM stands for, read now: leads whose follow-up moved on since are left out."""
    shown = []
    for item in items:
        row = session.get(LeadRow, int(str(item["lead"])))
        due = date.fromisoformat(str(item["due"]))
        if row is None or due_day(ctx, row) != due or row.outcome not in FOLLOWED_UP:
            continue
        card = card_for(ctx, session, row)
        shown.append(DueFollowUp(card, due, is_overdue(due, day, ctx.config.follow_ups.overdue_days)))
    return FollowUpReminder(
        owner_id=owner, day=day, items=tuple(shown), overdue_days=ctx.config.follow_ups.overdue_days, more=more
    )


# --- Done, Snooze, and deciding from the reminder --------------------------------------------


def mark_done(ctx: Context, *, ref: FollowUpRef, user_id: str, key: str | None = None) -> Applied:
    """Record the follow-up as done and clear the lead's follow-up date."""
    with ctx.transaction() as session:
        row = lead_changes.lock_lead(session, ref.lead_id)
        if lead_changes.seen_key(session, key):
            return Applied(card_for(ctx, session, row), changed=False)
        check_standing(ctx, session, row, ref, user_id)
        row.follow_up_on = None
        row.version += 1
        lead_changes.log_change(ctx, session, row, DONE, user_id, key, ctx.now(), {"due": ref.due.isoformat()})
        return Applied(card_for(ctx, session, row), changed=True)


def snooze(ctx: Context, *, ref: FollowUpRef, user_id: str, key: str | None = None) -> Applied:
    """Move the lead's follow-up a week on (from today when it is already past)."""
    with ctx.transaction() as session:
        row = lead_changes.lock_lead(session, ref.lead_id)
        if lead_changes.seen_key(session, key):
            return Applied(card_for(ctx, session, row), changed=False)
        check_standing(ctx, session, row, ref, user_id)
        until = snoozed_until(ref.due, ctx.today())
        row.follow_up_on = local_midnight(until, ctx.config.tz)
        row.version += 1
        data = {"due": ref.due.isoformat(), "until": until.isoformat()}
        lead_changes.log_change(ctx, session, row, SNOOZED, user_id, key, ctx.now(), data)
        return Applied(card_for(ctx, session, row), changed=True)


def begin_decision(ctx: Context, *, ref: FollowUpRef, user_id: str) -> LeadCard:
    """Check `user_id` may decide on the lead from its reminder before the Qualify or Disqualify modal opens."""
    with ctx.reading() as session:
        row = session.get(LeadRow, ref.lead_id)
        if row is None:
            raise LeadNotFound(ref.lead_id)
        check_standing(ctx, session, row, ref, user_id)
        return card_for(ctx, session, row)


def check_standing(ctx: Context, session: Session, row: LeadRow, ref: FollowUpRef, user_id: str) -> None:
    """Raise NotOwner for a rep who does not own the lead, FollowUpNoLongerDue when it changed since the reminder."""
    owner = row.owner_id or row.decided_by
    if user_id != owner and not ctx.is_manager(user_id):
        raise NotOwner(owner)
    now_due = due_day(ctx, row)
    done_days = session.scalars(select(Event.data).where(Event.lead_id == row.id, Event.kind == DONE))
    # Done from the reminder only: one done by deciding or reopening (`via`) shows as decided since.
    done = any((data or {}).get("due") == ref.due.isoformat() and not (data or {}).get("via") for data in done_days)
    change = what_changed(ref, now_due=now_due, version=row.version, outcome=row.outcome, done=done)
    if change is not None:
        raise FollowUpNoLongerDue(row.id, ref.due, change.value, now_due)


def acted_on_due(
    ctx: Context, session: Session, row: LeadRow, actor: str, key: str | None, now: datetime, *, via: str
) -> None:
    """A decision from the reminder, or a reopen, of a lead whose follow-up was due: that follow-up is done.

    Audit only (the decision and the reopen have their own thread lines). Call it before the
    decision it carries is undone: the due day is read from the lead as it stands.
    """
    due = due_day(ctx, row)
    if due is None or due > ctx.today():
        return
    session.add(
        Event(
            lead_id=row.id,
            kind=DONE,
            actor=actor,
            at=now,
            data={"due": due.isoformat(), "via": via},
            key=f"{key}:follow_up_done" if key else None,
        )
    )


# --- App Home --------------------------------------------------------------------------------------


def overdue_of(ctx: Context, session: Session, *, owner: str | None = None, limit: int = SHOWN) -> list[RepOverdue]:
    """Overdue follow-ups by rep (one rep's when `owner` is given), most overdue reps first."""
    days = ctx.config.follow_ups.overdue_days
    cutoff = ctx.today() - timedelta(days=days)  # due on or before this day: overdue today
    query = _due_query(ctx, cutoff)
    if owner is not None:
        query = query.where(owner_of_lead == owner)
    by_rep: dict[str, list[DueFollowUp]] = {}
    totals: dict[str, int] = {}
    for row in session.scalars(query):
        rep = str(row.owner_id or row.decided_by)
        totals[rep] = totals.get(rep, 0) + 1
        due = due_day(ctx, row)
        assert due is not None and overdue_from(due, days) <= ctx.today()
        if len(by_rep.setdefault(rep, [])) < limit:
            by_rep[rep].append(DueFollowUp(card_for(ctx, session, row), due, True))
    return sorted(
        (RepOverdue(rep, totals[rep], tuple(items)) for rep, items in by_rep.items()), key=lambda r: (-r.total, r.rep)
    )
