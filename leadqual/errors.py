"""Named domain errors. Every edge (Slack, HTTP, CLI) translates these once.

Each carries its data (the owner, the lead, the fields); `str(error)` is a plain line for
logs and the terminal. What Slack shows is written by `blocks.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadqual.decisions import Problem


class LeadbotError(Exception):
    """Base class for errors a user can act on."""


class ConfigError(LeadbotError):
    """A setting, config file or rules file is invalid; the message names where and why."""


class RulesError(ConfigError):
    """A rules file is invalid: `file:line: what is wrong`."""

    def __init__(self, problems: list[str], *, source: str) -> None:
        self.problems = problems
        self.source = source
        super().__init__("\n".join(problems))


class InvalidLead(LeadbotError):
    """A lead record failed validation; `errors` holds field-level details."""

    def __init__(self, errors: list[dict[str, object]], *, where: str = "") -> None:
        self.errors = errors
        self.where = where
        first = errors[0] if errors else {}
        loc = first.get("loc", ())
        path = ".".join(str(p) for p in loc) if isinstance(loc, tuple | list) else str(loc)
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{path or 'lead'}: {first.get('msg', 'invalid lead')}")


class ImportFailed(LeadbotError):
    """A file could not be imported; nothing from it was stored."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(problems[0] if problems else "import failed")


class LeadNotFound(LeadbotError):
    def __init__(self, lead_id: object) -> None:
        self.lead_id = lead_id
        super().__init__(f"Lead {lead_id} was not found.")


class AlreadyClaimed(LeadbotError):
    def __init__(self, owner_id: str) -> None:
        self.owner_id = owner_id
        super().__init__(f"Already claimed by {owner_id}.")


class NotOwner(LeadbotError):
    def __init__(self, owner_id: str | None) -> None:
        self.owner_id = owner_id
        super().__init__(f"Only {owner_id} or a manager can do that." if owner_id else "Claim it first.")


class NotManager(LeadbotError):
    def __init__(self) -> None:
        super().__init__("Only a manager can do that.")


class AlreadyDecided(LeadbotError):
    def __init__(self, outcome: str) -> None:
        self.outcome = outcome
        super().__init__(f"This lead is already decided ({outcome}). Reopen it first.")


class NotWaitingForInfo(LeadbotError):
    """Info received on a lead that is not (or no longer) waiting in Needs info; `state` is its status now."""

    def __init__(self, lead_id: object, state: str) -> None:
        self.lead_id = lead_id
        self.state = state
        super().__init__(f"Lead {lead_id} is not waiting for info (it is {state}).")


class ProposalNotFound(LeadbotError):
    def __init__(self, proposal_id: str) -> None:
        self.proposal_id = proposal_id
        super().__init__(f"No open proposal {proposal_id!r}.")


class NothingToRollBack(LeadbotError):
    def __init__(self) -> None:
        super().__init__("The active ruleset has no previous version to roll back to.")


class InvalidDecision(LeadbotError):
    """A decision's inputs break a qualification rule; `errors` maps each field to what is wrong."""

    def __init__(self, errors: Mapping[str, Problem]) -> None:
        self.errors = dict(errors)
        super().__init__("invalid decision: " + ", ".join(f"{f} {p}" for f, p in self.errors.items()))


class CardNotPosted(LeadbotError):
    """The lead's card has no Slack message yet, so it cannot be updated or threaded: retry later."""

    def __init__(self, lead_id: object) -> None:
        self.lead_id = lead_id
        super().__init__(f"The card of lead {lead_id} is not posted yet.")


class ProposalAlreadyApplied(LeadbotError):
    def __init__(self, proposal_id: str, version: int | None) -> None:
        self.proposal_id = proposal_id
        self.version = version
        super().__init__(f"Proposal {proposal_id} is already applied (ruleset v{version}).")


class ProposalNoLongerApplies(LeadbotError):
    """The active ruleset changed since the proposal was made, so it cannot be applied as is."""

    def __init__(self, proposal_id: str, why: str) -> None:
        self.proposal_id = proposal_id
        self.why = why
        super().__init__(f"Proposal {proposal_id} no longer applies: {why}.")


class RulesetChanged(LeadbotError):
    """The active ruleset is not the version the user saw (someone else changed it first)."""

    def __init__(self, expected: int, active: int) -> None:
        self.expected = expected
        self.active = active
        super().__init__(f"The active ruleset is now v{active}, not v{expected}: nothing was changed.")


class UnknownLeads(LeadbotError):
    """Pipeline outcomes named leads that are not stored; `items` says which (index and name)."""

    def __init__(self, items: list[dict[str, object]]) -> None:
        self.items = items
        names = ", ".join(str(i.get("external_id") or i.get("lead_id")) for i in items[:5])
        more = f" and {len(items) - 5} more" if len(items) > 5 else ""
        super().__init__(f"Unknown leads: {names}{more}; nothing was recorded.")


class OutboxRowsNotFound(LeadbotError):
    """Some outbox ids asked for do not name a dead row; nothing was changed."""

    def __init__(self, unknown: list[int], not_dead: dict[int, str]) -> None:
        self.unknown = unknown
        self.not_dead = not_dead
        parts = []
        if unknown:
            parts.append("no outbox row " + ", ".join(f"#{i}" for i in unknown))
        if not_dead:
            living = ", ".join(f"#{i} is {status}" for i, status in not_dead.items())
            parts.append(f"{living} (only dead rows are re-queued)")
        super().__init__("; ".join(parts) + "; nothing was re-queued")
