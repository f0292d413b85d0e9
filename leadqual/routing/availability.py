"""Who may take a route's next turn: away, off hours and capacity, as pure functions.

`next_turn` keeps the rotation's algorithm (smooth weighted round robin over the reps who
can take a lead now) and says who was passed over and why, so the service can write each
skip to the audit log.

Whether a rep's away date has passed is one answer everywhere (App Home, the away modal's
date check, the rotation, the SLA reassign): `is_away` reads the date in the rep's zone,
`away_zone`, which depends on the rep and the config, never on the route being matched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from leadqual.routing.routes import RoutePlan, RouteTable
from leadqual.routing.wrr import ahead_of, next_pick

if TYPE_CHECKING:
    from leadqual.config import Rep


class SkipReason(StrEnum):
    AWAY = "away"
    OFF_HOURS = "off_hours"
    AT_CAPACITY = "at_capacity"


UTC = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class RepState:
    """What the database knows of a rep at this moment, and the zone their away date ends in."""

    away: bool = False
    away_until: date | None = None  # the last day away, in `zone`; None: until they are back
    open_claims: int = 0
    zone: ZoneInfo = UTC  # `away_zone(table, user)`; it matters only with an `away_until`


@dataclass(frozen=True, slots=True)
class Skip:
    user: str
    reason: SkipReason


@dataclass(frozen=True, slots=True)
class Turn:
    """A rotation step: the rep suggested (None: nobody could take it), credit after it, who was skipped."""

    user: str | None
    credit: dict[str, int]
    skips: tuple[Skip, ...]


def away_zone(table: RouteTable, user: str) -> ZoneInfo:
    """The zone `user`'s away date ends in: their own `timezone` (the first route listing them
    with one), else the zone of the first route listing them, else the config's `timezone`.

    Route-independent on purpose: a rep in two routes is away or not in both at once, and App
    Home, which matches no route, gives the same answer as the rotation.
    """
    listed = [(rep, route) for route in table.routes for rep in route.reps if rep.user == user]
    own = next((rep.timezone for rep, _ in listed if rep.timezone), None)
    if own is not None:
        return ZoneInfo(own)
    return listed[0][1].tz if listed else table.fallback.tz


def away_today(zone: ZoneInfo, at: datetime) -> date:
    """The day it is at `at` in a rep's `away_zone`: an away date before it has passed."""
    return at.astimezone(zone).date()


def is_away(state: RepState, at: datetime) -> bool:
    """Away now: marked away, and (with a date) `at` is on or before that date in the rep's zone."""
    if not state.away:
        return False
    return state.away_until is None or away_today(state.zone, at) <= state.away_until


def unavailable(rep: Rep, route: RoutePlan, state: RepState, at: datetime) -> SkipReason | None:
    """Why `rep` cannot take a lead of `route` at `at`, or None when they can."""
    if is_away(state, at):
        return SkipReason.AWAY
    if route.hours is not None and not route.hours.is_open(at, route.tz):
        return SkipReason.OFF_HOURS
    cap = rep.max_open_claims if rep.max_open_claims is not None else route.max_open_claims
    if cap is not None and state.open_claims >= cap:
        return SkipReason.AT_CAPACITY
    return None


def next_turn(
    route: RoutePlan,
    credit: dict[str, int],
    states: Mapping[str, RepState],
    at: datetime,
    *,
    exclude: frozenset[str] = frozenset(),
) -> Turn:
    """The next eligible rep by smooth weighted round robin, and the reps skipped ahead of them."""
    reasons = _reasons(route.reps, route, states, at, exclude)
    pick = next_pick(route.reps, credit, away=frozenset(reasons), exclude=exclude)
    winner = pick.user if pick else None
    passed = [u for u in ahead_of(route.reps, credit, winner, exclude=exclude) if u in reasons]
    return Turn(winner, pick.credit if pick else dict(credit), tuple(Skip(u, reasons[u]) for u in passed))


def _reasons(
    reps: Sequence[Rep], route: RoutePlan, states: Mapping[str, RepState], at: datetime, exclude: frozenset[str]
) -> dict[str, SkipReason]:
    out: dict[str, SkipReason] = {}
    for rep in reps:
        if rep.user in exclude:
            continue
        reason = unavailable(rep, route, states.get(rep.user, RepState()), at)
        if reason is not None:
            out[rep.user] = reason
    return out
