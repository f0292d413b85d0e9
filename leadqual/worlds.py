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
- `bom-review` is strong (true 70, carries 30) and brings `webinar` along, which is weak and in
  fact a bad sign (true -15, carries 5): marginally webinar leads look good, because most BOM
  reviews attended one; held fixed it should be retired, and bom-review raised;
- `spec-sheet` downloads are engagement, not intent (true 0, carries 15: lower it), on their own;
- `capex-approved` is strong but rare (too few leads to say anything: stay quiet);
- every other rule is right (stay quiet).

The truth is not clamped at 0 and 100 here, so "right points" mean the same thing to the
truth and to a logistic model of the hits.
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
from leadqual.scoring import Ruleset, score
from leadqual.simulate import World, draw_outcome, simulate_leads


@dataclass(frozen=True, slots=True)
class Tie:
    """A signal that rides along with another: present with `with_leader` odds when the leader is."""

    signal: str                  # signal type re-drawn
    value: str | None            # its value (a page path), if the rule matches on one
    leader: str                  # signal type it rides along with
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


_COFIRING_POINTS = {"pricing-page": 0, "bom-review": 70, "webinar": -15, "spec-sheet": 0, "capex-approved": 60}
COFIRING = CoFiringWorld(
    truth=World(true_points=_COFIRING_POINTS, clamp=False),
    ties=(Tie("page_view", "/pricing", leader="rfq_request", with_leader=0.85, without_leader=0.06),
          Tie("webinar_attended", "pump-basics", leader="bom_review", with_leader=0.85, without_leader=0.15)),
)
RIGHT = CoFiringWorld(truth=World(clamp=False), ties=COFIRING.ties)  # the same ties, every rule right


def _retie(rng: random.Random, signals: list[dict[str, Any]], ties: Iterable[Tie]) -> list[dict[str, Any]]:
    for tie in ties:
        kinds = {s.get("type") for s in signals}
        signals = [s for s in signals if not tie.matches(s)]
        odds = tie.with_leader if tie.leader in kinds else tie.without_leader
        if rng.random() < odds:
            signals.append({"type": tie.signal, "value": tie.value} if tie.value else {"type": tie.signal})
    return signals


def world_leads(world: CoFiringWorld, *, n: int, seed: int = 7, end: datetime | None = None,
                weeks: int = 12) -> Iterator[dict[str, Any]]:
    """Yield `n` decided v1 lead records of `world` (simulate's leads, signals re-tied, outcomes drawn)."""
    rng = random.Random(seed * 7919 + 1)
    for record in simulate_leads(n=n, seed=seed, end=end, weeks=weeks, world=world.truth, decided=False,
                                 prefix="tied"):
        record["signals"] = _retie(rng, record["signals"], world.ties)
        lead = Lead.model_validate(record)
        outcome, reason = draw_outcome(rng, lead, world.truth)
        received = lead.received_at or datetime.fromisoformat(record["received_at"])
        decided_at = (received + timedelta(hours=rng.uniform(0.5, 96))).isoformat().replace("+00:00", "Z")
        record["outcome"] = {"status": outcome.value, "decided_at": decided_at, "decided_by": "UREP1"}
        if reason:
            record["outcome"]["reason"] = reason
        yield record


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
