"""Smooth weighted round robin (as nginx balances upstreams), pure.

Every pick adds each available rep's weight to their credit, the rep with the most credit
wins and pays back the total. Over any run of picks the shares follow the weights and the
picks are spread out (2:1 gives A B A A B A, not A A B). Reps left out of a pick (away, off
hours, full) neither gain nor lose credit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadqual.config import Rep


@dataclass(frozen=True, slots=True)
class Pick:
    """One round of smooth weighted round robin: who won and everyone's credit after it."""

    user: str
    credit: dict[str, int]


def next_pick(
    reps: Sequence[Rep],
    credit: dict[str, int],
    *,
    away: frozenset[str] = frozenset(),
    exclude: frozenset[str] = frozenset(),
) -> Pick | None:
    """Pick the next rep from `reps` (credit before the pick in `credit`); None when nobody is available."""
    available = [r for r in reps if r.user not in away and r.user not in exclude]
    if not available:
        return None
    after = dict(credit)
    for rep in available:
        after[rep.user] = after.get(rep.user, 0) + rep.weight
    # max() keeps the first of equals, so ties go to the rep listed first in the config.
    winner = max(available, key=lambda r: after[r.user])
    after[winner.user] -= sum(r.weight for r in available)
    return Pick(winner.user, after)


def ahead_of(
    reps: Sequence[Rep], credit: dict[str, int], user: str | None, *, exclude: frozenset[str] = frozenset()
) -> list[str]:
    """The reps a pick over everyone (`exclude` aside) would have ranked before `user` (all of them for None)."""
    ranked = sorted(
        (r for r in reps if r.user not in exclude), key=lambda r: -(credit.get(r.user, 0) + r.weight)
    )  # sorted() is stable: config order breaks ties
    out = []
    for rep in ranked:
        if rep.user == user:
            break
        out.append(rep.user)
    return out
