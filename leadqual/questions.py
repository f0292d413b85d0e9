"""The discovery question bank: follow-up questions for each FIAN criterion rated unknown (pure).

`questions:` in the YAML config holds a list per criterion (`fit`, `intent`, `authority`,
`need`) and, under `motions:`, lists per buying motion (a segment id of the rules file) and
criterion. A motion's questions are **added** after the criterion's own, repeats dropped.
A criterion the config leaves out keeps the packaged list (DOMAIN.md's discovery
checklist, `data/default_questions.yaml`); `[]` asks none. `motions:` given replaces the
packaged motions whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from leadqual.decisions import Criterion

QUESTION_MAX = 300  # one bullet of a thread line
MOTION_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"

Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=QUESTION_MAX)]
Questions = Annotated[list[Question], Field(max_length=20)]
MotionId = Annotated[str, StringConstraints(pattern=MOTION_ID)]


class _Bank(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fit: Questions = Field(default_factory=list)
    intent: Questions = Field(default_factory=list)
    authority: Questions = Field(default_factory=list)
    need: Questions = Field(default_factory=list)

    def for_criterion(self, criterion: Criterion) -> list[str]:
        return list(getattr(self, criterion.value))


class MotionQuestions(_Bank):
    """One buying motion's questions, per criterion, added to the criterion's own."""


class QuestionBank(_Bank):
    """Questions per FIAN criterion, plus per buying motion."""

    motions: dict[MotionId, MotionQuestions] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _keep_defaults(cls, data: Any) -> Any:
        # A criterion (or `motions`) the file leaves out keeps the packaged questions.
        if isinstance(data, dict):
            return {**packaged_questions(), **data}
        return data

    def ask(self, unknown: Iterable[Criterion], *, motion: str | None) -> list[CriterionQuestions]:
        """The questions to post for the criteria rated unknown, in FIAN order (none asked: left out)."""
        extra = self.motions.get(motion) if motion else None
        found = []
        for criterion in Criterion:
            if criterion not in set(unknown):
                continue
            items = self.for_criterion(criterion) + (extra.for_criterion(criterion) if extra else [])
            items = list(dict.fromkeys(items))
            if items:
                found.append(CriterionQuestions(criterion, tuple(items)))
        return found


@dataclass(frozen=True, slots=True)
class CriterionQuestions:
    criterion: Criterion
    questions: tuple[str, ...]


@cache
def _packaged_text() -> str:
    return (resources.files("leadqual") / "data" / "default_questions.yaml").read_text(encoding="utf-8")


def packaged_questions() -> dict[str, Any]:
    """The packaged bank as plain data (a fresh copy)."""
    data = yaml.safe_load(_packaged_text())
    assert isinstance(data, dict)
    return data


def default_bank() -> QuestionBank:
    return QuestionBank.model_validate({})
