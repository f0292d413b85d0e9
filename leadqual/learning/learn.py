"""The learning loop: fit on the older weeks, propose, check on the most recent weeks, then thresholds.

1. Split decided leads by when they were received: the most recent `holdout_weeks` of the
   window are held out; everything older is what the proposals are learnt from.
2. On the older part: conditional effects (`effects`), point changes (`points`), and for each
   change the strata a manager can check by hand (`strata`).
3. Each change is applied on its own to the held-out leads (rescored from their hits,
   `rescore`): it is kept only if Priority's precision (its success share) rises without
   Priority losing more than `max_catch_loss` (a tenth) of the successful leads it catches.
4. Thresholds are judged after the kept rule changes, on the older leads rescored under them
   (today's best-split search, `proposals.propose` on the rescored cells), then checked on
   the held-out leads the same way, against the ruleset with the rule changes.
5. The result carries the held-out figures, before and after, of every change and of all the
   kept changes together, for the digest and the backtest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from leadqual.config import ProposalSettings
from leadqual.groups import Group
from leadqual.learning.effects import Effects, effects_from_patterns
from leadqual.learning.hits import Bool, HitMatrix, Patterns, patterns
from leadqual.learning.marginal import score_cells
from leadqual.learning.points import ChangeKind, RuleChange, rule_changes
from leadqual.learning.rescore import PriorityFigures, priority_figures, rescore, with_changes
from leadqual.learning.strata import StrataEvidence, strata_evidence
from leadqual.proposals import Evidence, Proposal, ProposalKind, Tally, propose
from leadqual.rules import RulesetSpec

MAX_CATCH_LOSS = 0.1


@dataclass(frozen=True, slots=True)
class HeldOut:
    """Priority on the held-out weeks before and after a change."""

    before: PriorityFigures
    after: PriorityFigures

    def improves(self, today: PriorityFigures | None = None, *, max_catch_loss: float = MAX_CATCH_LOSS) -> bool:
        """Higher precision, and no more than `max_catch_loss` of the successes Priority catches lost.

        The catch is compared with `today`'s (the current rules), by default with `before`'s.
        """
        reference = today or self.before
        return (
            self.after.precision > self.before.precision
            and self.after.caught >= (1 - max_catch_loss) * reference.caught
        )


@dataclass(frozen=True, slots=True)
class CheckedChange:
    """A points change learnt on the older weeks, with its strata and its held-out figures."""

    change: RuleChange
    strata: StrataEvidence | None
    held_out: HeldOut | None  # None when nothing was held out
    kept: bool


@dataclass(frozen=True, slots=True)
class CheckedThreshold:
    """A threshold move judged on points after the kept rule changes, with its held-out figures."""

    proposal: Proposal
    held_out: HeldOut | None
    kept: bool

    @property
    def group(self) -> Group:
        return Group(self.proposal.target)


@dataclass(frozen=True)
class Learning:
    """What one run of the loop proposes, and how it did on the held-out weeks."""

    effects: Effects  # fitted on the older weeks
    changes: tuple[CheckedChange, ...]  # every points change, kept or dropped, strongest first
    thresholds: tuple[CheckedThreshold, ...]
    held_out: HeldOut | None  # every kept change together vs the current rules
    split_at: datetime | None  # leads received from here on were held out
    fit_leads: int
    held_out_leads: int
    proposed_spec: RulesetSpec  # the current rules with every kept change applied

    @property
    def kept(self) -> tuple[CheckedChange, ...]:
        return tuple(c for c in self.changes if c.kept)

    @property
    def dropped(self) -> tuple[CheckedChange, ...]:
        return tuple(c for c in self.changes if not c.kept)


def split(hits: HitMatrix, *, end: datetime, holdout_weeks: int) -> tuple[Bool, datetime | None]:
    """A mask of the leads received in the last `holdout_weeks` before `end`, and where it starts.

    `holdout_weeks=0`: nothing is held out (an all-false mask, no start).
    """
    if holdout_weeks <= 0:
        return np.zeros(len(hits), dtype=bool), None
    at = end - timedelta(weeks=holdout_weeks)
    return hits.received >= int(at.timestamp()), at


def points_of(changes: tuple[CheckedChange, ...] | list[CheckedChange]) -> dict[str, int | None]:
    return {c.change.rule: (None if c.change.kind is ChangeKind.RETIRE_RULE else c.change.proposed) for c in changes}


def _scoring_key(spec: RulesetSpec) -> tuple[object, ...]:
    """What rescoring from hits depends on: each rule's points and kind, and the group minimums."""
    return (
        tuple((r.id, r.points, r.kind, r.target) for r in spec.rules),
        tuple((g, t.fit, t.intent) for g, t in spec.groups.items()),
    )


class _HeldOutFigures:
    """Priority on the held-out patterns under a ruleset, each ruleset rescored once.

    Changes are tried one on top of another, so the "before" of one is the "after" (or the
    "before") of the last: remembering them halves the rescoring.
    """

    def __init__(self, test: Patterns | None, rules: tuple[str, ...]) -> None:
        self.test, self.rules = test, rules
        self._seen: dict[tuple[object, ...], PriorityFigures] = {}

    def of(self, spec: RulesetSpec) -> PriorityFigures | None:
        if self.test is None:
            return None
        key = _scoring_key(spec)
        if key not in self._seen:
            self._seen[key] = priority_figures(self.test, rescore(self.test, self.rules, spec))
        return self._seen[key]

    def held_out(self, before: RulesetSpec, after: RulesetSpec) -> HeldOut | None:
        a, b = self.of(before), self.of(after)
        return None if a is None or b is None else HeldOut(a, b)


def learn(
    hits: HitMatrix,
    success: Bool,
    spec: RulesetSpec,
    *,
    version: int,
    settings: ProposalSettings,
    end: datetime,
    holdout_weeks: int = 3,
    max_catch_loss: float = MAX_CATCH_LOSS,
) -> Learning:
    """Learn points changes and threshold moves on the older weeks, keep those the recent weeks confirm.

    `success` is one boolean per lead of `hits` (qualified, opportunity or won); `end` is the
    end of the window. `holdout_weeks=0` skips the check (every change is kept, no figures).
    """
    success = np.asarray(success, dtype=bool)
    recent, split_at = split(hits, end=end, holdout_weeks=holdout_weeks)
    older = hits.take(~recent)
    train = patterns(older, success[~recent])
    test = patterns(hits.take(recent), success[recent]) if holdout_weeks > 0 else None
    effects = effects_from_patterns(train, older, spec, prior_strength=settings.prior_strength)
    found = rule_changes(effects, spec, min_decided=settings.min_decided)
    if any(c.kind is not ChangeKind.RAISE_POINTS for c in found):  # a lowering must hold on the raw fit too
        raw = effects_from_patterns(train, older, spec, prior_strength=1.0, checks=effects.checks, warm=effects)
        found = rule_changes(effects, spec, min_decided=settings.min_decided, raw=raw)
    held_out = _HeldOutFigures(test, hits.rules)
    base = held_out.of(spec)
    accepted: list[CheckedChange] = []
    checked = []
    for change in found:
        # Strongest first, each on top of the stronger changes already kept: that is the order a
        # manager applies them in, and a raise can make room for a lowering (or the reverse).
        before = with_changes(spec, points=points_of(accepted))
        after = with_changes(spec, points=points_of([*accepted, CheckedChange(change, None, None, True)]))
        held = held_out.held_out(before, after)
        one = CheckedChange(
            change,
            strata_evidence(train, hits.rules, hits.segments, spec, change.rule),
            held,
            held is None or held.improves(base, max_catch_loss=max_catch_loss),
        )
        checked.append(one)
        if one.kept:
            accepted.append(one)
    changed = with_changes(spec, points=points_of(accepted))
    thresholds = []
    moves: dict[tuple[Group, str], int] = {}
    for proposal in _threshold_proposals(train, hits.rules, changed, version=version, settings=settings):
        assert proposal.proposed is not None
        key = (Group(proposal.target), proposal.setting)
        held = held_out.held_out(
            with_changes(changed, thresholds=moves),
            with_changes(changed, thresholds=moves | {key: proposal.proposed}),
        )
        kept = held is None or held.improves(base, max_catch_loss=max_catch_loss)
        thresholds.append(CheckedThreshold(proposal, held, kept))
        if kept:
            moves[key] = proposal.proposed
    final = with_changes(changed, thresholds=moves)
    return Learning(
        effects,
        tuple(checked),
        tuple(thresholds),
        held_out.held_out(spec, final),
        split_at,
        len(older),
        int(recent.sum()),
        final,
    )


def _threshold_proposals(
    train: Patterns, rules: tuple[str, ...], spec: RulesetSpec, *, version: int, settings: ProposalSettings
) -> list[Proposal]:
    """Today's threshold search on the older leads rescored under `spec` (the rules after their changes)."""
    cells = score_cells(train, rules, spec)
    overall = Tally(int(train.success.sum()), int(train.failure.sum()))
    cells_only = Evidence(overall, {}, {}, cells)  # rules are judged by `effects`, not here
    return [
        p
        for p in propose(spec, version=version, evidence=cells_only, settings=settings)
        if p.kind is ProposalKind.MOVE_THRESHOLD
    ]
