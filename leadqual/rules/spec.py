"""The rules file format (DESIGN.md), validated with errors that name the file and line."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from leadqual.errors import RulesError
from leadqual.groups import Group
from leadqual.rules.conditions import ConditionError, compile_condition
from leadqual.yamlfile import dotted, line_for, line_index, yaml_error_line

RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


class RuleKind(StrEnum):
    FIT = "fit"
    INTENT = "intent"
    NEGATIVE = "negative"
    TIMING = "timing"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SegmentSpec(_Spec):
    """A buying motion; a lead belongs to the first segment whose condition holds."""

    id: RuleId
    label: str
    when: dict[str, Any]


class RuleSpec(_Spec):
    id: RuleId
    kind: RuleKind
    label: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    points: int = Field(0, ge=0, le=100)
    when: dict[str, Any]
    segments: list[RuleId] | None = None
    subtract_from: RuleKind | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _kind_rules(self) -> RuleSpec:
        if self.kind in (RuleKind.FIT, RuleKind.INTENT, RuleKind.NEGATIVE) and self.points == 0:
            raise ValueError(f"a {self.kind.value} rule needs points (1-100)")
        if self.subtract_from is not None:
            if self.kind is not RuleKind.NEGATIVE:
                raise ValueError("subtract_from is only for negative rules")
            if self.subtract_from not in (RuleKind.FIT, RuleKind.INTENT):
                raise ValueError("subtract_from must be fit or intent")
        return self

    @property
    def target(self) -> RuleKind:
        """The score this rule's points go to (timing points raise intent)."""
        if self.kind is RuleKind.NEGATIVE:
            return self.subtract_from or RuleKind.FIT
        return RuleKind.INTENT if self.kind is RuleKind.TIMING else self.kind


class MustHaveSpec(_Spec):
    id: RuleId
    label: str | None = None
    when: dict[str, Any]
    otherwise: Group
    segments: list[RuleId] | None = None


class GroupThreshold(_Spec):
    fit: int = Field(0, ge=0, le=100)
    intent: int = Field(0, ge=0, le=100)


class RulesetSpec(_Spec):
    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    version: int = Field(1, ge=1)
    description: str | None = None
    segments: list[SegmentSpec] = Field(default_factory=list)
    rules: list[RuleSpec] = Field(min_length=1)
    must_have: list[MustHaveSpec] = Field(default_factory=list)
    groups: dict[Group, GroupThreshold]

    @model_validator(mode="after")
    def _consistent(self) -> RulesetSpec:
        seen: set[str] = set()
        items: list[RuleSpec | MustHaveSpec] = [*self.rules, *self.must_have]
        for item in items:
            if item.id in seen:
                raise ValueError(f"rule id {item.id!r} is used twice; ids must be unique")
            seen.add(item.id)
        segment_ids = {s.id for s in self.segments}
        for item in items:
            for seg in item.segments or []:
                if seg not in segment_ids:
                    raise ValueError(f"{item.id}: unknown segment {seg!r}; define it under segments")
        if Group.POOR_FIT in self.groups and list(self.groups)[-1] is not Group.POOR_FIT:
            raise ValueError("poor_fit must be the last group: it is the fallback")
        return self

    def rule(self, rule_id: str) -> RuleSpec | None:
        return next((r for r in self.rules if r.id == rule_id), None)


def content_hash(spec: RulesetSpec) -> str:
    """Hash the rules' meaning, not the version number or the file's layout."""
    data = spec.model_dump(mode="json", exclude={"version"})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def dump_ruleset(spec: RulesetSpec) -> str:
    """Write a ruleset back in the file format, keeping the key order people expect."""
    data = spec.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
    for rule in data["rules"]:
        if rule.get("kind") == "timing" and rule.get("points") == 0:
            rule.pop("points")
    if not data["segments"]:
        data.pop("segments")
    if not data["must_have"]:
        data.pop("must_have")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def load_ruleset_file(path: str | Path) -> RulesetSpec:
    """Read and validate a rules file; RulesError lines read `file:line: problem`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError([f"{path}: cannot read rules file: {exc.strerror}"], source=str(path)) from None
    return parse_ruleset_text(text, source=str(path))


def parse_ruleset_text(text: str, *, source: str = "<rules>") -> RulesetSpec:
    """Validate rules YAML text; every problem names `source:line`."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = yaml_error_line(exc)
        raise RulesError([f"{source}:{line}: invalid YAML: {exc.problem}"], source=source) from None
    if not isinstance(data, dict) or node is None:
        raise RulesError([f"{source}:1: a rules file is a mapping with name, rules and groups"], source=source)
    lines = line_index(node)
    try:
        spec = RulesetSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{source}:{line_for(lines, loc)}: {dotted(loc) or 'ruleset'}: {msg}")
        raise RulesError(problems, source=source) from None
    problems = []
    sections: list[tuple[str, Sequence[SegmentSpec | RuleSpec | MustHaveSpec]]] = [
        ("segments", spec.segments),
        ("rules", spec.rules),
        ("must_have", spec.must_have),
    ]
    for section, items in sections:
        for i, item in enumerate(items):
            try:
                compile_condition(item.when, (section, i, "when"))
            except ConditionError as exc:
                problems.append(f"{source}:{line_for(lines, exc.path)}: {dotted(exc.path)}: {exc}")
    if problems:
        raise RulesError(problems, source=source)
    return spec
