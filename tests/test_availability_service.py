"""Away and back through the service, on SQLite and PostgreSQL: who may, which dates, the audit, rotation credit."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from leadqual.config import AppConfig, RoutingSettings, load_config
from leadqual.db.models import Event, RepStatus, RouteCredit
from leadqual.errors import AwayDateInPast, NotYourAvailability
from leadqual.services import availability
from leadqual.services.context import Context
from leadqual.services.intake import ingest, validate_leads
from leadqual.statuses import RoutingEvent
from tests.conftest import Clock
from tests.outbox_helpers import lead, lead_records

TWO_ROUTES = """\
routes:
  - {when: {field: company.country, in: [CA]}, groups: [priority], channel: C0CA, rotation: true,
     reps: [{user: UANA}, {user: UBEN}]}
  - {groups: [priority], channel: C0US, rotation: true, reps: [{user: UANA}, {user: UBEN}]}
"""


def events(ctx: Context) -> list[tuple[str, str | None, dict[str, object]]]:
    kinds = (RoutingEvent.REP_AWAY, RoutingEvent.REP_BACK)
    with ctx.session_factory() as session:
        return [(e.kind, e.actor, e.data) for e in session.scalars(select(Event).where(Event.kind.in_(kinds)))]


def test_a_date_in_the_past_is_refused_and_nothing_changes(ctx: Context) -> None:
    with pytest.raises(AwayDateInPast):
        availability.mark_away(ctx, actor="UDANA", rep="UDANA", until=ctx.today() - timedelta(days=1))
    with ctx.session_factory() as session:
        assert session.get(RepStatus, "UDANA") is None
    assert events(ctx) == []


def test_a_rep_cannot_set_someone_else_away_or_back_but_a_manager_can(ctx: Context) -> None:
    with pytest.raises(NotYourAvailability):
        availability.mark_away(ctx, actor="UDANA", rep="UBEN", until=None)
    assert availability.mark_away(ctx, actor="UMANAGER", rep="UBEN", until=ctx.today()) is True
    with pytest.raises(NotYourAvailability):
        availability.mark_back(ctx, actor="UDANA", rep="UBEN")
    assert availability.mark_back(ctx, actor="UMANAGER", rep="UBEN") is True
    assert availability.mark_back(ctx, actor="UMANAGER", rep="UBEN") is False  # already back: no second event
    assert [(k, a) for k, a, _ in events(ctx)] == [
        (RoutingEvent.REP_AWAY, "UMANAGER"),
        (RoutingEvent.REP_BACK, "UMANAGER"),
    ]


def test_away_through_today_ends_when_the_day_does(ctx: Context, clock: Clock) -> None:
    availability.mark_away(ctx, actor="UDANA", rep="UDANA", until=ctx.today())
    assert availability.availability_of(ctx, "UDANA").away is True
    assert [a.user_id for a in availability.away_now(ctx)] == ["UDANA"]
    clock.advance(days=1)
    assert availability.availability_of(ctx, "UDANA").away is False
    assert availability.away_now(ctx) == []


def routed(ctx: Context, tmp_path: Path) -> Context:
    path = tmp_path / "leadbot.yaml"
    path.write_text(TWO_ROUTES)
    config: AppConfig = load_config(path).with_overrides(channel="C0LEADS", managers=["UMANAGER"])
    return dataclasses.replace(ctx, config=config.model_copy(update={"routing": RoutingSettings(account_days=0)}))


def intake(ctx: Context, **company: object) -> int:
    [record] = lead_records(1)
    [result] = ingest(ctx, validate_leads([{**record, "company": {**record["company"], **company}}]))
    return result.id


def test_a_rep_in_two_routes_takes_turns_in_each_apart(ctx: Context, tmp_path: Path) -> None:
    ctx = routed(ctx, tmp_path)
    turns = [lead(ctx, intake(ctx, country=c)).suggested_owner for c in ("CA", "US", "CA", "US", "US")]
    assert turns == ["UANA", "UANA", "UBEN", "UBEN", "UANA"]
    with ctx.session_factory() as session:
        credit = {(c.route, c.user_id): c.credit for c in session.scalars(select(RouteCredit))}
    assert set(credit) == {("#0", "UANA"), ("#0", "UBEN"), ("#1", "UANA"), ("#1", "UBEN")}


def test_away_skips_the_rep_in_every_route_and_coming_back_starts_level(ctx: Context, tmp_path: Path) -> None:
    ctx = routed(ctx, tmp_path)
    availability.mark_away(ctx, actor="UANA", rep="UANA", until=None)
    assert [lead(ctx, intake(ctx, country=c)).suggested_owner for c in ("CA", "US", "US")] == ["UBEN"] * 3
    availability.mark_back(ctx, actor="UANA", rep="UANA")
    with ctx.session_factory() as session:
        assert session.scalars(select(RouteCredit).where(RouteCredit.user_id == "UANA")).all() == []
    assert lead(ctx, intake(ctx, country="US")).suggested_owner == "UANA"
