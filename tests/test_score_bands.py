"""Conversion by score band (A1 to C3) and the score-inflation warning, counted by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from blocks.digest import digest_blocks
from blocks.format import band_table, inflation_line
from blocks.terminal import digest_report
from leadqual.calendar import Period
from leadqual.figures import Figures, GroupFigures, Inflation, ScoreBands, cutoffs
from leadqual.groups import Group
from leadqual.services import digest
from leadqual.services.context import Context
from leadqual.simulate import PLANTED
from tests.feedback_helpers import import_history

PERIOD = Period("2026-W47", datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC))


def week(priority: tuple[int, int, int], other_received: int) -> Figures:
    received, qualified, not_qualified = priority
    return Figures(
        period=PERIOD,
        groups=[
            GroupFigures(Group.PRIORITY, received=received, qualified=qualified, not_qualified=not_qualified),
            GroupFigures(Group.NURTURE, received=other_received),
        ],
        reasons={},
        sources=[],
        offers=[],
    )


def test_band_edges_come_from_the_rulesets_two_highest_minimums() -> None:
    assert cutoffs([60, 60, 40, 0, 0]) == (60, 40)  # the packaged fit minimums
    assert cutoffs([50, 20, 0, 30, 0]) == (50, 30)  # the packaged intent minimums
    assert cutoffs([0, 10]) == (67, 34)  # too few to band by: thirds


def test_leads_fall_into_the_bands_their_fit_and_intent_reach() -> None:
    cells = [(80, 70, 3, 1), (60, 50, 1, 1), (59, 50, 0, 2), (40, 49, 1, 0), (10, 0, 0, 5), (39, 29, 1, 1)]
    bands = ScoreBands.of(cells, fit_edges=(60, 40), intent_edges=(50, 30))
    assert bands.counts["A1"] == (4, 6)  # the first two: fit ≥ 60 and intent ≥ 50
    assert bands.counts["B1"] == (0, 2) and bands.counts["B2"] == (1, 1)
    assert bands.counts["C3"] == (1, 7) and bands.rate("C3") == 1 / 7
    assert bands.rate("A3") is None and sum(d for _, d in bands.counts.values()) == 16
    table = band_table(bands)
    assert "A (≥60)" in table and "67% of 6" in table and "14% of 7" in table


def test_inflation_warns_when_priority_grows_and_converts_worse_week_over_week() -> None:
    inflating = Inflation.of(week((10, 6, 2), 90), week((20, 5, 5), 80))  # 10% → 20% of leads, 75% → 50%
    assert inflating.warning and inflating.share_now == 0.2 and inflating.rate_now == 0.5
    assert inflation_line(inflating) == (
        "Score inflation? Priority rose from 10% to 20% of leads received while its qualification rate fell "
        "from 75% to 50%, week over week."
    )
    assert not Inflation.of(week((10, 6, 2), 90), week((20, 8, 2), 80)).warning  # grew, converts better
    assert not Inflation.of(week((20, 6, 2), 80), week((10, 1, 5), 90)).warning  # converts worse, shrank
    assert not Inflation.of(week((0, 0, 0), 0), week((20, 1, 5), 80)).warning  # nothing to compare with


def test_the_digest_shows_the_band_grid_in_json_slack_and_the_terminal(ctx: Context) -> None:
    import_history(ctx, n=1500, seed=5, world=PLANTED)
    built = digest.build_digest(ctx, backtest_limit=100, persist=False)
    data = built.as_json()
    assert sum(b["decided"] for b in data["score_bands"]["bands"].values()) == built.evidence_leads
    assert data["score_bands"]["fit_edges"] == [60, 40] and set(data["score_inflation"]) >= {"warning"}
    assert "By score band" in digest_report(built)
    assert "By score band" in json.dumps([b.to_dict() for b in digest_blocks(built)])
