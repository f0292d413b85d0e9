"""Triage services on SQLite and PostgreSQL: claims are atomic, decisions are authorised and logged once."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from leadqual import calendar
from leadqual.db.models import Claim, Decision, Event, LeadRow, OutboxMessage
from leadqual.decisions import DecisionInput, Problem, Rating, check_decision
from leadqual.errors import AlreadyClaimed, AlreadyDecided, InvalidDecision, NotManager, NotOwner
from leadqual.groups import Group
from leadqual.lead import Outcome
from leadqual.services import cards, triage
from leadqual.services.context import Context
from leadqual.services.home import home_for
from tests.bot_helpers import add_lead
from tests.conftest import Clock

MANAGER = "UMANAGER"
CONFIRMED = {"fit": Rating.CONFIRMED, "intent": Rating.CONFIRMED, "authority": Rating.PARTIAL, "need": Rating.UNKNOWN}


def qualify(**kw: object) -> DecisionInput:
    values: dict = {"outcome": Outcome.QUALIFIED, "fian": CONFIRMED, "next_step": "Site visit", **kw}
    return DecisionInput(**values)


def disqualify(reason: str | None = "spec_mismatch") -> DecisionInput:
    return DecisionInput(outcome=Outcome.NOT_QUALIFIED, reason=reason, note="Wrong pump class")


def lead(ctx: Context, lead_id: int) -> LeadRow:
    with ctx.session_factory() as session:
        row = session.get(LeadRow, lead_id)
        assert row is not None
        return row


def rows(ctx: Context, model: type, **where: object) -> list:
    with ctx.session_factory() as session:
        return list(session.scalars(select(model).filter_by(**where).order_by(model.id)))


def triage_events(ctx: Context, lead_id: int) -> list[str]:
    """The kinds of the events triage wrote for a lead (intake writes its own)."""
    return [
        e.kind
        for e in rows(ctx, Event, lead_id=lead_id)
        if e.actor is not None
        and e.kind in (triage.CLAIMED, triage.RELEASED, triage.REASSIGNED, triage.DECIDED, triage.REOPENED)
    ]


def count(ctx: Context, model: type, **where: object) -> int:
    with ctx.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0


# ---------------------------------------------------------------------------
# Claim, release, reassign
# ---------------------------------------------------------------------------


def test_a_claim_makes_the_clicker_owner_and_queues_a_card_update_and_a_thread_line(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    applied = triage.claim(ctx, lead_id=lead_id, user_id="UDANA", key="k1")
    assert applied.changed and applied.card.owner_id == "UDANA" and applied.card.status == "claimed"
    row = lead(ctx, lead_id)
    assert row.first_claimed_at == ctx.now() and row.first_action_at == ctx.now() and row.version == 2
    assert triage_events(ctx, lead_id) == ["claimed"]
    queued = rows(ctx, OutboxMessage, lead_id=lead_id)
    assert [(m.kind, m.channel_id) for m in queued] == [
        ("card", "C0LEADS"),
        ("card_update", "C0LEADS"),
        ("thread", "C0LEADS"),
    ]
    assert queued[2].payload["event"] == "claimed" and queued[2].payload["actor"] == "UDANA"


def test_second_claim_is_refused_and_names_the_owner(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    triage.claim(ctx, lead_id=lead_id, user_id="UDANA")
    with pytest.raises(AlreadyClaimed) as info:
        triage.claim(ctx, lead_id=lead_id, user_id="USAM")
    assert info.value.owner_id == "UDANA"
    assert lead(ctx, lead_id).owner_id == "UDANA"
    assert count(ctx, Claim, lead_id=lead_id) == 1


def test_claiming_a_lead_you_already_own_changes_nothing(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    triage.claim(ctx, lead_id=lead_id, user_id="UDANA", key="a")
    again = triage.claim(ctx, lead_id=lead_id, user_id="UDANA", key="b")
    assert not again.changed
    assert lead(ctx, lead_id).version == 2
    assert count(ctx, OutboxMessage, kind="card_update") == 1


def test_twenty_simultaneous_claims_have_exactly_one_winner(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    users = [f"UREP{i:02d}" for i in range(20)]
    barrier = threading.Barrier(len(users))
    won: list[str] = []
    refused: list[str] = []

    def attempt(user: str) -> None:
        barrier.wait()
        try:
            triage.claim(ctx, lead_id=lead_id, user_id=user, key=f"claim:{user}")
            won.append(user)
        except AlreadyClaimed as exc:
            refused.append(exc.owner_id)

    threads = [threading.Thread(target=attempt, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(refused) == 19
    assert set(refused) == set(won)
    assert lead(ctx, lead_id).owner_id == won[0]
    assert count(ctx, Claim, lead_id=lead_id) == 1 and count(ctx, Event, kind="claimed") == 1


def test_a_repeated_key_is_not_applied_again_even_after_the_lead_changed(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    triage.claim(ctx, lead_id=lead_id, user_id="UDANA", key="claim:1")
    triage.release(ctx, lead_id=lead_id, user_id="UDANA", key="release:1")
    retried = triage.claim(ctx, lead_id=lead_id, user_id="UDANA", key="claim:1")
    assert not retried.changed and lead(ctx, lead_id).owner_id is None


def test_release_by_the_owner_returns_the_lead_to_the_queue(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    triage.claim(ctx, lead_id=lead_id, user_id="UDANA")
    applied = triage.release(ctx, lead_id=lead_id, user_id="UDANA")
    assert applied.changed and applied.card.owner_id is None and applied.card.status == "new"
    [claim] = rows(ctx, Claim, lead_id=lead_id)
    assert claim.released_at == ctx.now() and claim.released_by == "UDANA"
    assert triage.claim(ctx, lead_id=lead_id, user_id="USAM").card.owner_id == "USAM"


def test_release_by_someone_else_is_refused_and_changes_nothing(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    triage.claim(ctx, lead_id=lead_id, user_id="UDANA")
    with pytest.raises(NotOwner):
        triage.release(ctx, lead_id=lead_id, user_id="USAM")
    assert lead(ctx, lead_id).owner_id == "UDANA" and lead(ctx, lead_id).version == 2


def test_reassign_by_a_rep_is_refused_and_changes_nothing(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    triage.claim(ctx, lead_id=lead_id, user_id="UDANA")
    with pytest.raises(NotManager):
        triage.reassign(ctx, lead_id=lead_id, user_id="USAM", to_user="USAM")
    assert lead(ctx, lead_id).owner_id == "UDANA"
    assert count(ctx, Event, kind="reassigned") == 0


def test_a_manager_reassigns_a_claimed_lead_and_the_old_claim_is_closed(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    triage.claim(ctx, lead_id=lead_id, user_id="UDANA")
    applied = triage.reassign(ctx, lead_id=lead_id, user_id=MANAGER, to_user="USAM", key="r1")
    assert applied.changed and applied.card.owner_id == "USAM"
    claims = rows(ctx, Claim, lead_id=lead_id)
    assert [(c.user_id, c.how, c.released_by) for c in claims] == [
        ("UDANA", "claim", MANAGER),
        ("USAM", "reassign", None),
    ]
    [event] = rows(ctx, Event, kind="reassigned")
    assert event.data == {"from": "UDANA", "to": "USAM"} and event.actor == MANAGER


# ---------------------------------------------------------------------------
# Decisions
# ---------------------------------------------------------------------------


def test_deciding_an_unclaimed_lead_claims_it_for_the_decider_first(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    applied = triage.decide(ctx, lead_id=lead_id, user_id="UDANA", decision=qualify(), key="view:V1")
    assert applied.changed and applied.card.outcome is Outcome.QUALIFIED
    row = lead(ctx, lead_id)
    assert (row.owner_id, row.status, row.decided_by, row.decided_at) == ("UDANA", "qualified", "UDANA", ctx.now())
    assert triage_events(ctx, lead_id) == ["claimed", "decided"]
    [decision] = rows(ctx, Decision, lead_id=lead_id)
    assert decision.details["fian"] == {
        "fit": "confirmed",
        "intent": "confirmed",
        "authority": "partial",
        "need": "unknown",
    }
    assert decision.details["next_step"] == "Site visit"


def test_a_rep_who_does_not_own_the_lead_cannot_decide_and_nothing_changes(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    triage.claim(ctx, lead_id=lead_id, user_id="UDANA")
    with pytest.raises(NotOwner) as info:
        triage.decide(ctx, lead_id=lead_id, user_id="USAM", decision=disqualify())
    assert info.value.owner_id == "UDANA"
    assert lead(ctx, lead_id).outcome is None and count(ctx, Decision) == 0
    with pytest.raises(NotOwner):
        triage.begin_decision(ctx, lead_id=lead_id, user_id="USAM")


def test_a_manager_may_decide_on_a_lead_someone_else_owns(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    triage.claim(ctx, lead_id=lead_id, user_id="UDANA")
    applied = triage.decide(ctx, lead_id=lead_id, user_id=MANAGER, decision=disqualify())
    assert applied.card.outcome is Outcome.NOT_QUALIFIED and applied.card.owner_id == "UDANA"
    assert applied.card.reason == "spec_mismatch" and applied.card.reason_label == "Spec mismatch"


def test_the_same_submission_twice_is_stored_once(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    first = triage.decide(ctx, lead_id=lead_id, user_id="UDANA", decision=disqualify(), key="view:V9")
    again = triage.decide(ctx, lead_id=lead_id, user_id="UDANA", decision=disqualify(), key="view:V9")
    assert first.changed and not again.changed
    assert count(ctx, Decision) == 1 and count(ctx, OutboxMessage, kind="thread") == 2  # claim + decision


def test_a_decided_lead_cannot_be_decided_or_claimed_again_until_reopened(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    triage.decide(ctx, lead_id=lead_id, user_id="UDANA", decision=disqualify())
    with pytest.raises(AlreadyDecided):
        triage.decide(ctx, lead_id=lead_id, user_id="UDANA", decision=qualify())
    with pytest.raises(AlreadyDecided):
        triage.claim(ctx, lead_id=lead_id, user_id="USAM")


def test_reopening_supersedes_the_decision_and_only_the_final_one_counts(ctx: Context, clock: Clock) -> None:
    lead_id = add_lead(ctx)
    triage.decide(ctx, lead_id=lead_id, user_id="UDANA", decision=disqualify())
    clock.advance(minutes=5)
    with pytest.raises(NotOwner):
        triage.reopen(ctx, lead_id=lead_id, user_id="USAM")
    reopened = triage.reopen(ctx, lead_id=lead_id, user_id="UDANA", key="reopen:1")
    assert reopened.changed and reopened.card.outcome is None and reopened.card.status == "claimed"
    triage.decide(ctx, lead_id=lead_id, user_id="UDANA", decision=qualify())
    decisions = rows(ctx, Decision, lead_id=lead_id)
    assert [(d.outcome, d.superseded_at) for d in decisions] == [("not_qualified", clock.now), ("qualified", None)]
    row = lead(ctx, lead_id)
    assert (row.outcome, row.reason) == ("qualified", None)
    week = home_for(ctx, user_id=MANAGER).week
    assert week is not None and week.decided[Outcome.QUALIFIED] == 1 and week.decided[Outcome.NOT_QUALIFIED] == 0


def test_nurture_stores_the_follow_up_as_a_local_date(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    follow = ctx.today() + timedelta(days=30)
    applied = triage.decide(
        ctx, lead_id=lead_id, user_id="UDANA", decision=DecisionInput(outcome=Outcome.NURTURE, follow_up_on=follow)
    )
    assert applied.card.follow_up_on == follow
    assert lead(ctx, lead_id).follow_up_on == calendar.local_midnight(follow, ctx.config.tz)


def test_an_invalid_decision_raises_with_field_errors_and_stores_nothing(ctx: Context) -> None:
    lead_id = add_lead(ctx)
    with pytest.raises(InvalidDecision) as info:
        triage.decide(ctx, lead_id=lead_id, user_id="UDANA", decision=disqualify(reason="made_up"))
    assert set(info.value.errors) == {"reason"}
    assert lead(ctx, lead_id).owner_id is None and count(ctx, Event, kind="claimed") == 0


def test_a_lead_without_a_card_gets_no_slack_messages_queued(ctx: Context) -> None:
    lead_id = add_lead(ctx, company={"name": "Someone"}, signals=[], need={}, contact={"email": "kid@gmail.com"})
    card = cards.read_card(ctx, lead_id=lead_id)
    assert card.group is Group.POOR_FIT
    triage.claim(ctx, lead_id=lead_id, user_id="UDANA")
    assert count(ctx, OutboxMessage) == 0 and count(ctx, Event, kind="claimed") == 1


def test_the_card_read_model_names_the_segment_and_the_strongest_reasons(ctx: Context) -> None:
    card = cards.read_card(ctx, lead_id=add_lead(ctx))
    assert card.company == "Acme Metals" and card.contact_title == "Maintenance Manager"
    assert card.segment == "equipment_replacement" and card.segment_label == "Equipment replacement"
    assert len(card.reasons) == 3
    assert [abs(r.points) for r in card.reasons] == sorted((abs(r.points) for r in card.reasons), reverse=True)


# ---------------------------------------------------------------------------
# Decision rules (pure)
# ---------------------------------------------------------------------------

TODAY = date(2026, 11, 23)


def check(ctx: Context, decision: DecisionInput) -> dict[str, Problem]:
    return check_decision(decision, config=ctx.config, today=TODAY, motions={"equipment_replacement"})


def test_qualifying_needs_confirmed_fit_and_intent_every_rating_and_a_next_step(ctx: Context) -> None:
    partial = {**CONFIRMED, "fit": Rating.PARTIAL, "need": None}
    errors = check(ctx, qualify(fian=partial, next_step=" ", motion="made_up"))
    assert set(errors) == {"fit", "need", "next_step", "motion"}
    assert errors["fit"] is Problem.NOT_CONFIRMED
    assert check(ctx, qualify(next_step_on=TODAY - timedelta(days=1))) == {"next_step_on": Problem.IN_PAST}
    assert check(ctx, qualify(motion="equipment_replacement", next_step_on=TODAY)) == {}


def test_nurture_needs_a_follow_up_date_after_today(ctx: Context) -> None:
    assert "follow_up_on" in check(ctx, DecisionInput(outcome=Outcome.NURTURE))
    assert "follow_up_on" in check(ctx, DecisionInput(outcome=Outcome.NURTURE, follow_up_on=TODAY))
    assert check(ctx, DecisionInput(outcome=Outcome.NURTURE, follow_up_on=TODAY + timedelta(days=1))) == {}


def test_disqualifying_needs_a_configured_reason(ctx: Context) -> None:
    assert check(ctx, disqualify(reason=None)) == {"reason": Problem.REQUIRED}
    assert "reason" in check(ctx, disqualify(reason="bogus"))
    assert check(ctx, disqualify(reason="no_budget")) == {}


def test_needs_info_needs_a_detail_and_other_needs_a_note(ctx: Context) -> None:
    assert set(check(ctx, DecisionInput(outcome=Outcome.NEEDS_INFO))) == {"missing"}
    assert set(check(ctx, DecisionInput(outcome=Outcome.NEEDS_INFO, missing=("other",)))) == {"note"}
    assert check(ctx, DecisionInput(outcome=Outcome.NEEDS_INFO, missing=("specs", "site"))) == {}


# ---------------------------------------------------------------------------
# App Home data
# ---------------------------------------------------------------------------


def test_home_lists_a_reps_open_claims_and_follow_ups_due_within_a_week(ctx: Context) -> None:
    mine, decided, later, theirs = (add_lead(ctx) for _ in range(4))
    triage.claim(ctx, lead_id=mine, user_id="UDANA")
    triage.claim(ctx, lead_id=theirs, user_id="USAM")
    soon = ctx.today() + timedelta(days=2)
    triage.decide(
        ctx, lead_id=decided, user_id="UDANA", decision=DecisionInput(outcome=Outcome.NURTURE, follow_up_on=soon)
    )
    triage.decide(
        ctx,
        lead_id=later,
        user_id="UDANA",
        decision=DecisionInput(outcome=Outcome.NURTURE, follow_up_on=soon + timedelta(days=60)),
    )
    home = home_for(ctx, user_id="UDANA")
    assert [c.id for c in home.open_claims] == [mine] and home.open_total == 1
    assert [c.id for c in home.follow_ups] == [decided]
    assert home.week is None


def test_a_managers_home_counts_this_weeks_leads_claims_and_decisions(ctx: Context, clock: Clock) -> None:
    first, second, _third = (add_lead(ctx) for _ in range(3))
    clock.advance(minutes=10)
    triage.claim(ctx, lead_id=first, user_id="UDANA")
    clock.advance(minutes=20)
    triage.decide(ctx, lead_id=second, user_id="USAM", decision=disqualify())
    week = home_for(ctx, user_id=MANAGER).week
    assert week is not None
    assert week.received[Group.PRIORITY] == 3 and week.total == 3
    assert week.claimed == 2 and week.decided[Outcome.NOT_QUALIFIED] == 1
    assert week.median_minutes_to_claim == 20  # 10 and 30 minutes after arrival
