"""The YAML configuration: routes, managers, reason codes, SLA ladder, digest schedule."""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from leadqual.costs import CostEntry
from leadqual.crm.config import CrmConfig
from leadqual.decisions import Criterion
from leadqual.errors import ConfigError
from leadqual.groups import Group
from leadqual.questions import QuestionBank
from leadqual.routing.hours import HoursError, parse_hours
from leadqual.routing.routes import check_route_condition
from leadqual.screen import ScreenSettings, default_screen
from leadqual.yamlfile import dotted, line_for, line_index, yaml_error_line

SLACK_ID_PATTERN = r"^[A-Z0-9]{2,}$"
SlackId = Annotated[str, StringConstraints(pattern=SLACK_ID_PATTERN)]
DATA = resources.files("leadqual") / "data"


class _Cfg(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _zone(v: str | None) -> str | None:
    if v is None:
        return v
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r}; use an IANA name such as Europe/Berlin") from None
    return v


class Rep(_Cfg):
    user: SlackId
    weight: int = Field(1, ge=1, le=100)
    max_open_claims: int | None = Field(None, ge=1, le=10_000)  # overrides the route's
    timezone: str | None = None  # where the rep's away date ends (routing.availability.away_zone)

    _tz = field_validator("timezone")(_zone)


class Route(_Cfg):
    channel: SlackId | None = None
    rotation: bool = False
    reps: list[Rep] = Field(default_factory=list)
    hours: str | None = None  # "mon-fri 08:00-17:00" in `timezone` (default the config's)
    timezone: str | None = None
    max_open_claims: int | None = Field(None, ge=1, le=10_000)  # per rep, unless the rep sets its own

    _tz = field_validator("timezone")(_zone)

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                parse_hours(v)
            except HoursError as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("reps")
    @classmethod
    def _reps_once(cls, v: list[Rep]) -> list[Rep]:
        seen: set[str] = set()
        for rep in v:
            if rep.user in seen:
                raise ValueError(f"{rep.user} is listed twice; give one entry a higher weight instead")
            seen.add(rep.user)
        return v


class RouteRule(Route):
    """One entry of `routes:` as a list: first match wins."""

    when: dict[str, Any] | None = None  # the rules' condition operators; none: every lead
    groups: list[Group] = Field(default_factory=lambda: [g for g in Group if g.routed], min_length=1)

    @field_validator("when")
    @classmethod
    def _when(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        if v is not None:
            check_route_condition(v)
        return v

    @field_validator("groups")
    @classmethod
    def _posted_groups(cls, v: list[Group]) -> list[Group]:
        if Group.POOR_FIT in v:
            raise ValueError("poor_fit is never posted, so no route can take it")
        return list(dict.fromkeys(v))


def _routes_shape(v: Any) -> str:
    return "list" if isinstance(v, list | tuple) else "map"


Routes = Annotated[
    Annotated[dict[Group, Route], Tag("map")] | Annotated[list[RouteRule], Tag("list")],
    Discriminator(_routes_shape),
]
# The union's tags appear in pydantic's error locations; they are not keys of the YAML file.
_ROUTE_TAGS = frozenset({"map", "list"})


class RoutingSettings(_Cfg):
    account_days: int = Field(180, ge=0, le=3650)  # 0: no account owner first


class SlaAction(StrEnum):
    REMIND = "remind"
    ESCALATE = "escalate"
    REASSIGN = "reassign"


class SlaStep(_Cfg):
    after_minutes: int = Field(ge=1, le=60 * 24 * 14)
    action: SlaAction


class Reason(_Cfg):
    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    label: Annotated[str, StringConstraints(min_length=1, max_length=75)]  # a Slack option's text limit
    criterion: Criterion = Criterion.FIT


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class DigestSchedule(_Cfg):
    weekday: Weekday = Weekday.MON
    hour: int = Field(8, ge=0, le=23)
    trailing_weeks: int = Field(12, ge=1, le=104)


class LearnFrom(StrEnum):
    """What the proposals and the backtest count as success (DESIGN.md, "Pipeline outcomes")."""

    QUALIFIED = "qualified"  # the rep decided Qualified to pursue
    OPPORTUNITY = "opportunity"  # the lead reached an opportunity (any pipeline stage)
    WON = "won"  # the deal was closed won


class ProposalMethod(StrEnum):
    """How rules are judged: together, the others held fixed (conditional), or one at a time (marginal)."""

    CONDITIONAL = "conditional"
    MARGINAL = "marginal"


class ProposalSettings(_Cfg):
    min_decided: int = Field(30, ge=5)
    prior_strength: float = Field(10, gt=0)
    learn_from: LearnFrom = LearnFrom.QUALIFIED
    method: ProposalMethod = ProposalMethod.CONDITIONAL  # marginal: each rule on its own (docs/proposals.md)
    holdout_weeks: int = Field(3, ge=0, le=52)


class FollowUpSettings(_Cfg):
    """When the daily follow-up DM goes out, and when an undone follow-up counts as overdue."""

    hour: int = Field(9, ge=0, le=23)  # local hour in `timezone`
    overdue_days: int = Field(3, ge=1, le=365)  # overdue once this many days have passed since the due day
    needs_info_days: int = Field(7, ge=1, le=365)  # a Needs info lead still waiting after this: a reminder


class PipelineSettings(_Cfg):
    stale_after_days: int = Field(30, ge=1, le=365)


class AppConfig(_Cfg):
    rules: str | None = None
    timezone: str = "UTC"
    default_channel: SlackId | None = None
    routes: Routes = Field(default_factory=dict)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    managers: list[SlackId] = Field(default_factory=list)
    manager_usergroups: list[SlackId] = Field(default_factory=list)
    sla: dict[Group, list[SlaStep]] = Field(default_factory=dict)
    sla_working_hours: bool = False  # `sla.working_hours: true` in the file: count a route's open hours only
    reasons: list[Reason] = Field(min_length=1)
    digest: DigestSchedule = Field(default_factory=DigestSchedule)
    proposals: ProposalSettings = Field(default_factory=ProposalSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    follow_ups: FollowUpSettings = Field(default_factory=FollowUpSettings)
    crm: CrmConfig = Field(default_factory=CrmConfig)
    questions: QuestionBank = Field(default_factory=QuestionBank)  # follow-up questions for unknowns
    screen: ScreenSettings = Field(default_factory=default_screen)  # the card's quick screen
    costs: list[CostEntry] = Field(default_factory=list)  # spend per campaign or source: cost per qualified lead

    # Where the file was read from: relative paths inside it resolve against this.
    base_dir: Path | None = Field(None, exclude=True)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}; use an IANA name such as Europe/Berlin") from None
        return v

    @model_validator(mode="before")
    @classmethod
    def _sla_working_hours(cls, data: Any) -> Any:
        # `working_hours` sits beside the ladders in `sla:` (the place a reader looks for it).
        sla = data.get("sla") if isinstance(data, dict) else None
        if isinstance(sla, dict) and "working_hours" in sla:
            flag = sla["working_hours"]
            if not isinstance(flag, bool):
                raise ValueError("sla.working_hours must be true or false")
            data = {**data, "sla": {k: v for k, v in sla.items() if k != "working_hours"}, "sla_working_hours": flag}
        return data

    @field_validator("routes")
    @classmethod
    def _one_zone_per_rep(cls, v: dict[Group, Route] | list[RouteRule]) -> dict[Group, Route] | list[RouteRule]:
        zones: dict[str, list[str]] = {}
        for route in v.values() if isinstance(v, dict) else v:
            for rep in route.reps:
                if rep.timezone and rep.timezone not in zones.setdefault(rep.user, []):
                    zones[rep.user].append(rep.timezone)
        for user, found in zones.items():
            if len(found) > 1:
                raise ValueError(
                    f"{user} has two time zones ({found[0]} and {found[1]}); a rep's away date ends in one: "
                    "give the same `timezone` in every route, or set it in one only"
                )
        return v

    @field_validator("sla")
    @classmethod
    def _ladder_ascends(cls, v: dict[Group, list[SlaStep]]) -> dict[Group, list[SlaStep]]:
        for group, steps in v.items():
            minutes = [s.after_minutes for s in steps]
            if minutes != sorted(set(minutes)):
                raise ValueError(f"{group.value}: steps must be in increasing after_minutes")
        return v

    @field_validator("reasons")
    @classmethod
    def _unique_reasons(cls, v: list[Reason]) -> list[Reason]:
        codes = [r.code for r in v]
        if len(codes) != len(set(codes)):
            raise ValueError("reason codes must be unique")
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def channel_for(self, group: Group) -> str | None:
        """The channel a group's cards go to, or None when it is not posted."""
        if not group.routed:
            return None
        if isinstance(self.routes, list):
            # A list routes by lead as well: this is the channel of a lead no conditional route takes.
            rule = next((r for r in self.routes if group in r.groups and r.when is None), None)
            return (rule.channel if rule else None) or self.default_channel
        route = self.routes.get(group)
        return (route.channel if route else None) or self.default_channel

    def reason(self, code: str) -> Reason | None:
        return next((r for r in self.reasons if r.code == code), None)

    def with_overrides(self, *, channel: str | None, managers: list[str]) -> AppConfig:
        """Apply LEADBOT_CHANNEL (default route) and LEADBOT_MANAGERS (added)."""
        update: dict[str, object] = {}
        if channel:
            update["default_channel"] = channel
        if managers:
            update["managers"] = list(dict.fromkeys([*self.managers, *managers]))
        return self.model_copy(update=update)

    def rules_path(self) -> Path | None:
        if not self.rules:
            return None
        path = Path(self.rules)
        return path if path.is_absolute() or self.base_dir is None else self.base_dir / path


def default_config_path() -> Path:
    return Path(str(DATA / "default_config.yaml"))


def default_rules_path() -> Path:
    return Path(str(DATA / "default_rules.yaml"))


def load_config(path: str | Path | None = None) -> AppConfig:
    """Load the YAML config (the packaged one when path is None); errors name file and line."""
    path = Path(path) if path else default_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text) or {}
    except yaml.MarkedYAMLError as exc:
        line = yaml_error_line(exc)
        raise ConfigError(f"{path}:{line}: invalid YAML: {exc.problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the config file must be a mapping")
    data.setdefault("reasons", yaml.safe_load(default_config_path().read_text())["reasons"])
    try:
        config = AppConfig.model_validate({**data, "base_dir": path.parent})
    except ValidationError as exc:
        lines = line_index(node)
        locs = [tuple(p for p in e["loc"] if p not in _ROUTE_TAGS) for e in exc.errors()]
        problems = [
            f"{path}:{line_for(lines, loc)}: {dotted(loc) or 'config'}: {e['msg'].removeprefix('Value error, ')}"
            for e, loc in zip(exc.errors(), locs, strict=True)
        ]
        raise ConfigError("\n".join(problems)) from None
    return config
