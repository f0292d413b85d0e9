"""The digest's follow-through figures counted by the database: time to first response, cost per qualified lead.

Like `leadqual.analytics`, each is SQL that SQLite and PostgreSQL both run, returning a few
rows whatever the number of leads: the percentiles come from window functions (only the rows
at the ranks come back), the cost counts from one GROUP BY per kind of name and span of days.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, extract, func, or_, select
from sqlalchemy.orm import Session

from leadqual.calendar import Period, utc_midnight
from leadqual.costs import CostBy, CostEntry, CostFigures, Days, cost_figures, days_order
from leadqual.db.models import LeadRow
from leadqual.groups import Group
from leadqual.lead import Outcome
from leadqual.response import Percentiles, ResponseTimes


def _first_response() -> ColumnElement[Any]:
    """The earlier of first claim and first action (either may be missing)."""
    claim, action = LeadRow.first_claimed_at, LeadRow.first_action_at
    return case(
        (claim.is_(None), action),
        (action.is_(None), claim),
        (claim <= action, claim),
        else_=action,
    )


def _minutes_to_response(dialect: str) -> ColumnElement[Any]:
    first = _first_response()
    if dialect == "sqlite":
        raw = (func.julianday(first) - func.julianday(LeadRow.received_at)) * 1440.0
    else:
        raw = extract("epoch", first - LeadRow.received_at) / 60.0
    return case((raw < 0, 0.0), else_=raw)  # a source's clock ahead of ours: answered at once


def response_times(session: Session, period: Period) -> ResponseTimes:
    """Median and 90th percentile minutes to first response, per group and overall, for leads received in `period`."""
    live = and_(LeadRow.received_at >= period.start, LeadRow.received_at < period.end, LeadRow.historical.is_(False))
    answered = or_(LeadRow.first_claimed_at.is_not(None), LeadRow.first_action_at.is_not(None))
    counts = {
        grp: (n, k)
        for grp, n, k in session.execute(
            select(LeadRow.group, func.count(), func.coalesce(func.sum(case((answered, 1), else_=0)), 0))
            .where(live)
            .group_by(LeadRow.group)
        )
    }
    minutes = _minutes_to_response(session.get_bind().dialect.name).label("minutes")
    timed = select(LeadRow.group.label("grp"), minutes).where(live, answered).subquery()
    ranked = select(
        timed.c.grp,
        timed.c.minutes,
        func.row_number().over(partition_by=timed.c.grp, order_by=timed.c.minutes).label("rn"),
        func.count().over(partition_by=timed.c.grp).label("n"),
        func.row_number().over(order_by=timed.c.minutes).label("all_rn"),
        func.count().over().label("all_n"),
    ).subquery()

    def at(rank: Any, n: Any, p: int) -> ColumnElement[bool]:
        return rank == (n * p + 99) // 100  # nearest rank ceil(p * n / 100), in integers on both databases

    flags = [
        at(ranked.c.rn, ranked.c.n, 50),
        at(ranked.c.all_rn, ranked.c.all_n, 50),
        at(ranked.c.rn, ranked.c.n, 90),
        at(ranked.c.all_rn, ranked.c.all_n, 90),
    ]
    found: dict[str | None, list[float | None]] = {}
    for grp, value, g50, a50, g90, a90 in session.execute(
        select(ranked.c.grp, ranked.c.minutes, *flags).where(or_(*flags))
    ):
        for key, is50, is90 in ((grp, g50, g90), (None, a50, a90)):
            slot = found.setdefault(key, [None, None])
            rounded = round(float(value), 4)  # SQLite's julianday leaves float noise past a millisecond
            if is50:
                slot[0] = rounded
            if is90:
                slot[1] = rounded
    groups = {g: Percentiles(*counts[g.value], *found.get(g.value, [None, None])) for g in Group if g.value in counts}
    overall = Percentiles(
        sum(n for n, _ in counts.values()), sum(k for _, k in counts.values()), *found.get(None, [None, None])
    )
    return ResponseTimes(overall, groups)


def costs(session: Session, entries: list[CostEntry], *, until: Period, tz: ZoneInfo) -> CostFigures:
    """Cost per qualified lead for every name in `costs:`, counting leads received in each entry's
    days (local days in `tz`) and before `until` ends."""
    counts: dict[tuple[CostBy, str, Days], tuple[int, int]] = {}
    qualified = func.coalesce(func.sum(case((LeadRow.outcome == Outcome.QUALIFIED.value, 1), else_=0)), 0)
    for by, column in ((CostBy.CAMPAIGN, LeadRow.campaign), (CostBy.SOURCE, LeadRow.source)):
        for days in sorted({e.days for e in entries if e.by is by}, key=days_order):
            names = sorted({e.key for e in entries if e.by is by and e.days == days})
            name = func.lower(column)
            starts, ends = days
            window = [LeadRow.received_at < until.end]
            if starts is not None:
                window.append(LeadRow.received_at >= utc_midnight(starts, tz))
            if ends is not None:
                window.append(LeadRow.received_at < utc_midnight(ends + timedelta(days=1), tz))
            for key, n, k in session.execute(
                select(name, func.count(), qualified).where(name.in_(names), *window).group_by(name)
            ):
                counts[(by, key, days)] = (int(n), int(k))
    return cost_figures(entries, counts)
