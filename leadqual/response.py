"""Time to first response: from a lead's arrival to the first thing a rep did with it.

Arrival is the lead's `received_at` (when the prospect asked, as the source reported it;
the moment of intake when it sent none). The first response is the earlier of its first
claim and its first action (any decision button). Counted over the live leads received in a
period that got a response; imported history and leads nobody answered yet are left out
(the digest gives how many were answered). A response stamped before its arrival (a source's
clock ahead of ours) counts as 0 minutes. Percentiles are nearest-rank: the median of
n minutes is the ceil(n / 2)-th smallest, the 90th percentile the ceil(0.9 n)-th.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leadqual.groups import Group


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Minutes to first response of `answered` leads (`received` of them arrived in the period)."""

    received: int = 0
    answered: int = 0
    median_minutes: float | None = None
    p90_minutes: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "answered": self.answered,
            "median_minutes": None if self.median_minutes is None else round(self.median_minutes, 2),
            "p90_minutes": None if self.p90_minutes is None else round(self.p90_minutes, 2),
        }


@dataclass(frozen=True)
class ResponseTimes:
    """Time to first response in one period, overall and by score group."""

    overall: Percentiles = Percentiles()
    groups: dict[Group, Percentiles] = field(default_factory=dict)

    def group(self, group: Group) -> Percentiles:
        return self.groups.get(group) or Percentiles()

    def as_json(self) -> dict[str, Any]:
        return {
            "measured": "received_at to the earlier of first claim and first action, live leads of the period",
            "overall": self.overall.as_json(),
            "groups": {g.value: p.as_json() for g, p in self.groups.items()},
        }


@dataclass(frozen=True)
class FirstResponse:
    """The digest's time to first response: the week, and the trailing window to compare with."""

    week: ResponseTimes
    trailing: ResponseTimes

    def as_json(self) -> dict[str, Any]:
        return {"week": self.week.as_json(), "trailing": self.trailing.as_json()}


def nearest_rank(values: list[float], p: int) -> float | None:
    """The p-th percentile (0 < p <= 100) by nearest rank: the ceil(p * n / 100)-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, -(-p * len(ordered) // 100)) - 1]


def response_times(minutes: dict[Group, list[float]], received: dict[Group, int]) -> ResponseTimes:
    """Percentiles from each group's minutes to first response (pure; the database gives the same)."""
    every = [m for ms in minutes.values() for m in ms]
    groups = {
        g: Percentiles(received.get(g, 0), len(ms), nearest_rank(ms, 50), nearest_rank(ms, 90))
        for g in Group
        if (ms := minutes.get(g, [])) or received.get(g)
    }
    return ResponseTimes(
        Percentiles(sum(received.values()), len(every), nearest_rank(every, 50), nearest_rank(every, 90)), groups
    )
