"""Today's marginal evidence (`proposals.Evidence`) counted from a hit matrix.

The database counts `Evidence` with GROUP BY queries; this counts the same figures from hits,
so today's method and the conditional one can be compared on the same leads (the co-firing
tests, the benchmark's baseline).
"""

from __future__ import annotations

import numpy as np

from leadqual.groups import Group
from leadqual.learning.hits import NO_CAP, Bool, HitMatrix, Patterns, patterns
from leadqual.learning.rescore import rescore
from leadqual.proposals import Evidence, ScoreCell, Tally
from leadqual.rules import RulesetSpec


def marginal_evidence(hits: HitMatrix, success: Bool, spec: RulesetSpec) -> Evidence:
    """Counts per rule (uncapped leads), per segment and per (group, fit, intent), as analytics counts them."""
    pat = patterns(hits, success)
    won, lost = pat.success, pat.failure
    free = pat.cap == NO_CAP
    rules = {}
    for j, rid in enumerate(hits.rules):
        fired = free & pat.hits[:, j]
        if fired.any():
            rules[rid] = Tally(int(won[fired].sum()), int(lost[fired].sum()))
    segments: dict[str | None, Tally] = {}
    for s in np.unique(pat.segment[free]):
        mask = free & (pat.segment == s)
        segments[hits.segments[s] if s >= 0 else None] = Tally(int(won[mask].sum()), int(lost[mask].sum()))
    cells = score_cells(pat, hits.rules, spec)
    return Evidence(Tally(int(won.sum()), int(lost.sum())), rules, segments, cells)


def score_cells(pat: Patterns, rules: tuple[str, ...], spec: RulesetSpec) -> list[ScoreCell]:
    """Decided leads by (group, fit, intent) under `spec`, rescored from their hits."""
    regrouped = rescore(pat, rules, spec)
    won, lost = pat.success, pat.failure
    key = (regrouped.group.astype(np.int64) * 101 + regrouped.fit) * 101 + regrouped.intent
    cells_keys, inverse = np.unique(key, return_inverse=True)
    cell_won = np.bincount(inverse, weights=won)
    cell_lost = np.bincount(inverse, weights=lost)
    order = list(Group)
    return [
        ScoreCell(
            order[int(k // (101 * 101))], int(k // 101 % 101), int(k % 101), Tally(int(cell_won[i]), int(cell_lost[i]))
        )
        for i, k in enumerate(cells_keys)
    ]
