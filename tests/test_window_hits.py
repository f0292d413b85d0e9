"""The window's decided leads read a page at a time give the same hit matrix as one read, and as the stored hits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from leadqual import calendar
from leadqual.analytics import decided_in, qualified_or_not
from leadqual.db.models import LeadRow
from leadqual.learning.hits import HitMatrix, HitMatrixBuilder, LeadHits, from_leads
from leadqual.rules import RulesetSpec
from leadqual.services.context import Context
from leadqual.services.digest import last_complete_week
from leadqual.services.window_hits import window_hits
from leadqual.simulate import PLANTED
from tests.feedback_helpers import import_history


def hit_matrix(stored: Iterable[tuple[Any, ...]], spec: RulesetSpec) -> HitMatrix:
    """The reference: each stored (hits, segment, failed must-haves, received) decoded in Python."""
    return from_leads((lead_hits(*row) for row in stored), spec)


def lead_hits(hits: Any, segment: str | None, failed: Any, at: datetime) -> LeadHits:
    rules = [str(h["rule"]) for h in hits or () if isinstance(h, dict) and h.get("rule") is not None]
    return rules, segment, [str(must) for must in failed or ()], at


def test_a_window_read_in_pages_is_the_window_read_at_once(ctx: Context) -> None:
    import_history(ctx, n=1200, seed=3, world=PLANTED)
    period = calendar.trailing_period(last_complete_week(ctx), 12, ctx.config.tz)
    spec = ctx.active_ruleset().spec
    whole, whole_success = window_hits(ctx, spec, period, page=10_000)
    paged, paged_success = window_hits(ctx, spec, period, page=97)
    assert 900 < len(whole) == len(paged) and whole_success.sum() > 0
    for a, b in ((whole.bits, paged.bits), (whole.segment, paged.segment), (whole.cap, paged.cap)):
        assert np.array_equal(a, b)
    assert np.array_equal(whole.received, paged.received) and np.array_equal(whole_success, paged_success)
    assert whole.capped.any() and (whole.segment >= 0).any() and whole.dense().any()


def test_an_empty_window_is_an_empty_matrix(ctx: Context) -> None:
    period = calendar.trailing_period(last_complete_week(ctx), 12, ctx.config.tz)
    hits, success = window_hits(ctx, ctx.active_ruleset().spec, period, page=50)
    assert len(hits) == 0 == len(success) and hits.bits.shape[1] == (len(hits.rules) + 7) // 8
    assert len(HitMatrixBuilder(ctx.active_ruleset().spec).build()) == 0
    assert len(from_leads([], ctx.active_ruleset().spec)) == 0


def test_the_database_unnested_ids_give_the_matrix_the_stored_hit_lists_give(ctx: Context) -> None:
    import_history(ctx, n=800, seed=4, world=PLANTED)
    period = calendar.trailing_period(last_complete_week(ctx), 12, ctx.config.tz)
    spec = ctx.active_ruleset().spec
    read, _ = window_hits(ctx, spec, period)
    with ctx.reading() as session:
        stored = session.execute(
            select(LeadRow.hits, LeadRow.segment, LeadRow.failed_must_haves, LeadRow.received_at)
            .where(decided_in(period), qualified_or_not())
            .order_by(LeadRow.decided_at, LeadRow.id)
        ).all()
    decoded = hit_matrix([tuple(r) for r in stored], spec)  # every hit list decoded in Python
    assert len(read) == len(decoded) > 500 and read.capped.any()
    for a, b in ((read.bits, decoded.bits), (read.segment, decoded.segment), (read.cap, decoded.cap)):
        assert np.array_equal(a, b)
