"""Time to first response and cost per qualified lead from SQL, on SQLite and PostgreSQL, against hand counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from leadqual import analytics_followthrough
from leadqual.calendar import Period
from leadqual.costs import CostEntry
from leadqual.db.models import LeadRow
from leadqual.groups import Group
from leadqual.services.context import Context

CHICAGO = ZoneInfo("America/Chicago")
WEEK = Period("2026-W47", datetime(2026, 11, 16, 6, tzinfo=UTC), datetime(2026, 11, 23, 6, tzinfo=UTC))


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def add(
    ctx: Context,
    name: str,
    group: Group,
    received: datetime,
    *,
    claim: float | None = None,
    action: float | None = None,
    historical: bool = False,
    source: str | None = None,
    campaign: str | None = None,
    outcome: str | None = None,
) -> None:
    """Store one lead; `claim` and `action` are minutes after it was received."""
    with ctx.transaction() as session:
        session.add(
            LeadRow(
                external_id=name,
                company_name=name,
                source=source,
                campaign=campaign,
                received_at=received,
                created_at=received + timedelta(minutes=1),
                payload={"company": {"name": name}},
                fit=70,
                intent=60,
                group=group.value,
                urgent=False,
                hits=[],
                failed_must_haves=[],
                ruleset_version=1,
                status=outcome or "new",
                outcome=outcome,
                decided_at=received + timedelta(hours=2) if outcome else None,
                historical=historical,
                first_claimed_at=received + timedelta(minutes=claim) if claim is not None else None,
                first_action_at=received + timedelta(minutes=action) if action is not None else None,
            )
        )


def test_time_to_first_response_counts_the_earlier_of_claim_and_action_per_group(ctx: Context) -> None:
    P, N = Group.PRIORITY, Group.NURTURE
    add(ctx, "p1", P, at(16), claim=10)  # 10
    add(ctx, "p2", P, at(17), claim=50, action=20)  # the action came first: 20
    add(ctx, "p3", P, at(18), action=5)  # an action without a claim: 5
    add(ctx, "p4", P, at(18, 13), claim=90)  # 90
    add(ctx, "p5", P, at(19))  # nobody answered: received, not timed
    add(ctx, "n1", N, at(20), claim=300)  # 300
    add(ctx, "n2", N, at(20, 13), claim=-15)  # the source's clock ahead of ours: 0
    add(ctx, "h1", P, at(20), claim=1, historical=True)  # imported history: left out
    add(ctx, "o1", P, at(23, 7), claim=1)  # the next week: left out
    with ctx.reading() as session:
        times = analytics_followthrough.response_times(session, WEEK)
    priority = times.group(P)  # 5 10 20 90: median ceil(2) = 2nd, p90 ceil(3.6) = 4th
    assert (priority.received, priority.answered, priority.median_minutes, priority.p90_minutes) == (5, 4, 10.0, 90.0)
    nurture = times.group(N)  # 0 300
    assert (nurture.answered, nurture.median_minutes, nurture.p90_minutes) == (2, 0.0, 300.0)
    # All: 0 5 10 20 90 300 -> median ceil(3) = 3rd, p90 ceil(5.4) = 6th
    overall = times.overall
    assert (overall.received, overall.answered) == (7, 6)
    assert overall.median_minutes is not None and abs(overall.median_minutes - 10.0) < 1e-6
    assert overall.p90_minutes is not None and abs(overall.p90_minutes - 300.0) < 1e-6
    assert times.group(Group.RESEARCH).received == 0


def test_a_week_without_leads_has_no_response_time(ctx: Context) -> None:
    with ctx.reading() as session:
        times = analytics_followthrough.response_times(session, WEEK)
    assert (times.overall.received, times.overall.median_minutes, times.groups) == (0, None, {})


def test_cost_per_qualified_lead_counts_final_qualified_leads_up_to_the_week_s_end(ctx: Context) -> None:
    P = Group.PRIORITY
    add(ctx, "c1", P, at(2), campaign="pump-retrofit-2026", source="web_form", outcome="qualified")
    add(ctx, "c2", P, at(10), campaign="Pump-Retrofit-2026", source="web_form", outcome="qualified")  # case folds
    add(ctx, "c3", P, at(17), campaign="pump-retrofit-2026", source="trade_show", outcome="not_qualified")
    add(ctx, "c4", P, at(18), campaign="pump-retrofit-2026", source="web_form", outcome="nurture")
    add(ctx, "c5", P, at(19), campaign="pump-retrofit-2026", source="web_form", outcome="qualified", historical=True)
    add(ctx, "c6", P, at(24), campaign="pump-retrofit-2026", source="web_form", outcome="qualified")  # after the week
    add(ctx, "c7", P, at(18), campaign="other", source="web_form", outcome="qualified")
    entries = [
        CostEntry.model_validate({"campaign": "pump-retrofit-2026", "cost": 4200, "currency": "USD"}),
        CostEntry.model_validate({"campaign": "pump-retrofit-2026", "cost": 900, "currency": "EUR"}),
        CostEntry.model_validate({"source": "web_form", "cost": 1000, "currency": "USD"}),
        CostEntry.model_validate({"campaign": "never-used", "cost": 50, "currency": "USD"}),
    ]
    with ctx.reading() as session:
        figures = analytics_followthrough.costs(session, entries, until=WEEK, tz=CHICAGO)
    by_name = {(c.name, c.currency): c for c in figures.campaigns}
    # pump-retrofit-2026 up to the week's end: c1 c2 c3 c4 c5 = 5 leads, 3 qualified (c1 c2 c5).
    usd = by_name[("pump-retrofit-2026", "USD")]
    assert (usd.leads, usd.qualified, usd.per_qualified) == (5, 3, Decimal(1400))
    assert by_name[("pump-retrofit-2026", "EUR")].per_qualified == Decimal(300)
    assert (by_name[("never-used", "USD")].leads, by_name[("never-used", "USD")].per_qualified) == (0, None)
    # web_form up to the week's end: c1 c2 c4 c5 c7 = 5 leads, 4 qualified: 1000 / 4.
    [web] = figures.sources
    assert (web.leads, web.qualified, web.per_qualified) == (5, 4, Decimal(250))


def test_a_cost_with_days_counts_only_the_leads_received_in_those_local_days(ctx: Context) -> None:
    P = Group.PRIORITY
    # Local days in America/Chicago: DST ends at 02:00 on Nov 1 2026, so Nov 1 00:00 local is 05:00 UTC.
    add(ctx, "d1", P, datetime(2026, 11, 1, 4, 30, tzinfo=UTC), source="web_form", outcome="qualified")  # Oct 31 23:30
    add(ctx, "d2", P, datetime(2026, 11, 1, 5, 30, tzinfo=UTC), source="web_form", outcome="qualified")  # Nov 1 00:30
    add(ctx, "d3", P, at(10), source="web_form", outcome="not_qualified")
    add(ctx, "d4", P, datetime(2026, 11, 16, 5, 59, tzinfo=UTC), source="web_form", outcome="qualified")  # Nov 15 23:59
    add(ctx, "d5", P, at(17), source="web_form", outcome="qualified")  # Nov 17: after `to`
    entries = [
        CostEntry.model_validate(
            {"source": "web_form", "cost": 600, "currency": "USD", "from": "2026-11-01", "to": "2026-11-15"}
        ),
        CostEntry.model_validate(
            {"source": "web_form", "cost": 300, "currency": "USD", "from": "2026-11-01", "to": "2026-11-15"}
        ),
        CostEntry.model_validate(
            {"source": "web_form", "cost": 100, "currency": "USD", "from": "2026-10-01", "to": "2026-10-31"}
        ),
        CostEntry.model_validate({"source": "web_form", "cost": 50, "currency": "USD"}),
    ]
    with ctx.reading() as session:
        figures = analytics_followthrough.costs(session, entries, until=WEEK, tz=CHICAGO)
    by_days = {c.days: c for c in figures.sources}
    october = by_days[(date(2026, 10, 1), date(2026, 10, 31))]
    assert (october.cost, october.leads, october.qualified, october.per_qualified) == (100, 1, 1, Decimal(100))  # d1
    november = by_days[(date(2026, 11, 1), date(2026, 11, 15))]  # d2 d3 d4; the same days add up
    assert (november.cost, november.leads, november.qualified, november.per_qualified) == (900, 3, 2, Decimal(450))
    undated = by_days[(None, None)]  # every lead up to the week's end: d1 to d5
    assert (undated.leads, undated.qualified) == (5, 4)
    assert [c.days for c in figures.sources] == [  # all days first, then by date
        (None, None),
        (date(2026, 10, 1), date(2026, 10, 31)),
        (date(2026, 11, 1), date(2026, 11, 15)),
    ]
