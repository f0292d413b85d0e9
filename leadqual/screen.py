"""The quick screen: four questions answered yes, no or unknown from what the lead sent (DOMAIN.md).

Each question is a condition in the rules' own syntax (`field`, `signal`, `all`, `any`, `not`
and the field operators), read with three values instead of two:
- a test on a field the lead did not send is *unknown*, not a no;
- a signal the lead showed is a *yes*; one it did not show is *unknown*;
- `all` is no if any part is no, yes if every part is yes, else unknown; `any` is yes if any
  part is yes, no if every part is no, else unknown; `not` swaps yes and no;
- a question's `unless` (a veto) holding makes the answer no, whatever `when` says.

An unknown is not a fail: it is a question to ask early, and the card lists it so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from leadqual.lead import Lead
from leadqual.rules.conditions import ConditionError, compile_condition
from leadqual.yamlfile import dotted


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Question(StrEnum):
    """The four screening questions, in the order the card shows them."""

    TARGET = "target"
    CAPABILITY = "capability"
    NEED = "need"
    TECHNICAL_CONTACT = "technical_contact"


@dataclass(frozen=True, slots=True)
class ScreenAnswer:
    """One question as the card shows it: its label, the answer, and what to ask when unknown."""

    question: Question
    label: str
    answer: Answer
    ask: str


# --- configuration (`screen:` in the YAML) ------------------------------------------------------

# The defaults mirror the packaged ruleset's rules (target-industry, supported-country,
# defined-scope, unrelated-request, problem-stated, rfq, bom-review, technical-role).
_UNRELATED = {
    "field": "message",
    "matches": r"\b(job (application|opening|posting|seeker)s?|careers? (page|opportunit(y|ies))|my (resume|cv)"
    r"|internship|sponsorship|seo|backlinks?|link building|guest post|marketing services)\b",
}
DEFAULTS: dict[Question, dict[str, Any]] = {
    Question.TARGET: {
        "label": "Target industry and region",
        "ask": "Which industry is the company in, and where is the site?",
        "when": {
            "all": [
                {
                    "field": "company.industry",
                    "in": [
                        "metals",
                        "chemicals",
                        "energy",
                        "logistics",
                        "water",
                        "manufacturing",
                        "utilities",
                        "mining",
                    ],
                },
                {"field": "company.country", "in": ["US", "CA", "MX"]},
            ]
        },
    },
    Question.CAPABILITY: {
        "label": "Within capability",
        "ask": "What product or service is needed: replacement, upgrade, new installation or service?",
        "when": {
            "field": "need.scope",
            "in": [
                "replacement",
                "repair",
                "upgrade",
                "retrofit",
                "new_installation",
                "service_plan",
                "renewal",
                "compliance",
                "spare_parts",
            ],
        },
        "unless": _UNRELATED,
    },
    Question.NEED: {
        "label": "A clear need",
        "ask": "What problem exists today, and what outcome is required by when?",
        "when": {
            "any": [
                {"field": "need.problem", "exists": True},
                {"signal": "rfq_request"},
                {"signal": "bom_review"},
            ]
        },
        "unless": _UNRELATED,
    },
    Question.TECHNICAL_CONTACT: {
        "label": "A technical contact",
        "ask": "Who is the engineering or technical lead on this?",
        "when": {
            "field": "contact.title",
            "matches": "engineer|ingenier|ingénieur|maintenance|mantenimiento|reliability|operations|plant|planta"
            "|technical|technician|project manager",
        },
    },
}


class ScreenQuestion(BaseModel):
    """One question of `screen:`: its label on the card, its conditions, and what to ask when unknown.

    `when` answers the question; `unless`, when it holds, makes the answer no whatever `when`
    says (a veto such as "the request is unrelated to the offer"; not holding changes nothing).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str = Field(min_length=1, max_length=60)
    ask: str = Field(min_length=1, max_length=200)
    when: dict[str, Any]
    unless: dict[str, Any] | None = None

    @field_validator("when", "unless")
    @classmethod
    def _condition(cls, v: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any] | None:
        if v is None:
            return v
        try:
            compile_condition(v, (info.field_name or "when",))
        except ConditionError as exc:
            raise ValueError(f"{dotted(exc.path)}: {exc}") from None
        return v

    def answer(self, lead: Lead, today: date) -> Answer:
        """Yes, no or unknown for `lead` (`unless` holding makes it no)."""
        if self.unless is not None and _compiled(self.unless)(lead, today) is Answer.YES:
            return Answer.NO
        return _compiled(self.when)(lead, today)


class ScreenSettings(BaseModel):
    """`screen:`: any of the four questions, each key given replacing that default key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: ScreenQuestion
    capability: ScreenQuestion
    need: ScreenQuestion
    technical_contact: ScreenQuestion

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ValueError("screen must be a mapping of target, capability, need and technical_contact")
        merged = dict(data)
        for q in Question:
            given = data.get(q.value)
            merged[q.value] = {**DEFAULTS[q], **given} if isinstance(given, dict) else given or DEFAULTS[q]
        return merged

    def question(self, q: Question) -> ScreenQuestion:
        question: ScreenQuestion = getattr(self, q.value)
        return question


def default_screen() -> ScreenSettings:
    return ScreenSettings.model_validate({})


# --- answering ----------------------------------------------------------------------------------

Tri = Callable[[Lead, date], Answer]


_COMPILED: dict[str, Tri] = {}


def _compiled(cond: dict[str, Any]) -> Tri:
    """Compile a condition once per process (a card is built on every change and every App Home row)."""
    key = repr(cond)  # repr, not JSON: a YAML date and the same text as a string test differently
    if key not in _COMPILED:
        if len(_COMPILED) > 256:  # configs reloaded many times (tests): start over
            _COMPILED.clear()
        _COMPILED[key] = _tri(cond)
    return _COMPILED[key]


def _tri(cond: dict[str, Any]) -> Tri:
    """Compile a (validated) condition for three-valued reading."""
    if "all" in cond or "any" in cond:
        combinator = "all" if "all" in cond else "any"
        parts = tuple(_tri(p) for p in cond[combinator])
        return _all_of(parts) if combinator == "all" else _any_of(parts)
    if "not" in cond:
        inner = _tri(cond["not"])
        flip = {Answer.YES: Answer.NO, Answer.NO: Answer.YES, Answer.UNKNOWN: Answer.UNKNOWN}
        return lambda lead, today: flip[inner(lead, today)]
    test = compile_condition(cond)
    if "signal" in cond:
        return lambda lead, today: Answer.YES if test(lead, today) else Answer.UNKNOWN
    sent = compile_condition({"field": cond["field"], "exists": True})

    def leaf(lead: Lead, today: date) -> Answer:
        if not sent(lead, today):
            return Answer.UNKNOWN
        return Answer.YES if test(lead, today) else Answer.NO

    return leaf


def _all_of(parts: tuple[Tri, ...]) -> Tri:
    def test(lead: Lead, today: date) -> Answer:
        answers = {p(lead, today) for p in parts}
        return Answer.NO if Answer.NO in answers else Answer.UNKNOWN if Answer.UNKNOWN in answers else Answer.YES

    return test


def _any_of(parts: tuple[Tri, ...]) -> Tri:
    def test(lead: Lead, today: date) -> Answer:
        answers = {p(lead, today) for p in parts}
        return Answer.YES if Answer.YES in answers else Answer.UNKNOWN if Answer.UNKNOWN in answers else Answer.NO

    return test


def quick_screen(lead: Lead | None, settings: ScreenSettings, *, today: date) -> tuple[ScreenAnswer, ...]:
    """Answer the four questions for `lead` (every answer unknown when there is no readable lead)."""
    out = []
    for q in Question:
        question = settings.question(q)
        answer = question.answer(lead, today) if lead is not None else Answer.UNKNOWN
        out.append(ScreenAnswer(q, question.label, answer, question.ask))
    return tuple(out)


def ask_early(answers: tuple[ScreenAnswer, ...]) -> list[str]:
    """The questions to ask first: the unknowns, in order."""
    return [a.ask for a in answers if a.answer is Answer.UNKNOWN]
