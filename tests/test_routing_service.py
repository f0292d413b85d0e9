"""Routing through intake and the SLA ladder, on SQLite and PostgreSQL: channels, owners, skips, turns."""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from leadqual.config import AppConfig, RoutingSettings, SlaAction, SlaStep, load_config
from leadqual.db.models import Event, RepStatus, RouteCredit
from leadqual.groups import Group
from leadqual.lead import Outcome
from leadqual.services import delivery, triage
from leadqual.services.assignment import SKIP_EVENT, account_history, set_away_until
from leadqual.services.context import Context
from leadqual.services.intake import ingest, validate_leads
from leadqual.services.sla import sla_tick
from tests.conftest import Clock
from tests.outbox_helpers import lead, lead_records, outbox_rows

ROTATION = """\
timezone: America/Chicago
routes:
  - when: {field: company.country, in: [CA]}
    groups: [priority, qualified_review]
    channel: C0CANADA
    rotation: true
    reps: [{user: UANA, weight: 2}, {user: UBEN}]
    hours: "mon-fri 08:00-17:00"
    max_open_claims: 1
  - {when: {field: company.industry, eq: chemicals}, groups: [priority], channel: C0CHEM}
  - {groups: [priority], channel: C0US, rotation: true, reps: [{user: UANA, weight: 2}, {user: UBEN}]}
"""


def with_config(ctx: Context, tmp_path: Path, text: str, **update: Any) -> Context:
    path = tmp_path / "leadbot.yaml"
    path.write_text(text)
    config: AppConfig = load_config(path).with_overrides(channel="C0LEADS", managers=["UMANAGER"])
    return dataclasses.replace(ctx, config=config.model_copy(update=update))


def records(n: int, **company: Any) -> list[dict[str, Any]]:
    return [{**r, "company": {**r["company"], **company}} for r in lead_records(n)]


def intake(ctx: Context, n: int = 1, **company: Any) -> list[int]:
    return [r.id for r in ingest(ctx, validate_leads(records(n, **company)))]


def card_channel(ctx: Context, lead_id: int) -> str | None:
    [card] = [r for r in outbox_rows(ctx, kind="card") if r.lead_id == lead_id]
    return card.channel_id


def skips(ctx: Context) -> list[tuple[int | None, dict[str, Any]]]:
    with ctx.session_factory() as session:
        return [
            (e.lead_id, e.data)
            for e in session.scalars(select(Event).where(Event.kind == SKIP_EVENT).order_by(Event.id))
        ]


def test_territory_routes_send_leads_to_their_channels(ctx: Context, tmp_path: Path) -> None:
    routed = with_config(ctx, tmp_path, ROTATION, routing=RoutingSettings(account_days=0))
    [canada] = intake(routed, country="CA", domain="maple.ca")
    [chem] = intake(routed, industry="chemicals", domain="chem.com")
    [us] = intake(routed, domain="us.com")
    assert [card_channel(routed, i) for i in (canada, chem, us)] == ["C0CANADA", "C0CHEM", "C0US"]
    assert lead(routed, chem).suggested_owner is None  # that route does not rotate
    # Credit is per route: UANA's turn on the Canada route does not use up her turn on the US one.
    assert [lead(routed, i).suggested_owner for i in (canada, us)] == ["UANA", "UANA"]


def test_the_per_group_map_still_routes_by_group(ctx: Context, tmp_path: Path) -> None:
    routed = with_config(ctx, tmp_path, "routes:\n  priority: {channel: C0HOT}\n")
    [hot] = intake(routed)
    assert card_channel(routed, hot) == "C0HOT"


def test_account_owner_first_beats_the_rotation_and_the_history_shows_earlier_leads(
    ctx: Context, tmp_path: Path, clock: Clock
) -> None:
    routed = with_config(ctx, tmp_path, ROTATION)
    [first] = intake(routed, domain="acmemetals.com")
    assert lead(routed, first).suggested_owner == "UANA"
    triage.claim(routed, lead_id=first, user_id="UCARL")  # not in the rotation: still the account's owner
    triage.decide(
        routed,
        lead_id=first,
        user_id="UCARL",
        decision=triage.DecisionInput(outcome=Outcome.NOT_QUALIFIED, reason="timing"),
    )
    clock.advance(days=30)

    [second] = intake(routed, domain="acmemetals.com")
    [other] = intake(routed, domain="elsewhere.com")

    assert lead(routed, second).suggested_owner == "UCARL"
    assert lead(routed, other).suggested_owner == "UBEN"  # the rotation was not advanced by the owner's lead
    history = account_history(routed, "acmemetals.com", before_lead=second)
    assert [(h.lead_id, h.who, h.outcome, h.reason) for h in history.leads] == [
        (first, "UCARL", "not_qualified", "timing")
    ]
    assert history.owner(now=clock.now, days=180) == "UCARL"


def test_an_owner_outside_the_account_window_is_not_suggested(ctx: Context, tmp_path: Path, clock: Clock) -> None:
    routed = with_config(ctx, tmp_path, ROTATION, routing=RoutingSettings(account_days=20))
    [first] = intake(routed, domain="acmemetals.com")
    triage.claim(routed, lead_id=first, user_id="UCARL")
    clock.advance(days=21)
    [second] = intake(routed, domain="acmemetals.com")
    assert lead(routed, second).suggested_owner == "UBEN"


def test_an_away_account_owner_gives_way_to_the_rotation_and_the_skip_is_logged(ctx: Context, tmp_path: Path) -> None:
    routed = with_config(ctx, tmp_path, ROTATION)
    [first] = intake(routed, domain="acmemetals.com")
    triage.claim(routed, lead_id=first, user_id="UCARL")
    assert set_away_until(routed, "UCARL", date(2026, 11, 30), by="UMANAGER")
    [second] = intake(routed, domain="acmemetals.com")
    assert lead(routed, second).suggested_owner == "UBEN"
    assert skips(routed) == [(second, {"user": "UCARL", "reason": "away", "route": "#2", "account_owner": True})]


def test_a_rep_away_is_skipped_until_their_last_day_is_over(ctx: Context, tmp_path: Path, clock: Clock) -> None:
    routed = with_config(ctx, tmp_path, ROTATION, routing=RoutingSettings(account_days=0))
    set_away_until(routed, "UANA", date(2026, 11, 23))  # away today (Chicago)
    [a, b] = intake(routed, 2)
    assert [lead(routed, i).suggested_owner for i in (a, b)] == ["UBEN", "UBEN"]
    assert [(i, d["user"], d["reason"]) for i, d in skips(routed)] == [(a, "UANA", "away"), (b, "UANA", "away")]
    clock.now = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday: back
    [c] = intake(routed)
    assert lead(routed, c).suggested_owner == "UANA"
    with routed.session_factory() as session:
        assert session.get(RepStatus, "UANA").away_until == date(2026, 11, 23)  # type: ignore[union-attr]


def test_off_hours_suggests_nobody_and_logs_each_rep_skipped(ctx: Context, tmp_path: Path, clock: Clock) -> None:
    routed = with_config(ctx, tmp_path, ROTATION, routing=RoutingSettings(account_days=0))
    clock.now = datetime(2026, 11, 28, 16, 0, tzinfo=UTC)  # Saturday 10:00 in Chicago
    [lead_id] = intake(routed, country="CA")
    assert card_channel(routed, lead_id) == "C0CANADA"  # still posted, for anyone to claim
    assert lead(routed, lead_id).suggested_owner is None
    assert [(d["user"], d["reason"], d["route"]) for _, d in skips(routed)] == [
        ("UANA", "off_hours", "#0"),
        ("UBEN", "off_hours", "#0"),
    ]


def test_a_rep_at_capacity_is_skipped(ctx: Context, tmp_path: Path) -> None:
    routed = with_config(ctx, tmp_path, ROTATION, routing=RoutingSettings(account_days=0))
    [first, second] = intake(routed, 2, country="CA")
    assert [lead(routed, i).suggested_owner for i in (first, second)] == ["UANA", "UBEN"]
    triage.claim(routed, lead_id=first, user_id="UANA")  # max_open_claims: 1 on that route
    [third] = intake(routed, country="CA")  # UANA's turn (2:1), but she is full
    assert lead(routed, third).suggested_owner == "UBEN"
    assert [(i, d["user"], d["reason"]) for i, d in skips(routed)] == [(third, "UANA", "at_capacity")]


def test_the_sla_reassign_skips_reps_who_are_away(ctx: Context, tmp_path: Path, clock: Clock) -> None:
    text = (
        "routes:\n  - {groups: [priority], channel: C0LEADS, rotation: true,\n"
        "     reps: [{user: UANA}, {user: UBEN, weight: 3}, {user: UCAT}]}\n"
    )
    routed = with_config(
        ctx,
        tmp_path,
        text,
        routing=RoutingSettings(account_days=0),
        sla={Group.PRIORITY: [SlaStep(after_minutes=60, action=SlaAction.REASSIGN)]},
    )
    set_away_until(routed, "UBEN", None)  # away until back
    [lead_id] = intake(routed)
    [card] = delivery.lease_due(routed, limit=1, worker_id="test")
    delivery.mark_sent(routed, card.id, "1795600000.000100", channel_id="C0LEADS")
    assert lead(routed, lead_id).suggested_owner == "UANA"
    clock.advance(minutes=60)
    [step] = sla_tick(routed)
    assert step.action == SlaAction.REASSIGN
    assert lead(routed, lead_id).suggested_owner == "UCAT"
    # UBEN, the heaviest, had the turn both times: once at intake, once at the reassign.
    assert [(i, d["user"], d["reason"]) for i, d in skips(routed)] == [(lead_id, "UBEN", "away")] * 2


def test_with_working_hours_the_sla_clock_stops_outside_the_routes_hours(
    ctx: Context, tmp_path: Path, clock: Clock
) -> None:
    text = (
        'timezone: America/Chicago\nroutes:\n  - {groups: [priority], channel: C0LEADS, hours: "mon-fri 08:00-17:00"}\n'
    )
    routed = with_config(
        ctx,
        tmp_path,
        text,
        sla_working_hours=True,
        sla={Group.PRIORITY: [SlaStep(after_minutes=60, action=SlaAction.REMIND)]},
    )
    clock.now = datetime(2026, 11, 27, 22, 30, tzinfo=UTC)  # Friday 16:30 in Chicago
    [lead_id] = intake(routed)
    [card] = delivery.lease_due(routed, limit=1, worker_id="test")
    delivery.mark_sent(routed, card.id, "1795600000.000100", channel_id="C0LEADS")
    clock.now = datetime(2026, 11, 30, 14, 15, tzinfo=UTC)  # Monday 08:15: 45 working minutes
    assert sla_tick(routed) == []
    clock.now = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)  # 08:30: the hour is up
    assert [t.lead_id for t in sla_tick(routed)] == [lead_id]


def test_concurrent_intakes_never_give_two_leads_the_same_turn(ctx: Context, tmp_path: Path) -> None:
    routed = with_config(ctx, tmp_path, ROTATION, routing=RoutingSettings(account_days=0))
    barrier = threading.Barrier(6)
    got: list[str | None] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            barrier.wait()
            [lead_id] = intake(routed)
            got.append(lead(routed, lead_id).suggested_owner)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert Counter(got) == {"UANA": 4, "UBEN": 2}  # six turns, each given once: the 2:1 cycle twice
    with routed.session_factory() as session:
        credit = {(c.route, c.user_id): c.credit for c in session.scalars(select(RouteCredit))}
    assert credit == {("#2", "UANA"): 0, ("#2", "UBEN"): 0}


def test_history_decided_by_someone_who_is_no_slack_user_never_becomes_the_account_owner(
    ctx: Context, tmp_path: Path, clock: Clock
) -> None:
    # Found by the intake fuzz test: a CRM export naming its decider "x" made the next lead of
    # that domain a 500, because "x" was suggested as the account's owner.
    routed = with_config(ctx, tmp_path, ROTATION)
    [past] = records(1, domain="acmemetals.com")
    decided = {"status": "not_qualified", "reason": "timing", "decided_at": clock.now.isoformat(), "decided_by": "x"}
    ingest(routed, validate_leads([{**past, "external_id": "crm-history-1", "outcome": decided}]))
    clock.advance(days=1)

    [new] = intake(routed, domain="acmemetals.com")

    assert lead(routed, new).suggested_owner == "UANA"  # the rotation's first rep, not "x"
