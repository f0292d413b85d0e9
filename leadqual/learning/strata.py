"""Evidence a manager can check by hand: a rule's counts within its strongest co-firing rule's strata.

A conditional effect cannot be read off two rates, but it can be checked on four: among leads
where the rule that most often fires with it also fired, how often leads with and without the
rule succeeded; and the same among leads where that other rule did not fire ("among leads that
shared drawings: 61% qualified with the case study, 62% without; among those that did not:
..."). The strongest co-firing rule is the one whose hits correlate most with this rule's hits
(largest |phi|) among the leads where this rule could fire. Plain data: rendering is blocks/'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from leadqual.learning.effects import Counts, could_fire
from leadqual.learning.hits import NO_CAP, Patterns
from leadqual.rules import RulesetSpec


@dataclass(frozen=True, slots=True)
class Stratum:
    """Leads of one stratum: where the co-firing rule fired (or not), split by this rule."""

    other_fired: bool
    fired: Counts  # this rule fired
    not_fired: Counts  # this rule did not


@dataclass(frozen=True, slots=True)
class StrataEvidence:
    """A rule's counts within the two strata of the rule that fires most with it."""

    rule: str
    other: str
    other_label: str
    phi: float  # correlation of the two rules' hits where this rule could fire
    among_other: Stratum  # leads where `other` fired
    among_rest: Stratum  # leads where it did not


def _counts(pat: Patterns, mask: np.ndarray) -> Counts:
    return Counts(int(pat.success[mask].sum()), int(pat.failure[mask].sum()))


def strata_evidence(
    pat: Patterns, rules: tuple[str, ...], segments: tuple[str, ...], spec: RulesetSpec, rule_id: str
) -> StrataEvidence | None:
    """The strata of `rule_id`'s strongest co-firing rule (uncapped leads), or None if nothing co-fires."""
    by_id = {r.id: r for r in spec.rules}
    rule = by_id.get(rule_id)
    if rule is None:
        return None
    j = rules.index(rule_id)
    pool = could_fire(pat, rule.segments, segments) & (pat.cap == NO_CAP)
    x = pat.hits[pool].astype(np.float64)
    w = pat.leads[pool]
    n = float(w.sum())
    if n == 0:
        return None
    sums = w @ x
    together = (w * x[:, j]) @ x
    spread = sums * (n - sums)
    with np.errstate(invalid="ignore", divide="ignore"):
        phi = (n * together - sums[j] * sums) / np.sqrt(spread[j] * spread)
    candidates = [
        c for c in range(len(rules)) if c != j and rules[c] in by_id and spread[c] > 0 and math.isfinite(phi[c])
    ]
    if not candidates or spread[j] == 0:
        return None
    c = max(candidates, key=lambda k: (abs(phi[k]), -k))
    mine, other = pat.hits[:, j] & pool, pat.hits[:, c] & pool
    strata = [
        Stratum(
            flag,
            _counts(pat, mine & (other if flag else ~other)),
            _counts(pat, pool & ~pat.hits[:, j] & (other if flag else ~other)),
        )
        for flag in (True, False)
    ]
    return StrataEvidence(rule_id, rules[c], by_id[rules[c]].label, round(float(phi[c]), 4), strata[0], strata[1])
