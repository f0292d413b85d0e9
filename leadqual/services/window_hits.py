"""The decided leads of a window as a hit matrix, read a page per short transaction.

The conditional learner (`leadqual.learning`) and the held-out backtest read every decided
lead of the trailing window, which can be a million. They are read in keyset pages of `PAGE`
leads in decision order (`analytics_evidence.decided_hits`, from a covering index of narrow
columns), each page its own short read (on SQLite a long one would hold up a rep's claim), and
each page is packed into bits at once (`learning.hits.HitMatrixBuilder.add_joined`): memory is
the packed matrix, about 12 bytes a lead, plus one page of rows, never the whole window's rows.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from leadqual import analytics_evidence
from leadqual.calendar import Period
from leadqual.learning.hits import Bool, HitMatrix, HitMatrixBuilder
from leadqual.rules import RulesetSpec
from leadqual.services.context import Context

PAGE = 20_000


def window_hits(ctx: Context, spec: RulesetSpec, period: Period, *, page: int = PAGE) -> tuple[HitMatrix, Bool]:
    """The hit matrix of `period`'s decided leads under `spec`, and whether each succeeded (`proposals.learn_from`)."""
    builder = HitMatrixBuilder(spec)
    success: list[Bool] = []
    after: tuple[datetime, int] | None = None
    while True:
        with ctx.reading() as session:
            rows = analytics_evidence.decided_hits(
                session, period, after=after, size=page, learn_from=ctx.config.proposals.learn_from
            )
        builder.add_joined(rows.fired, rows.segment, rows.failed, rows.received)
        success.append(np.asarray(rows.success, dtype=bool).reshape(len(rows)))
        if len(rows) < page or rows.last is None:
            return builder.build(), np.concatenate(success)
        after = rows.last
