"""Routing, pure: hours, the route table, eligibility and the rotation's shares (no database)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from leadqual.config import AppConfig, Rep, load_config
from leadqual.errors import ConfigError
from leadqual.groups import Group
from leadqual.lead import Lead
from leadqual.routing.accounts import AccountLead, account_owner
from leadqual.routing.availability import RepState, SkipReason, away_zone, next_turn, unavailable
from leadqual.routing.hours import HoursError, parse_hours, working_minutes
from leadqual.routing.routes import RoutePlan, build_route_table

CHICAGO = ZoneInfo("America/Chicago")
OFFICE = parse_hours("mon-fri 08:00-17:00")


def chicago(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHICAGO)


# -- hours ---------------------------------------------------------------------------------


def test_office_hours_are_open_on_weekdays_and_closed_at_night_and_weekends() -> None:
    assert OFFICE.is_open(chicago(2026, 11, 23, 8, 0), CHICAGO)  # Monday 08:00
    assert OFFICE.is_open(chicago(2026, 11, 27, 16, 59), CHICAGO)  # Friday
    assert not OFFICE.is_open(chicago(2026, 11, 23, 17, 0), CHICAGO)  # closing time is closed
    assert not OFFICE.is_open(chicago(2026, 11, 23, 7, 59), CHICAGO)
    assert not OFFICE.is_open(chicago(2026, 11, 28, 10, 0), CHICAGO)  # Saturday


def test_hours_take_day_lists_wrapping_ranges_and_several_windows() -> None:
    hours = parse_hours("mon,wed 09:00-12:00, 13:00-17:00; fri-sun 10:00-24:00")
    assert hours.week[0] == ((540, 720), (780, 1020))
    assert hours.week[1] == ()
    assert hours.week[4] == hours.week[5] == hours.week[6] == ((600, 1440),)
    assert not hours.is_open(chicago(2026, 11, 23, 12, 30), CHICAGO)  # Monday lunch
    assert hours.is_open(chicago(2026, 11, 29, 23, 59), CHICAGO)  # Sunday, just before midnight


def test_hours_follow_the_wall_clock_across_daylight_saving_changes() -> None:
    # Chicago leaves DST on 2026-11-01 (a Sunday): 08:00 local is 13:00 UTC before, 14:00 UTC after.
    before, after = datetime(2026, 10, 30, 13, 0, tzinfo=UTC), datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    assert OFFICE.is_open(before, CHICAGO) and OFFICE.is_open(after, CHICAGO)
    assert not OFFICE.is_open(datetime(2026, 11, 2, 13, 30, tzinfo=UTC), CHICAGO)  # 07:30 local
    # A whole-day window on the day the clocks go back has 25 real hours; the spring day 23.
    always = parse_hours("mon-sun 00:00-24:00")
    fall = working_minutes(chicago(2026, 11, 1), chicago(2026, 11, 2), hours=always, tz=CHICAGO)
    spring = working_minutes(chicago(2026, 3, 8), chicago(2026, 3, 9), hours=always, tz=CHICAGO)
    assert (fall, spring) == (25 * 60, 23 * 60)


def test_working_minutes_count_only_open_time_over_a_weekend() -> None:
    friday_4pm, monday_9am = chicago(2026, 11, 27, 16, 0), chicago(2026, 11, 30, 9, 0)
    assert working_minutes(friday_4pm, monday_9am, hours=OFFICE, tz=CHICAGO) == 120
    assert working_minutes(monday_9am, friday_4pm, hours=OFFICE, tz=CHICAGO) == 0


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "hours must be text"),
        ("mon-fry 08:00-17:00", "'mon-fry' is not a day"),
        ("mon-fri", "no time window"),
        ("mon-fri 8-17", "HH:MM-HH:MM"),
        ("mon-fri 17:00-08:00", "ends before it starts"),
        ("mon 25:00-26:00", "not a time of day"),
        ("mon 08:00-12:00, 11:00-13:00", "windows overlap on mon"),
        ("mon,mon 08:00-12:00", "listed twice"),
    ],
)
def test_malformed_hours_are_refused_with_the_reason(text: str, says: str) -> None:
    with pytest.raises(HoursError, match=says):
        parse_hours(text)


# -- the route table -----------------------------------------------------------------------

TERRITORIES = """\
timezone: America/Chicago
default_channel: C0LEADS
routes:
  - when: {field: company.country, in: [CA]}
    groups: [priority, qualified_review]
    channel: C0CANADA
    rotation: true
    reps: [{user: UANA}, {user: UBEN, weight: 2}]
  - {when: {all: [{field: company.industry, eq: metals}, {field: company.employees, gte: 500}]},
     groups: [priority], channel: C0METALS}
  - {when: {field: segment, eq: compliance}, channel: C0COMPLY}
  - {groups: [nurture, research], channel: C0NURTURE}
"""


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "leadbot.yaml"
    path.write_text(text)
    return path


def a_lead(country: str = "US", industry: str = "metals", employees: int = 850) -> Lead:
    return Lead.model_validate(
        {"company": {"name": "Acme", "country": country, "industry": industry, "employees": employees}}
    )


def test_the_first_matching_route_takes_the_lead(tmp_path: Path) -> None:
    table = build_route_table(load_config(config_file(tmp_path, TERRITORIES)))
    assert table.needs_lead
    assert table.match(Group.PRIORITY, a_lead(country="CA")).channel == "C0CANADA"  # type: ignore[union-attr]
    assert table.match(Group.PRIORITY, a_lead()).channel == "C0METALS"  # type: ignore[union-attr]
    small = table.match(Group.PRIORITY, a_lead(employees=40))
    assert small is table.fallback and small.channel == "C0LEADS" and not small.rotates
    assert table.match(Group.NURTURE, a_lead(country="CA")).channel == "C0NURTURE"  # type: ignore[union-attr]
    assert table.match(Group.QUALIFIED_REVIEW, a_lead(), segment="compliance").name == "#2"  # type: ignore[union-attr]
    assert table.match(Group.POOR_FIT, a_lead(country="CA")) is None


def test_the_per_group_map_becomes_one_route_per_group() -> None:
    config = load_config().model_copy(update={"default_channel": "C0LEADS"})
    table = build_route_table(config)
    assert not table.needs_lead
    route = table.match(Group.PRIORITY)
    assert route is not None and (route.name, route.channel, route.rotates) == ("priority", "C0LEADS", False)
    assert config.channel_for(Group.PRIORITY) == "C0LEADS"


BAD = """\
timezone: UTC
routes:
  - {groups: [priority, bogus], channel: C0US}
  - channel: C0ALL
    hours: "mon-fry 08:00-17:00"
  - {channel: C0X, reps: [{user: UANA}, {user: UANA}]}
  - {channel: C0X, colour: red}
  - {channel: C0X, when: {field: company.size, gte: 3}}
  - {channel: C0X, groups: [poor_fit]}
"""


def test_route_errors_name_the_file_the_line_and_the_reason(tmp_path: Path) -> None:
    path = config_file(tmp_path, BAD)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    lines = str(info.value).splitlines()
    assert lines[0].startswith(f"{path}:3: routes[0].groups[1]: Input should be 'priority'")
    assert lines[1] == (
        f"{path}:5: routes[1].hours: 'mon-fry 08:00-17:00': 'mon-fry' is not a day or day range;"
        " use mon..sun, e.g. mon-fri or mon,wed"
    )
    assert lines[2] == f"{path}:6: routes[2].reps: UANA is listed twice; give one entry a higher weight instead"
    assert lines[3] == f"{path}:7: routes[3].colour: Extra inputs are not permitted"
    assert lines[4].startswith(f"{path}:8: routes[4].when: when.field: unknown field 'company.size'")
    assert lines[5] == f"{path}:9: routes[5].groups: poor_fit is never posted, so no route can take it"
    assert len(lines) == 6


def test_a_rep_listed_twice_in_the_per_group_map_is_refused_too(tmp_path: Path) -> None:
    path = config_file(tmp_path, "routes:\n  priority:\n    rotation: true\n    reps: [{user: UANA}, {user: UANA}]\n")
    with pytest.raises(ConfigError, match=rf"^{path}:4: routes.priority.reps: UANA is listed twice"):
        load_config(path)


def test_a_rep_with_two_time_zones_in_two_routes_is_refused_naming_both(tmp_path: Path) -> None:
    text = (
        "routes:\n"
        "  - {channel: C0US, reps: [{user: UANA, timezone: America/Chicago}]}\n"
        "  - {channel: C0EU, reps: [{user: UANA, timezone: Europe/Berlin}, {user: UBEN}]}\n"
    )
    path = config_file(tmp_path, text)
    with pytest.raises(
        ConfigError, match=rf"^{path}:1: routes: UANA has two time zones \(America/Chicago and Europe/Berlin\)"
    ):
        load_config(path)
    same = text.replace("Europe/Berlin", "America/Chicago")
    assert load_config(config_file(tmp_path, same)).routes  # the same zone twice is one zone


def test_sla_working_hours_and_account_days_are_read_from_the_file(tmp_path: Path) -> None:
    config = load_config(
        config_file(
            tmp_path,
            "sla:\n  working_hours: true\n  priority:\n"
            "    - {after_minutes: 15, action: remind}\nrouting: {account_days: 90}\n",
        )
    )
    assert config.sla_working_hours and config.routing.account_days == 90
    assert [s.after_minutes for s in config.sla[Group.PRIORITY]] == [15]
    assert not AppConfig.model_validate({"reasons": [{"code": "x", "label": "X"}]}).sla_working_hours


# -- eligibility and the rotation ----------------------------------------------------------

ROUTE = build_route_table(load_config().model_copy(update={"routes": [], "default_channel": "C0"})).fallback
MONDAY_9AM = chicago(2026, 11, 23, 9, 0)


def office(**changes: Any) -> RoutePlan:
    """A rotating route open mon-fri 08:00-17:00 in Chicago, with `changes`."""
    return replace(ROUTE, **{"hours": OFFICE, "tz": CHICAGO, "rotation": True, **changes})


def test_a_rep_is_away_through_their_last_day_in_their_own_zone() -> None:
    state = RepState(away=True, away_until=date(2026, 11, 22), zone=CHICAGO)
    # Already Tuesday 00:00 in Tokyo at Monday 09:00 in Chicago: Monday, the last day away, is over.
    tokyo = RepState(away=True, away_until=date(2026, 11, 23), zone=ZoneInfo("Asia/Tokyo"))
    assert unavailable(Rep(user="UANA"), office(), state, chicago(2026, 11, 22, 23, 59)) == SkipReason.AWAY
    assert unavailable(Rep(user="UANA"), office(), state, MONDAY_9AM) is None
    assert unavailable(Rep(user="UKEN"), office(), tokyo, MONDAY_9AM) is None
    assert unavailable(Rep(user="UANA"), office(), RepState(away=True), MONDAY_9AM) == SkipReason.AWAY


def test_a_reps_away_zone_is_their_own_else_their_first_routes_else_the_configs(tmp_path: Path) -> None:
    text = """\
timezone: America/Chicago
routes:
  - {when: {field: company.country, in: [CA]}, groups: [priority], channel: C0CA, timezone: America/Toronto,
     rotation: true, reps: [{user: UANA}, {user: UBEN}]}
  - {groups: [priority], channel: C0US, rotation: true, reps: [{user: UANA, timezone: Asia/Tokyo}, {user: UCAT}]}
"""
    table = build_route_table(load_config(config_file(tmp_path, text)))
    zones = {user: away_zone(table, user).key for user in ("UANA", "UBEN", "UCAT", "UDAN")}
    assert zones == {
        "UANA": "Asia/Tokyo",  # their own, though the first route listing them has none
        "UBEN": "America/Toronto",  # the first route listing them
        "UCAT": "America/Chicago",  # a route without a zone of its own: the config's
        "UDAN": "America/Chicago",  # in no route (an account owner, say): the config's
    }


def test_off_hours_and_capacity_make_a_rep_unavailable() -> None:
    route = office(max_open_claims=3)
    assert unavailable(Rep(user="UANA"), route, RepState(), chicago(2026, 11, 28, 9, 0)) == SkipReason.OFF_HOURS
    assert unavailable(Rep(user="UANA"), route, RepState(open_claims=3), MONDAY_9AM) == SkipReason.AT_CAPACITY
    assert unavailable(Rep(user="UANA", max_open_claims=5), route, RepState(open_claims=3), MONDAY_9AM) is None


def test_the_turn_skips_the_rep_whose_turn_it_was_and_says_why() -> None:
    route = office(reps=(Rep(user="UANA", weight=2), Rep(user="UBEN")))
    turn = next_turn(route, {}, {"UANA": RepState(away=True)}, MONDAY_9AM)
    assert turn.user == "UBEN"
    assert [(s.user, s.reason) for s in turn.skips] == [("UANA", SkipReason.AWAY)]
    # A rep out but not next in line is not "skipped": nobody was passed over.
    later = next_turn(route, {"UANA": -5, "UBEN": 0}, {"UANA": RepState(away=True)}, MONDAY_9AM)
    assert later.user == "UBEN" and later.skips == ()
    closed = next_turn(route, {}, {}, chicago(2026, 11, 28, 9, 0))
    assert closed.user is None and {s.reason for s in closed.skips} == {SkipReason.OFF_HOURS}


def test_smooth_weighted_round_robin_holds_its_shares_over_1000_picks_with_one_rep_away_half_the_time() -> None:
    route = office(hours=None, reps=(Rep(user="UANA", weight=3), Rep(user="UBEN", weight=2), Rep(user="UCAT")))
    credit: dict[str, int] = {}
    got: Counter[str] = Counter()
    skipped = 0
    for i in range(1000):
        ben_away = (i // 100) % 2 == 1  # away for every other block of 100 picks
        turn = next_turn(route, credit, {"UBEN": RepState(away=ben_away)}, MONDAY_9AM)
        assert turn.user is not None
        got[turn.user] += 1
        credit = turn.credit
        skipped += len(turn.skips)
    # Present: 500 picks at 3:2:1; away: 500 picks at 3:1 between the other two.
    expected = {"UANA": 500 * 3 / 6 + 500 * 3 / 4, "UBEN": 500 * 2 / 6, "UCAT": 500 / 6 + 500 / 4}
    for user, share in expected.items():
        assert abs(got[user] - share) <= 3, (user, got[user], share)
    assert 0 < skipped < 500  # skipped only when it was UBEN's turn


def test_the_account_owner_is_whoever_touched_it_last_within_the_window() -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    old = AccountLead(1, "Acme", now, "UOLD", "qualified", None, now - timedelta(days=200))
    recent = AccountLead(2, "Acme", now, "UANA", None, None, now - timedelta(days=3))
    decided = AccountLead(3, "Acme", now, "UBEN", "not_qualified", "timing", now - timedelta(days=10))
    assert account_owner([old, decided, recent], now=now, days=180) == "UANA"
    assert account_owner([old], now=now, days=180) is None
    assert account_owner([recent], now=now, days=0) is None
