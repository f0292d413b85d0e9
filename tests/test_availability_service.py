"""Away and back through the service, on SQLite and PostgreSQL: who may, which dates, the audit, rotation credit."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from blocks.home_routing import routing_home_blocks
from leadqual.config import AppConfig, RoutingSettings, load_config
from leadqual.db.models import Event, RepStatus, RouteCredit
from leadqual.errors import AwayDateInPast, NotYourAvailability
from leadqual.services import availability
from leadqual.services.context import Context, utcnow
from leadqual.services.home_routing import routing_home
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


ZONES = """\
timezone: {config}
routes:
  - {{groups: [priority], channel: C0US, rotation: true, reps: [{{user: UANA, timezone: {rep}}}, {{user: UBEN}}]}}
"""


@pytest.mark.parametrize(
    ("config_zone", "rep_zone", "still_away"),
    [
        # At 15:30 UTC on Monday it is 09:30 Monday in Chicago but 00:30 Tuesday in Tokyo.
        ("America/Chicago", "Asia/Tokyo", False),  # the config's Monday is not over; the rep's is
        ("Asia/Tokyo", "America/Chicago", True),  # the config's Monday is over; the rep's is not
    ],
)
def test_app_home_and_the_rotation_agree_on_an_away_date_where_the_reps_zone_and_the_configs_disagree(
    ctx: Context, tmp_path: Path, config_zone: str, rep_zone: str, still_away: bool
) -> None:
    path = tmp_path / "leadbot.yaml"
    path.write_text(ZONES.format(config=config_zone, rep=rep_zone))
    config: AppConfig = load_config(path).with_overrides(channel="C0LEADS", managers=["UMANAGER"])
    routed = dataclasses.replace(
        ctx, clock=utcnow, config=config.model_copy(update={"routing": RoutingSettings(account_days=0)})
    )
    monday = date(2026, 11, 23)
    with freeze_time("2026-11-23 10:00:00") as frozen:  # Monday in both zones
        assert availability.mark_away(routed, actor="UMANAGER", rep="UANA", until=monday)
        assert availability.availability_of(routed, "UANA").away is True

        frozen.move_to("2026-11-23 15:30:00")
        mine = routing_home(routed, user_id="UANA")
        team = routing_home(routed, user_id="UMANAGER")
        suggested = lead(routed, intake(routed)).suggested_owner

        home_text = " ".join(str(b.to_dict()) for b in routing_home_blocks(mine))
        assert ("You are *away* through 2026-11-23" in home_text) is still_away
        assert ("You are *available*" in home_text) is not still_away
        assert [a.user_id for a in team.away] == (["UANA"] if still_away else [])
        assert suggested == ("UBEN" if still_away else "UANA")  # UANA is listed first: hers is the first turn
        # The away modal's "today" is the rep's too: a Monday already over for her is refused.
        assert (availability.today_for(routed, "UANA") > monday) is not still_away
