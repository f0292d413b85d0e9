"""Routes as rules: the config's `routes:` (a per-group map or a first-match list) as one table.

Both shapes normalise into `RoutePlan`s: the map gives one plan per group, the list one plan
per entry with its compiled condition. `RouteTable.match` is a few set look-ups and the
compiled predicates of the routes that take the lead's group, so it can run on every lead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from leadqual.groups import Group
from leadqual.lead import Lead
from leadqual.routing.hours import Hours, parse_hours
from leadqual.rules.conditions import FIELDS, ConditionError, Predicate, compile_condition
from leadqual.yamlfile import dotted

if TYPE_CHECKING:  # the config module imports this one to validate `when:`
    from leadqual.config import AppConfig, Rep, Route

# What a route's `when:` may test: the lead's fields plus the score's segment (buying motion).
ROUTE_FIELDS = FIELDS | {"segment"}


def check_route_condition(cond: Any) -> None:
    """Raise ValueError (naming the place inside `when:`) if a route's condition is malformed."""
    try:
        compile_condition(cond, ("when",), fields=ROUTE_FIELDS)
    except ConditionError as exc:
        raise ValueError(f"{dotted(exc.path)}: {exc}") from None


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """Where a lead goes and who may be suggested: one route, normalised."""

    index: int | None  # position in the `routes:` list; None for the per-group map and the fallback
    channel: str | None  # None: not posted
    groups: frozenset[Group]
    rotation: bool
    reps: tuple[Rep, ...]
    hours: Hours | None
    tz: ZoneInfo
    max_open_claims: int | None
    test: Predicate | None = None
    name: str = "default"  # "#0".. for list entries, the group for the map, "default" for the fallback
    uses_segment: bool = False  # the condition reads the score's segment (so it sees a wrapped lead)

    @property
    def rotates(self) -> bool:
        return self.rotation and bool(self.reps)

    def label(self) -> str:
        return self.name


class _Subject:
    """A lead as a route's condition sees it: its fields, plus the score's segment."""

    __slots__ = ("_lead", "segment")

    def __init__(self, lead: Lead, segment: str | None) -> None:
        self._lead = lead
        self.segment = segment

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lead, name)


class RouteTable:
    """The routes in order, indexed by group (matching runs per lead: keep it to look-ups and predicates)."""

    __slots__ = ("_by_group", "fallback", "needs_lead", "routes")

    def __init__(self, routes: tuple[RoutePlan, ...], fallback: RoutePlan) -> None:
        self.routes = routes
        self.fallback = fallback  # no route took the lead: the default channel, nobody suggested
        # Whether matching reads the lead (some route has a condition), not just its group.
        self.needs_lead = any(r.test is not None for r in routes)
        self._by_group = {g: tuple(r for r in routes if g in r.groups) for g in Group}

    def match(
        self, group: Group, lead: Lead | None = None, *, segment: str | None = None, today: date | None = None
    ) -> RoutePlan | None:
        """The first route taking this lead (the fallback when none does); None for a group never posted."""
        if not group.routed:
            return None
        subject: Any = None
        for route in self._by_group[group]:
            test = route.test
            if test is None:
                return route
            if lead is None:
                raise ValueError("this route table tests lead fields: pass the lead")
            if today is None:
                today = lead.received_at.date() if lead.received_at else date.today()
            if route.uses_segment:
                if subject is None:
                    subject = _Subject(lead, segment)
                if test(subject, today):
                    return route
            elif test(lead, today):
                return route
        return self.fallback


def build_route_table(config: AppConfig) -> RouteTable:
    """Normalise the config's `routes:` (map or list) into one ordered table."""
    zone = ZoneInfo(config.timezone)
    fallback = RoutePlan(
        None, config.default_channel, frozenset(g for g in Group if g.routed), False, (), None, zone, None
    )
    if isinstance(config.routes, list):
        plans = tuple(
            _plan(
                rule,
                i,
                frozenset(rule.groups),
                config.default_channel,
                zone,
                compile_condition(rule.when, ("when",), fields=ROUTE_FIELDS) if rule.when is not None else None,
                name=f"#{i}",
            )
            for i, rule in enumerate(config.routes)
        )
    else:
        plans = tuple(
            _plan(route, None, frozenset({group}), config.default_channel, zone, None, name=group.value)
            for group, route in config.routes.items()
            if group.routed
        )
    return RouteTable(plans, fallback)


def _plan(
    route: Route,
    index: int | None,
    groups: frozenset[Group],
    default_channel: str | None,
    zone: ZoneInfo,
    test: Predicate | None,
    *,
    name: str,
) -> RoutePlan:
    when = getattr(route, "when", None)
    return RoutePlan(
        index=index,
        channel=route.channel or default_channel,
        groups=groups,
        rotation=route.rotation,
        reps=tuple(route.reps),
        hours=parse_hours(route.hours) if route.hours else None,
        tz=ZoneInfo(route.timezone) if route.timezone else zone,
        max_open_claims=route.max_open_claims,
        test=test,
        name=name,
        uses_segment=_reads(when, "segment"),
    )


def _reads(cond: Any, field: str) -> bool:
    """Whether a condition tests `field` anywhere inside it."""
    if isinstance(cond, dict):
        return cond.get("field") == field or any(_reads(v, field) for v in cond.values())
    if isinstance(cond, list):
        return any(_reads(v, field) for v in cond)
    return False


_CACHE: dict[tuple[int, str | None, str], tuple[object, RouteTable]] = {}


def route_table(config: AppConfig) -> RouteTable:
    """The config's route table, compiled once per routes object (the config is immutable)."""
    key = (id(config.routes), config.default_channel, config.timezone)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is config.routes:
        return hit[1]
    table = build_route_table(config)
    if len(_CACHE) > 64:  # tests build many configs; a process normally has one
        _CACHE.clear()
    _CACHE[key] = (config.routes, table)  # holding the routes keeps their id from being reused
    return table


def describe(route: RoutePlan, group: Group) -> Sequence[str]:
    """Table cells for `leadbot routes check`: route, channel, group, rotation."""
    reps = ", ".join(f"{r.user}x{r.weight}" if r.weight != 1 else r.user for r in route.reps)
    rotation = reps if route.rotates else ("off" if not route.reps else f"off ({reps})")
    return (route.label(), route.channel or "(not posted)", group.value, rotation)
