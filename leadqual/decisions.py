"""A rep's decision on a lead: the four outcomes' inputs and the rules they must meet (pure).

FIAN (Fit, Intent, Authority, Need) is defined here once: the Qualify modal rates each
criterion, a disqualification reason names the one that was missing, and `blocks/` derives
its block ids from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from leadqual.lead import Outcome

if TYPE_CHECKING:  # config imports Criterion from here
    from leadqual.config import AppConfig

NOTE_MAX = 3000
NEXT_STEP_MAX = 300


class Criterion(StrEnum):
    """FIAN: what discovery confirms before qualifying, and what a disqualification reason says was missing."""

    FIT = "fit"
    INTENT = "intent"
    AUTHORITY = "authority"
    NEED = "need"

    @property
    def label(self) -> str:
        return self.value.capitalize()


FIAN = tuple(Criterion)


class Rating(StrEnum):
    """How far discovery got on one FIAN criterion."""

    CONFIRMED = "confirmed"
    PARTIAL = "partial"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return self.value.capitalize()


# The details a rep can ask for with "Needs info" (DOMAIN.md: specs, site, stakeholders, timeline).
MISSING_DETAILS = {
    "specs": "Specs",
    "site": "Site details",
    "stakeholders": "Stakeholders",
    "timeline": "Timeline",
    "budget": "Budget",
    "other": "Other",
}


class Artefact(StrEnum):
    """What a qualified lead usually needs from the customer (DOMAIN.md); the Qualify modal records those asked for."""

    DRAWINGS = "drawings"  # drawings, schematics or part numbers
    SITE_CONSTRAINTS = "site_constraints"  # site constraints and installation requirements
    COMPLIANCE = "compliance_documents"  # compliance requirements and standards references
    LEAD_TIME = "lead_time"  # lead-time confirmation
    CONTACTS = "contact_list"  # engineering, procurement and approval roles


@dataclass(frozen=True, slots=True)
class DecisionInput:
    """What a rep submitted for one of the four outcomes.

    Qualified: `fian` ratings, `motion`, `next_step`, `next_step_on`. Not qualified:
    `reason` (a code from config.reasons). Nurture: `follow_up_on`. Needs info: `missing`
    (keys of MISSING_DETAILS), optionally `fian` ratings as far as known. Qualified may add
    `artefacts` (Artefact values) requested from the customer. Any outcome: `note`.
    """

    outcome: Outcome
    reason: str | None = None
    note: str | None = None
    fian: Mapping[str, Rating | None] = field(default_factory=dict)
    motion: str | None = None
    next_step: str | None = None
    next_step_on: date | None = None
    follow_up_on: date | None = None
    missing: tuple[str, ...] = ()
    artefacts: tuple[str, ...] = ()

    def unknown_criteria(self) -> tuple[Criterion, ...]:
        """The FIAN criteria this decision rates unknown (each gets its follow-up questions), in FIAN order."""
        if self.outcome not in (Outcome.QUALIFIED, Outcome.NEEDS_INFO):
            return ()
        return tuple(c for c in Criterion if self.fian.get(c) is Rating.UNKNOWN)

    def details(self) -> dict[str, Any]:
        """The outcome-specific details, as stored on the Decision row and shown in the thread."""
        data: dict[str, Any] = {}
        if self.outcome is Outcome.QUALIFIED:
            data["fian"] = {k: (v.value if v else None) for k, v in self.fian.items()}
            data["motion"] = self.motion
            data["next_step"] = self.next_step
            data["next_step_on"] = self.next_step_on.isoformat() if self.next_step_on else None
            data["artefacts"] = list(self.artefacts)
        elif self.outcome is Outcome.NURTURE:
            data["follow_up_on"] = self.follow_up_on.isoformat() if self.follow_up_on else None
        elif self.outcome is Outcome.NEEDS_INFO:
            data["missing"] = list(self.missing)
            rated = {k: v.value for k, v in self.fian.items() if v}
            if rated:
                data["fian"] = rated
        return data


class Problem(StrEnum):
    """What is wrong with one field of a decision (`blocks/` words it for the modal)."""

    REQUIRED = "required"  # empty: rate it, say it, pick it
    TOO_LONG = "too_long"  # over NOTE_MAX or NEXT_STEP_MAX
    NOT_CONFIRMED = "not_confirmed"  # qualifying needs fit and intent confirmed
    IN_PAST = "in_past"  # a next-step date before today
    NOT_AFTER_TODAY = "not_after_today"  # a follow-up date today or earlier
    NOT_LISTED = "not_listed"  # a motion, reason or detail the config does not list
    SAY_WHAT_ELSE = "say_what_else"  # "other" missing without a note


def check_decision(
    decision: DecisionInput, *, config: AppConfig, today: date, motions: set[str] | None = None
) -> dict[str, Problem]:
    """Return {field: what is wrong} for a decision ({} when it may be stored).

    Qualified to pursue means fit and intent confirmed and a next step defined (DOMAIN.md);
    Not qualified needs a reason code; Nurture a follow-up date in the future; Needs info
    which details are missing.
    """
    errors: dict[str, Problem] = {}
    if decision.note and len(decision.note) > NOTE_MAX:
        errors["note"] = Problem.TOO_LONG
    match decision.outcome:
        case Outcome.QUALIFIED:
            for criterion in Criterion:
                if decision.fian.get(criterion) is None:
                    errors[criterion] = Problem.REQUIRED
            for criterion in (Criterion.FIT, Criterion.INTENT):
                rating = decision.fian.get(criterion)
                if rating is not None and rating is not Rating.CONFIRMED:
                    errors[criterion] = Problem.NOT_CONFIRMED
            if not (decision.next_step or "").strip():
                errors["next_step"] = Problem.REQUIRED
            elif len(decision.next_step or "") > NEXT_STEP_MAX:
                errors["next_step"] = Problem.TOO_LONG
            if decision.next_step_on is not None and decision.next_step_on < today:
                errors["next_step_on"] = Problem.IN_PAST
            if decision.motion and motions is not None and decision.motion not in motions:
                errors["motion"] = Problem.NOT_LISTED
            if any(a not in Artefact._value2member_map_ for a in decision.artefacts):
                errors["artefacts"] = Problem.NOT_LISTED
        case Outcome.NOT_QUALIFIED:
            if not decision.reason:
                errors["reason"] = Problem.REQUIRED
            elif config.reason(decision.reason) is None:
                errors["reason"] = Problem.NOT_LISTED
        case Outcome.NURTURE:
            if decision.follow_up_on is None:
                errors["follow_up_on"] = Problem.REQUIRED
            elif decision.follow_up_on <= today:
                errors["follow_up_on"] = Problem.NOT_AFTER_TODAY
        case Outcome.NEEDS_INFO:
            if not decision.missing:
                errors["missing"] = Problem.REQUIRED
            elif any(m not in MISSING_DETAILS for m in decision.missing):
                errors["missing"] = Problem.NOT_LISTED
            elif "other" in decision.missing and not (decision.note or "").strip():
                errors["note"] = Problem.SAY_WHAT_ELSE
    return errors
