"""Judging the evidence: which rules' points and which group thresholds the decided leads say to change.

See the package docstring (leadqual.proposals) for how a rule and a threshold are judged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from statistics import median

from leadqual.config import ProposalSettings
from leadqual.groups import Group
from leadqual.proposals.model import Evidence, Proposal, ProposalKind, ScoreCell, Tally, proposal_id
from leadqual.proposals.statistics import Contrast, contrast, family_z
from leadqual.rules import GroupThreshold, RuleKind, RulesetSpec, RuleSpec

TOLERANCE = 1.25  # the interval must clear the current points by this factor
MIN_STEP = 5  # proposed points and thresholds move in steps of 5
MIN_CALIBRATION_RULES = 3


@dataclass(frozen=True, slots=True)
class _Bar:
    """What every comparison of one digest shares: the prior, its strength, the interval's z."""

    prior: float
    strength: float
    min_decided: int
    z: float
    checks: int

    def contrast(self, a: Tally, b: Tally, *, prior: float | None = None) -> Contrast:
        return contrast(a, b, prior=self.prior if prior is None else prior, strength=self.strength, z=self.z)


@dataclass(frozen=True, slots=True)
class _RuleEvidence:
    rule: RuleSpec
    sign: int  # +1 for bonus rules, -1 for negative rules
    c: Contrast  # on smoothed counts
    raw: Contrast  # on counts with a single pseudo-lead (see _judge_rule)

    @property
    def effect(self) -> tuple[float, float, float]:
        """The log odds ratio and its interval, turned so that the expected direction is positive."""
        return _oriented(self.c, self.sign)

    @property
    def raw_effect(self) -> tuple[float, float, float]:
        return _oriented(self.raw, self.sign)


def _oriented(c: Contrast, sign: int) -> tuple[float, float, float]:
    lo, mid, hi = c.log_odds_low, c.log_odds, c.log_odds_high
    return (lo, mid, hi) if sign > 0 else (-hi, -mid, -lo)


def _testable_rules(spec: RulesetSpec, ev: Evidence, min_decided: int) -> list[tuple[RuleSpec, Tally, Tally]]:
    """Rules with points and `min_decided` decided leads both where they fired and where they did not."""
    out = []
    for rule in spec.rules:
        if rule.points == 0:  # timing rules that only mark urgency score nothing to tune
            continue
        fired = ev.rules.get(rule.id, Tally())
        pool = sum((ev.segments.get(s, Tally()) for s in rule.segments), Tally()) if rule.segments else ev.uncapped
        other = pool - fired
        if fired.decided >= min_decided and other.decided >= min_decided:
            out.append((rule, fired, other))
    return out


def _scale(evidence: Iterable[_RuleEvidence]) -> float | None:
    """Points per unit of log odds: the median over rules whose effect is clearly in their direction."""
    ratios = [e.rule.points / e.effect[1] for e in evidence if e.effect[0] > 0]
    return median(ratios) if len(ratios) >= MIN_CALIBRATION_RULES else None


def _clearance(margin: float, low: float, high: float) -> float:
    """How far an interval clears its bar, in half-widths of the interval (orders the digest)."""
    return margin / max((high - low) / 2, 1e-9)


def _round_points(value: float) -> int:
    return int(min(100, max(0, MIN_STEP * round(value / MIN_STEP))))


def _rule_figures(e: _RuleEvidence, scale: float | None) -> dict[str, float]:
    c = e.c
    figures = {
        "fired_qualified": c.a.qualified,
        "fired_not_qualified": c.a.not_qualified,
        "other_qualified": c.b.qualified,
        "other_not_qualified": c.b.not_qualified,
        "fired_rate": round(c.rate_a, 4),
        "other_rate": round(c.rate_b, 4),
        "diff_low": round(c.diff_low, 4),
        "diff_high": round(c.diff_high, 4),
        "odds_ratio": round(math.exp(c.log_odds), 3),
        "odds_ratio_low": round(math.exp(c.log_odds_low), 3),
        "odds_ratio_high": round(math.exp(c.log_odds_high), 3),
    }
    if scale is not None:
        lo, mid, hi = e.effect
        figures |= {
            "implied_points": round(scale * mid, 1),
            "implied_low": round(scale * lo, 1),
            "implied_high": round(scale * hi, 1),
            "points_per_log_odds": round(scale, 2),
        }
    return figures


def _judge_rule(e: _RuleEvidence, scale: float | None, bar: _Bar, version: int) -> Proposal | None:
    rule, points = e.rule, e.rule.points
    lo, mid, hi = e.effect
    kind: ProposalKind | None = None
    proposed: int | None = None
    strength = 0.0
    wrong_direction = hi < 0
    if wrong_direction:
        kind, strength = ProposalKind.RETIRE_RULE, _clearance(0.0 - hi, lo, hi)
    elif scale is not None:
        implied, low, high = scale * mid, scale * lo, scale * hi
        target = _round_points(implied)
        if low > points * TOLERANCE and target >= points + MIN_STEP:
            kind, proposed = ProposalKind.RAISE_POINTS, target
            strength = _clearance(low - points * TOLERANCE, low, high)
        # The prior pulls a small sample towards the overall rate, so every rule looks weaker on
        # smoothed counts: caution before raising, but no evidence for lowering. A lowering
        # must also hold on the counts as they are (one pseudo-lead against zeros).
        elif high < points / TOLERANCE and scale * e.raw_effect[2] < points / TOLERANCE and target <= points - MIN_STEP:
            strength = _clearance(points / TOLERANCE - high, low, high)
            kind, proposed = (ProposalKind.LOWER_POINTS, target) if target > 0 else (ProposalKind.RETIRE_RULE, None)
    if kind is None:
        return None
    return Proposal(
        id=proposal_id(version, kind, rule.id, "points", proposed),
        kind=kind,
        target=rule.id,
        label=rule.label,
        setting="points",
        current=points,
        proposed=proposed,
        ruleset_version=version,
        figures=_rule_figures(e, scale),
        strength=round(strength, 4),
        checks=bar.checks,
        segments=tuple(rule.segments or ()),
        wrong_direction=wrong_direction,
    )


# --- group thresholds --------------------------------------------------------------------------


def _group_pairs(spec: RulesetSpec, ev: Evidence, min_decided: int) -> list[tuple[Group, Group, Tally, Tally]]:
    """Each group with the one ranked below it, where both have `min_decided` decided leads."""
    groups = ev.groups()
    ordered = [g for g in Group if g in spec.groups]
    pairs = []
    for upper, lower in pairwise(ordered):
        up, down = groups.get(upper, Tally()), groups.get(lower, Tally())
        if up.decided >= min_decided and down.decided >= min_decided:
            pairs.append((upper, lower, up, down))
    return pairs


def _judge_threshold(
    spec: RulesetSpec, pair: tuple[Group, Group, Tally, Tally], cells: Sequence[ScoreCell], bar: _Bar, version: int
) -> Proposal | None:
    upper, lower, up, down = pair
    c = bar.contrast(up, down)
    if c.diff > 0:  # it converts better than the group below: nothing to move
        return None
    move = _best_move(spec.groups[upper], upper, down, cells, bar)
    if move is None:
        return None
    setting, current, proposed, kept, moved, kc = move
    kind = ProposalKind.MOVE_THRESHOLD
    return Proposal(
        id=proposal_id(version, kind, upper.value, setting, proposed),
        kind=kind,
        target=upper.value,
        label=upper.label,
        setting=setting,
        current=current,
        proposed=proposed,
        ruleset_version=version,
        figures={
            "group_qualified": up.qualified,
            "group_not_qualified": up.not_qualified,
            "below_qualified": down.qualified,
            "below_not_qualified": down.not_qualified,
            "group_rate": round(c.rate_a, 4),
            "below_rate": round(c.rate_b, 4),
            "diff_low": round(c.diff_low, 4),
            "diff_high": round(c.diff_high, 4),
            "kept_qualified": kept.qualified,
            "kept_not_qualified": kept.not_qualified,
            "moved_qualified": moved.qualified,
            "moved_not_qualified": moved.not_qualified,
            "kept_rate": round(kc.rate_a, 4),
            "kept_diff_low": round(kc.diff_low, 4),
            "kept_diff_high": round(kc.diff_high, 4),
        },
        strength=round(_clearance(kc.diff_low, kc.diff_low, kc.diff_high), 4),
        checks=bar.checks,
        below=lower.value,
    )


def _best_move(
    threshold: GroupThreshold, group: Group, below: Tally, cells: Sequence[ScoreCell], bar: _Bar
) -> tuple[str, int, int, Tally, Tally, Contrast] | None:
    """The raise of fit or intent that best splits the group, if its bottom part belongs below.

    The split is the one a decision tree would pick (largest likelihood of two rates); it is
    proposed when the leads it moves convert no better than the group below and the leads
    it keeps convert better than the group below, with the whole interval above zero.
    """
    mine = [c for c in cells if c.group is group]
    best: tuple[float, str, int, int, Tally, Tally] | None = None
    for setting in ("fit", "intent"):
        current = getattr(threshold, setting)
        for t in range(MIN_STEP * (current // MIN_STEP + 1), 100, MIN_STEP):
            kept = sum((c.tally for c in mine if getattr(c, setting) >= t), Tally())
            moved = sum((c.tally for c in mine if getattr(c, setting) < t), Tally())
            if kept.decided < bar.min_decided:
                break
            if moved.decided < bar.min_decided:
                continue
            fit = _log_likelihood(kept) + _log_likelihood(moved)
            if best is None or fit > best[0]:
                best = (fit, setting, current, t, kept, moved)
    if best is None:
        return None
    _, setting, current, t, kept, moved = best
    kc = bar.contrast(kept, below)
    if kc.diff_low <= 0 or bar.contrast(moved, below).diff > 0:
        return None
    return setting, current, t, kept, moved, kc


def _log_likelihood(t: Tally) -> float:
    p = (t.qualified + 0.5) / (t.decided + 1)
    return t.qualified * math.log(p) + t.not_qualified * math.log(1 - p)


# --- entry points ------------------------------------------------------------------------------


def propose(spec: RulesetSpec, *, version: int, evidence: Evidence, settings: ProposalSettings) -> list[Proposal]:
    """Every change the evidence supports, strongest first; nothing where the evidence is weak.

    Every interval holds for all the checks of one digest at once (Bonferroni), so checking
    thirty rules does not turn chance into a proposal.
    """
    n = settings.min_decided
    uncapped, overall = evidence.uncapped, evidence.overall
    rules = _testable_rules(spec, evidence, n) if uncapped.qualified and uncapped.not_qualified else []
    pairs = _group_pairs(spec, evidence, n) if overall.qualified and overall.not_qualified else []
    checks = len(rules) + len(pairs)
    if not checks:
        return []
    z = family_z(checks)
    rule_bar = _Bar(evidence.uncapped.rate, settings.prior_strength, n, z, checks)
    judged = [
        _RuleEvidence(
            rule,
            -1 if rule.kind is RuleKind.NEGATIVE else 1,
            rule_bar.contrast(fired, other),
            contrast(fired, other, prior=rule_bar.prior, strength=1.0, z=z),
        )
        for rule, fired, other in rules
    ]
    scale = _scale(judged)
    found = [p for e in judged if (p := _judge_rule(e, scale, rule_bar, version)) is not None]
    group_bar = _Bar(evidence.overall.rate, settings.prior_strength, n, z, checks)
    found += [p for pair in pairs if (p := _judge_threshold(spec, pair, evidence.cells, group_bar, version))]
    return sorted(found, key=lambda p: -p.strength)
