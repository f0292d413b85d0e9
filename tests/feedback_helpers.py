"""Helpers for the feedback-loop tests: a reference count in Python, and simulated history in a database."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from leadqual.config import ProposalMethod
from leadqual.db.models import ProposalRow
from leadqual.groups import Group
from leadqual.lead import Lead, Outcome
from leadqual.proposals import Evidence, Proposal, ProposalKind, ScoreCell, Tally, proposal_id
from leadqual.scoring import Ruleset, score
from leadqual.services.context import Context
from leadqual.services.intake import ingest, validate_leads
from leadqual.simulate import PLANTED, World, simulate_leads


def reference_evidence(records: Iterable[dict[str, Any]], ruleset: Ruleset) -> Evidence:
    """What analytics_evidence.evidence should count, computed lead by lead in Python (decided leads only)."""
    qualified = {Outcome.QUALIFIED.value: True, Outcome.NOT_QUALIFIED.value: False}
    rules: dict[str, Tally] = {}
    segments: dict[str | None, Tally] = {}
    cells: dict[tuple[Group, int, int], Tally] = {}
    for record in records:
        status = record.get("outcome", {}).get("status")
        if status not in qualified:
            continue
        one = Tally(1, 0) if qualified[status] else Tally(0, 1)
        s = score(Lead.model_validate(record), ruleset)
        key = (s.group, s.fit, s.intent)
        cells[key] = cells.get(key, Tally()) + one
        if s.failed_must_haves:
            continue
        segments[s.segment] = segments.get(s.segment, Tally()) + one
        for hit in s.hits:
            rules[hit.rule_id] = rules.get(hit.rule_id, Tally()) + one
    overall = sum(cells.values(), Tally())
    return Evidence(
        overall=overall, rules=rules, segments=segments, cells=[ScoreCell(g, f, i, t) for (g, f, i), t in cells.items()]
    )


def with_method(ctx: Context, method: ProposalMethod) -> Context:
    """`ctx` with `proposals.method` set to `method`."""
    settings = ctx.config.proposals.model_copy(update={"method": method})
    return dataclasses.replace(ctx, config=ctx.config.model_copy(update={"proposals": settings}))


def import_history(
    ctx: Context, *, n: int, seed: int = 7, world: World = PLANTED, end: datetime | None = None, weeks: int = 12
) -> list[dict[str, Any]]:
    """Store `n` simulated decided leads (as `leadbot import` would) and return their records."""
    records, leads = _history(n, seed, world, end or ctx.now(), weeks)
    ingest(ctx, leads, post=False, source="test-history")
    return records


@cache
def _history(n: int, seed: int, world: World, end: datetime, weeks: int) -> tuple[list[dict[str, Any]], list[Lead]]:
    """Simulate once per session: the world is deterministic, and tests only read the records."""
    records = list(simulate_leads(n=n, seed=seed, world=world, end=end, weeks=weeks))
    return records, validate_leads(records)


def store_proposal(
    ctx: Context,
    *,
    kind: ProposalKind = ProposalKind.RAISE_POINTS,
    target: str = "bom-review",
    setting: str = "points",
    current: int = 30,
    proposed: int | None = 60,
) -> str:
    """Store a proposal against the active ruleset (as a digest would) and return its id."""
    version = ctx.active_ruleset().version
    pid = proposal_id(version, kind, target, setting, proposed)
    proposal = Proposal(
        id=pid,
        kind=kind,
        target=target,
        label=target,
        setting=setting,
        current=current,
        proposed=proposed,
        ruleset_version=version,
    )
    with ctx.transaction() as session:
        session.add(
            ProposalRow(
                id=pid,
                ruleset_version=version,
                iso_week="2026-W47",
                kind=kind.value,
                data={"proposal": proposal.as_json(), "backtest": None},
            )
        )
    return pid
