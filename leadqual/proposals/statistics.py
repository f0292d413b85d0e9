"""The statistics behind proposals: smoothed rates, score intervals, and comparing two tallies."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

from leadqual.proposals.model import Tally

Z95 = 1.959964


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
