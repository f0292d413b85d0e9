"""Fairness of the rotation, pure: each rep's share of suggestions and claims against their weight.

Counted per route over a window: a suggestion is a lead of the route suggested to one of its
reps (the account's owner first, then the rotation), a claim a lead of the route claimed (or
handed over) by one of them; claims by people outside the rotation are counted apart. Skips
are the audit log's `rotation_skip` events of the route, by reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class RepShare:
    """One rep in one route's rotation: their weight and what they got, as counts and shares (0-1)."""

    user: str
    weight: int
    weight_share: float
    suggested: int
    suggested_share: float | None  # None when the route suggested nothing in the window
    claimed: int
    claimed_share: float | None

    @property
    def gap(self) -> float | None:
        """Suggested share minus weight share (positive: more than their weight)."""
        return None if self.suggested_share is None else self.suggested_share - self.weight_share


@dataclass(frozen=True, slots=True)
class RouteFairness:
    route: str
    reps: tuple[RepShare, ...]
    suggested: int
    claimed: int
    claimed_by_others: int  # claims of the route's leads by people outside its rotation
    skips: dict[str, int]  # reason -> count (away, off_hours, at_capacity)

    def as_json(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "suggested": self.suggested,
            "claimed": self.claimed,
            "claimed_by_others": self.claimed_by_others,
            "skips": dict(self.skips),
            "reps": [
                {
                    "user": r.user,
                    "weight": r.weight,
                    "weight_share": round(r.weight_share, 4),
                    "suggested": r.suggested,
                    "suggested_share": None if r.suggested_share is None else round(r.suggested_share, 4),
                    "claimed": r.claimed,
                    "claimed_share": None if r.claimed_share is None else round(r.claimed_share, 4),
                }
                for r in self.reps
            ],
        }


@dataclass(frozen=True, slots=True)
class Fairness:
    """Every rotating route's fairness over [starts, ends)."""

    starts: datetime
    ends: datetime
    routes: tuple[RouteFairness, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "starts": self.starts.isoformat(),
            "ends": self.ends.isoformat(),
            "routes": [r.as_json() for r in self.routes],
        }


def route_fairness(
    route: str,
    weights: Sequence[tuple[str, int]],
    *,
    suggested: Iterable[str],
    claimed: Iterable[str],
    skips: Iterable[str],
) -> RouteFairness:
    """One route's figures from its reps' (user, weight) and the users suggested / claiming, and skip reasons."""
    in_rotation = {user for user, _ in weights}
    got = Counter(u for u in suggested if u in in_rotation)
    claims = Counter(claimed)
    took = Counter({u: n for u, n in claims.items() if u in in_rotation})
    total_weight = sum(w for _, w in weights) or 1
    n_suggested, n_claimed = sum(got.values()), sum(took.values())
    reps = tuple(
        RepShare(
            user=user,
            weight=weight,
            weight_share=weight / total_weight,
            suggested=got[user],
            suggested_share=got[user] / n_suggested if n_suggested else None,
            claimed=took[user],
            claimed_share=took[user] / n_claimed if n_claimed else None,
        )
        for user, weight in weights
    )
    return RouteFairness(
        route=route,
        reps=reps,
        suggested=n_suggested,
        claimed=n_claimed,
        claimed_by_others=sum(claims.values()) - n_claimed,
        skips=dict(sorted(Counter(skips).items())),
    )
