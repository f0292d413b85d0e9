"""Needs info comes back, questions for unknowns and artefacts, through the services on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from bot.worker.jobs import needs_info_job
from leadqual.db.models import Decision, Event, LeadRow, OutboxMessage
from leadqual.decisions import DecisionInput, Rating
from leadqual.errors import InvalidDecision, NotOwner, NotWaitingForInfo
from leadqual.lead import Outcome
from leadqual.services import needs_info, triage
from leadqual.services.cards import read_card
from leadqual.services.context import Context, utcnow
from leadqual.statuses import LeadEvent
from tests.bot_helpers import add_lead
from tests.conftest import Clock
from tests.feedback_helpers import import_history

MANAGER = "UMANAGER"
ALL_CONFIRMED = {c: Rating.CONFIRMED for c in ("fit", "intent", "authority", "need")}


def needs(missing: tuple[str, ...] = ("specs", "timeline"), **fian: Rating) -> DecisionInput:
    return DecisionInput(outcome=Outcome.NEEDS_INFO, missing=missing, fian=fian)


def waiting_lead(ctx: Context, owner: str = "UDANA", **kw: object) -> int:
    lead_id = add_lead(ctx)
    triage.claim(ctx, lead_id=lead_id, user_id=owner)
    triage.decide(ctx, lead_id=lead_id, user_id=owner, decision=needs(**kw))  # type: ignore[arg-type]
    return lead_id


def lead(ctx: Context, lead_id: int) -> LeadRow:
    with ctx.session_factory() as session:
        row = session.get(LeadRow, lead_id)
        assert row is not None
        return row


def outbox_rows(ctx: Context, lead_id: int, kind: str) -> list[OutboxMessage]:
    with ctx.session_factory() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.lead_id == lead_id, OutboxMessage.kind == kind)
                .order_by(OutboxMessage.id)
            )
        )


def events(ctx: Context, lead_id: int, kind: str) -> list[Event]:
    with ctx.session_factory() as session:
        return list(session.scalars(select(Event).where(Event.lead_id == lead_id, Event.kind == kind)))


def snapshot(ctx: Context, lead_id: int) -> tuple[object, ...]:
    row = lead(ctx, lead_id)
    with ctx.session_factory() as session:
        changes = len(list(session.scalars(select(Event.id).where(Event.lead_id == lead_id))))
        queued = len(list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.lead_id == lead_id))))
    return row.outcome, row.owner_id, row.version, changes, queued


# --- Info received ------------------------------------------------------------------------------


def test_info_received_puts_the_lead_back_to_its_owner_claimed_and_undecided(ctx: Context) -> None:
    lead_id = waiting_lead(ctx)
    applied = needs_info.info_received(ctx, lead_id=lead_id, user_id="UDANA", arrived=("specs",), key="view:V1")
    row = lead(ctx, lead_id)
    assert applied.changed and (row.outcome, row.status, row.owner_id, row.decided_by) == (
        None,
        "claimed",
        "UDANA",
        None,
    )
    assert applied.card.outcome is None and applied.card.owner_id == "UDANA" and applied.card.missing == ()
    with ctx.session_factory() as session:
        [decision] = session.scalars(select(Decision).where(Decision.lead_id == lead_id))
        assert decision.outcome == "needs_info" and decision.superseded_at is not None  # kept, superseded
    [event] = events(ctx, lead_id, LeadEvent.INFO_RECEIVED)
    assert event.actor == "UDANA" and event.data["arrived"] == ["specs"] and event.data["still_missing"] == ["timeline"]
    line = outbox_rows(ctx, lead_id, "thread")[-1].payload
    assert line["event"] == "info_received" and line["arrived"] == ["specs"] and line["owner"] == "UDANA"
    assert outbox_rows(ctx, lead_id, "card_update")[-1].payload["version"] == row.version


def test_a_manager_may_mark_info_received_and_a_retry_changes_nothing(ctx: Context) -> None:
    lead_id = waiting_lead(ctx)
    first = needs_info.info_received(ctx, lead_id=lead_id, user_id=MANAGER, arrived=("timeline",), key="view:V2")
    again = needs_info.info_received(ctx, lead_id=lead_id, user_id=MANAGER, arrived=("timeline",), key="view:V2")
    assert first.changed and not again.changed
    assert lead(ctx, lead_id).owner_id == "UDANA"  # back to its owner, not to the manager
    assert len(events(ctx, lead_id, LeadEvent.INFO_RECEIVED)) == 1


def test_info_received_from_a_rep_who_is_neither_owner_nor_manager_is_refused_and_changes_nothing(
    ctx: Context,
) -> None:
    lead_id = waiting_lead(ctx)
    before = snapshot(ctx, lead_id)
    with pytest.raises(NotOwner) as refused:
        needs_info.info_received(ctx, lead_id=lead_id, user_id="USAM", arrived=("specs",))
    assert refused.value.owner_id == "UDANA"
    assert snapshot(ctx, lead_id) == before


def test_info_received_on_a_lead_no_longer_waiting_is_refused_and_changes_nothing(ctx: Context) -> None:
    lead_id = waiting_lead(ctx)
    needs_info.info_received(ctx, lead_id=lead_id, user_id="UDANA", arrived=("specs",))
    before = snapshot(ctx, lead_id)
    with pytest.raises(NotWaitingForInfo) as refused:
        needs_info.info_received(ctx, lead_id=lead_id, user_id="UDANA", arrived=("specs",), key="view:late")
    assert refused.value.state == "claimed"
    assert snapshot(ctx, lead_id) == before
    with pytest.raises(NotWaitingForInfo):
        needs_info.begin_info_received(ctx, lead_id=lead_id, user_id="UDANA")


def test_info_received_with_nothing_ticked_is_refused(ctx: Context) -> None:
    lead_id = waiting_lead(ctx)
    with pytest.raises(InvalidDecision) as refused:
        needs_info.info_received(ctx, lead_id=lead_id, user_id="UDANA", arrived=())
    assert set(refused.value.errors) == {"arrived"}
    assert lead(ctx, lead_id).outcome == "needs_info"


def test_the_card_of_a_waiting_lead_lists_what_is_missing(ctx: Context) -> None:
    lead_id = waiting_lead(ctx, missing=("site", "stakeholders"))
    assert read_card(ctx, lead_id=lead_id).missing == ("site", "stakeholders")


# --- The reminder ------------------------------------------------------------------------------


def test_the_needs_info_reminder_goes_out_after_the_configured_days_and_only_once(ctx: Context) -> None:
    config = ctx.config.model_copy(
        update={"follow_ups": ctx.config.follow_ups.model_copy(update={"needs_info_days": 5})}
    )
    wall = dataclasses.replace(ctx, config=config, clock=utcnow)  # the job reads the (frozen) wall clock
    with freeze_time("2026-11-02 15:00:00") as frozen:
        lead_id = waiting_lead(wall, missing=("specs",))
        other = waiting_lead(wall, owner="USAM")
        needs_info.info_received(wall, lead_id=other, user_id="USAM", arrived=("specs",))  # came back: no reminder
        frozen.tick(timedelta(days=4, hours=23))
        needs_info_job(wall)
        assert outbox_rows(wall, lead_id, "dm") == []
        frozen.tick(timedelta(hours=1))  # five days after the decision
        needs_info_job(wall)
        needs_info_job(wall)  # a second worker, or the next morning's run
        frozen.tick(timedelta(days=1))
        needs_info_job(wall)
    [dm] = outbox_rows(wall, lead_id, "dm")
    assert dm.channel_id == "UDANA" and dm.payload["needs_info"] == "reminder" and dm.payload["missing"] == ["specs"]
    assert dm.payload["days"] == 5
    assert len(events(wall, lead_id, needs_info.REMINDER)) == 1
    assert outbox_rows(wall, other, "dm") == []


def test_a_new_waiting_period_gets_its_own_reminder(ctx: Context, clock: Clock) -> None:
    lead_id = waiting_lead(ctx)
    clock.advance(days=7)
    assert [r.lead_id for r in needs_info.needs_info_reminders(ctx)] == [lead_id]
    needs_info.info_received(ctx, lead_id=lead_id, user_id="UDANA", arrived=("specs",))
    triage.decide(ctx, lead_id=lead_id, user_id="UDANA", decision=needs())
    assert needs_info.needs_info_reminders(ctx) == []  # the new wait has just begun
    clock.advance(days=7)
    assert [r.lead_id for r in needs_info.needs_info_reminders(ctx)] == [lead_id]
    assert needs_info.needs_info_reminders(ctx) == []
    assert len(outbox_rows(ctx, lead_id, "dm")) == 2


# --- Questions for unknowns and artefacts ---------------------------------------------------------


def test_a_needs_info_decision_rating_a_criterion_unknown_queues_its_questions_in_the_thread(ctx: Context) -> None:
    lead_id = waiting_lead(ctx, authority=Rating.UNKNOWN, fit=Rating.CONFIRMED)
    [decided, questions] = outbox_rows(ctx, lead_id, "thread")[-2:]
    assert decided.payload["event"] == "decided" and decided.payload["fian"] == {
        "authority": "unknown",
        "fit": "confirmed",
    }
    [asked] = questions.payload["questions"]
    assert asked["criterion"] == "authority"
    assert asked["items"][0] == "Who will approve requirements, and who owns procurement?"


def test_a_qualify_decision_adds_the_buying_motions_questions_and_stores_the_artefacts(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    decision = DecisionInput(
        outcome=Outcome.QUALIFIED,
        fian={**ALL_CONFIRMED, "need": Rating.UNKNOWN},
        motion="equipment_replacement",
        next_step="Technical package review",
        artefacts=("drawings", "lead_time"),
    )
    triage.decide(ctx, lead_id=lead_id, user_id="UDANA", decision=decision)
    with ctx.session_factory() as session:
        [stored] = session.scalars(select(Decision).where(Decision.lead_id == lead_id))
    assert stored.details["artefacts"] == ["drawings", "lead_time"]
    questions = outbox_rows(ctx, lead_id, "thread")[-1].payload
    [need] = questions["questions"]
    assert need["criterion"] == "need" and questions["motion"] == "equipment_replacement"
    assert need["items"][-1].startswith("What is the outage or installation schedule")  # the motion's, added last
    card = read_card(ctx, lead_id=lead_id)
    assert card.artefacts == ("drawings", "lead_time") and card.next_step == "Technical package review"


def test_a_decision_with_nothing_unknown_posts_no_questions(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    decision = DecisionInput(outcome=Outcome.QUALIFIED, fian=ALL_CONFIRMED, next_step="Quote")
    triage.decide(ctx, lead_id=lead_id, user_id="UDANA", decision=decision)
    assert not any("questions" in r.payload for r in outbox_rows(ctx, lead_id, "thread"))


def test_an_artefact_the_list_lacks_is_refused(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    decision = DecisionInput(outcome=Outcome.QUALIFIED, fian=ALL_CONFIRMED, next_step="Quote", artefacts=("cake",))
    with pytest.raises(InvalidDecision) as refused:
        triage.decide(ctx, lead_id=lead_id, user_id="UDANA", decision=decision)
    assert set(refused.value.errors) == {"artefacts"}


def test_imported_history_waiting_for_info_reminds_nobody(ctx: Context) -> None:
    records = import_history(ctx, n=300, seed=5, end=ctx.now() - timedelta(days=30))
    assert any(r["outcome"]["status"] == "needs_info" for r in records)  # the history has waiting leads
    assert needs_info.needs_info_reminders(ctx, now=ctx.now()) == []
    with ctx.session_factory() as session:
        assert session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "dm")).all() == []
