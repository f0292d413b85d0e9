"""The digest's pipeline figures, checked against outcomes counted by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import update

from blocks.digest import digest_blocks
from blocks.terminal import digest_report
from leadqual import analytics
from leadqual.calendar import trailing_period
from leadqual.db.models import LeadRow
from leadqual.groups import Group
from leadqual.lead import Lead
from leadqual.pipeline import StageReport
from leadqual.services import digest
from leadqual.services.context import Context
from leadqual.services.intake import ingest
from leadqual.services.pipeline import record_stages

# The window is the 12 weeks to 2026-W47 (America/Chicago), ending 2026-11-23 06:00 UTC; 30 days
# before that is 2026-10-24 06:00 UTC: leads qualified before then and with no stage are stale.
LATE, EARLY, RECENT, BEFORE = "2026-11-10T12:00:00Z", "2026-10-01T12:00:00Z", "2026-11-18T12:00:00Z", "2026-08-01"
# name: (group, outcome, decided at, [(stage, amount, currency)])
PLANTED: dict[str, tuple[Group, str, str, list[tuple[str, int | None, str | None]]]] = {
    "p1": (Group.PRIORITY, "qualified", LATE, [("opportunity", 40000, "USD"), ("won", 42000, "USD")]),
    "p2": (Group.PRIORITY, "qualified", LATE, [("opportunity", 9000, "USD"), ("lost", None, None)]),
    "p3": (Group.PRIORITY, "qualified", EARLY, [("opportunity", 7000, "USD")]),
    "p4": (Group.PRIORITY, "qualified", EARLY, []),  # stale
    "p5": (Group.PRIORITY, "qualified", RECENT, []),  # too recent to be stale
    "p6": (Group.PRIORITY, "qualified", EARLY, [("won", 10000, "EUR")]),  # won, never reported open
    "p7": (Group.PRIORITY, "not_qualified", LATE, [("opportunity", 1000, "USD")]),  # not a qualified lead
    "q1": (Group.QUALIFIED_REVIEW, "qualified", EARLY, [("won", 5000, "USD")]),
    "q2": (Group.QUALIFIED_REVIEW, "qualified", EARLY, []),  # stale
    "q3": (Group.QUALIFIED_REVIEW, "qualified", BEFORE + "T12:00:00Z", [("won", 99000, "USD")]),  # before the window
}


def plant(ctx: Context) -> None:
    leads = [
        Lead.model_validate(
            {
                "external_id": name,
                "company": {"name": f"Company {name}"},
                "received_at": "2026-07-01T12:00:00Z",
                "outcome": {"status": outcome, "decided_at": decided_at, "reason": None},
            }
        )
        for name, (_, outcome, decided_at, _) in PLANTED.items()
    ]
    ingest(ctx, leads, post=False, source="test-history")
    with ctx.transaction() as session:
        for name, (group, *_rest) in PLANTED.items():
            session.execute(update(LeadRow).where(LeadRow.external_id == name).values(group=group.value))
    reports = [
        StageReport(
            external_id=name,
            stage=stage,  # type: ignore[arg-type]
            at=datetime(2026, 11, 20, 12, k, tzinfo=UTC),
            amount=None if amount is None else Decimal(amount),
            currency=currency,
        )
        for name, (*_, stages) in PLANTED.items()
        for k, (stage, amount, currency) in enumerate(stages)
    ]
    record_stages(ctx, reports)


def test_pipeline_figures_by_group_match_the_outcomes_counted_by_hand(ctx: Context) -> None:
    plant(ctx)
    window = trailing_period("2026-W47", 12, ctx.config.tz)
    with ctx.reading() as session:
        figures = analytics.pipeline(session, window, stale_after_days=30)
    priority, review = figures.group(Group.PRIORITY), figures.group(Group.QUALIFIED_REVIEW)
    assert (priority.qualified, priority.opportunities, priority.won, priority.lost) == (6, 4, 2, 1)
    assert priority.opportunity_rate == 4 / 6 and priority.win_rate == 2 / 3
    assert priority.amount_won == (("EUR", Decimal(10000)), ("USD", Decimal(42000)))
    assert (priority.stale_eligible, priority.stale) == (3, 1)
    assert (review.qualified, review.opportunities, review.won, review.lost) == (2, 1, 1, 0)
    assert review.amount_won == (("USD", Decimal(5000)),) and (review.stale_eligible, review.stale) == (2, 1)
    assert figures.group(Group.NURTURE).qualified == 0 and figures.group(Group.NURTURE).win_rate is None
    total = figures.total
    assert (total.qualified, total.opportunities, total.won, total.lost, total.stale) == (8, 5, 3, 1, 2)
    assert total.amount_won == (("EUR", Decimal(10000)), ("USD", Decimal(47000)))


def test_a_longer_stale_period_counts_fewer_leads_as_stale(ctx: Context) -> None:
    plant(ctx)
    window = trailing_period("2026-W47", 12, ctx.config.tz)
    with ctx.reading() as session:
        figures = analytics.pipeline(session, window, stale_after_days=60)
    assert figures.total.stale_eligible == 0 and figures.total.stale == 0


def test_the_digest_json_carries_the_pipeline_figures_by_group(ctx: Context) -> None:
    plant(ctx)
    built = digest.build_digest(ctx, iso_week="2026-W47", persist=False)
    data = built.as_json()["pipeline"]
    assert data["stale_after_days"] == 30 and data["period"] == "12 weeks to 2026-W47"
    assert data["opportunity_rate_of"] == "qualified" and data["win_rate_of"] == "won + lost"
    priority = next(g for g in data["groups"] if g["group"] == "priority")
    assert priority == {
        "group": "priority",
        "qualified": 6,
        "opportunities": 4,
        "opportunity_rate": 0.6667,
        "won": 2,
        "lost": 1,
        "win_rate": 0.6667,
        "amount_won": {"EUR": 10000.0, "USD": 42000.0},
        "stale_eligible": 3,
        "stale": 1,
    }
    assert data["total"]["amount_won"] == {"EUR": 10000.0, "USD": 47000.0} and data["total"]["stale"] == 2


def test_slack_and_the_terminal_show_the_pipeline_table_and_what_it_divides_by(ctx: Context) -> None:
    plant(ctx)
    built = digest.build_digest(ctx, iso_week="2026-W47", persist=False)
    slack = json.dumps([b.to_dict() for b in digest_blocks(built)])
    text = digest_report(built)
    for shown in (slack, text):
        assert "What the pipeline did" in shown and "win rate = won" in shown
        assert "EUR 10,000 + USD 42,000" in shown and "1 of 3" in shown
