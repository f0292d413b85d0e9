"""What the edges show, as frozen plain objects: the lead card, App Home, the digest.

Services build these from the database (cosmicpython's read side); `blocks/` renders them
and never sees SQLAlchemy. Strings are as stored (unescaped); `blocks/` escapes them for Slack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from leadqual.backtest import Backtest
from leadqual.costs import CostFigures
from leadqual.figures import Figures, Inflation, ScoreBands
from leadqual.groups import Group
from leadqual.lead import Outcome
from leadqual.pipeline_figures import PipelineFigures
from leadqual.proposals import Proposal
from leadqual.response import FirstResponse
from leadqual.routing.accounts import AccountLead
from leadqual.routing.fairness import Fairness
from leadqual.screen import ScreenAnswer
from leadqual.statuses import RulesetOrigin

if TYPE_CHECKING:  # leadqual.follow_ups builds on LeadCard
    from leadqual.follow_ups import FollowUpCompletion, RepOverdue

# --- the lead card ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardReason:
    """One rule that fired for the lead, as the card explains it."""

    label: str
    points: int
    kind: str


@dataclass(frozen=True, slots=True)
class LeadCard:
    """Everything a card, modal or App Home row shows about a lead, read in one go.

    Strings are as stored (unescaped); `blocks/` escapes them for Slack.
    """

    id: int
    company: str | None
    contact_name: str | None
    contact_title: str | None
    email: str | None
    industry: str | None
    country: str | None
    region: str | None
    employees: int | None
    source: str | None
    offer: str | None
    campaign: str | None
    scope: str | None
    problem: str | None
    needed_by: str | None
    message: str | None
    fit: int
    intent: int
    group: Group
    urgent: bool
    segment: str | None
    segment_label: str | None
    reasons: tuple[CardReason, ...]
    failed_must_haves: tuple[str, ...]
    ruleset_version: int
    status: str
    owner_id: str | None
    suggested_owner: str | None
    claimed_at: datetime | None
    outcome: Outcome | None
    reason: str | None
    reason_label: str | None
    decided_by: str | None
    decided_at: datetime | None
    follow_up_on: date | None
    received_at: datetime
    channel_id: str | None
    message_ts: str | None
    version: int
    # From the current decision's details (empty while undecided): what the card and the handoff show.
    missing: tuple[str, ...] = ()  # Needs info: MISSING_DETAILS keys still awaited
    artefacts: tuple[str, ...] = ()  # Qualified: Artefact values requested from the customer
    next_step: str | None = None  # Qualified: what happens next
    fian: tuple[tuple[str, str], ...] = ()  # (criterion, rating) as the decision rated them
    screen: tuple[ScreenAnswer, ...] = ()  # the quick screen's four answers (leadqual.screen)
    history: tuple[AccountLead, ...] = ()  # the account's earlier leads, newest first (company domain)
    domain: str | None = None

    @property
    def display_name(self) -> str:
        return self.company or self.contact_name or self.email or f"Lead {self.id}"

    @property
    def decided(self) -> bool:
        return self.outcome is not None


@dataclass(frozen=True, slots=True)
class Applied:
    """The outcome of a change: the lead as it now is, and whether this call changed it.

    `changed` is False when the request repeated one already applied (a Slack retry, a
    double click): nothing was written twice.
    """

    card: LeadCard
    changed: bool


# --- App Home ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeekNumbers:
    """This week's (Monday 00:00 local to now) figures for a manager."""

    starts: datetime
    received: dict[Group, int]
    claimed: int
    decided: dict[Outcome, int]
    median_minutes_to_claim: float | None

    @property
    def total(self) -> int:
        return sum(self.received.values())


@dataclass(frozen=True, slots=True)
class Home:
    """One user's App Home."""

    user_id: str
    open_claims: tuple[LeadCard, ...]
    open_total: int
    follow_ups: tuple[LeadCard, ...]
    follow_ups_total: int
    week: WeekNumbers | None
    overdue: tuple[RepOverdue, ...] = ()  # the user's own overdue follow-ups (one entry, or none)
    overdue_by_rep: tuple[RepOverdue, ...] | None = None  # managers: every rep's overdue follow-ups


# --- the weekly digest -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RulesetChange:
    """The active ruleset version and where it came from (the digest offers to roll back an applied one)."""

    version: int
    name: str
    parent_version: int | None
    origin: str  # file | apply | rollback
    created_at: datetime
    created_by: str | None
    proposal_id: str | None  # the proposal that made it, if any
    proposal: Proposal | None
    latest_version: int | None = None  # the highest version stored (above `version` after a rollback)

    @property
    def next_version(self) -> int:
        """The number applying a proposal gives the new version: one past the highest, not past the active."""
        return max(self.latest_version or 0, self.version) + 1

    @property
    def from_proposal(self) -> bool:
        return self.origin == RulesetOrigin.APPLY and self.parent_version is not None


@dataclass(frozen=True, slots=True)
class ProposedChange:
    proposal: Proposal
    backtest: Backtest | None


@dataclass(frozen=True)
class Digest:
    """Everything one weekly digest says."""

    iso_week: str
    timezone: str
    week: Figures
    trailing: Figures
    ruleset: RulesetChange
    proposals: list[ProposedChange]
    evidence_leads: int  # decided leads (qualified or not) the proposals learned from
    pipeline: PipelineFigures | None = None  # outcomes of the window's qualified leads, by group
    learn_from: str = "qualified"  # what the proposals counted as success
    method: str = "marginal"  # conditional | marginal
    held_out: dict[str, float] | None = None  # every proposed change together on the held-out weeks
    bands: ScoreBands | None = None  # the window's decided leads by fit and intent band
    inflation: Inflation | None = None  # Priority this week against the week before
    first_response: FirstResponse | None = None  # time to first response, the week and the window
    costs: CostFigures | None = None  # cost per qualified lead, from `costs:` (None when there are none)
    fairness: Fairness | None = None  # the week's rotation: shares against weights, skips by reason
    follow_ups: FollowUpCompletion | None = None  # due follow-ups done within overdue_days, by rep

    @property
    def ruleset_version(self) -> int:
        return self.ruleset.version

    def as_json(self) -> dict[str, Any]:
        return {
            "iso_week": self.iso_week,
            "timezone": self.timezone,
            "ruleset": {
                "version": self.ruleset.version,
                "name": self.ruleset.name,
                "origin": self.ruleset.origin,
                "parent_version": self.ruleset.parent_version,
                "proposal": self.ruleset.proposal_id,
                "can_roll_back": self.ruleset.from_proposal,
            },
            "week": self.week.as_json(),
            "trailing": self.trailing.as_json(),
            "evidence_leads": self.evidence_leads,
            "learn_from": self.learn_from,
            "method": self.method,
            "held_out": dict(self.held_out) if self.held_out else None,
            "score_bands": self.bands.as_json() if self.bands else None,
            "score_inflation": self.inflation.as_json() if self.inflation else None,
            "pipeline": self.pipeline.as_json() if self.pipeline else None,
            "first_response": self.first_response.as_json() if self.first_response else None,
            "cost_per_qualified_lead": self.costs.as_json() if self.costs else None,
            "fairness": self.fairness.as_json() if self.fairness else None,
            "follow_up_completion": self.follow_ups.as_json() if self.follow_ups else None,
            "proposals": [
                {**c.proposal.as_json(), "backtest": c.backtest.as_json() if c.backtest else None}
                for c in self.proposals
            ],
        }
