"""The rotation through services.assignment, on SQLite and PostgreSQL: weights, ties, away reps, turns kept.

These scenarios route by the per-group map (`routes: {priority: ...}`, credit kept under the
route label "priority"); the first-match list, hours, capacity and account owners are in
test_routing_service.py, the pure pick in test_routing.py.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter

from sqlalchemy import select

from leadqual.config import Rep, Route
from leadqual.db.models import Event, RouteCredit
from leadqual.groups import Group
from leadqual.routing.routes import route_table
from leadqual.services import availability
from leadqual.services.assignment import Assigner
from leadqual.services.context import Context
from tests.outbox_helpers import ingest_leads, lead

TWO_TO_ONE = [Rep(user="UANA", weight=2), Rep(user="UBEN", weight=1)]


def rotating(ctx: Context, reps: list[Rep] = TWO_TO_ONE, *, rotation: bool = True) -> Context:
    """`ctx` with the Priority group routed to one channel, rotating over `reps`."""
    route = Route(channel="C0LEADS", rotation=rotation, reps=reps)
    config = ctx.config.model_copy(update={"routes": {**ctx.config.routes, Group.PRIORITY: route}})
    return dataclasses.replace(ctx, config=config)


def suggest(ctx: Context, count: int = 1) -> list[str | None]:
    """`count` turns of the Priority route's rotation in one transaction, as intake takes them."""
    plan = route_table(ctx.config).match(Group.PRIORITY)
    assert plan is not None
    with ctx.transaction() as session:
        assigner = Assigner(session, ctx.config, ctx.now())
        got = [assigner.suggest(plan, lead_id=0) for _ in range(count)]
        assigner.write_events()
    return got


def suggested(ctx: Context, n: int) -> list[str | None]:
    """The suggested owners of `n` Priority leads ingested one request at a time."""
    return [lead(ctx, i).suggested_owner for _ in range(n) for i in ingest_leads(ctx, 1)]


def test_two_to_one_weights_give_two_to_one_turns_spread_out(ctx: Context) -> None:
    ctx = rotating(ctx)
    assert suggest(ctx, 3) == ["UANA", "UBEN", "UANA"]
    assert Counter(suggest(ctx, 300)) == {"UANA": 200, "UBEN": 100}


def test_equal_weights_alternate_and_a_tie_goes_to_the_rep_listed_first(ctx: Context) -> None:
    ctx = rotating(ctx, [Rep(user="UY"), Rep(user="UX")])
    assert suggest(ctx, 4) == ["UY", "UX", "UY", "UX"]


def test_the_rotation_carries_on_across_transactions_with_its_credit_stored_per_route(ctx: Context) -> None:
    ctx = rotating(ctx)
    assert [turn for _ in range(6) for turn in suggest(ctx)] == ["UANA", "UBEN", "UANA"] * 2
    assert suggest(ctx) == ["UANA"]  # one more: UANA is owed her second turn of the cycle
    with ctx.session_factory() as session:
        credit = {(c.route, c.user_id): c.credit for c in session.scalars(select(RouteCredit))}
    assert credit == {("priority", "UANA"): -1, ("priority", "UBEN"): 1}


def test_a_route_without_rotation_suggests_nobody(ctx: Context) -> None:
    assert suggested(rotating(ctx, rotation=False), 2) == [None, None]


def test_intake_names_the_suggested_owner_on_each_card_and_a_batch_continues_the_same_rotation(
    ctx: Context,
) -> None:
    ctx = rotating(ctx)
    assert suggested(ctx, 1) == ["UANA"]
    batch = ingest_leads(ctx, 5)  # one request, one transaction
    assert [lead(ctx, i).suggested_owner for i in batch] == ["UBEN", "UANA", "UANA", "UBEN", "UANA"]
    assert suggested(ctx, 1) == ["UANA"]  # 6 turns so far (4 UANA, 2 UBEN): the cycle starts over


def test_a_rep_away_until_back_is_skipped_and_comes_back_to_a_level_share(ctx: Context) -> None:
    ctx = rotating(ctx)
    assert availability.mark_away(ctx, actor="UANA", rep="UANA", until=None)
    assert not availability.mark_away(ctx, actor="UANA", rep="UANA", until=None)  # already away: nothing changes
    assert [a.user_id for a in availability.away_now(ctx)] == ["UANA"]
    assert suggested(ctx, 3) == ["UBEN"] * 3

    assert availability.mark_back(ctx, actor="UANA", rep="UANA")
    assert Counter(suggested(ctx, 30)) == {"UANA": 20, "UBEN": 10}
    with ctx.session_factory() as session:
        kinds = session.scalars(select(Event.kind).where(Event.kind.in_(["rep_away", "rep_back"])).order_by(Event.id))
        assert kinds.all() == ["rep_away", "rep_back"]


def test_with_everyone_away_nobody_is_suggested_and_the_card_is_still_posted(ctx: Context) -> None:
    ctx = rotating(ctx)
    for rep in ("UANA", "UBEN"):
        availability.mark_away(ctx, actor="UMANAGER", rep=rep, until=None)
    [lead_id] = ingest_leads(ctx, 1)
    assert lead(ctx, lead_id).suggested_owner is None
    with ctx.session_factory() as session:
        skipped = session.scalars(select(Event).where(Event.kind == "rotation_skip", Event.lead_id == lead_id))
        assert [(e.data["user"], e.data["reason"]) for e in skipped] == [("UANA", "away"), ("UBEN", "away")]


def test_concurrent_transactions_take_turns_instead_of_giving_the_same_rep_twice(ctx: Context) -> None:
    ctx = rotating(ctx)
    got: list[str | None] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def one() -> None:
        try:
            barrier.wait()
            got.extend(suggest(ctx))
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert Counter(got) == {"UANA": 4, "UBEN": 2}  # six turns, each given once: the 2:1 cycle twice
