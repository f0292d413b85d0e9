"""Cost per qualified lead: what a campaign or a source cost (`costs:` in the YAML) over its qualified leads.

An entry's cost is what was spent on that campaign or source, in all or over the days `from`
to `to` (local days, both included); it is divided by the leads from it decided Qualified to
pursue (final decision) among the leads received in those days and up to the end of the
reported week. Entries for the same name, currency and days are added up; other days are
their own line (October's spend over October's leads). Currencies are never added together:
a name with costs in two currencies shows one figure per currency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator


class CostBy(StrEnum):
    CAMPAIGN = "campaign"
    SOURCE = "source"


Days = tuple[date | None, date | None]  # (from, to), local days included; None: open on that side


def days_order(days: Days) -> tuple[date, date]:
    """Sorts spans of days: all days first (open on both sides), then by first and last day."""
    return (days[0] or date.min, days[1] or date.max)


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]


class CostEntry(BaseModel):
    """One entry of `costs:`: `{campaign: pump-retrofit-2026, cost: 4200, currency: USD}` or by `source`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    campaign: Name | None = None
    source: Name | None = None
    cost: Decimal = Field(ge=0)
    currency: Currency
    starts: date | None = Field(None, alias="from")  # first day the cost covers (local), included
    ends: date | None = Field(None, alias="to")  # last day the cost covers (local), included

    @field_validator("cost", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int | float) or (isinstance(v, float) and not math.isfinite(v)):
            raise ValueError("cost must be a number such as 4200 (no quotes, no currency sign)")
        if v < 0:
            raise ValueError("cost must not be negative")
        return Decimal(str(v))

    @model_validator(mode="after")
    def _one_name(self) -> CostEntry:
        if (self.campaign is None) == (self.source is None):
            raise ValueError("a cost entry names either a campaign or a source (exactly one of them)")
        if self.starts is not None and self.ends is not None and self.ends < self.starts:
            raise ValueError(f"`to` ({self.ends}) is before `from` ({self.starts})")
        return self

    @property
    def days(self) -> Days:
        return (self.starts, self.ends)

    @property
    def by(self) -> CostBy:
        return CostBy.CAMPAIGN if self.campaign is not None else CostBy.SOURCE

    @property
    def key(self) -> str:
        """The name as leads are matched on it (case does not matter)."""
        return (self.campaign or self.source or "").lower()


@dataclass(frozen=True, slots=True)
class CostLine:
    """One campaign or source in one currency."""

    by: CostBy
    name: str
    currency: str
    cost: Decimal
    leads: int  # leads received from it in `days`, up to the end of the reported week
    qualified: int  # ... of which decided Qualified to pursue
    days: Days = (None, None)

    @property
    def per_qualified(self) -> Decimal | None:
        return (self.cost / self.qualified) if self.qualified else None

    def as_json(self) -> dict[str, Any]:
        per = self.per_qualified
        return {
            self.by.value: self.name,
            "currency": self.currency,
            "cost": float(self.cost),
            "leads": self.leads,
            "qualified": self.qualified,
            "cost_per_qualified_lead": None if per is None else round(float(per), 2),
            **({"from": self.days[0].isoformat()} if self.days[0] else {}),
            **({"to": self.days[1].isoformat()} if self.days[1] else {}),
        }


@dataclass(frozen=True)
class CostFigures:
    """Cost per qualified lead by campaign and by source (only those named in `costs:`)."""

    campaigns: list[CostLine]
    sources: list[CostLine]

    @property
    def any(self) -> bool:
        return bool(self.campaigns or self.sources)

    def as_json(self) -> dict[str, Any]:
        return {
            "by_campaign": [c.as_json() for c in self.campaigns],
            "by_source": [s.as_json() for s in self.sources],
        }


def cost_figures(entries: list[CostEntry], counts: dict[tuple[CostBy, str, Days], tuple[int, int]]) -> CostFigures:
    """Sum the entries per (campaign or source, currency, days) and divide by qualified leads.

    `counts` maps (by, lower-cased name, days) to (leads, qualified); a name no lead carries counts 0.
    """
    sums: dict[tuple[CostBy, str, str, Days], Decimal] = {}
    names: dict[tuple[CostBy, str], str] = {}
    for e in entries:
        names.setdefault((e.by, e.key), e.campaign or e.source or "")
        key = (e.by, e.key, e.currency, e.days)
        sums[key] = sums.get(key, Decimal(0)) + e.cost
    lines = [
        CostLine(by, names[(by, key)], currency, cost, *counts.get((by, key, days), (0, 0)), days=days)
        for (by, key, currency, days), cost in sums.items()
    ]
    lines.sort(key=lambda c: (c.name.lower(), *days_order(c.days), c.currency))
    return CostFigures(
        campaigns=[c for c in lines if c.by is CostBy.CAMPAIGN],
        sources=[c for c in lines if c.by is CostBy.SOURCE],
    )
