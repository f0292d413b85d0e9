"""`leadbot rules backtest`'s held-out figures: a stored proposal on the weeks learnt from and on the held-out weeks.

Reads the trailing window's decided leads in pages (`window_hits`) and splits them as the
learner does (`proposals.holdout_weeks`, fewer when the window is short), then rescores each
part under the active rules and with the proposal applied (`learning.heldout`).
"""

from __future__ import annotations

from leadqual import calendar
from leadqual.errors import ProposalNoLongerApplies
from leadqual.learning.heldout import SplitBacktest, split_backtest
from leadqual.proposals import apply_to_spec
from leadqual.services import proposal_store
from leadqual.services.context import Context
from leadqual.services.digest import holdout_weeks, last_complete_week
from leadqual.services.window_hits import window_hits


def held_out_backtest(ctx: Context, proposal_id: str, *, iso_week: str | None = None) -> SplitBacktest:
    """Priority before and after the proposal, on the window's older weeks and on its most recent ones."""
    proposal, ruleset = proposal_store.proposal_and_active_ruleset(ctx, proposal_id)
    try:
        proposed = apply_to_spec(ruleset.spec, proposal)
    except KeyError as exc:
        raise ProposalNoLongerApplies(proposal_id, str(exc.args[0])) from None
    week = iso_week or last_complete_week(ctx)
    period = calendar.trailing_period(week, ctx.config.digest.trailing_weeks, ctx.config.tz)
    hits, success = window_hits(ctx, ruleset.spec, period)
    return split_backtest(hits, success, ruleset.spec, proposed, end=period.end, holdout_weeks=holdout_weeks(ctx))
