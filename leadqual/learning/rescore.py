"""Regroup decided leads under changed points and thresholds, straight from their hits.

`leadqual.backtest` rescores lead payloads (validate, evaluate every condition): right for a
change of conditions, but about a millisecond a lead, and it needs the payloads. A proposal
only changes points, retires rules or moves a threshold, never which conditions hold, so the
hits are enough: fit and intent are sums of the rules' points over each hit pattern, clamped
to 0-100, grouped by the first threshold met and capped by the failed must-haves, as
`scoring.score` does. Over collapsed patterns that is a few thousand rows however many leads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from leadqual.groups import Group
from leadqual.learning.hits import Bool, Patterns
from leadqual.rules import RuleKind, RulesetSpec

Ranks = npt.NDArray[np.int8]


@dataclass(frozen=True, eq=False)
class Regrouped:
    """Fit, intent and group (as a rank, 0 for Priority) of each pattern under one ruleset."""

    fit: npt.NDArray[np.int64]
    intent: npt.NDArray[np.int64]
    group: Ranks

    def of(self, group: Group) -> Bool:
        return self.group == group.rank


def rescore(pat: Patterns, rules: tuple[str, ...], spec: RulesetSpec) -> Regrouped:
    """Each pattern's fit, intent and group under `spec` (whose rules are those of `rules`, or fewer)."""
    by_id = {r.id: r for r in spec.rules}
    unknown = set(by_id) - set(rules)
    if unknown:
        raise ValueError(f"cannot rescore from hits a rule they do not record: {', '.join(sorted(unknown))}")
    to_fit = np.zeros(len(rules), np.int64)
    to_intent = np.zeros(len(rules), np.int64)
    for j, rid in enumerate(rules):
        rule = by_id.get(rid)
        if rule is None:  # retired
            continue
        points = -rule.points if rule.kind is RuleKind.NEGATIVE else rule.points
        if rule.target is RuleKind.FIT:
            to_fit[j] = points
        else:
            to_intent[j] = points
    both = pat.hits_float @ np.stack([to_fit, to_intent], axis=1).astype(np.float64)  # sums of ints: exact
    fit = np.clip(both[:, 0].round().astype(np.int64), 0, 100)
    intent = np.clip(both[:, 1].round().astype(np.int64), 0, 100)
    group = np.full(len(fit), Group.POOR_FIT.rank, np.int8)
    for g, t in reversed(list(spec.groups.items())):  # first match wins: the earliest writes last
        group[(fit >= t.fit) & (intent >= t.intent)] = g.rank
    return Regrouped(fit, intent, np.maximum(group, pat.cap).astype(np.int8))


@dataclass(frozen=True, slots=True)
class PriorityFigures:
    """How well Priority picks successful leads: precision (its success share) and what it catches."""

    priority: int  # decided leads in Priority
    caught: int  # ... of which succeeded
    success: int  # every successful decided lead

    @property
    def precision(self) -> float:
        return self.caught / self.priority if self.priority else 0.0

    @property
    def recall(self) -> float:
        return self.caught / self.success if self.success else 0.0


def priority_figures(pat: Patterns, regrouped: Regrouped) -> PriorityFigures:
    """Priority's precision and catch over collapsed patterns."""
    top = regrouped.of(Group.PRIORITY)
    return PriorityFigures(int(pat.leads[top].sum()), int(pat.success[top].sum()), int(pat.success.sum()))


def with_changes(
    spec: RulesetSpec,
    *,
    points: dict[str, int | None] | None = None,
    thresholds: dict[tuple[Group, str], int] | None = None,
) -> RulesetSpec:
    """`spec` with rules' points changed (None retires the rule) and group minimums moved.

    Copies without re-validating (a validation costs more than a rescoring of every pattern):
    the points come from `points` (0-100, a zero is a retirement) and the minimums from the
    threshold search (steps of 5 below 100), both inside what validation allows.
    """
    points = points or {}
    rules = [
        r if r.id not in points else r.model_copy(update={"points": points[r.id]})
        for r in spec.rules
        if not (r.id in points and points[r.id] is None)
    ]
    groups = dict(spec.groups)
    for (group, setting), value in (thresholds or {}).items():
        groups[group] = groups[group].model_copy(update={setting: value})
    return spec.model_copy(update={"rules": rules, "groups": groups})
