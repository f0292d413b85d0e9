"""Backtest a ruleset change: rescore decided leads under the current and the proposed rules.

Pure: it takes decided leads as an iterable (so the caller can stream them from the database
in chunks) and compiled rulesets, and counts. Each lead is scored as of the day it was
received, so a `within_days` rule sees what it saw then. Positive means qualified; only
decided leads (qualified or not qualified) are counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from leadqual.groups import Group
from leadqual.lead import Lead
from leadqual.scoring import Ruleset, score


@dataclass(frozen=True, slots=True)
class PriorityQuality:
    """How well the Priority group picks qualified leads: precision and recall."""

    priority: int          # decided leads scored Priority
    priority_won: int      # ... of which qualified
    won: int               # every qualified lead

    @property
    def precision(self) -> float:
        return self.priority_won / self.priority if self.priority else 0.0

    @property
    def recall(self) -> float:
        return self.priority_won / self.won if self.won else 0.0


@dataclass(frozen=True)
class Backtest:
    """What a ruleset change would have done to past decided leads."""

    leads: int
    transitions: dict[tuple[Group, Group], int]  # (group now, group under the change) -> leads
    before: PriorityQuality
    after: PriorityQuality
    scope: str = ""  # which leads were rescored, in words

    @property
    def moved(self) -> int:
        return sum(n for (a, b), n in self.transitions.items() if a is not b)

    def moves(self) -> list[tuple[Group, Group, int]]:
        """Group changes, largest first."""
        found = [(a, b, n) for (a, b), n in self.transitions.items() if a is not b]
        return sorted(found, key=lambda m: (-m[2], m[0].rank, m[1].rank))

    def summary(self, *, limit: int = 3) -> str:
        """One line: how many leads change group and what happens to Priority."""
        head = f"Rescored {self.leads} decided leads{f' ({self.scope})' if self.scope else ''}: "
        if not self.moved:
            head += "no lead changes group."
        else:
            parts = [f"{n} {a.label} → {b.label}" for a, b, n in self.moves()[:limit]]
            more = len(self.moves()) - limit
            head += f"{self.moved} change group ({', '.join(parts)}{f', +{more} more' if more > 0 else ''})."
        return (f"{head} Priority precision {_pct(self.before.precision)} → {_pct(self.after.precision)}, "
                f"recall {_pct(self.before.recall)} → {_pct(self.after.recall)}.")

    def as_json(self) -> dict[str, Any]:
        return {
            "leads": self.leads,
            "scope": self.scope,
            "moved": self.moved,
            "transitions": [{"from": a.value, "to": b.value, "leads": n}
                            for (a, b), n in sorted(self.transitions.items(), key=lambda t: (t[0][0].rank,
                                                                                              t[0][1].rank))],
            "before": _quality_json(self.before),
            "after": _quality_json(self.after),
        }


def _quality_json(q: PriorityQuality) -> dict[str, Any]:
    return {"priority": q.priority, "priority_qualified": q.priority_won, "qualified": q.won,
            "precision": round(q.precision, 4), "recall": round(q.recall, 4)}


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


@dataclass
class _Tally:
    transitions: Counter[tuple[Group, Group]] = field(default_factory=Counter)
    priority_after: int = 0
    priority_won_after: int = 0


def backtest(
    leads: Iterable[tuple[dict[str, Any], bool]],
    *,
    current: Ruleset,
    proposed: Mapping[str, Ruleset],
    scope: str = "",
) -> dict[str, Backtest]:
    """Rescore each decided lead (payload, qualified?) under `current` and every proposed ruleset.

    One pass over the leads serves all proposals: each lead is validated once and scored
    once per ruleset, and nothing is kept but counters, so memory stays flat however many
    leads stream through.
    """
    tallies = {key: _Tally() for key in proposed}
    n = won = priority = priority_won = 0
    for payload, qualified in leads:
        lead = Lead.model_validate(payload)
        before = score(lead, current).group
        n += 1
        won += qualified
        if before is Group.PRIORITY:
            priority += 1
            priority_won += qualified
        for key, ruleset in proposed.items():
            after = score(lead, ruleset).group
            t = tallies[key]
            t.transitions[(before, after)] += 1
            if after is Group.PRIORITY:
                t.priority_after += 1
                t.priority_won_after += qualified
    base = PriorityQuality(priority, priority_won, won)
    return {
        key: Backtest(leads=n, transitions=dict(t.transitions), before=base,
                      after=PriorityQuality(t.priority_after, t.priority_won_after, won), scope=scope)
        for key, t in tallies.items()
    }
