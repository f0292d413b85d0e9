"""What a rule proposal is: the counts it learns from, the change it proposes, and applying it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from leadqual.groups import Group
from leadqual.rules import RulesetSpec


class ProposalKind(StrEnum):
    RAISE_POINTS = "raise_points"
    LOWER_POINTS = "lower_points"
    RETIRE_RULE = "retire_rule"
    MOVE_THRESHOLD = "move_threshold"


@dataclass(frozen=True, slots=True)
class Tally:
    """Decided leads: how many were qualified and how many not qualified."""

    qualified: int = 0
    not_qualified: int = 0

    @property
    def decided(self) -> int:
        return self.qualified + self.not_qualified

    @property
    def rate(self) -> float:
        return self.qualified / self.decided if self.decided else 0.0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.qualified + other.qualified, self.not_qualified + other.not_qualified)

    def __sub__(self, other: Tally) -> Tally:
        return Tally(max(0, self.qualified - other.qualified), max(0, self.not_qualified - other.not_qualified))


@dataclass(frozen=True, slots=True)
class ScoreCell:
    """Decided leads that landed in one group with one fit and intent score."""

    group: Group
    fit: int
    intent: int
    tally: Tally


@dataclass(frozen=True)
class Evidence:
    """What the proposals learn from: decided leads of one window, counted by the database."""

    overall: Tally  # every decided lead of the window
    rules: Mapping[str, Tally]  # decided leads passing every must-have, where each rule fired
    segments: Mapping[str | None, Tally]  # decided leads passing every must-have, by segment
    cells: Sequence[ScoreCell] = ()  # every decided lead, by group, fit and intent

    @property
    def uncapped(self) -> Tally:
        """Decided leads that pass every must-have: the ones whose group their points decide."""
        return sum(self.segments.values(), Tally())

    def groups(self) -> dict[Group, Tally]:
        out: dict[Group, Tally] = {}
        for cell in self.cells:
            out[cell.group] = out.get(cell.group, Tally()) + cell.tally
        return out


class EvidenceBasis(StrEnum):
    """How a proposal's evidence was judged (blocks/ words each its own way)."""

    MARGINAL = "marginal"  # where the rule fired against where it did not, on smoothed counts
    CONDITIONAL = "conditional"  # the rule's effect with the other rules held fixed


@dataclass(frozen=True)
class Proposal:
    """One proposed change with the figures behind it, as data: `blocks.proposal_words` puts it in words."""

    id: str
    kind: ProposalKind
    target: str  # rule id, or group value for thresholds
    label: str
    setting: str  # "points", or "fit" / "intent" for thresholds
    current: int
    proposed: int | None  # None when retiring a rule
    ruleset_version: int
    figures: dict[str, float] = field(default_factory=dict)
    strength: float = 0.0  # how far the interval clears the bar, in half-widths; orders the digest
    basis: EvidenceBasis = EvidenceBasis.MARGINAL
    checks: int = 1  # the comparisons of one digest whose intervals hold together
    segments: tuple[str, ...] = ()  # the segments a segment rule was judged in
    wrong_direction: bool = False  # retired because its leads convert the other way
    below: str | None = None  # thresholds: the group value ranked below, compared with
    strata_with: str | None = None  # conditional: label of the co-firing rule the strata split on
    after_rule_changes: bool = False  # thresholds judged on the points after the proposed rule changes
    stored_words: str | None = None  # the evidence in words, as proposals stored before the words moved to blocks/

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "target": self.target,
            "label": self.label,
            "setting": self.setting,
            "current": self.current,
            "proposed": self.proposed,
            "ruleset_version": self.ruleset_version,
            "figures": dict(self.figures),
            "strength": self.strength,
            "basis": self.basis.value,
            "checks": self.checks,
            "segments": list(self.segments),
            "wrong_direction": self.wrong_direction,
            "below": self.below,
            "strata_with": self.strata_with,
            "after_rule_changes": self.after_rule_changes,
            **({"stored_words": self.stored_words} if self.stored_words else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Proposal:
        """A stored proposal; one stored before `basis` existed keeps its evidence words as `stored_words`."""
        legacy = "basis" not in data
        return cls(
            id=data["id"],
            kind=ProposalKind(data["kind"]),
            target=data["target"],
            label=data["label"],
            setting=data["setting"],
            current=int(data["current"]),
            proposed=None if data.get("proposed") is None else int(data["proposed"]),
            ruleset_version=int(data["ruleset_version"]),
            figures=dict(data.get("figures", {})),
            strength=float(data.get("strength", 0.0)),
            basis=EvidenceBasis(data.get("basis", EvidenceBasis.MARGINAL.value)),
            checks=int(data.get("checks", 1)),
            segments=tuple(data.get("segments", ())),
            wrong_direction=bool(data.get("wrong_direction", False)),
            below=data.get("below"),
            strata_with=data.get("strata_with"),
            after_rule_changes=bool(data.get("after_rule_changes", False)),
            stored_words=data.get("evidence") if legacy else data.get("stored_words"),
        )


def proposal_id(version: int, kind: ProposalKind, target: str, setting: str, proposed: int | None) -> str:
    """A stable id: the same change to the same ruleset version always gets the same id."""
    digest = hashlib.sha1(f"{version}:{kind.value}:{target}:{setting}:{proposed}".encode()).hexdigest()
    return f"p-{digest[:6]}"


def apply_to_spec(spec: RulesetSpec, proposal: Proposal) -> RulesetSpec:
    """The ruleset with the proposal applied (the version number is left to whoever stores it)."""
    data = spec.model_dump(mode="json")
    if proposal.kind is ProposalKind.MOVE_THRESHOLD:
        if proposal.target not in data["groups"]:
            raise KeyError(f"the ruleset has no {Group(proposal.target).label} group")
        data["groups"][proposal.target][proposal.setting] = proposal.proposed
    elif spec.rule(proposal.target) is None:
        raise KeyError(f"the ruleset has no rule {proposal.target!r}")
    elif proposal.kind is ProposalKind.RETIRE_RULE:
        data["rules"] = [r for r in data["rules"] if r["id"] != proposal.target]
    else:
        for rule in data["rules"]:
            if rule["id"] == proposal.target:
                rule["points"] = proposal.proposed
    return RulesetSpec.model_validate(data)
