"""Follow-ups that come due: the dates' arithmetic and the read models of reminders and completion (pure).

A follow-up is a lead's `follow_up_on` day (a Nurture follow-up date or a Qualified
next-step date). It comes due at the start of that local day, is listed in its owner's
daily DM from then on until it is done, snoozed or decided, and is *overdue* once
`follow_ups.overdue_days` days have passed since the due day (due Monday with 3: overdue
from Thursday). Completion counts a due follow-up as done when it was marked done (or the
lead decided from it) before it became overdue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from leadqual.readmodels import LeadCard

SNOOZE_DAYS = 7


def overdue_from(due: date, overdue_days: int) -> date:
    """The first local day on which a follow-up due on `due` and not done is overdue."""
    return due + timedelta(days=overdue_days)


def is_overdue(due: date, today: date, overdue_days: int) -> bool:
    return today >= overdue_from(due, overdue_days)


def snoozed_until(due: date, today: date) -> date:
    """Snooze a week: seven days on from the due day, or from today for one already past."""
    return max(due, today) + timedelta(days=SNOOZE_DAYS)


@dataclass(frozen=True, slots=True)
class FollowUpRef:
    """What a reminder's button was made for: the lead, its due day, and the lead's version then."""

    lead_id: int
    due: date
    version: int


class FollowUpChange(StrEnum):
    """Why a reminder's button no longer applies (blocks/ words it)."""

    DONE = "done"  # someone marked it done
    MOVED = "moved"  # it is due on another day now (snoozed, or decided again with a new date)
    DECIDED = "decided"  # the lead was decided again or reopened since


def what_changed(
    ref: FollowUpRef, *, now_due: date | None, version: int, outcome: str | None, done: bool
) -> FollowUpChange | None:
    """None when the follow-up `ref` names still stands as the reminder showed it; else what changed."""
    if now_due == ref.due and version == ref.version:
        return None
    if now_due is not None and now_due != ref.due:
        return FollowUpChange.MOVED
    if now_due is None and outcome is not None and done:
        return FollowUpChange.DONE
    return FollowUpChange.DECIDED


# --- the daily reminder -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueFollowUp:
    """One lead in an owner's reminder: its card, the day it came due, and whether it is overdue."""

    card: LeadCard
    due: date
    overdue: bool

    @property
    def ref(self) -> FollowUpRef:
        return FollowUpRef(self.card.id, self.due, self.card.version)


@dataclass(frozen=True, slots=True)
class FollowUpReminder:
    """An owner's DM for one local day: what comes due today, and what is still open from before."""

    owner_id: str
    day: date
    items: tuple[DueFollowUp, ...]
    overdue_days: int
    more: int = 0  # due beyond the ones listed (a DM holds at most 20)


# --- App Home: overdue ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RepOverdue:
    """A rep's overdue follow-ups, as a manager's App Home lists them."""

    rep: str
    total: int
    items: tuple[DueFollowUp, ...]


# --- the digest: completion ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Completion:
    """Due follow-ups and how many of them were done within `overdue_days` of their due day."""

    due: int
    done: int

    @property
    def rate(self) -> float | None:
        return self.done / self.due if self.due else None

    def as_json(self) -> dict[str, Any]:
        return {"due": self.due, "done": self.done, "rate": round(self.rate, 4) if self.rate is not None else None}


@dataclass(frozen=True, slots=True)
class FollowUpCompletion:
    """Follow-up completion over a digest's week and its window, by rep and overall.

    A follow-up belongs to the period in which its `overdue_days` ran out (due day plus
    `overdue_days`): by then it was done in time or it was not, so every one counted has its answer.
    """

    overdue_days: int
    week: Completion
    window: Completion
    by_rep: tuple[tuple[str, Completion, Completion], ...]  # (rep, week, window)

    def as_json(self) -> dict[str, Any]:
        return {
            "overdue_days": self.overdue_days,
            "week": self.week.as_json(),
            "window": self.window.as_json(),
            "by_rep": [{"rep": rep, "week": w.as_json(), "window": t.as_json()} for rep, w, t in self.by_rep],
        }
