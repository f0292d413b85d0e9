"""Backtest a ruleset change: rescore decided leads under the current and the proposed rules.

Pure: it takes decided leads as an iterable (so the caller can stream them from the database
in chunks) and compiled rulesets, and counts. Each lead is scored as of the day it was
received, so a `within_days` rule sees what it saw then. Positive means qualified; only
decided leads (qualified or not qualified) are counted.

A lead may come with the hits stored when it was scored (its fired rules and failed
must-haves): when the ruleset that scored it had the same conditions as the current one
(`same_conditions`), those hits are what scoring would find again, and the lead is regrouped
from them without validating or scoring its payload.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from leadqual.groups import Group
from leadqual.lead import Lead
from leadqual.rules import RuleKind, RulesetSpec
from leadqual.scoring import Ruleset, Score, group_for, score

StoredHits = tuple[Sequence[str], Sequence[str]]  # (fired rule ids, failed must-have ids), as stored
# (payload or None, qualified?, stored hits or None): the payload may be None where the hits are given
StoredLead = tuple[dict[str, Any] | None, bool, StoredHits | None]
DecidedLead = tuple[dict[str, Any], bool] | StoredLead  # or just (payload, qualified?)


@dataclass(frozen=True, slots=True)
class PriorityQuality:
    """How well the Priority group picks qualified leads: precision and recall."""

    priority: int  # decided leads scored Priority
    priority_qualified: int  # ... of which qualified
    qualified: int  # every qualified lead

    @property
    def precision(self) -> float:
        return self.priority_qualified / self.priority if self.priority else 0.0

    @property
    def recall(self) -> float:
        return self.priority_qualified / self.qualified if self.qualified else 0.0


@dataclass(frozen=True)
class Backtest:
    """What a ruleset change would have done to past decided leads."""

    leads: int
    transitions: dict[tuple[Group, Group], int]  # (group now, group under the change) -> leads
    before: PriorityQuality
    after: PriorityQuality
    window: str | None = None  # the period whose decided leads were rescored (its label)
    limit: int | None = None  # at most this many, the most recently decided

    @property
    def moved(self) -> int:
        return sum(n for (a, b), n in self.transitions.items() if a is not b)

    def moves(self) -> list[tuple[Group, Group, int]]:
        """Group changes, largest first."""
        found = [(a, b, n) for (a, b), n in self.transitions.items() if a is not b]
        return sorted(found, key=lambda m: (-m[2], m[0].rank, m[1].rank))

    def as_json(self) -> dict[str, Any]:
        return {
            "leads": self.leads,
            "window": self.window,
            "limit": self.limit,
            "moved": self.moved,
            "transitions": [
                {"from": a.value, "to": b.value, "leads": n}
                for (a, b), n in sorted(self.transitions.items(), key=lambda t: (t[0][0].rank, t[0][1].rank))
            ],
            "before": _quality_json(self.before),
            "after": _quality_json(self.after),
        }


def _quality_json(q: PriorityQuality) -> dict[str, Any]:
    return {
        "priority": q.priority,
        "priority_qualified": q.priority_qualified,
        "qualified": q.qualified,
        "precision": round(q.precision, 4),
        "recall": round(q.recall, 4),
    }


class _Regrouper:
    """The group a lead gets under a ruleset that differs from the one that scored it in points only.

    Points, retired rules and group thresholds change the sums and the grouping, never which
    conditions hold, so the hits of one full scoring can be summed again under each proposal:
    far cheaper than evaluating every condition once per proposal. Used only when the two
    rulesets have the same conditions, segments and must-haves (`same_conditions`).
    """

    def __init__(self, spec: RulesetSpec) -> None:
        self.rules = {
            r.id: (-r.points if r.kind is RuleKind.NEGATIVE else r.points, r.target is RuleKind.FIT) for r in spec.rules
        }
        self.groups = tuple(spec.groups.items())
        self.caps = {m.id: m.otherwise for m in spec.must_have}

    def group(self, s: Score) -> Group:
        return self.group_of([h.rule_id for h in s.hits], s.failed_must_haves)

    def group_of(self, rule_ids: Iterable[str], failed_must_haves: Iterable[str]) -> Group:
        fit = intent = 0
        for rule_id in rule_ids:
            found = self.rules.get(rule_id)
            if found is None:  # retired
                continue
            points, to_fit = found
            if to_fit:
                fit += points
            else:
                intent += points
        group = group_for(min(100, max(0, fit)), min(100, max(0, intent)), self.groups)
        for must in failed_must_haves:
            cap = self.caps.get(must)
            if cap is not None:
                group = group.capped_at(cap)
        return group


def same_conditions(sa: RulesetSpec, sb: RulesetSpec) -> bool:
    """True when `sb` only changes points, thresholds, or drops rules of `sa` (what proposals do)."""
    if sa.segments != sb.segments or sa.must_have != sb.must_have or list(sa.groups) != list(sb.groups):
        return False
    before = {r.id: r for r in sa.rules}
    return all(r.id in before and r == before[r.id].model_copy(update={"points": r.points}) for r in sb.rules)


@dataclass
class _Tally:
    transitions: Counter[tuple[Group, Group]] = field(default_factory=Counter)
    priority_after: int = 0
    priority_qualified_after: int = 0


def backtest(
    leads: Iterable[DecidedLead],
    *,
    current: Ruleset,
    proposed: Mapping[str, RulesetSpec],
    window: str | None = None,
    limit: int | None = None,
) -> dict[str, Backtest]:
    """Rescore each decided lead (payload, qualified?[, stored hits]) under `current` and every proposed ruleset.

    One pass over the leads serves all proposals: each lead is validated and scored once (or
    taken from its stored hits, which the caller passes only where they hold under `current`),
    and regrouped from its hits under each proposal that changes only points or thresholds
    (scored in full under any other ruleset, which needs the payload). Nothing is kept but
    counters, so memory stays flat however many leads stream through.
    """
    tallies = {key: _Tally() for key in proposed}
    now = _Regrouper(current.spec)
    fast = {key: _Regrouper(spec) for key, spec in proposed.items() if same_conditions(current.spec, spec)}
    full = {
        key: Ruleset.compile(spec, version=current.version + 1) for key, spec in proposed.items() if key not in fast
    }
    n = all_qualified = priority = priority_qualified = 0
    for payload, qualified, *stored in leads:
        hits = stored[0] if stored else None
        lead: Lead | None = None
        if hits is not None:
            rule_ids, failed = hits
            before = now.group_of(rule_ids, failed)
        else:
            lead = _parsed(payload, "a decided lead without stored hits needs its payload to be rescored")
            scored = score(lead, current)
            rule_ids, failed = [h.rule_id for h in scored.hits], scored.failed_must_haves
            before = scored.group
        n += 1
        all_qualified += qualified
        if before is Group.PRIORITY:
            priority += 1
            priority_qualified += qualified
        for key in proposed:
            regroup = fast.get(key)
            if regroup is not None:
                after = regroup.group_of(rule_ids, failed)
            else:
                if lead is None:
                    lead = _parsed(payload, f"proposal {key} changes conditions: rescoring needs each lead's payload")
                after = score(lead, full[key]).group
            t = tallies[key]
            t.transitions[(before, after)] += 1
            if after is Group.PRIORITY:
                t.priority_after += 1
                t.priority_qualified_after += qualified
    base = PriorityQuality(priority, priority_qualified, all_qualified)
    return {
        key: Backtest(
            leads=n,
            transitions=dict(t.transitions),
            before=base,
            after=PriorityQuality(t.priority_after, t.priority_qualified_after, all_qualified),
            window=window,
            limit=limit,
        )
        for key, t in tallies.items()
    }


def _parsed(payload: dict[str, Any] | None, missing: str) -> Lead:
    """The lead a stored payload holds; ValueError(`missing`) when the caller sent hits without it."""
    if payload is None:
        raise ValueError(missing)
    return Lead.model_validate(payload)
