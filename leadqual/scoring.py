"""Score a lead: fit and intent separately, negative and timing signals, must-have caps.

`Ruleset.compile(spec)` turns a validated rules file into predicates once; `score()` is a
pure function of a lead and a compiled ruleset, so it can run over a whole history in a
backtest as cheaply as on one new lead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from leadqual.groups import Group
from leadqual.lead import Lead
from leadqual.rules.conditions import Predicate, compile_condition
from leadqual.rules.spec import GroupThreshold, RuleKind, RulesetSpec


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule that fired, with the points it moved (negative rules carry negative points)."""

    rule_id: str
    kind: str  # a RuleKind value, kept as a plain str so storing 20k explanations is cheap
    label: str
    points: int

    json: str = field(default="", compare=False, repr=False)  # the stored form, computed once per rule

    def __post_init__(self) -> None:
        if not self.json:
            object.__setattr__(self, "json", json.dumps(self.as_record()))

    def as_record(self) -> dict[str, object]:
        """The stored form of this hit (LeadRow.hits)."""
        return {"rule": self.rule_id, "kind": self.kind, "label": self.label, "points": self.points}


@dataclass(frozen=True, slots=True)
class Score:
    fit: int
    intent: int
    group: Group
    urgent: bool
    segment: str | None
    hits: tuple[Hit, ...]
    failed_must_haves: tuple[str, ...]
    ruleset_version: int
    uncapped_group: Group

    def reasons(self, limit: int = 3) -> list[Hit]:
        """The strongest reasons, negatives and timing first among equals."""
        return sorted(self.hits, key=lambda h: -abs(h.points))[:limit]

    def explain(self, limit: int = 3) -> str:
        """A one-line explanation: the rules that fired and their points."""
        parts = [f"{h.label} ({h.points:+d})" if h.points else h.label for h in self.reasons(limit)]
        parts += [f"fails must-have {m}" for m in self.failed_must_haves]
        return "; ".join(parts) or "no rule fired"


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    test: Predicate
    hit: Hit  # the same for every lead it fires on, so built once
    to_fit: bool
    timing: bool
    segments: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class _CompiledMustHave:
    id: str
    test: Predicate
    otherwise: Group
    segments: frozenset[str] | None


@dataclass(frozen=True)
class Ruleset:
    """A rules file compiled for scoring, with the stored version that scores carry."""

    spec: RulesetSpec
    version: int
    _segments: tuple[tuple[str, Predicate], ...]
    _rules: dict[str | None, tuple[_CompiledRule, ...]]  # rules that apply, by segment
    _must: dict[str | None, tuple[_CompiledMustHave, ...]]
    _groups: tuple[tuple[Group, GroupThreshold], ...]

    @classmethod
    def compile(cls, spec: RulesetSpec, *, version: int | None = None) -> Ruleset:
        """Compile every condition once."""
        rules = tuple(
            _CompiledRule(
                test=compile_condition(r.when),
                hit=Hit(r.id, r.kind.value, r.label, -r.points if r.kind is RuleKind.NEGATIVE else r.points),
                to_fit=r.target is RuleKind.FIT,
                timing=r.kind is RuleKind.TIMING,
                segments=frozenset(r.segments) if r.segments else None,
            )
            for r in spec.rules
        )
        must = tuple(
            _CompiledMustHave(
                m.id,
                compile_condition(m.when),
                m.otherwise,
                frozenset(m.segments) if m.segments else None,
            )
            for m in spec.must_have
        )
        segment_ids: list[str | None] = [None, *(s.id for s in spec.segments)]
        return cls(
            spec=spec,
            version=version if version is not None else spec.version,
            _segments=tuple((s.id, compile_condition(s.when)) for s in spec.segments),
            _rules={seg: tuple(r for r in rules if r.segments is None or seg in r.segments) for seg in segment_ids},
            _must={seg: tuple(m for m in must if m.segments is None or seg in m.segments) for seg in segment_ids},
            _groups=tuple(spec.groups.items()),
        )

    @property
    def name(self) -> str:
        return self.spec.name


def score(lead: Lead, ruleset: Ruleset, *, today: date | None = None) -> Score:
    """Score one lead; `today` defaults to the day the lead was received."""
    if today is None:
        received = lead.received_at
        today = received.date() if received else datetime.now(UTC).date()
    segment = next((sid for sid, test in ruleset._segments if test(lead, today)), None)
    fit = intent = 0
    urgent = False
    hits: list[Hit] = []
    for rule in ruleset._rules[segment]:
        if not rule.test(lead, today):
            continue
        hit = rule.hit
        hits.append(hit)
        urgent = urgent or rule.timing
        if rule.to_fit:
            fit += hit.points
        else:
            intent += hit.points
    fit = min(100, max(0, fit))
    intent = min(100, max(0, intent))
    uncapped = group_for(fit, intent, ruleset._groups)
    group = uncapped
    failed: list[str] = []
    for must in ruleset._must[segment]:
        if not must.test(lead, today):
            failed.append(must.id)
            group = group.capped_at(must.otherwise)
    return Score(
        fit=fit,
        intent=intent,
        group=group,
        urgent=urgent,
        segment=segment,
        hits=tuple(hits),
        failed_must_haves=tuple(failed),
        ruleset_version=ruleset.version,
        uncapped_group=uncapped,
    )


def group_for(fit: int, intent: int, groups: tuple[tuple[Group, GroupThreshold], ...]) -> Group:
    """The first group whose minimums the scores meet; Poor fit when none does."""
    for group, threshold in groups:
        if fit >= threshold.fit and intent >= threshold.intent:
            return group
    return Group.POOR_FIT
