"""Feedback figures for a week and a trailing window, counted by the database.

Every figure is a GROUP BY in SQL: nothing loops over leads in Python, so a digest over a
million leads reads a few hundred rows. The queries are plain SQL that SQLite and
PostgreSQL both run; the two places where they differ (unnesting a JSON array, and the
minutes between two timestamps) go through one small helper each.

Two cohorts, as a weekly review reads them:
- leads *received* in the period: volume by group, acceptance (claimed at least once), time
  to first claim, and alert fatigue (posted cards that got any action);
- leads *decided* in the period: qualification rate, disqualification reasons, false
  positives and negatives, quality by source and offer (the evidence for proposals is counted
  the same way, in `leadqual.analytics_evidence`).

Only Qualified and Not qualified are closed outcomes; Nurture and Needs info stay open. A
reopened lead counts its final decision only (`LeadRow.outcome` holds it).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, extract, func, or_, select
from sqlalchemy.orm import Session

from leadqual.calendar import Period
from leadqual.db.models import LeadPipeline, LeadRow
from leadqual.figures import Figures, GroupFigures, SliceFigures
from leadqual.groups import Group
from leadqual.lead import Outcome
from leadqual.pipeline import Stage
from leadqual.pipeline_figures import PipelineFigures, PipelineGroupFigures

QUALIFIED, NOT_QUALIFIED = Outcome.QUALIFIED.value, Outcome.NOT_QUALIFIED.value
TOP_SLICES = 8  # sources and offers shown, by volume


# --- queries -----------------------------------------------------------------------------------


def _received_in(period: Period) -> ColumnElement[bool]:
    return and_(LeadRow.received_at >= period.start, LeadRow.received_at < period.end)


def decided_in(period: Period) -> ColumnElement[bool]:
    return and_(LeadRow.decided_at >= period.start, LeadRow.decided_at < period.end, LeadRow.outcome.is_not(None))


def qualified_or_not() -> ColumnElement[bool]:
    return LeadRow.outcome.in_((QUALIFIED, NOT_QUALIFIED))


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _minutes_to_claim(dialect: str) -> ColumnElement[Any]:
    """Minutes from the lead reaching Leadbot to its first claim."""
    if dialect == "sqlite":
        return (func.julianday(LeadRow.first_claimed_at) - func.julianday(LeadRow.created_at)) * 1440.0
    return extract("epoch", LeadRow.first_claimed_at - LeadRow.created_at) / 60.0


def figures(session: Session, period: Period) -> Figures:
    """All digest figures for one period: one pass over its leads, and one for the claim-time percentiles."""
    received, decided = _received_in(period), decided_in(period)
    fresh = and_(received, LeadRow.historical.is_(False))
    posted = and_(received, LeadRow.message_ts.is_not(None))
    # One row per (group, source, offer, outcome, reason): every figure below is a sum of these rows.
    rows = session.execute(
        select(
            LeadRow.group,
            LeadRow.source,
            LeadRow.offer,
            LeadRow.outcome,
            LeadRow.reason,
            _count_if(received),
            _count_if(fresh),
            _count_if(and_(fresh, LeadRow.first_claimed_at.is_not(None))),
            _count_if(posted),
            _count_if(and_(posted, or_(LeadRow.first_action_at.is_not(None), LeadRow.first_claimed_at.is_not(None)))),
            _count_if(decided),
        )
        .where(or_(received, decided))
        .group_by(LeadRow.group, LeadRow.source, LeadRow.offer, LeadRow.outcome, LeadRow.reason)
    ).all()
    volume: dict[str, list[int]] = {}
    outcomes: dict[tuple[str, str | None], int] = {}
    reasons: dict[Group, dict[str, int]] = {}
    for group, _source, _offer, outcome, reason, *counts, decisions in rows:
        sums = volume.setdefault(group, [0] * len(counts))
        for k, n in enumerate(counts):
            sums[k] += n
        if decisions:
            outcomes[(group, outcome)] = outcomes.get((group, outcome), 0) + decisions
            if outcome == NOT_QUALIFIED:
                codes = reasons.setdefault(Group(group), {})
                codes[reason or "unspecified"] = codes.get(reason or "unspecified", 0) + decisions
    claim_times = _claim_percentiles(session, period, session.get_bind().dialect.name)
    groups = []
    for g in Group:
        received_n, live, claimed, _, _ = volume.get(g.value, [0] * 5)
        median, p90 = claim_times.get(g.value, (None, None))
        groups.append(
            GroupFigures(
                group=g,
                received=received_n,
                live=live,
                claimed=claimed,
                qualified=outcomes.get((g.value, QUALIFIED), 0),
                not_qualified=outcomes.get((g.value, NOT_QUALIFIED), 0),
                open_decisions=sum(
                    n for (grp, o), n in outcomes.items() if grp == g.value and o not in (QUALIFIED, NOT_QUALIFIED)
                ),
                claim_median_minutes=median,
                claim_p90_minutes=p90,
            )
        )
    overall_median, overall_p90 = claim_times.get(None, (None, None))
    return Figures(
        period=period,
        groups=groups,
        reasons={g: sorted(reasons[g].items(), key=lambda r: (-r[1], r[0])) for g in Group if g in reasons},
        sources=_slices(rows, 1),
        offers=_slices(rows, 2),
        cards_posted=sum(v[3] for v in volume.values()),
        cards_actioned=sum(v[4] for v in volume.values()),
        claim_median_minutes=overall_median,
        claim_p90_minutes=overall_p90,
    )


def _claim_percentiles(
    session: Session, period: Period, dialect: str
) -> dict[str | None, tuple[float | None, float | None]]:
    """Median and 90th percentile of minutes to first claim, per group and overall (None).

    Nearest-rank percentiles with window functions: SQLite has no percentile_cont, and a
    ROW_NUMBER per group and one over all, in one pass, stays fast at a million leads. Only
    the rows at the ranks come back.
    """
    minutes = _minutes_to_claim(dialect).label("minutes")
    claimed = (
        select(LeadRow.group.label("grp"), minutes)
        .where(_received_in(period), LeadRow.historical.is_(False), LeadRow.first_claimed_at.is_not(None))
        .subquery()
    )
    ranked = select(
        claimed.c.grp,
        claimed.c.minutes,
        func.row_number().over(partition_by=claimed.c.grp, order_by=claimed.c.minutes).label("rn"),
        func.count().over(partition_by=claimed.c.grp).label("n"),
        func.row_number().over(order_by=claimed.c.minutes).label("all_rn"),
        func.count().over().label("all_n"),
    ).subquery()
    # Nearest rank ceil(p * n), written with integer division so both databases agree.
    ranks = {
        "median": (ranked.c.rn == (ranked.c.n * 50 + 99) // 100, ranked.c.all_rn == (ranked.c.all_n * 50 + 99) // 100),
        "p90": (ranked.c.rn == (ranked.c.n * 90 + 99) // 100, ranked.c.all_rn == (ranked.c.all_n * 90 + 99) // 100),
    }
    flags = [flag for pair in ranks.values() for flag in pair]
    out: dict[str | None, tuple[float | None, float | None]] = {}
    for grp, value, group_median, all_median, group_p90, all_p90 in session.execute(
        select(ranked.c.grp, ranked.c.minutes, *flags).where(or_(*flags))
    ):
        for key, is_median, is_p90 in ((grp, group_median, group_p90), (None, all_median, all_p90)):
            median, p90 = out.get(key, (None, None))
            out[key] = (float(value) if is_median else median, float(value) if is_p90 else p90)
    return out


def _slices(rows: Any, column: int) -> list[SliceFigures]:
    """Quality by source (column 1) or offer (column 2), summed from the figures' rows."""
    found: dict[str, list[int]] = {}
    for row in rows:
        name = row[column] or "(none)"
        sums = found.setdefault(name, [0, 0, 0])
        sums[0] += row[5]
        if row[3] in (QUALIFIED, NOT_QUALIFIED):
            sums[1 if row[3] == QUALIFIED else 2] += row[10]
    slices = [SliceFigures(name, *sums) for name, sums in found.items()]
    slices.sort(key=lambda s: (-(s.received + s.qualified + s.not_qualified), s.name))
    return slices[:TOP_SLICES]


# --- pipeline outcomes --------------------------------------------------------------------------


_PIPELINE_COUNTS = ("qualified", "opportunities", "won", "lost", "stale_eligible", "stale")


def pipeline(session: Session, period: Period, *, stale_after_days: int) -> PipelineFigures:
    """Pipeline outcomes of the leads decided Qualified in `period`, by group: one GROUP BY.

    Each lead counts once, by its latest stage (`lead_pipeline`); a lead with no stage has
    no opportunity. Stale: decided at least `stale_after_days` before the period's end, and
    still no stage.
    """
    cutoff = period.end - timedelta(days=stale_after_days)
    old_enough = LeadRow.decided_at < cutoff
    rows = session.execute(
        select(
            LeadRow.group,
            LeadPipeline.stage,
            LeadPipeline.currency,
            func.count(),
            func.sum(LeadPipeline.amount),
            _count_if(old_enough),
        )
        .select_from(LeadRow)
        .outerjoin(LeadPipeline, LeadPipeline.lead_id == LeadRow.id)
        .where(decided_in(period), LeadRow.outcome == QUALIFIED)
        .group_by(LeadRow.group, LeadPipeline.stage, LeadPipeline.currency)
    ).all()
    sums: dict[str, dict[str, Any]] = {}
    for group, stage, currency, n, amount, eligible in rows:
        g = sums.setdefault(group, dict.fromkeys(_PIPELINE_COUNTS, 0))
        amounts: dict[str, Decimal] = g.setdefault("amounts", {})
        g["qualified"] += n
        g["stale_eligible"] += eligible
        if stage is None:
            g["stale"] += eligible
            continue
        g["opportunities"] += n
        if stage == Stage.WON.value:
            g["won"] += n
            key = currency or ""
            amounts[key] = amounts.get(key, Decimal(0)) + Decimal(amount or 0)
        elif stage == Stage.LOST.value:
            g["lost"] += n
    return PipelineFigures(
        period=period,
        stale_after_days=stale_after_days,
        groups=[
            PipelineGroupFigures(
                group=g,
                qualified=v["qualified"],
                opportunities=v["opportunities"],
                won=v["won"],
                lost=v["lost"],
                amount_won=tuple(sorted(v["amounts"].items())),
                stale_eligible=v["stale_eligible"],
                stale=v["stale"],
            )
            for g in Group
            if (v := sums.get(g.value))
        ],
    )
