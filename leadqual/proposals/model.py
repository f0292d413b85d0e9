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


@dataclass(frozen=True)
class Proposal:
    """One proposed change, with the figures behind it in plain words."""

    id: str
    kind: ProposalKind
    target: str  # rule id, or group value for thresholds
    label: str
    setting: str  # "points", or "fit" / "intent" for thresholds
    current: int
    proposed: int | None  # None when retiring a rule
    ruleset_version: int
    evidence: str
    figures: dict[str, float] = field(default_factory=dict)
    strength: float = 0.0  # how far the interval clears the bar, in half-widths; orders the digest

    @property
    def title(self) -> str:
        """A one-line summary, such as `Raise "BOM review requested" from 30 to 65 points`."""
        if self.kind is ProposalKind.RETIRE_RULE:
            return f'Retire "{self.label}" ({self.current} points)'
        if self.kind is ProposalKind.MOVE_THRESHOLD:
            return f"Raise the {self.label} {self.setting} minimum from {self.current} to {self.proposed}"
        verb = "Raise" if self.kind is ProposalKind.RAISE_POINTS else "Lower"
        return f'{verb} "{self.label}" from {self.current} to {self.proposed} points'

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
            "title": self.title,
            "evidence": self.evidence,
            "figures": dict(self.figures),
            "strength": self.strength,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Proposal:
        return cls(
            id=data["id"],
            kind=ProposalKind(data["kind"]),
            target=data["target"],
            label=data["label"],
            setting=data["setting"],
            current=int(data["current"]),
            proposed=None if data.get("proposed") is None else int(data["proposed"]),
            ruleset_version=int(data["ruleset_version"]),
            evidence=data["evidence"],
            figures=dict(data.get("figures", {})),
            strength=float(data.get("strength", 0.0)),
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
