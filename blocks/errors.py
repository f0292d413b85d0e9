"""What a user is told when Leadbot refuses or fails an action (mrkdwn for an ephemeral note).

Domain errors carry data (the owner, the lead, the fields at fault, as codes); this module
words each of them for Slack, mentioning people with `mention()`, which escapes anything that
is not a Slack user id (an owner from imported CRM history may be "<!channel>" or "Jane <x>").
`str(error)` stays a plain line for logs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from blocks.text import mention, mrkdwn
from leadqual.decisions import FIAN, NEXT_STEP_MAX, NOTE_MAX, Criterion, Problem
from leadqual.errors import (
    AlreadyClaimed,
    AlreadyDecided,
    CardNotPosted,
    InvalidDecision,
    LeadbotError,
    LeadNotFound,
    NothingToRollBack,
    NotManager,
    NotOwner,
    NotWaitingForInfo,
    ProposalAlreadyApplied,
    ProposalNoLongerApplies,
    ProposalNotFound,
    RulesetChanged,
)

SORRY = "Something went wrong on Leadbot's side and nothing was changed; it has been logged. Try again in a moment."

_WORDS: dict[type, Callable[[Any], str]] = {
    AlreadyClaimed: lambda e: f"This lead is already claimed by {mention(e.owner_id)}.",
    NotOwner: lambda e: f"Only {mention(e.owner_id)} or a manager can do that." if e.owner_id else "Claim it first.",
    NotManager: lambda e: "Only a manager can do that.",
    AlreadyDecided: lambda e: (
        f"This lead is already decided ({mrkdwn(str(e.outcome).replace('_', ' '))}). Reopen it first."
    ),
    NotWaitingForInfo: lambda e: (
        f"This lead is no longer waiting for info (it is {mrkdwn(str(e.state).replace('_', ' '), 40)}): "
        "nothing was changed."
    ),
    LeadNotFound: lambda e: f"Lead {mrkdwn(e.lead_id)} was not found.",
    CardNotPosted: lambda e: "This lead's card is not posted yet; try again in a moment.",
    InvalidDecision: lambda e: "Not saved: " + " ".join(decision_problem(f, p) for f, p in e.errors.items()),
    ProposalNotFound: lambda e: f"No open proposal {mrkdwn(e.proposal_id, 64)!r}.",
    ProposalAlreadyApplied: lambda e: (
        f"Proposal {mrkdwn(e.proposal_id, 64)} is already applied (ruleset v{e.version})."
    ),
    ProposalNoLongerApplies: lambda e: f"Proposal {mrkdwn(e.proposal_id, 64)} no longer applies: {mrkdwn(e.why, 300)}.",
    RulesetChanged: lambda e: f"The active ruleset is now v{e.active}, not v{e.expected}: nothing was changed.",
    NothingToRollBack: lambda e: "The active ruleset has no previous version to roll back to.",
}


def user_message(error: Exception) -> str:
    """What to tell the user about `error` (mrkdwn)."""
    for kind in type(error).__mro__:
        words = _WORDS.get(kind)
        if words is not None:
            return words(error)
    if isinstance(error, LeadbotError):
        return mrkdwn(str(error))
    return SORRY


def decision_problem(field: str, problem: Problem) -> str:
    """One field's problem, as the decision modal shows it under that field."""
    if field in FIAN:
        criterion = Criterion(field)
        if problem is Problem.NOT_CONFIRMED:
            return f"Qualifying needs a confirmed {criterion}; choose Needs info or Nurture instead."
        return f"Rate {criterion.label.lower()}."
    match field, problem:
        case "note", Problem.TOO_LONG:
            return f"Keep the note under {NOTE_MAX} characters."
        case "note", Problem.SAY_WHAT_ELSE:
            return "Say what else is missing."
        case "next_step", Problem.TOO_LONG:
            return f"Keep the next step under {NEXT_STEP_MAX} characters."
        case "next_step", _:
            return "Say what the next step is."
        case "next_step_on", _:
            return "Pick today or a later date."
        case "motion", _:
            return "Pick one of the listed buying motions."
        case "reason", Problem.NOT_LISTED:
            return "That reason is not in the configured list; pick another."
        case "reason", _:
            return "Pick a reason."
        case "follow_up_on", Problem.NOT_AFTER_TODAY:
            return "Pick a date after today."
        case "follow_up_on", _:
            return "Pick a follow-up date."
        case "missing", Problem.NOT_LISTED:
            return "Pick the missing details from the list."
        case "missing", _:
            return "Tick at least one missing detail."
        case "artefacts", _:
            return "Pick the artefacts from the list."
        case "arrived", Problem.NOT_LISTED:
            return "Pick what arrived from the list."
        case "arrived", _:
            return "Tick at least one detail that arrived."
    return "Check this field."
