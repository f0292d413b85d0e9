"""The digest's figures for one period: plain numbers, counted by `leadqual.analytics`, read by `blocks/`.

Qualified and Not qualified are the two closed outcomes; Nurture and Needs info stay open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leadqual.calendar import Period
from leadqual.groups import Group

LOW_GROUPS = (Group.NURTURE, Group.RESEARCH, Group.POOR_FIT)


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """One score group's figures for a period."""

    group: Group
    received: int = 0  # leads received
    live: int = 0  # ... offered to sales (not imported history)
    claimed: int = 0  # ... claimed at least once
    qualified: int = 0  # leads decided in the period, by final outcome
    not_qualified: int = 0
    open_decisions: int = 0  # nurture or needs info
    claim_median_minutes: float | None = None
    claim_p90_minutes: float | None = None

    @property
    def acceptance(self) -> float | None:
        """Share of live leads that a rep claimed."""
        return self.claimed / self.live if self.live else None

    @property
    def decided(self) -> int:
        return self.qualified + self.not_qualified

    @property
    def qualification_rate(self) -> float | None:
        """Qualified among qualified + not qualified (open outcomes do not count)."""
        return self.qualified / self.decided if self.decided else None


@dataclass(frozen=True, slots=True)
class SliceFigures:
    """Quality of one source or one offer."""

    name: str
    received: int
    qualified: int
    not_qualified: int

    @property
    def qualification_rate(self) -> float | None:
        decided = self.qualified + self.not_qualified
        return self.qualified / decided if decided else None


@dataclass(frozen=True)
class Figures:
    """Everything the digest reports for one period."""

    period: Period
    groups: list[GroupFigures]
    reasons: dict[Group, list[tuple[str, int]]]
    sources: list[SliceFigures]
    offers: list[SliceFigures]
    cards_posted: int = 0
    cards_actioned: int = 0
    claim_median_minutes: float | None = None
    claim_p90_minutes: float | None = None
    _by_group: dict[Group, GroupFigures] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_group.update({g.group: g for g in self.groups})

    def group(self, group: Group) -> GroupFigures:
        return self._by_group.get(group) or GroupFigures(group)

    @property
    def received(self) -> int:
        return sum(g.received for g in self.groups)

    @property
    def routed(self) -> int:
        return sum(g.received for g in self.groups if g.group.routed)

    @property
    def qualified(self) -> int:
        return sum(g.qualified for g in self.groups)

    @property
    def decided(self) -> int:
        return sum(g.decided for g in self.groups)

    @property
    def false_positives(self) -> int:
        """Priority leads decided Not qualified."""
        return self.group(Group.PRIORITY).not_qualified

    @property
    def false_negatives(self) -> dict[Group, int]:
        """Leads the scores kept low (Nurture, Research, Poor fit) that sales qualified."""
        return {g: self.group(g).qualified for g in LOW_GROUPS}

    @property
    def actioned_share(self) -> float | None:
        """Posted cards that got any action (a claim or a button); the rest is alert fatigue."""
        return self.cards_actioned / self.cards_posted if self.cards_posted else None

    def as_json(self) -> dict[str, Any]:
        return {
            "period": {
                "label": self.period.label,
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
            },
            "received": self.received,
            "routed": self.routed,
            "decided": self.decided,
            "qualified": self.qualified,
            "claim_median_minutes": rounded(self.claim_median_minutes),
            "claim_p90_minutes": rounded(self.claim_p90_minutes),
            "groups": [
                {
                    "group": g.group.value,
                    "received": g.received,
                    "live": g.live,
                    "claimed": g.claimed,
                    "acceptance": rounded(g.acceptance),
                    "qualified": g.qualified,
                    "not_qualified": g.not_qualified,
                    "open_decisions": g.open_decisions,
                    "qualification_rate": rounded(g.qualification_rate),
                    "claim_median_minutes": rounded(g.claim_median_minutes),
                    "claim_p90_minutes": rounded(g.claim_p90_minutes),
                }
                for g in self.groups
            ],
            "disqualification_reasons": {g.value: dict(r) for g, r in self.reasons.items()},
            "false_positives": {
                "priority_not_qualified": self.false_positives,
                "priority_decided": self.group(Group.PRIORITY).decided,
            },
            "false_negatives": {g.value: n for g, n in self.false_negatives.items()},
            "sources": [_slice_json(s) for s in self.sources],
            "offers": [_slice_json(s) for s in self.offers],
            "cards": {
                "posted": self.cards_posted,
                "actioned": self.cards_actioned,
                "actioned_share": rounded(self.actioned_share),
            },
        }


def _slice_json(s: SliceFigures) -> dict[str, Any]:
    return {
        "name": s.name,
        "received": s.received,
        "qualified": s.qualified,
        "not_qualified": s.not_qualified,
        "qualification_rate": rounded(s.qualification_rate),
    }


def rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


# --- pipeline outcomes (DESIGN.md, "Pipeline outcomes") ------------------------------------------


FIT_BANDS = ("A", "B", "C")  # A: the best fit
INTENT_BANDS = ("1", "2", "3")  # 1: the strongest intent


def cutoffs(minimums: list[int]) -> tuple[int, int]:
    """The two band edges from a ruleset's group minimums: the two highest distinct, else thirds."""
    distinct = sorted({m for m in minimums if m > 0}, reverse=True)
    return (distinct[0], distinct[1]) if len(distinct) >= 2 else (67, 34)


def _band(score: int, edges: tuple[int, int]) -> int:
    return 0 if score >= edges[0] else 1 if score >= edges[1] else 2


@dataclass(frozen=True)
class ScoreBands:
    """Decided leads of a period on a 3 by 3 fit and intent grid (A1 best, C3 worst), and how many succeeded."""

    fit_edges: tuple[int, int]  # A: fit ≥ first, B: ≥ second, C: below
    intent_edges: tuple[int, int]  # 1: intent ≥ first, 2: ≥ second, 3: below
    counts: dict[str, tuple[int, int]]  # "A1" → (successes, decided)

    @classmethod
    def of(
        cls, cells: list[tuple[int, int, int, int]], *, fit_edges: tuple[int, int], intent_edges: tuple[int, int]
    ) -> ScoreBands:
        """From (fit, intent, successes, failures) rows."""
        counts: dict[str, list[int]] = {f + i: [0, 0] for f in FIT_BANDS for i in INTENT_BANDS}
        for fit, intent, won, lost in cells:
            key = FIT_BANDS[_band(fit, fit_edges)] + INTENT_BANDS[_band(intent, intent_edges)]
            counts[key][0] += won
            counts[key][1] += won + lost
        return cls(fit_edges, intent_edges, {k: (v[0], v[1]) for k, v in counts.items()})

    def rate(self, band: str) -> float | None:
        won, decided = self.counts[band]
        return won / decided if decided else None

    def as_json(self) -> dict[str, Any]:
        return {
            "fit_edges": list(self.fit_edges),
            "intent_edges": list(self.intent_edges),
            "bands": {
                k: {"success": w, "decided": d, "rate": rounded(self.rate(k))} for k, (w, d) in self.counts.items()
            },
        }


@dataclass(frozen=True, slots=True)
class Inflation:
    """Priority's share of leads received and its qualification rate, last week and this week."""

    share_before: float | None
    share_now: float | None
    rate_before: float | None
    rate_now: float | None

    @classmethod
    def of(cls, before: Figures, now: Figures) -> Inflation:
        def share(f: Figures) -> float | None:
            return f.group(Group.PRIORITY).received / f.received if f.received else None

        return cls(
            share(before),
            share(now),
            before.group(Group.PRIORITY).qualification_rate,
            now.group(Group.PRIORITY).qualification_rate,
        )

    @property
    def warning(self) -> bool:
        """Priority grew as a share of leads while fewer of its leads qualified: the scores may be inflating."""
        if None in (self.share_before, self.share_now, self.rate_before, self.rate_now):
            return False
        return self.share_now > self.share_before and self.rate_now < self.rate_before  # type: ignore[operator]

    def as_json(self) -> dict[str, Any]:
        return {
            "priority_share_before": rounded(self.share_before),
            "priority_share_now": rounded(self.share_now),
            "priority_rate_before": rounded(self.rate_before),
            "priority_rate_now": rounded(self.rate_now),
            "warning": self.warning,
        }
