"""Weighted round robin over a route's reps: the pure pick, then its state on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter

import pytest
from sqlalchemy import select

from leadqual.config import Rep, Route
from leadqual.db.models import Event
from leadqual.groups import Group
from leadqual.services.context import Context
from leadqual.services.rotation import away_reps, next_pick, set_away, suggest_owner, suggest_owners
from tests.outbox_helpers import ingest_leads, lead

REPS = [Rep(user="UANA", weight=2), Rep(user="UBEN", weight=1)]


def picks(n: int, *, away: frozenset[str] = frozenset(), reps: list[Rep] = REPS) -> list[str]:
    credit: dict[str, int] = {}
    out = []
    for _ in range(n):
        pick = next_pick(reps, credit, away=away)
        assert pick is not None
        out.append(pick.user)
        credit = pick.credit
    return out


def test_two_to_one_weights_give_two_to_one_picks_spread_out() -> None:
    assert picks(3) == ["UANA", "UBEN", "UANA"]
    assert Counter(picks(300)) == {"UANA": 200, "UBEN": 100}


def test_an_away_rep_is_skipped() -> None:
    assert set(picks(10, away=frozenset({"UANA"}))) == {"UBEN"}


def test_nobody_available_means_no_suggestion() -> None:
    assert next_pick(REPS, {}, away=frozenset({"UANA", "UBEN"})) is None


def test_equal_weights_alternate_starting_with_the_first_listed() -> None:
    assert picks(4, reps=[Rep(user="UX"), Rep(user="UY")]) == ["UX", "UY", "UX", "UY"]


# -- with the database ---------------------------------------------------------------------


@pytest.fixture
def rotating(ctx: Context) -> Context:
    route = Route(channel="C0LEADS", rotation=True, reps=REPS)
    config = ctx.config.model_copy(update={"routes": {**ctx.config.routes, Group.PRIORITY: route}})
    return dataclasses.replace(ctx, config=config)


def suggest(ctx: Context) -> str | None:
    with ctx.transaction() as session:
        return suggest_owner(session, ctx.config, Group.PRIORITY)


def test_the_rotation_carries_on_across_transactions(rotating: Context) -> None:
    assert [suggest(rotating) for _ in range(6)] == ["UANA", "UBEN", "UANA"] * 2


def test_a_route_without_rotation_suggests_nobody(ctx: Context) -> None:
    assert suggest(ctx) is None


def test_a_batch_of_suggestions_continues_the_same_rotation(rotating: Context) -> None:
    assert suggest(rotating) == "UANA"
    with rotating.transaction() as session:
        batch = suggest_owners(session, rotating.config, Group.PRIORITY, count=5)
    assert batch == ["UBEN", "UANA", "UANA", "UBEN", "UANA"]
    assert suggest(rotating) == "UANA"  # 6 picks so far (4 UANA, 2 UBEN): the cycle starts over


def test_reps_marked_away_are_skipped_until_they_are_back(rotating: Context) -> None:
    assert set_away(rotating, "UANA", True)
    assert not set_away(rotating, "UANA", True)  # already away: nothing changes
    assert away_reps(rotating) == ["UANA"]
    assert [suggest(rotating) for _ in range(3)] == ["UBEN"] * 3

    assert set_away(rotating, "UANA", False)
    assert Counter(suggest(rotating) for _ in range(30)) == {"UANA": 20, "UBEN": 10}
    with rotating.session_factory() as session:
        assert session.scalars(select(Event.kind).order_by(Event.id)).all()[-2:] == ["rep_away", "rep_back"]


def test_intake_names_the_suggested_owner_on_each_card(rotating: Context) -> None:
    ids = ingest_leads(rotating, 3)
    assert [lead(rotating, i).suggested_owner for i in ids] == ["UANA", "UBEN", "UANA"]


def test_concurrent_intakes_take_turns_instead_of_picking_the_same_rep(rotating: Context) -> None:
    got: list[str | None] = []
    barrier = threading.Barrier(6)

    def one() -> None:
        barrier.wait()
        got.append(suggest(rotating))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert Counter(got) == {"UANA": 4, "UBEN": 2}
