"""A ruleset change judged as the learner judges it: on the weeks it was learnt from, and on the held-out weeks.

The backtest (`leadqual.backtest`) rescores recent leads in sample. This splits the window's
decided leads as `learn.learn` does (the most recent `holdout_weeks` held out, the older weeks
learnt from) and reports Priority before and after the change on each part, rescored from the
hits (`rescore`), with the verdict of the held-out check: Priority precision rises, and
Priority keeps at least nine tenths of the successes it catches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from leadqual.learning.hits import Bool, HitMatrix, patterns
from leadqual.learning.learn import MAX_CATCH_LOSS, HeldOut, split
from leadqual.learning.rescore import priority_figures, rescore
from leadqual.rules import RulesetSpec


@dataclass(frozen=True, slots=True)
class SplitBacktest:
    """Priority before and after one change, on the older (learnt-from) weeks and on the held-out weeks."""

    weeks: int  # held out; 0: nothing was
    split_at: datetime | None  # leads received from here on were held out
    learnt: HeldOut  # on the older weeks
    learnt_leads: int
    held_out: HeldOut | None
    held_out_leads: int

    @property
    def passes(self) -> bool | None:
        """Whether the held-out check keeps the change (None when nothing was held out)."""
        return None if self.held_out is None else self.held_out.improves(max_catch_loss=MAX_CATCH_LOSS)


def split_backtest(
    hits: HitMatrix, success: Bool, current: RulesetSpec, proposed: RulesetSpec, *, end: datetime, holdout_weeks: int
) -> SplitBacktest:
    """Rescore the older and the held-out leads of `hits` under `current` and under `proposed`."""
    success = np.asarray(success, dtype=bool)
    recent, split_at = split(hits, end=end, holdout_weeks=holdout_weeks)

    def figures(mask: Bool) -> HeldOut:
        pat = patterns(hits.take(mask), success[mask])
        return HeldOut(
            priority_figures(pat, rescore(pat, hits.rules, current)),
            priority_figures(pat, rescore(pat, hits.rules, proposed)),
        )

    return SplitBacktest(
        holdout_weeks,
        split_at,
        figures(~recent),
        int((~recent).sum()),
        figures(recent) if holdout_weeks > 0 else None,
        int(recent.sum()),
    )
