"""Rule proposals from decided leads: raise, lower or retire a rule's points, move a group threshold.

Pure functions over counts (no database). Only the closed outcomes count: Qualified and Not
qualified; open outcomes (Nurture, Needs info) are not counted. ("Won" is kept for a closed
deal, once pipeline outcomes arrive.)

How a rule is judged
--------------------
- Rates are smoothed with a Beta prior centred on the overall qualification rate and worth
  `prior_strength` leads (Odoo's lead scoring adds a flat pseudo-count instead; centring the
  prior on the overall rate pulls small samples towards what is typical, not towards 50%).
- A rule's effect is the log odds ratio of qualifying where it fired vs where it did not (within
  its segments, for segment rules), on the smoothed counts, with Woolf's 95% interval
  (standard error sqrt(1/a + 1/b + 1/c + 1/d)); the digest also shows Newcombe's interval
  for the plain difference of the two rates, which is how people read it.
- Points are read as weight of evidence, as in a credit scorecard: a rule's points should be
  proportional to its log odds ratio. The scale (points per unit of log odds) is the median
  over the rules with clear evidence, so a proposal says which rules are out of line with
  the others, never what the whole ruleset "should" score.
- Leads that fail a must-have are left out of a rule's counts: the must-have caps their group
  whatever their points, and counting them would credit the rules that correlate with the
  must-have (a supported-country bonus) with the must-have's effect.
- A change is proposed only when both sides have `min_decided` decided leads, the whole 95%
  interval lies beyond a 25% tolerance around the current points, and the change is at
  least 5 points. A rule whose leads convert the wrong way (a bonus rule whose leads
  qualify less often, with the whole interval below zero) is proposed for retirement.
- Counts are marginal: a rule that usually fires together with a stronger one borrows some
  of its credit. The backtest shows what a change would really do before anyone applies it.

How a group threshold is judged
-------------------------------
When a group converts no better than the group below it (smoothed rates), the loop splits
the group where its own leads separate best (a raise of its fit or intent minimum, in steps
of 5, as a decision tree would pick it). The raise is proposed when the leads it would move
convert no better than the group below and the leads it keeps convert better than the group
below with the whole interval above zero, each side with `min_decided` decided leads.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise
from statistics import NormalDist, median
from typing import Any

from leadqual.config import ProposalSettings
from leadqual.groups import Group
from leadqual.rules import GroupThreshold, RuleKind, RulesetSpec, RuleSpec

Z95 = 1.959964
TOLERANCE = 1.25     # the interval must clear the current points by this factor
MIN_STEP = 5         # proposed points and thresholds move in steps of 5
MIN_CALIBRATION_RULES = 3


class ProposalKind(StrEnum):
    RAISE_POINTS = "raise_points"
    LOWER_POINTS = "lower_points"
    RETIRE_RULE = "retire_rule"
    MOVE_THRESHOLD = "move_threshold"


@dataclass(frozen=True, slots=True)
class Tally:
    """Decided leads: how many were qualified and how many not qualified."""

    qualified: int = 0
    not_qualified: int = 0

    @property
    def decided(self) -> int:
        return self.qualified + self.not_qualified

    @property
    def rate(self) -> float:
        return self.qualified / self.decided if self.decided else 0.0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.qualified + other.qualified, self.not_qualified + other.not_qualified)

    def __sub__(self, other: Tally) -> Tally:
        return Tally(max(0, self.qualified - other.qualified), max(0, self.not_qualified - other.not_qualified))


@dataclass(frozen=True, slots=True)
class ScoreCell:
    """Decided leads that landed in one group with one fit and intent score."""

    group: Group
    fit: int
    intent: int
    tally: Tally


@dataclass(frozen=True)
class Evidence:
    """What the proposals learn from: decided leads of one window, counted by the database."""

    overall: Tally                             # every decided lead of the window
    rules: Mapping[str, Tally]                 # decided leads passing every must-have, where each rule fired
    segments: Mapping[str | None, Tally]       # decided leads passing every must-have, by segment
    cells: Sequence[ScoreCell] = ()            # every decided lead, by group, fit and intent

    @property
    def uncapped(self) -> Tally:
        """Decided leads that pass every must-have: the ones whose group their points decide."""
        return sum(self.segments.values(), Tally())

    def groups(self) -> dict[Group, Tally]:
        out: dict[Group, Tally] = {}
        for cell in self.cells:
            out[cell.group] = out.get(cell.group, Tally()) + cell.tally
        return out


@dataclass(frozen=True)
class Proposal:
    """One proposed change, with the figures behind it in plain words."""

    id: str
    kind: ProposalKind
    target: str                 # rule id, or group value for thresholds
    label: str
    setting: str                # "points", or "fit" / "intent" for thresholds
    current: int
    proposed: int | None        # None when retiring a rule
    ruleset_version: int
    evidence: str
    figures: dict[str, float] = field(default_factory=dict)
    strength: float = 0.0       # how far the interval clears the bar, in half-widths; orders the digest

    @property
    def title(self) -> str:
        """A one-line summary, such as `Raise "BOM review requested" from 30 to 65 points`."""
        if self.kind is ProposalKind.RETIRE_RULE:
            return f'Retire "{self.label}" ({self.current} points)'
        if self.kind is ProposalKind.MOVE_THRESHOLD:
            return f"Raise the {self.label} {self.setting} minimum from {self.current} to {self.proposed}"
        verb = "Raise" if self.kind is ProposalKind.RAISE_POINTS else "Lower"
        return f'{verb} "{self.label}" from {self.current} to {self.proposed} points'

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind.value, "target": self.target, "label": self.label,
                "setting": self.setting, "current": self.current, "proposed": self.proposed,
                "ruleset_version": self.ruleset_version, "title": self.title, "evidence": self.evidence,
                "figures": dict(self.figures), "strength": self.strength}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Proposal:
        return cls(id=data["id"], kind=ProposalKind(data["kind"]), target=data["target"], label=data["label"],
                   setting=data["setting"], current=int(data["current"]),
                   proposed=None if data.get("proposed") is None else int(data["proposed"]),
                   ruleset_version=int(data["ruleset_version"]), evidence=data["evidence"],
                   figures=dict(data.get("figures", {})), strength=float(data.get("strength", 0.0)))


def proposal_id(version: int, kind: ProposalKind, target: str, setting: str, proposed: int | None) -> str:
    """A stable id: the same change to the same ruleset version always gets the same id."""
    digest = hashlib.sha1(f"{version}:{kind.value}:{target}:{setting}:{proposed}".encode()).hexdigest()
    return f"p-{digest[:6]}"


# --- statistics --------------------------------------------------------------------------------

def smoothed_rate(t: Tally, *, prior: float, strength: float) -> float:
    """Posterior mean under a Beta prior centred on `prior` and worth `strength` leads."""
    return (t.qualified + strength * prior) / (t.decided + strength)


def wilson(p: float, n: float, *, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval (95% by default) for a proportion `p` observed on `n` leads."""
    if n <= 0:
        return 0.0, 1.0
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(p1: float, n1: float, p2: float, n2: float, *, z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 - p2, built from two Wilson intervals."""
    l1, u1 = wilson(p1, n1, z=z)
    l2, u2 = wilson(p2, n2, z=z)
    d = p1 - p2
    return d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


@dataclass(frozen=True, slots=True)
class Contrast:
    """Two groups of decided leads compared on smoothed counts."""

    a: Tally
    b: Tally
    rate_a: float
    rate_b: float
    diff_low: float
    diff_high: float
    log_odds: float
    log_odds_low: float
    log_odds_high: float

    @property
    def diff(self) -> float:
        return self.rate_a - self.rate_b


def family_z(checks: int, *, level: float = 0.95) -> float:
    """The z of a two-sided interval that holds for all `checks` at once (Bonferroni)."""
    return NormalDist().inv_cdf(1 - (1 - level) / (2 * max(1, checks)))


def contrast(a: Tally, b: Tally, *, prior: float, strength: float, z: float = Z95) -> Contrast:
    """Compare `a` with `b`: smoothed rates, Newcombe difference interval, Woolf log odds ratio."""
    qualified_a, not_qualified_a = a.qualified + strength * prior, a.not_qualified + strength * (1 - prior)
    qualified_b, not_qualified_b = b.qualified + strength * prior, b.not_qualified + strength * (1 - prior)
    rate_a, rate_b = qualified_a / (qualified_a + not_qualified_a), qualified_b / (qualified_b + not_qualified_b)
    low, high = newcombe(rate_a, qualified_a + not_qualified_a, rate_b, qualified_b + not_qualified_b, z=z)
    log_odds = math.log(qualified_a * not_qualified_b / (not_qualified_a * qualified_b))
    se = math.sqrt(1 / qualified_a + 1 / not_qualified_a + 1 / qualified_b + 1 / not_qualified_b)
    return Contrast(a, b, rate_a, rate_b, low, high, log_odds, log_odds - z * se, log_odds + z * se)


# --- rules -------------------------------------------------------------------------------------

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

    @property
    def interval(self) -> str:
        return f"95% interval allowing for the {self.checks} checks" if self.checks > 1 else "95% interval"


@dataclass(frozen=True, slots=True)
class _RuleEvidence:
    rule: RuleSpec
    sign: int            # +1 for bonus rules, -1 for negative rules
    c: Contrast          # on smoothed counts
    raw: Contrast        # on counts with a single pseudo-lead (see _judge_rule)

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


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _plural(value: float, noun: str) -> str:
    shown = f"{value:.0f}"
    return f"{shown} {noun}" if shown == "1" else f"{shown} {noun}s"


def _points(x: float) -> str:
    return f"{100 * x:+.0f}"


def _rule_words(e: _RuleEvidence, bar: _Bar) -> str:
    c = e.c
    where = f" in {', '.join(e.rule.segments)}" if e.rule.segments else ""
    return (f"Fired on {c.a.decided} decided leads{where}: {_pct(c.rate_a)} qualified vs {_pct(c.rate_b)} "
            f"of {c.b.decided} where it did not fire (smoothed); {bar.interval} of the difference "
            f"{_points(c.diff_low)} to {_points(c.diff_high)} points.")


def _rule_figures(e: _RuleEvidence, scale: float | None) -> dict[str, float]:
    c = e.c
    figures = {"fired_qualified": c.a.qualified, "fired_not_qualified": c.a.not_qualified,
               "other_qualified": c.b.qualified, "other_not_qualified": c.b.not_qualified,
               "fired_rate": round(c.rate_a, 4), "other_rate": round(c.rate_b, 4),
               "diff_low": round(c.diff_low, 4), "diff_high": round(c.diff_high, 4),
               "odds_ratio": round(math.exp(c.log_odds), 3), "odds_ratio_low": round(math.exp(c.log_odds_low), 3),
               "odds_ratio_high": round(math.exp(c.log_odds_high), 3)}
    if scale is not None:
        lo, mid, hi = e.effect
        figures |= {"implied_points": round(scale * mid, 1), "implied_low": round(scale * lo, 1),
                    "implied_high": round(scale * hi, 1), "points_per_log_odds": round(scale, 2)}
    return figures


def _judge_rule(e: _RuleEvidence, scale: float | None, bar: _Bar, version: int) -> Proposal | None:
    rule, points = e.rule, e.rule.points
    lo, mid, hi = e.effect
    words = _rule_words(e, bar)
    kind: ProposalKind | None = None
    proposed: int | None = None
    strength = 0.0
    if hi < 0:
        kind, strength = ProposalKind.RETIRE_RULE, _clearance(0.0 - hi, lo, hi)
        words += (" Leads where it fires qualify less often, not more." if e.sign > 0
                  else " Leads where it fires qualify more often, not less.")
    elif scale is not None:
        implied, low, high = scale * mid, scale * lo, scale * hi
        target = _round_points(implied)
        if low > points * TOLERANCE and target >= points + MIN_STEP:
            kind, proposed = ProposalKind.RAISE_POINTS, target
            strength = _clearance(low - points * TOLERANCE, low, high)
        # The prior pulls a small sample towards the overall rate, so every rule looks weaker on
        # smoothed counts: caution before raising, but no evidence for lowering. A lowering
        # must also hold on the counts as they are (one pseudo-lead against zeros).
        elif (high < points / TOLERANCE and scale * e.raw_effect[2] < points / TOLERANCE
              and target <= points - MIN_STEP):
            strength = _clearance(points / TOLERANCE - high, low, high)
            kind, proposed = (ProposalKind.LOWER_POINTS, target) if target > 0 else (ProposalKind.RETIRE_RULE, None)
        if kind is not None:
            words += (f" Weighed like the other rules, that is worth about {_plural(max(implied, 0), 'point')} "
                      f"({max(low, 0):.0f} to {max(high, 0):.0f}), not {points}.")
    if kind is None:
        return None
    return Proposal(
        id=proposal_id(version, kind, rule.id, "points", proposed), kind=kind, target=rule.id, label=rule.label,
        setting="points", current=points, proposed=proposed, ruleset_version=version, evidence=words,
        figures=_rule_figures(e, scale), strength=round(strength, 4),
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


def _judge_threshold(spec: RulesetSpec, pair: tuple[Group, Group, Tally, Tally], cells: Sequence[ScoreCell],
                     bar: _Bar, version: int) -> Proposal | None:
    upper, lower, up, down = pair
    c = bar.contrast(up, down)
    if c.diff > 0:  # it converts better than the group below: nothing to move
        return None
    move = _best_move(spec.groups[upper], upper, down, cells, bar)
    if move is None:
        return None
    setting, current, proposed, kept, moved, kc = move
    words = (f"{upper.label} converted {_pct(c.rate_a)} of {up.decided} decided leads vs {_pct(c.rate_b)} of "
             f"{down.decided} in {lower.label} (smoothed): no better ({bar.interval} of the difference "
             f"{_points(c.diff_low)} to {_points(c.diff_high)} points). Raising its {setting} minimum from "
             f"{current} to {proposed} keeps {kept.decided} leads converting {_pct(kc.rate_a)} (difference to "
             f"{lower.label} {_points(kc.diff_low)} to {_points(kc.diff_high)} points) and moves "
             f"{moved.decided} converting {_pct(moved.rate)} down.")
    kind = ProposalKind.MOVE_THRESHOLD
    return Proposal(
        id=proposal_id(version, kind, upper.value, setting, proposed), kind=kind, target=upper.value,
        label=upper.label, setting=setting, current=current, proposed=proposed, ruleset_version=version,
        evidence=words,
        figures={"group_qualified": up.qualified, "group_not_qualified": up.not_qualified,
                 "below_qualified": down.qualified, "below_not_qualified": down.not_qualified,
                 "group_rate": round(c.rate_a, 4), "below_rate": round(c.rate_b, 4),
                 "diff_low": round(c.diff_low, 4), "diff_high": round(c.diff_high, 4),
                 "kept_qualified": kept.qualified, "kept_not_qualified": kept.not_qualified,
                 "moved_qualified": moved.qualified, "moved_not_qualified": moved.not_qualified,
                 "kept_rate": round(kc.rate_a, 4)},
        strength=round(_clearance(kc.diff_low, kc.diff_low, kc.diff_high), 4),
    )


def _best_move(threshold: GroupThreshold, group: Group, below: Tally, cells: Sequence[ScoreCell],
               bar: _Bar) -> tuple[str, int, int, Tally, Tally, Contrast] | None:
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
    judged = [_RuleEvidence(rule, -1 if rule.kind is RuleKind.NEGATIVE else 1, rule_bar.contrast(fired, other),
                            contrast(fired, other, prior=rule_bar.prior, strength=1.0, z=z))
              for rule, fired, other in rules]
    scale = _scale(judged)
    found = [p for e in judged if (p := _judge_rule(e, scale, rule_bar, version)) is not None]
    group_bar = _Bar(evidence.overall.rate, settings.prior_strength, n, z, checks)
    found += [p for pair in pairs if (p := _judge_threshold(spec, pair, evidence.cells, group_bar, version))]
    return sorted(found, key=lambda p: -p.strength)


def apply_to_spec(spec: RulesetSpec, proposal: Proposal) -> RulesetSpec:
    """The ruleset with the proposal applied (the version number is left to whoever stores it)."""
    data = spec.model_dump(mode="json")
    if proposal.kind is ProposalKind.MOVE_THRESHOLD:
        if proposal.target not in data["groups"]:
            raise KeyError(f"the ruleset has no {Group(proposal.target).label} group")
        data["groups"][proposal.target][proposal.setting] = proposal.proposed
    elif spec.rule(proposal.target) is None:
        raise KeyError(f"the ruleset has no rule {proposal.target!r}")
    elif proposal.kind is ProposalKind.RETIRE_RULE:
        data["rules"] = [r for r in data["rules"] if r["id"] != proposal.target]
    else:
        for rule in data["rules"]:
            if rule["id"] == proposal.target:
                rule["points"] = proposal.proposed
    return RulesetSpec.model_validate(data)
