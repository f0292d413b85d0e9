"""The digest's pipeline figures: what became of a period's qualified leads, by score group.

Opportunities, won and lost deals, amounts won per currency (never added across currencies)
and stale qualified leads; counted by `leadqual.analytics.pipeline`, read by `blocks/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from leadqual.calendar import Period
from leadqual.figures import rounded
from leadqual.groups import Group


@dataclass(frozen=True, slots=True)
class PipelineGroupFigures:
    """What happened after qualification to one group's leads decided Qualified in a period.

    The cohort is the leads whose final decision, made in the period, is Qualified to pursue;
    each is counted by its latest pipeline stage as stored now. Any stage (opportunity, won or
    lost) means the lead became an opportunity: a CRM may report a deal won or lost without
    having reported it open.
    """

    group: Group
    qualified: int = 0  # the denominator of the opportunity rate
    opportunities: int = 0  # ... that reached any pipeline stage
    won: int = 0  # ... whose latest stage is won
    lost: int = 0  # ... whose latest stage is lost
    amount_won: tuple[tuple[str, Decimal], ...] = ()  # (currency or "", sum) of won deals; currencies never mixed
    stale_eligible: int = 0  # qualified leads decided at least `stale_after_days` before the period's end
    stale: int = 0  # ... of which no pipeline stage is known

    @property
    def opportunity_rate(self) -> float | None:
        """Opportunities among leads decided Qualified (every qualified lead counts, however recent)."""
        return self.opportunities / self.qualified if self.qualified else None

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def win_rate(self) -> float | None:
        """Won among closed deals (won + lost): open opportunities are still undecided, as Nurture is."""
        return self.won / self.closed if self.closed else None

    def as_json(self) -> dict[str, Any]:
        return {
            "group": self.group.value,
            "qualified": self.qualified,
            "opportunities": self.opportunities,
            "opportunity_rate": rounded(self.opportunity_rate),
            "won": self.won,
            "lost": self.lost,
            "win_rate": rounded(self.win_rate),
            "amount_won": {currency: float(amount) for currency, amount in self.amount_won},
            "stale_eligible": self.stale_eligible,
            "stale": self.stale,
        }


@dataclass(frozen=True)
class PipelineFigures:
    """Pipeline outcomes by group for one period (the digest's trailing window)."""

    period: Period
    stale_after_days: int
    groups: list[PipelineGroupFigures]

    def group(self, group: Group) -> PipelineGroupFigures:
        return next((g for g in self.groups if g.group is group), PipelineGroupFigures(group))

    @property
    def total(self) -> PipelineGroupFigures:
        amounts: dict[str, Decimal] = {}
        for g in self.groups:
            for currency, amount in g.amount_won:
                amounts[currency] = amounts.get(currency, Decimal(0)) + amount
        return PipelineGroupFigures(
            group=Group.PRIORITY,  # unused for the total
            qualified=sum(g.qualified for g in self.groups),
            opportunities=sum(g.opportunities for g in self.groups),
            won=sum(g.won for g in self.groups),
            lost=sum(g.lost for g in self.groups),
            amount_won=tuple(sorted(amounts.items())),
            stale_eligible=sum(g.stale_eligible for g in self.groups),
            stale=sum(g.stale for g in self.groups),
        )

    @property
    def any(self) -> bool:
        return any(g.qualified for g in self.groups)

    def as_json(self) -> dict[str, Any]:
        total = self.total.as_json()
        del total["group"]
        return {
            "period": self.period.label,
            "cohort": "leads decided Qualified to pursue in the period, by their latest pipeline stage",
            "opportunity_rate_of": "qualified",
            "win_rate_of": "won + lost",
            "stale_after_days": self.stale_after_days,
            "groups": [g.as_json() for g in self.groups],
            "total": total,
        }


# --- score bands and score inflation (issue 13, item 6) -------------------------------------------
