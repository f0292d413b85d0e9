"""What App Home shows of routing, as frozen plain objects: who is away, what a manager can reassign."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from leadqual.routing.fairness import Fairness


@dataclass(frozen=True, slots=True)
class Availability:
    """A rep's availability now: away (through `until`, their last day away; None: until back) or not."""

    user_id: str
    away: bool
    until: date | None


@dataclass(frozen=True, slots=True)
class OpenLead:
    """An undecided lead a manager may hand to a rep from App Home."""

    id: int
    name: str
    group_label: str
    owner_id: str | None


@dataclass(frozen=True, slots=True)
class RoutingHome:
    """The routing part of one user's App Home: their own availability; for managers, the team's."""

    me: Availability
    manager: bool
    away: tuple[Availability, ...] = ()  # managers: every rep away now
    fairness: Fairness | None = None  # managers: the rotation this week
