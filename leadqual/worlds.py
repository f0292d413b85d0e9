"""Planted-effect worlds where rules fire together: what marginal counts get wrong.

`leadqual.simulate` draws every buying signal on its own, so a rule rarely borrows another's
credit. Real leads are not like that: case-study readers also visit the pricing page, drawings
come in the same conversation as a BOM review. A `CoFiringWorld` takes simulate's leads and
re-draws some signals so that they ride along with another rule's signal (a `Tie`), then
draws outcomes from simulate's hidden truth (`World.true_points`, read as a logistic model).

`COFIRING` plants:

- `pricing-page` is worthless (true 0 points, carries 15) and rides along with `rfq` (right at
  40): marginal counts see pricing-page leads qualify far more often and keep or raise it;
  held fixed beside rfq it is worth nothing (lower or retire it);
- `bom-review` is strong (true 80, carries 30: raise it) and brings `application-note` along,
  which is weak and right at 5: marginally application-note leads look far better than others,
  because most BOM reviews downloaded one; held fixed beside bom-review it is right (stay quiet);
- `capex-approved` is strong but rare (too few leads to say anything: stay quiet);
- every other rule is right (stay quiet).

The truth is not clamped at 0 and 100 here, so "right points" mean the same thing to the
truth and to a logistic model of the hits; its centre (fit + intent at a coin flip) is 110, so
Priority's precision is not saturated and a wrong rule visibly costs it. Every decision is
final (no open outcomes), so every simulated lead is evidence.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from leadqual.lead import Lead, Outcome
from leadqual.learning.hits import Bool, HitMatrix, from_scores
from leadqual.scoring import Ruleset, Score, score
from leadqual.simulate import World, simulate_leads


@dataclass(frozen=True, slots=True)
class Tie:
    """A signal that rides along with another: present with `with_leader` odds when the leader is."""

    signal: str  # signal type re-drawn
    value: str | None  # its value (a page path), if the rule matches on one
    leader: str  # signal type it rides along with
    with_leader: float
    without_leader: float

    def matches(self, s: dict[str, Any]) -> bool:
        return bool(s.get("type") == self.signal and (self.value is None or s.get("value") == self.value))


@dataclass(frozen=True, eq=False)
class CoFiringWorld:
    """A `World` whose signals are tied together by `ties`."""

    truth: World
    ties: tuple[Tie, ...] = field(default_factory=tuple)

    @property
    def ruleset(self) -> Ruleset:
        return self.truth.ruleset


_COFIRING_POINTS = {"pricing-page": 0, "bom-review": 80, "capex-approved": 60}
COFIRING = CoFiringWorld(
    truth=World(true_points=_COFIRING_POINTS, clamp=False, centre=110, slope=0.6, open_share=0.0),
    ties=(
        Tie("page_view", "/pricing", leader="rfq_request", with_leader=0.75, without_leader=0.06),
        Tie("application_note_download", "AN-12", leader="bom_review", with_leader=0.85, without_leader=0.08),
    ),
)
# The same ties, every rule right: rules that fire together are no reason to change anything.
RIGHT = CoFiringWorld(truth=World(clamp=False, centre=110, slope=0.6, open_share=0.0), ties=COFIRING.ties)


def _retie(rng: random.Random, signals: list[dict[str, Any]], ties: Iterable[Tie]) -> list[dict[str, Any]]:
    for tie in ties:
        kinds = {s.get("type") for s in signals}
        signals = [s for s in signals if not tie.matches(s)]
        odds = tie.with_leader if tie.leader in kinds else tie.without_leader
        if rng.random() < odds:
            signals.append({"type": tie.signal, "value": tie.value} if tie.value else {"type": tie.signal})
    return signals


def _world(
    world: CoFiringWorld, *, n: int, seed: int, end: datetime | None, weeks: int
) -> Iterator[tuple[dict[str, Any], Score]]:
    rng = random.Random(seed * 7919 + 1)
    truth = world.truth
    for record in simulate_leads(n=n, seed=seed, end=end, weeks=weeks, world=truth, decided=False, prefix="tied"):
        record["signals"] = _retie(rng, record["signals"], world.ties)
        lead = Lead.model_validate(record)
        s = score(lead, world.ruleset)
        if rng.random() < truth.open_share:
            status = rng.choice([Outcome.NURTURE, Outcome.NEEDS_INFO])
        else:
            status = Outcome.QUALIFIED if rng.random() < truth.qualify_odds(lead, s) else Outcome.NOT_QUALIFIED
        received = lead.received_at or datetime.fromisoformat(record["received_at"])
        decided_at = (received + timedelta(hours=rng.uniform(0.5, 96))).isoformat().replace("+00:00", "Z")
        record["outcome"] = {"status": status.value, "decided_at": decided_at, "decided_by": "UREP1"}
        if status is Outcome.NOT_QUALIFIED:
            record["outcome"]["reason"] = "spec_mismatch"
        yield record, s


def world_leads(
    world: CoFiringWorld, *, n: int, seed: int = 7, end: datetime | None = None, weeks: int = 12
) -> Iterator[dict[str, Any]]:
    """Yield `n` v1 lead records of `world` (simulate's leads, signals re-tied, outcomes drawn)."""
    for record, _ in _world(world, n=n, seed=seed, end=end, weeks=weeks):
        yield record


def world_hits(
    world: CoFiringWorld, *, n: int, seed: int = 7, end: datetime | None = None, weeks: int = 12
) -> tuple[HitMatrix, Bool]:
    """The hit matrix of the decided leads of `n` simulated ones, and whether each was qualified."""
    scored = []
    qualified = []
    for record, s in _world(world, n=n, seed=seed, end=end, weeks=weeks):
        status = record["outcome"]["status"]
        if status in (Outcome.QUALIFIED.value, Outcome.NOT_QUALIFIED.value):
            scored.append((s, datetime.fromisoformat(record["received_at"])))
            qualified.append(status == Outcome.QUALIFIED.value)
    return from_scores(scored, world.ruleset.spec), np.array(qualified, dtype=bool)


def decided_hits(records: Iterable[dict[str, Any]], ruleset: Ruleset) -> tuple[HitMatrix, Bool]:
    """The hit matrix of the decided leads among `records`, and whether each was qualified."""
    scored = []
    qualified = []
    for record in records:
        status = record.get("outcome", {}).get("status")
        if status not in (Outcome.QUALIFIED.value, Outcome.NOT_QUALIFIED.value):
            continue
        lead = Lead.model_validate(record)
        assert lead.received_at is not None
        scored.append((score(lead, ruleset), lead.received_at))
        qualified.append(status == Outcome.QUALIFIED.value)
    return from_scores(scored, ruleset.spec), np.array(qualified, dtype=bool)
