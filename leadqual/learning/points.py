"""Points from conditional effects, as a scorecard does, and the changes the evidence supports.

A rule's points should be proportional to its effect on the log odds of success. The exchange
rate (points per unit of log odds) is read from the current ruleset, as today: the median of
points / effect over the rules whose whole interval lies in their intended direction, so a
change says which rules are out of line with the others, never how the whole ruleset should
score. A change is proposed only where both sides have `min_decided` decided leads and the
whole interval, in points, lies beyond a 25% tolerance around the current points (and the
change is at least 5 points); a bonus rule whose whole interval is below zero (a negative
rule's above) is retired. The ridge penalty shrinks every effect towards zero, so a lowering
must also hold on a nearly unpenalised fit (one pseudo lead), as today's lowering must hold on
the raw counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from statistics import median

from leadqual.learning.effects import Effects, RuleEffect, oriented
from leadqual.rules import RulesetSpec

TOLERANCE = 1.25
MIN_STEP = 5
MIN_CALIBRATION_RULES = 3


class ChangeKind(StrEnum):
    """The same values as proposals.ProposalKind, so a change converts to a proposal by value."""

    RAISE_POINTS = "raise_points"
    LOWER_POINTS = "lower_points"
    RETIRE_RULE = "retire_rule"


@dataclass(frozen=True, slots=True)
class RuleChange:
    """A proposed change of one rule's points, with the effect behind it."""

    rule: str
    label: str
    kind: ChangeKind
    current: int
    proposed: int | None  # None: retire
    effect: RuleEffect
    scale: float | None  # points per unit of log odds (None when it could not be calibrated)
    implied: float  # points the effect is worth on that scale (0 when no scale)
    implied_low: float
    implied_high: float
    strength: float  # how far the interval clears the bar, in half-widths; orders the digest


def points_per_log_odds(effects: Effects, spec: RulesetSpec, *, min_decided: int) -> float | None:
    """The median of points / effect over rules with enough leads and an interval in their direction."""
    ratios = []
    for rule in spec.rules:
        e = effects.effects.get(rule.id)
        if rule.points == 0 or e is None or not _enough(e, min_decided):
            continue
        low, mid, _ = oriented(e, rule.kind)
        if low > 0:
            ratios.append(rule.points / mid)
    return median(ratios) if len(ratios) >= MIN_CALIBRATION_RULES else None


def _enough(e: RuleEffect, min_decided: int) -> bool:
    return e.fired.decided >= min_decided and e.not_fired.decided >= min_decided


def _round(value: float) -> int:
    return int(min(100, max(0, MIN_STEP * round(value / MIN_STEP))))


def _clearance(margin: float, low: float, high: float) -> float:
    return margin / max((high - low) / 2, 1e-9)


def rule_changes(
    effects: Effects, spec: RulesetSpec, *, min_decided: int, raw: Effects | None = None
) -> list[RuleChange]:
    """Every points change the conditional effects support, strongest first.

    `raw` is the same fit with one pseudo lead of penalty (`prior_strength=1`): a lowering must
    hold there too, so that shrinkage alone never lowers a rule.
    """
    scale = points_per_log_odds(effects, spec, min_decided=min_decided)
    out = []
    for rule in spec.rules:
        e = effects.effects.get(rule.id)
        if rule.points == 0 or e is None or not _enough(e, min_decided):
            continue
        low, mid, high = oriented(e, rule.kind)
        points = rule.points
        kind: ChangeKind | None = None
        proposed: int | None = None
        strength = 0.0
        implied = (scale * mid, scale * low, scale * high) if scale is not None else (0.0, 0.0, 0.0)
        if high < 0:
            kind, strength = ChangeKind.RETIRE_RULE, _clearance(-high, low, high)
        elif scale is not None:
            target = _round(implied[0])
            raw_e = raw.effects.get(rule.id) if raw is not None else None
            raw_high = oriented(raw_e, rule.kind)[2] if raw_e is not None else high
            if implied[1] > points * TOLERANCE and target >= points + MIN_STEP:
                kind, proposed = ChangeKind.RAISE_POINTS, target
                strength = _clearance(implied[1] - points * TOLERANCE, implied[1], implied[2])
            elif (
                implied[2] < points / TOLERANCE
                and scale * raw_high < points / TOLERANCE
                and target <= points - MIN_STEP
            ):
                strength = _clearance(points / TOLERANCE - implied[2], implied[1], implied[2])
                kind, proposed = (ChangeKind.LOWER_POINTS, target) if target > 0 else (ChangeKind.RETIRE_RULE, None)
        if kind is not None:
            out.append(
                RuleChange(
                    rule.id,
                    rule.label,
                    kind,
                    points,
                    proposed,
                    e,
                    scale,
                    round(implied[0], 1),
                    round(implied[1], 1),
                    round(implied[2], 1),
                    round(strength, 4),
                )
            )
    return sorted(out, key=lambda c: -c.strength)
