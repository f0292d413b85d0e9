"""Proposals and backtests in words: titles, evidence sentences, backtest summaries, the held-out split.

The domain stores each proposal as data (`leadqual.proposals.Proposal`: kind, points, figures,
how the evidence was judged); this is the one place that words it, for the Slack digest, the
terminal (`leadbot digest`, `leadbot rules backtest`, `make demo`) and `digest --json`. Plain
text: callers escape it for mrkdwn (`blocks.text.mrkdwn`).

A proposal stored before the words moved here carries its sentence in `stored_words`, which is
shown as it was.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from blocks.format import pct, rate
from leadqual.backtest import Backtest
from leadqual.groups import Group
from leadqual.learning.heldout import SplitBacktest
from leadqual.learning.learn import HeldOut
from leadqual.proposals import EvidenceBasis, Proposal, ProposalKind
from leadqual.readmodels import Digest


def title(p: Proposal) -> str:
    """A one-line summary, such as `Raise "BOM review requested" from 30 to 65 points`."""
    if p.kind is ProposalKind.RETIRE_RULE:
        return f'Retire "{p.label}" ({p.current} points)'
    if p.kind is ProposalKind.MOVE_THRESHOLD:
        return f"Raise the {p.label} {p.setting} minimum from {p.current} to {p.proposed}"
    verb = "Raise" if p.kind is ProposalKind.RAISE_POINTS else "Lower"
    return f'{verb} "{p.label}" from {p.current} to {p.proposed} points'


def evidence(p: Proposal) -> str:
    """The figures behind a proposal as a manager reads them: rates, counts, intervals, what it is worth."""
    if p.stored_words is not None:
        return p.stored_words
    try:
        if p.kind is ProposalKind.MOVE_THRESHOLD:
            words = _threshold(p)
            return f"{words} Judged on points after the rule changes above." if p.after_rule_changes else words
        return _conditional(p) if p.basis is EvidenceBasis.CONDITIONAL else _marginal(p)
    except KeyError:  # stored without the figures its kind needs (hand-made, or cut short)
        return NO_FIGURES


NO_FIGURES = "No figures were stored with this proposal."


def _n(value: float) -> int:
    return round(value)


def _points(x: float) -> str:
    """A difference of two rates in percentage points, signed."""
    return f"{100 * x:+.0f}"


def _plural(value: float, noun: str) -> str:
    shown = f"{value:.0f}"
    return f"{shown} {noun}" if shown == "1" else f"{shown} {noun}s"


def _interval(checks: int) -> str:
    return f"95% interval allowing for the {checks} checks" if checks > 1 else "95% interval"


def _marginal(p: Proposal) -> str:
    f = p.figures
    fired = _n(f["fired_qualified"] + f["fired_not_qualified"])
    other = _n(f["other_qualified"] + f["other_not_qualified"])
    where = f" in {', '.join(p.segments)}" if p.segments else ""
    words = (
        f"Fired on {fired} decided leads{where}: {pct(f['fired_rate'])} qualified vs {pct(f['other_rate'])} "
        f"of {other} where it did not fire (smoothed); {_interval(p.checks)} of the difference "
        f"{_points(f['diff_low'])} to {_points(f['diff_high'])} points."
    )
    if p.wrong_direction:
        less = f["fired_rate"] < f["other_rate"]
        return words + (
            " Leads where it fires qualify less often, not more."
            if less
            else " Leads where it fires qualify more often, not less."
        )
    if "implied_points" in f:
        words += (
            f" Weighed like the other rules, that is worth about {_plural(max(f['implied_points'], 0), 'point')} "
            f"({max(f['implied_low'], 0):.0f} to {max(f['implied_high'], 0):.0f}), not {p.current}."
        )
    return words


def _share(success: float, failure: float) -> str:
    decided = _n(success + failure)
    return f"{rate(_n(success), decided)} of {decided:,}"


def _conditional(p: Proposal) -> str:
    f = p.figures
    fired, not_fired = _n(f["fired_success"] + f["fired_failure"]), _n(f["not_fired_success"] + f["not_fired_failure"])
    words = (
        f'With the other rules held fixed, "{p.label}" multiplies the odds of success by {math.exp(f["log_odds"]):.2f} '
        f"(95% range allowing for every check {math.exp(f['log_odds_low']):.2f} to "
        f"{math.exp(f['log_odds_high']):.2f}); it fired on {fired:,} decided leads "
        f"({rate(_n(f['fired_success']), fired)} succeeded), "
        f"{rate(_n(f['not_fired_success']), not_fired)} of the {not_fired:,} where it did not."
    )
    if "implied_points" in f:
        words += (
            f" Weighed like the other rules that is worth about {f['implied_points']:.0f} points "
            f"({f['implied_low']:.0f} to {f['implied_high']:.0f}), not {p.current}."
        )
    if p.strata_with is not None:
        other = f'"{p.strata_with}"'

        def side(stratum: str, fired: str) -> str:
            key = f"strata_{stratum}_{fired}"
            return _share(f[f"{key}_success"], f[f"{key}_failure"])

        words += (
            f" Checked against {other} (they fire together most). Among leads with {other}: "
            f"{side('with_other', 'fired')} succeeded with this rule, {side('with_other', 'not_fired')} without; "
            f"among the rest: {side('without_other', 'fired')} with, {side('without_other', 'not_fired')} without."
        )
    return words


def _threshold(p: Proposal) -> str:
    f = p.figures
    below = Group(p.below).label if p.below else "the group below"
    group = _n(f["group_qualified"] + f["group_not_qualified"])
    lower = _n(f["below_qualified"] + f["below_not_qualified"])
    kept = _n(f["kept_qualified"] + f["kept_not_qualified"])
    moved = _n(f["moved_qualified"] + f["moved_not_qualified"])
    kept_diff = (
        f" (difference to {below} {_points(f['kept_diff_low'])} to {_points(f['kept_diff_high'])} points)"
        if "kept_diff_low" in f
        else ""
    )
    return (
        f"{p.label} converted {pct(f['group_rate'])} of {group} decided leads vs {pct(f['below_rate'])} of "
        f"{lower} in {below} (smoothed): no better ({_interval(p.checks)} of the difference "
        f"{_points(f['diff_low'])} to {_points(f['diff_high'])} points). Raising its {p.setting} minimum from "
        f"{p.current} to {p.proposed} keeps {kept} leads converting {pct(f['kept_rate'])}{kept_diff} and moves "
        f"{moved} converting {rate(_n(f['moved_qualified']), moved)} down."
    )


def held_out_line(figures: Mapping[str, float], *, prefix: str = "held_out_") -> str | None:
    """How a change did on the held-out weeks, from its figures; None when it was not checked on any."""
    if f"{prefix}weeks" not in figures:
        return None
    f = {k[len(prefix) :]: v for k, v in figures.items() if k.startswith(prefix)}
    return (
        f"On the last {f['weeks']:.0f} weeks (not learnt from): Priority precision {pct(f['precision_before'])} → "
        f"{pct(f['precision_after'])}, successes in Priority {f['caught_before']:.0f} → {f['caught_after']:.0f}."
    )


def backtest_summary(b: Backtest, *, limit: int = 3) -> str:
    """One line: how many leads change group and what happens to Priority."""
    scope = (
        f" (the most recently decided of {b.window}, at most {b.limit:,})"
        if b.window and b.limit
        else f" ({b.window})"
        if b.window
        else ""
    )
    head = f"Rescored {b.leads} decided leads{scope}: "
    moves = b.moves()
    if not moves:
        head += "no lead changes group."
    else:
        parts = [f"{n} {a.label} → {c.label}" for a, c, n in moves[:limit]]
        more = len(moves) - limit
        head += f"{b.moved} change group ({', '.join(parts)}{f', +{more} more' if more > 0 else ''})."
    return (
        f"{head} Priority precision {pct(b.before.precision)} → {pct(b.after.precision)}, "
        f"recall {pct(b.before.recall)} → {pct(b.after.recall)}."
    )


def _pct1(x: float) -> str:
    return f"{100 * x:.1f}%"


def _priority(held: HeldOut) -> str:
    b, a = held.before, held.after
    return (
        f"Priority precision {_pct1(b.precision)} -> {_pct1(a.precision)}, "
        f"successes in Priority {b.caught:,} -> {a.caught:,} (of {b.success:,})"
    )


def split_lines(split: SplitBacktest, *, learnt_from_window: bool) -> list[str]:
    """The backtest on the weeks learnt from and on the held-out weeks, with the held-out verdict."""
    if split.held_out is None or split.split_at is None:
        return [
            f"All {split.learnt_leads:,} decided leads of the window: {_priority(split.learnt)}.",
            "Held out: nothing (proposals.holdout_weeks: 0).",
        ]
    since = f"{split.split_at:%Y-%m-%d}"
    seen = (
        "learnt from the whole window (proposals.method: marginal), so these weeks were seen"
        if learnt_from_window
        else "not learnt from"
    )
    verdict = (
        "passes the held-out check (precision up, at least nine tenths of the catch kept)"
        if split.passes
        else "fails the held-out check (precision must rise and nine tenths of the catch stay): not proposed"
    )
    return [
        f"Weeks before {since} ({split.learnt_leads:,} decided leads, learnt from): {_priority(split.learnt)}.",
        f"Held out, the last {split.weeks} weeks from {since} ({split.held_out_leads:,} decided leads, {seen}): "
        f"{_priority(split.held_out)}.",
        f"Held-out verdict: {verdict}.",
    ]


def digest_json(digest: Digest) -> dict[str, Any]:
    """`Digest.as_json` with each proposal's title and evidence in words, as `leadbot digest --json` prints it."""
    data = digest.as_json()
    for item, change in zip(data["proposals"], digest.proposals, strict=True):
        item["title"] = title(change.proposal)
        item["evidence"] = evidence(change.proposal)
    return data
