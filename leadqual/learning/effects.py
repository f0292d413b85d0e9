"""Conditional rule effects: every rule's effect on the log odds of success, the other rules held fixed.

Today's proposals compare leads where a rule fired with leads where it did not, so a rule that
rides along with a stronger one borrows its credit. Here all rules are fitted together, as a
credit scorecard is: a logistic regression of success on the rule-hit indicators,

    log odds(success) = b0 + sum_s c_s [lead in segment s] + sum_j b_j [rule j fired],

so b_j is what rule j adds among leads that agree on every other rule.

- **Segments.** A segment-specific rule is its own column, zero outside its segments (as
  scoring fires it), and every segment gets its own baseline (c_s), so a segment rule is
  judged against leads of its own buying motion, as today's within-segment counts are.
- **Must-haves.** Leads that fail a must-have are *excluded*, as today: their group is capped
  whatever their points, so their outcome says nothing about what points should be, and
  keeping them (even with an indicator column) would let the cap's effect leak into the rules
  that correlate with it where the cap interacts with them (a supported-country bonus).
- **The prior is a ridge penalty.** Today every rate is smoothed by `prior_strength` pseudo
  leads converting at the overall rate p. A lead converting at rate p carries p(1 - p) of
  Fisher information about a log odds, so those pseudo leads are worth s * p * (1 - p) of
  information about a rule's effect, centred on "no effect". That is exactly a Normal(0, 1/λ)
  prior on b_j with λ = s * p * (1 - p): an L2 penalty λ/2 * b_j². The intercept is not
  penalised (it is the overall rate, not a claim about any rule); segment baselines are
  penalised alike, which only matters for a segment so small it has no failures.
- **Intervals** come from the curvature of the penalised fit at its optimum: the covariance is
  the inverse of the penalised Hessian X'WX + Λ (the Laplace approximation of the posterior),
  and each interval is widened for all the checks of one digest at once (Bonferroni).
- **Solver.** Newton's method (IRLS) on the (columns x columns) normal equations of the
  collapsed patterns (see `hits.patterns`): a few thousand distinct rows however many leads,
  about ten iterations to machine precision. Cost O(leads) to collapse, then O(patterns x
  columns²) per iteration; memory a few MB at a million leads.

Why plain numpy: the model is small and its curvature is what we need. scikit-learn's
LogisticRegression gives no covariance and penalises by one C for every column (the intercept
apart); statsmodels' `fit_regularized` returns no Hessian, and either would pull scipy (and
pandas) into the bot for 40 lines of Newton. statsmodels is the reference the tests compare
against (an unpenalised fit on a large sample), as a dev dependency only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from statistics import NormalDist

import numpy as np

from leadqual.learning.hits import NO_CAP, Bool, Floats, HitMatrix, Ints, Patterns, patterns
from leadqual.rules import RuleKind, RulesetSpec

MAX_ITERATIONS = 50
TOLERANCE = 1e-7  # largest coefficient step at convergence: figures are kept to 1e-4, points to 5


@dataclass(frozen=True, slots=True)
class Counts:
    """Decided leads: how many succeeded and how many did not."""

    success: int = 0
    failure: int = 0

    @property
    def decided(self) -> int:
        return self.success + self.failure

    @property
    def rate(self) -> float:
        return self.success / self.decided if self.decided else 0.0


@dataclass(frozen=True, slots=True)
class RuleEffect:
    """One rule's conditional effect on the log odds of success, with its family-wise interval."""

    rule: str
    log_odds: float  # the other rules held fixed
    low: float
    high: float
    se: float
    fired: Counts  # uncapped leads where it could fire and did
    not_fired: Counts  # uncapped leads where it could fire and did not

    @property
    def odds_ratio(self) -> float:
        return math.exp(self.log_odds)


@dataclass(frozen=True)
class Effects:
    """Every rule's conditional effect from one penalised fit."""

    effects: Mapping[str, RuleEffect]
    intercept: float
    penalty: float  # λ of the L2 penalty on each effect
    z: float  # the interval's z, Bonferroni-widened for `checks`
    checks: int
    leads: int  # uncapped decided leads the fit used
    rate: float  # their success rate
    iterations: int
    coef: Floats | None = field(default=None, repr=False, compare=False)  # the fit, for a warm start
    gram: Gram | None = field(default=None, repr=False, compare=False)  # its design, for a refit


@dataclass(frozen=True)
class Fit:
    """A penalised logistic fit: coefficients, covariance (inverse penalised Hessian), iterations."""

    coef: Floats
    cov: Floats
    iterations: int


def family_z(checks: int, *, level: float = 0.95) -> float:
    """The z of a two-sided interval that holds for all `checks` at once (Bonferroni)."""
    return NormalDist().inv_cdf(1 - (1 - level) / (2 * max(1, checks)))


def penalty_for(prior_strength: float, rate: float) -> float:
    """The L2 penalty worth `prior_strength` pseudo leads converting at `rate` (see the module docstring)."""
    return prior_strength * rate * (1 - rate)


def fit_logistic(
    x: Floats,
    success: Floats,
    leads: Floats,
    penalty: Floats,
    *,
    start: Floats | None = None,
    gram: Gram | None = None,
) -> Fit:
    """Maximise the binomial log likelihood of grouped rows minus sum(penalty * coef²) / 2, by Newton.

    `x` is (rows, columns), `success` and `leads` the counts per row, `penalty` one λ per column
    (0 for the intercept), `start` a warm start, `gram` the X'WX of `x` when the caller already
    built it (`Gram.of(x)`). The covariance is the inverse of the penalised Hessian at the optimum.
    """
    k = x.shape[1]
    lam = np.asarray(penalty, np.float64)
    gram = gram or Gram.of(x)
    coef = np.zeros(k)
    total = float(leads.sum())
    rate = min(max(float(success.sum()) / total, 1e-6), 1 - 1e-6) if total else 0.5
    if start is not None:
        coef = np.array(start, np.float64)
    elif k and lam[0] == 0:
        coef[0] = math.log(rate / (1 - rate))

    def objective(b: Floats, eta: Floats) -> float:
        return float(success @ eta - leads @ np.logaddexp(0.0, eta) - 0.5 * lam @ (b * b))

    eta = x @ coef
    current = objective(coef, eta)
    hessian = np.eye(k)
    iterations = 0
    converged = False
    for iterations in range(1, MAX_ITERATIONS + 1):  # noqa: B007 (the count is reported)
        p = 1.0 / (1.0 + np.exp(-eta))
        gradient = x.T @ (success - leads * p) - lam * coef
        hessian = gram(leads * p * (1 - p)) + np.diag(lam)
        step = np.linalg.solve(hessian, gradient)
        t = 1.0
        while True:  # step halving: Newton can overshoot on a nearly separable sample
            trial = coef + t * step
            trial_eta = x @ trial
            value = objective(trial, trial_eta)
            if value >= current - 1e-12 or t < 1e-8:
                break
            t /= 2
        coef, eta, current = trial, trial_eta, value
        if float(np.max(np.abs(t * step), initial=0.0)) < TOLERANCE:
            converged = True
            break
    if not converged:  # at the optimum the last Hessian is the curvature (the step moved < TOLERANCE)
        p = 1.0 / (1.0 + np.exp(-(x @ coef)))
        hessian = gram(leads * p * (1 - p)) + np.diag(lam)
    return Fit(coef, np.asarray(np.linalg.inv(hessian), np.float64), iterations)


class Gram:
    """X'WX for one design, for any row weights W: what each Newton step needs.

    The design of rule hits is 0/1 and sparse (a lead fires a handful of ~30 rules), so X'WX[j, l]
    is the weight of the rows where j and l are both 1. Those (row, pair) incidences are listed
    once; each Newton step is then one `bincount` over them (about 20x fewer operations than the
    dense product, and no BLAS threads to fight other processes for). A design that is not 0/1
    falls back to the dense product.
    """

    def __init__(self, x: Floats) -> None:
        self.k = x.shape[1]
        self.x = x
        self.binary = bool(np.all((x == 0) | (x == 1)))
        if not self.binary:
            return
        row, col = np.nonzero(x)  # by row, columns ascending within a row
        per_row = np.bincount(row, minlength=x.shape[0])
        ends = np.cumsum(per_row)
        rows, pairs = [], []
        for m in range(1, int(per_row.max(initial=0)) + 1):  # rows with m ones: their pairs in one step
            which = np.flatnonzero(per_row == m)
            if not len(which):
                continue
            cols = col[(ends[which] - m)[:, None] + np.arange(m)]  # (rows, m)
            a, b = _upper(m)  # the pairs (j, l) with j <= l
            pairs.append((cols[:, a] * self.k + cols[:, b]).ravel())
            rows.append(np.repeat(which, len(a)))
        self.rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        self.pairs = np.concatenate(pairs) if pairs else np.zeros(0, np.int64)

    @classmethod
    def of(cls, x: Floats) -> Gram:
        return cls(x)

    def __call__(self, w: Floats) -> Floats:
        if not self.binary:
            return _gram(self.x, w)
        upper = np.bincount(self.pairs, weights=w[self.rows], minlength=self.k * self.k).reshape(self.k, self.k)
        return np.asarray(upper + upper.T - np.diag(np.diag(upper)), np.float64)


@cache
def _upper(m: int) -> tuple[Ints, Ints]:
    a, b = np.triu_indices(m)
    return a.astype(np.int64), b.astype(np.int64)


def _gram(x: Floats, w: Floats) -> Floats:
    """X'WX without BLAS: einsum's own loop is as fast on a few thousand rows and never fights other
    processes for threads (a threaded BLAS on a shared two-core machine was 40x slower)."""
    return np.asarray(np.einsum("ij,ik->jk", x * w[:, None], x, optimize=False), np.float64)


def _design(pat: Patterns, spec: RulesetSpec, columns: list[int], segments: list[int]) -> Floats:
    n = len(pat.leads)
    x = np.empty((n, 1 + len(segments) + len(columns)))
    x[:, 0] = 1.0
    for i, s in enumerate(segments):
        x[:, 1 + i] = pat.segment == s
    x[:, 1 + len(segments) :] = pat.hits[:, columns]
    return x


def could_fire(pat: Patterns, rule_segments: list[str] | None, segment_ids: tuple[str, ...]) -> Bool:
    """Patterns where a rule could fire: every uncapped lead, or those in the rule's segments."""
    if not rule_segments:
        return np.ones(len(pat.leads), dtype=bool)
    wanted = [segment_ids.index(s) for s in rule_segments if s in segment_ids]
    return np.isin(pat.segment, wanted)


def testable(spec: RulesetSpec) -> list[str]:
    """Rules whose points a proposal could change (timing rules that only mark urgency have none)."""
    return [r.id for r in spec.rules if r.points != 0]


def conditional_effects(
    hits: HitMatrix,
    success: Bool,
    spec: RulesetSpec,
    *,
    prior_strength: float,
    checks: int | None = None,
    level: float = 0.95,
) -> Effects:
    """Every rule's effect on the log odds of success holding the others fixed (penalised fit).

    `success` is one boolean per lead of `hits` (qualified, opportunity or won). Leads failing a
    must-have are left out. `checks` is how many things the digest judges at once (the
    interval's Bonferroni family); by default the rules with points plus the group pairs.
    """
    uncapped = ~hits.capped
    pat = patterns(hits.take(uncapped), np.asarray(success, bool)[uncapped])
    return effects_from_patterns(pat, hits, spec, prior_strength=prior_strength, checks=checks, level=level)


def effects_from_patterns(
    pat: Patterns,
    hits: HitMatrix,
    spec: RulesetSpec,
    *,
    prior_strength: float,
    checks: int | None = None,
    level: float = 0.95,
    warm: Effects | None = None,
) -> Effects:
    """`conditional_effects` on leads already collapsed into patterns (uncapped leads only).

    `warm` is an earlier fit on the same patterns (another prior strength): its design is
    reused and its coefficients start Newton, which then needs a few steps instead of ten.
    """
    keep = pat.cap == NO_CAP
    pat = Patterns(pat.hits[keep], pat.segment[keep], pat.cap[keep], pat.leads[keep], pat.success[keep], pat.inverse)
    # Every rule that fired is a column (held fixed), whether or not it can be proposed.
    columns = [j for j in range(len(hits.rules)) if pat.hits[:, j].any()]
    segments = [s for s in range(len(hits.segments)) if (pat.segment == s).any()]
    total, won = float(pat.leads.sum()), float(pat.success.sum())
    rate = won / total if total else 0.0
    lam = penalty_for(prior_strength, rate) if 0 < rate < 1 else prior_strength * 0.25
    n_groups = max(0, len(spec.groups) - 1)
    family = checks if checks is not None else len(testable(spec)) + n_groups
    z = family_z(family, level=level)
    if total == 0:  # every lead failed a must-have (or none was decided): nothing to fit
        return Effects({}, 0.0, lam, z, family, 0, 0.0, 0)
    reuse = warm is not None and warm.gram is not None and warm.coef is not None
    gram = warm.gram if reuse and warm is not None else Gram.of(_design(pat, spec, columns, segments))
    assert gram is not None
    x = gram.x
    penalty = np.full(x.shape[1], lam)
    penalty[0] = 0.0
    start = warm.coef if reuse and warm is not None and warm.coef is not None else None
    fit = fit_logistic(x, pat.success, pat.leads, penalty, start=start, gram=gram)
    offset = 1 + len(segments)
    by_rule = {r.id: r for r in spec.rules}
    out: dict[str, RuleEffect] = {}
    pools: dict[tuple[str, ...], Bool] = {}  # one mask per set of segments, not one per rule
    for i, j in enumerate(columns):
        rule_id = hits.rules[j]
        rule = by_rule.get(rule_id)
        b = float(fit.coef[offset + i])
        se = math.sqrt(float(fit.cov[offset + i, offset + i]))
        known = warm.effects.get(rule_id) if reuse and warm is not None else None
        if known is not None:  # the same leads: the same counts
            fired_counts, rest_counts = known.fired, known.not_fired
        else:
            wanted = tuple(rule.segments or ()) if rule else ()
            if wanted not in pools:
                pools[wanted] = could_fire(pat, list(wanted) or None, hits.segments)
            pool = pools[wanted]
            fired = pool & pat.hits[:, j]
            rest = pool & ~pat.hits[:, j]
            fired_counts = Counts(int(pat.success[fired].sum()), int(pat.failure[fired].sum()))
            rest_counts = Counts(int(pat.success[rest].sum()), int(pat.failure[rest].sum()))
        out[rule_id] = RuleEffect(rule_id, b, b - z * se, b + z * se, se, fired_counts, rest_counts)
    return Effects(out, float(fit.coef[0]), lam, z, family, int(total), rate, fit.iterations, fit.coef, gram)


def oriented(effect: RuleEffect, kind: RuleKind) -> tuple[float, float, float]:
    """(low, effect, high) turned so that the rule's intended direction is positive (negative rules flip)."""
    if kind is RuleKind.NEGATIVE:
        return -effect.high, -effect.log_odds, -effect.low
    return effect.low, effect.log_odds, effect.high
