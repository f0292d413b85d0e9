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


@dataclass(frozen=True, slots=True)
class DecisionInput:
    """What a rep submitted for one of the four outcomes.

    Qualified: `fian` ratings, `motion`, `next_step`, `next_step_on`. Not qualified:
    `reason` (a code from config.reasons). Nurture: `follow_up_on`. Needs info: `missing`
    (keys of MISSING_DETAILS). Any outcome: `note`.
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

    def details(self) -> dict[str, Any]:
        """The outcome-specific details, as stored on the Decision row and shown in the thread."""
        data: dict[str, Any] = {}
        if self.outcome is Outcome.QUALIFIED:
            data["fian"] = {k: (v.value if v else None) for k, v in self.fian.items()}
            data["motion"] = self.motion
            data["next_step"] = self.next_step
            data["next_step_on"] = self.next_step_on.isoformat() if self.next_step_on else None
        elif self.outcome is Outcome.NURTURE:
            data["follow_up_on"] = self.follow_up_on.isoformat() if self.follow_up_on else None
        elif self.outcome is Outcome.NEEDS_INFO:
            data["missing"] = list(self.missing)
        return data


def check_decision(
    decision: DecisionInput, *, config: AppConfig, today: date, motions: set[str] | None = None
) -> dict[str, str]:
    """Return {field: what is wrong} for a decision ({} when it may be stored).

    Qualified to pursue means fit and intent confirmed and a next step defined (DOMAIN.md);
    Not qualified needs a reason code; Nurture a follow-up date in the future; Needs info
    which details are missing.
    """
    errors: dict[str, str] = {}
    if decision.note and len(decision.note) > NOTE_MAX:
        errors["note"] = f"Keep the note under {NOTE_MAX} characters."
    match decision.outcome:
        case Outcome.QUALIFIED:
            for criterion in Criterion:
                if decision.fian.get(criterion) is None:
                    errors[criterion] = f"Rate {criterion.label.lower()}."
            for criterion in (Criterion.FIT, Criterion.INTENT):
                rating = decision.fian.get(criterion)
                if rating is not None and rating is not Rating.CONFIRMED:
                    errors[criterion] = (
                        f"Qualifying needs a confirmed {criterion}; choose Needs info or Nurture instead."
                    )
            if not (decision.next_step or "").strip():
                errors["next_step"] = "Say what the next step is."
            elif len(decision.next_step or "") > NEXT_STEP_MAX:
                errors["next_step"] = f"Keep the next step under {NEXT_STEP_MAX} characters."
            if decision.next_step_on is not None and decision.next_step_on < today:
                errors["next_step_on"] = "Pick today or a later date."
            if decision.motion and motions is not None and decision.motion not in motions:
                errors["motion"] = "Pick one of the listed buying motions."
        case Outcome.NOT_QUALIFIED:
            if not decision.reason:
                errors["reason"] = "Pick a reason."
            elif config.reason(decision.reason) is None:
                errors["reason"] = "That reason is not in the configured list; pick another."
        case Outcome.NURTURE:
            if decision.follow_up_on is None:
                errors["follow_up_on"] = "Pick a follow-up date."
            elif decision.follow_up_on <= today:
                errors["follow_up_on"] = "Pick a date after today."
        case Outcome.NEEDS_INFO:
            unknown = [m for m in decision.missing if m not in MISSING_DETAILS]
            if not decision.missing:
                errors["missing"] = "Tick at least one missing detail."
            elif unknown:
                errors["missing"] = f"Unknown detail {unknown[0]!r}."
            elif "other" in decision.missing and not (decision.note or "").strip():
                errors["note"] = "Say what else is missing."
    return errors
