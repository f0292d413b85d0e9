"""Speed to lead: walk unclaimed leads up their group's SLA ladder (remind, escalate, reassign).

The clock starts when the lead's card reached Slack (the card row's `sent_at`), and starts
again, from the first step, when the lead is back in the queue: a release (or a decision
reopened with nobody holding the lead) resets `sla_step` and its event's time becomes the
ladder's start. (A reassign always leaves an owner, so it never restarts the ladder.) Each step
runs once: `LeadRow.sla_step` counts the steps done and is advanced with a compare-and-set,
so two workers ticking at the same moment (or a tick racing a claim) never both act. The
queued messages also carry dedupe keys and the audit events unique keys, as a second guard.

Queued rows hold structured payloads (`{"sla": "remind" | "escalate" | "reassign", "step",
"after_minutes", "group", ...}`), never text: `blocks.thread.sla_line` words them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from leadqual.config import SlaAction, SlaStep
from leadqual.db.models import Event, LeadRow, OutboxMessage
from leadqual.groups import Group
from leadqual.services import outbox
from leadqual.services.assignment import reassign_to, working_time_waited
from leadqual.services.context import Context
from leadqual.statuses import LeadEvent, LeadStatus

OPEN_UNCLAIMED = LeadStatus.NEW
# The triage events that put a lead back in the queue.
RESTARTS_LADDER = (LeadEvent.RELEASED, LeadEvent.REOPENED)


@dataclass(frozen=True, slots=True)
class DueStep:
    index: int
    step: SlaStep


@dataclass(frozen=True, slots=True)
class Taken:
    """A ladder step carried out for a lead (what `sla_tick` reports)."""

    lead_id: int
    index: int
    action: SlaAction
    after_minutes: int


def due_steps(
    ladder: Sequence[SlaStep], *, done: int, posted_at: datetime, now: datetime, waited: timedelta | None = None
) -> list[DueStep]:
    """The ladder steps not yet done whose minutes have passed since the card was posted.

    A worker that was down may find several due at once; all run, in order, so no step
    is silently skipped. `waited` overrides the clock time since posting (working hours).
    """
    waited = now - posted_at if waited is None else waited
    return [
        DueStep(i, step)
        for i, step in enumerate(ladder)
        if i >= done and waited >= timedelta(minutes=step.after_minutes)
    ]


def sla_tick(ctx: Context, *, now: datetime | None = None) -> list[Taken]:
    """Carry out every SLA step that is due; safe to run from several workers at once."""
    now = now or ctx.now()
    ladders = {group: steps for group, steps in ctx.config.sla.items() if steps}
    if not ladders:
        return []
    taken: list[Taken] = []
    for lead_id, group, done, posted_at in _candidates(ctx, ladders):
        waited = _working_time(ctx, lead_id, posted_at, now) if ctx.config.sla_working_hours else None
        due = due_steps(ladders[group], done=done, posted_at=posted_at, now=now, waited=waited)
        if due:
            taken.extend(_climb(ctx, lead_id=lead_id, group=group, done=done, due=due, now=now))
    return taken


def _candidates(ctx: Context, ladders: dict[Group, list[SlaStep]]) -> list[tuple[int, Group, int, datetime]]:
    """Unclaimed, undecided leads whose card is in Slack and whose ladder is not finished, with its start."""
    found: list[tuple[int, Group, int, datetime]] = []
    restarted = (
        select(func.max(Event.at))
        .where(Event.lead_id == LeadRow.id, Event.kind.in_(RESTARTS_LADDER))
        .correlate(LeadRow)
        .scalar_subquery()
    )
    with ctx.reading() as session:  # a read: on SQLite it must not take the write lock every minute
        for group, steps in ladders.items():
            rows = session.execute(
                select(LeadRow.id, LeadRow.sla_step, OutboxMessage.sent_at, restarted)
                .join(OutboxMessage, (OutboxMessage.lead_id == LeadRow.id) & (OutboxMessage.kind == outbox.CARD))
                .where(
                    LeadRow.group == group.value,
                    LeadRow.status == OPEN_UNCLAIMED,
                    LeadRow.owner_id.is_(None),
                    LeadRow.outcome.is_(None),
                    LeadRow.message_ts.is_not(None),
                    LeadRow.sla_step < len(steps),
                    OutboxMessage.sent_at.is_not(None),
                )
                .order_by(LeadRow.id)
            )
            found.extend(
                (lead_id, group, done, max(sent_at, since or sent_at))
                for lead_id, done, sent_at, since in rows
                if sent_at is not None
            )
    return found


def _climb(ctx: Context, *, lead_id: int, group: Group, done: int, due: list[DueStep], now: datetime) -> list[Taken]:
    with ctx.transaction() as session:
        # Compare-and-set: whoever moves sla_step first owns these steps; a claim in between wins too.
        won = session.execute(
            update(LeadRow)
            .where(
                LeadRow.id == lead_id,
                LeadRow.sla_step == done,
                LeadRow.status == OPEN_UNCLAIMED,
                LeadRow.owner_id.is_(None),
            )
            .values(sla_step=due[-1].index + 1)
        )
        if not won.rowcount:  # type: ignore[attr-defined]
            return []
        lead = session.get(LeadRow, lead_id)
        assert lead is not None
        for item in due:
            _ACTIONS[item.step.action](ctx, session, lead, item, group, now)
        return [Taken(lead_id, d.index, d.step.action, d.step.after_minutes) for d in due]


def _remind(ctx: Context, session: Session, lead: LeadRow, item: DueStep, group: Group, now: datetime) -> None:
    _queue(
        session, outbox.THREAD, lead, lead.channel_id, now, key=_key(lead, item, "remind"), payload=_step(item, group)
    )
    _event(session, lead, item, now, {})


def _escalate(ctx: Context, session: Session, lead: LeadRow, item: DueStep, group: Group, now: datetime) -> None:
    managers = ctx.managers.all()  # usergroup members too
    for manager in managers:
        _queue(
            session, outbox.DM, lead, manager, now, key=_key(lead, item, f"dm:{manager}"), payload=_step(item, group)
        )
    _event(session, lead, item, now, {"managers": managers})


def _reassign(ctx: Context, session: Session, lead: LeadRow, item: DueStep, group: Group, now: datetime) -> None:
    before = lead.suggested_owner
    # Rotation picks the next available rep other than the one who let it sit; without
    # rotation the stale suggestion is cleared so the card asks everyone.
    after = reassign_to(session, ctx.config, lead, now=now, exclude=frozenset({before}) if before else frozenset())
    key_update, key_line = _key(lead, item, "update"), _key(lead, item, "reassign")
    lead.suggested_owner = after
    lead.version += 1  # the card shows the suggestion: it changed
    _queue(
        session,
        outbox.CARD_UPDATE,
        lead,
        lead.channel_id,
        now,
        key=key_update,
        payload={"sla": "reassign", "step": item.index, "version": lead.version},
    )
    _queue(
        session,
        outbox.THREAD,
        lead,
        lead.channel_id,
        now,
        key=key_line,
        payload={**_step(item, group), "suggested_owner": after},
    )
    _event(session, lead, item, now, {"from": before, "to": after})


def _working_time(ctx: Context, lead_id: int, posted_at: datetime, now: datetime) -> timedelta:
    with ctx.reading() as session:
        lead = session.get(LeadRow, lead_id)
        assert lead is not None
        return working_time_waited(ctx.config, lead, posted_at=posted_at, now=now)


def _step(item: DueStep, group: Group) -> dict[str, object]:
    return {
        "sla": item.step.action.value,
        "step": item.index,
        "after_minutes": item.step.after_minutes,
        "group": group.value,
    }


_ACTIONS = {SlaAction.REMIND: _remind, SlaAction.ESCALATE: _escalate, SlaAction.REASSIGN: _reassign}


def _key(lead: LeadRow, item: DueStep, what: str) -> str:
    # The lead's version is in the key so a ladder restarted later (say, after a release) is not deduplicated away.
    return f"sla:{lead.id}:v{lead.version}:{item.index}:{what}"


def _queue(
    session: Session,
    kind: str,
    lead: LeadRow,
    channel: str | None,
    now: datetime,
    *,
    key: str,
    payload: dict[str, object],
) -> None:
    outbox.enqueue_many(
        session,
        [
            {
                "kind": kind,
                "lead_id": lead.id,
                "channel_id": channel,
                "payload": payload,
                "dedupe_key": key,
                "status": outbox.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        ],
    )


def _event(session: Session, lead: LeadRow, item: DueStep, now: datetime, data: dict[str, object]) -> None:
    session.add(
        Event(
            lead_id=lead.id,
            kind=f"sla_{item.step.action.value}",
            actor=None,
            at=now,
            data={"step": item.index, "after_minutes": item.step.after_minutes, **data},
            key=f"sla:{lead.id}:v{lead.version}:{item.index}",
        )
    )
