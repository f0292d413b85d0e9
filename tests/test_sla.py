"""The speed-to-lead ladder: pure step timing, then the tick on SQLite and PostgreSQL with a settable clock."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from blocks.thread import sla_line
from bot.slack.client import connected
from leadqual.config import Rep, Route, SlaAction, SlaStep
from leadqual.db.models import Event, LeadRow
from leadqual.groups import Group
from leadqual.services import delivery
from leadqual.services.context import Context
from leadqual.services.sla import due_steps, sla_tick
from tests.conftest import Clock
from tests.outbox_helpers import ingest_leads, lead, outbox_rows
from tests.slack_standin import SlackStandIn

LADDER = [SlaStep(after_minutes=15, action=SlaAction.REMIND), SlaStep(after_minutes=45, action=SlaAction.ESCALATE)]
POSTED = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return POSTED + timedelta(minutes=minutes)


def test_no_step_is_due_before_the_first_rung() -> None:
    assert due_steps(LADDER, done=0, posted_at=POSTED, now=at(14.99)) == []


def test_the_reminder_is_due_at_fifteen_minutes_and_only_once() -> None:
    [step] = due_steps(LADDER, done=0, posted_at=POSTED, now=at(15))
    assert (step.index, step.step.action) == (0, SlaAction.REMIND)
    assert due_steps(LADDER, done=1, posted_at=POSTED, now=at(44)) == []


def test_a_worker_that_was_down_runs_every_missed_step_in_order() -> None:
    assert [s.step.action for s in due_steps(LADDER, done=0, posted_at=POSTED, now=at(50))] == [
        SlaAction.REMIND,
        SlaAction.ESCALATE,
    ]
    assert due_steps(LADDER, done=2, posted_at=POSTED, now=at(500)) == []


# -- the tick, against a database ----------------------------------------------------------


@pytest.fixture
def managed(ctx: Context) -> Context:
    """The test context with two managers."""
    return dataclasses.replace(ctx, config=ctx.config.model_copy(update={"managers": ["UMANAGER", "UBOSS"]}))


def posted_lead(ctx: Context) -> int:
    """A Priority lead whose card reached Slack at the clock's current time."""
    [lead_id] = ingest_leads(ctx, 1)
    assert lead(ctx, lead_id).group == Group.PRIORITY.value
    [card] = delivery.lease_due(ctx, limit=1, worker_id="test")
    delivery.mark_sent(ctx, card.id, "1795600000.000100", channel_id="C0LEADS")
    return lead_id


def sla_rows(ctx: Context) -> list[tuple[str, str | None]]:
    return [(r.kind, r.channel_id) for r in outbox_rows(ctx) if r.kind != "card"]


def test_the_ladder_reminds_at_15_escalates_to_each_manager_at_45_and_never_doubles(
    managed: Context, clock: Clock
) -> None:
    lead_id = posted_lead(managed)

    clock.advance(minutes=14, seconds=59)
    assert sla_tick(managed) == []
    assert sla_rows(managed) == []

    clock.advance(seconds=1)
    [reminder] = sla_tick(managed)
    assert sla_tick(managed) == []
    assert (reminder.lead_id, reminder.action) == (lead_id, SlaAction.REMIND)
    assert sla_rows(managed) == [("thread", "C0LEADS")]

    clock.advance(minutes=29)
    assert sla_tick(managed) == []
    clock.advance(minutes=1)
    [escalation] = sla_tick(managed)
    clock.advance(minutes=1)
    assert sla_tick(managed) == []

    assert escalation.action == SlaAction.ESCALATE
    assert sla_rows(managed) == [("thread", "C0LEADS"), ("dm", "UMANAGER"), ("dm", "UBOSS")]
    assert lead(managed, lead_id).sla_step == 2
    with managed.session_factory() as session:
        kinds = session.scalars(select(Event.kind).where(Event.kind.like("sla_%")).order_by(Event.id)).all()
    assert kinds == ["sla_remind", "sla_escalate"]


def test_members_of_a_manager_usergroup_get_the_escalation_like_the_configured_managers(
    managed: Context, clock: Clock, slack: SlackStandIn
) -> None:
    slack.usergroups = {"S0MGRS": ["UHEAD", "UBOSS"]}
    with_group = dataclasses.replace(
        managed, config=managed.config.model_copy(update={"manager_usergroups": ["S0MGRS"]})
    )
    worker_ctx = connected(with_group, slack.client())  # as the worker's scheduler wires it
    posted_lead(worker_ctx)
    clock.advance(minutes=45)
    assert [t.action for t in sla_tick(worker_ctx)] == [SlaAction.REMIND, SlaAction.ESCALATE]
    assert sla_rows(worker_ctx) == [("thread", "C0LEADS"), ("dm", "UMANAGER"), ("dm", "UBOSS"), ("dm", "UHEAD")]


def test_a_claimed_or_decided_lead_is_left_alone(managed: Context, clock: Clock) -> None:
    claimed, decided = posted_lead(managed), posted_lead(managed)
    with managed.transaction() as session:
        session.execute(update(LeadRow).where(LeadRow.id == claimed).values(status="claimed", owner_id="UREP"))
        session.execute(update(LeadRow).where(LeadRow.id == decided).values(status="nurture", outcome="nurture"))

    clock.advance(minutes=60)

    assert sla_tick(managed) == []
    assert sla_rows(managed) == []


def test_the_clock_starts_when_the_card_reaches_slack(managed: Context, clock: Clock) -> None:
    [lead_id] = ingest_leads(managed, 1)
    clock.advance(minutes=30)  # Slack was down: the card is still queued
    assert sla_tick(managed) == []

    [card] = delivery.lease_due(managed, limit=1, worker_id="test")
    delivery.mark_sent(managed, card.id, "1795600000.000100", channel_id="C0LEADS")
    clock.advance(minutes=14)
    assert sla_tick(managed) == []
    clock.advance(minutes=1)
    assert [t.lead_id for t in sla_tick(managed)] == [lead_id]


def test_two_workers_ticking_at_once_send_each_step_once(managed: Context, clock: Clock) -> None:
    for _ in range(5):
        posted_lead(managed)
    clock.advance(minutes=50)
    results: list[int] = []
    barrier = threading.Barrier(3)

    def tick() -> None:
        barrier.wait()
        results.append(len(sla_tick(managed)))

    threads = [threading.Thread(target=tick) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sum(results) == 10  # 5 leads x (remind + escalate), whoever did them
    assert sorted(kind for kind, _ in sla_rows(managed)) == ["dm"] * 10 + ["thread"] * 5


def test_reassign_moves_the_suggestion_to_the_next_rep_and_updates_the_card(ctx: Context, clock: Clock) -> None:
    route = Route(channel="C0LEADS", rotation=True, reps=[Rep(user="UANA", weight=1), Rep(user="UBEN", weight=1)])
    ladder = [SlaStep(after_minutes=120, action=SlaAction.REASSIGN)]
    config = ctx.config.model_copy(
        update={"routes": {**ctx.config.routes, Group.PRIORITY: route}, "sla": {Group.PRIORITY: ladder}}
    )
    rotating = dataclasses.replace(ctx, config=config)
    lead_id = posted_lead(rotating)
    first = lead(rotating, lead_id).suggested_owner
    assert first in ("UANA", "UBEN")

    clock.advance(minutes=120)
    [step] = sla_tick(rotating)

    assert step.action == SlaAction.REASSIGN
    assert lead(rotating, lead_id).suggested_owner == ({"UANA", "UBEN"} - {first}).pop()
    assert [(r.kind, r.payload.get("sla")) for r in outbox_rows(rotating) if r.kind != "card"] == [
        ("card_update", "reassign"),
        ("thread", "reassign"),
    ]


def test_sla_steps_are_queued_as_data_and_worded_by_blocks(managed: Context, clock: Clock) -> None:
    posted_lead(managed)
    clock.advance(minutes=45)
    sla_tick(managed)
    payloads = [r.payload for r in outbox_rows(managed) if r.kind != "card"]
    assert all("text" not in p for p in payloads)
    assert sla_line(payloads[0], lead="*Acme*") == (
        "No one has claimed this Priority lead after 15 minutes. Can someone take it?"
    )
    assert sla_line(payloads[1], lead="*Acme*") == (
        "*Acme*, a Priority lead, has been unclaimed for 45 minutes. Can you find it an owner?"
    )
    assert sla_line({"sla": "reassign", "after_minutes": 120, "suggested_owner": "USAM"}, lead="") == (
        "Unclaimed after 2 hours. <@USAM> is now suggested."
    )


# -- the ladder restarts when a lead is back in the queue (issue 11, bug 2) -------------------


def claim_and_release(ctx: Context, clock: Clock, lead_id: int, *, held_minutes: float) -> None:
    from leadqual.services import triage

    triage.claim(ctx, lead_id=lead_id, user_id="UREP")
    clock.advance(minutes=held_minutes)
    triage.release(ctx, lead_id=lead_id, user_id="UREP")


def test_a_released_lead_climbs_its_ladder_again_from_the_first_step_timed_from_the_release(
    managed: Context, clock: Clock
) -> None:
    lead_id = posted_lead(managed)
    clock.advance(minutes=15)
    [first] = sla_tick(managed)
    assert first.action == SlaAction.REMIND

    claim_and_release(managed, clock, lead_id, held_minutes=30)  # released 45 minutes after the card
    assert lead(managed, lead_id).sla_step == 0
    assert sla_tick(managed) == []  # not escalated at once: the ladder starts again

    clock.advance(minutes=14, seconds=59)
    assert sla_tick(managed) == []
    clock.advance(seconds=1)
    [again] = sla_tick(managed)
    assert (again.index, again.action) == (0, SlaAction.REMIND)
    clock.advance(minutes=30)
    assert [t.action for t in sla_tick(managed)] == [SlaAction.ESCALATE]
    reminders = [r.payload["sla"] for r in outbox_rows(managed) if r.kind == "thread" and "sla" in r.payload]
    assert reminders == ["remind", "remind"]


def test_a_lead_released_after_the_ladder_finished_gets_its_reminders_again(managed: Context, clock: Clock) -> None:
    lead_id = posted_lead(managed)
    clock.advance(minutes=50)
    assert len(sla_tick(managed)) == 2  # remind and escalate: the ladder is done
    claim_and_release(managed, clock, lead_id, held_minutes=60)

    clock.advance(minutes=15)

    [again] = sla_tick(managed)
    assert (again.lead_id, again.index, again.action) == (lead_id, 0, SlaAction.REMIND)


def test_a_decision_reopened_to_an_unclaimed_lead_restarts_its_ladder(managed: Context, clock: Clock) -> None:
    from leadqual.services import triage

    lead_id = posted_lead(managed)
    clock.advance(minutes=50)
    assert len(sla_tick(managed)) == 2
    # Decided with nobody holding it (say, in the CRM before the claim was recorded).
    with managed.transaction() as session:
        session.execute(
            update(LeadRow).where(LeadRow.id == lead_id).values(status="nurture", outcome="nurture", owner_id=None)
        )
    clock.advance(minutes=60)
    triage.reopen(managed, lead_id=lead_id, user_id="UMANAGER")
    assert (lead(managed, lead_id).status, lead(managed, lead_id).sla_step) == ("new", 0)

    clock.advance(minutes=14)
    assert sla_tick(managed) == []
    clock.advance(minutes=1)
    assert [t.action for t in sla_tick(managed)] == [SlaAction.REMIND]
