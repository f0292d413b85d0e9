"""`proposals.learn_from`: the proposals and the backtest learn from the rep's decision, an opportunity, or a won deal."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from blocks.digest import digest_blocks
from blocks.terminal import digest_report
from leadqual.config import LearnFrom, ProposalMethod, load_config
from leadqual.db.models import LeadPipeline, LeadRow
from leadqual.errors import ConfigError
from leadqual.lead import Outcome
from leadqual.proposals import ProposalKind
from leadqual.readmodels import Digest
from leadqual.services import digest
from leadqual.services.context import Context
from leadqual.simulate import PLANTED
from tests.feedback_helpers import import_history

RULE = "bom-review"  # reps qualify its leads far more often (the planted world); the pipeline never wins them


def plant_pipeline_that_disagrees_on_one_rule(ctx: Context) -> None:
    """Every qualified lead is won, except those where RULE fired: they became opportunities and were lost."""
    import_history(ctx, n=3000, seed=3, world=PLANTED)
    with ctx.transaction() as session:
        rows = session.execute(
            select(LeadRow.id, LeadRow.hits, LeadRow.decided_at).where(LeadRow.outcome == Outcome.QUALIFIED.value)
        ).all()
        values = [
            {
                "lead_id": lead_id,
                "stage": "lost" if any(h["rule"] == RULE for h in hits) else "won",
                "at": decided_at,
                "opportunity_at": decided_at,
                "updated_at": decided_at,
            }
            for lead_id, hits, decided_at in rows
        ]
        session.execute(insert(LeadPipeline), values)


def build(ctx: Context, learn_from: LearnFrom) -> Digest:
    # The marginal method, stated: its raise of RULE by the reps' decisions is what this test contrasts
    # with the pipeline's; the conditional default drops it on the held-out weeks (test_digest_service).
    update = {"learn_from": learn_from, "method": ProposalMethod.MARGINAL}
    config = ctx.config.model_copy(update={"proposals": ctx.config.proposals.model_copy(update=update)})
    return digest.build_digest(dataclasses.replace(ctx, config=config), backtest_limit=300, persist=False)


def kinds(built: Digest) -> dict[str, Any]:
    return {c.proposal.target: c.proposal.kind for c in built.proposals}


def test_learning_from_won_deals_proposes_from_the_pipeline_not_from_the_reps(ctx: Context) -> None:
    plant_pipeline_that_disagrees_on_one_rule(ctx)
    by_reps, by_pipeline = build(ctx, LearnFrom.QUALIFIED), build(ctx, LearnFrom.WON)
    assert kinds(by_reps)[RULE] is ProposalKind.RAISE_POINTS
    assert kinds(by_pipeline).get(RULE) in (ProposalKind.LOWER_POINTS, ProposalKind.RETIRE_RULE)
    assert by_pipeline.learn_from == "won" and by_pipeline.as_json()["learn_from"] == "won"
    assert "success when its deal was won" in digest_report(by_pipeline)
    assert "success when its deal was won" in json.dumps([b.to_dict() for b in digest_blocks(by_pipeline)])
    assert by_pipeline.evidence_leads == by_reps.evidence_leads  # the same decided leads, another success
    # The backtest counts won deals too: fewer successes among the same rescored leads.
    won, qualified = (
        next(c.backtest for c in d.proposals if c.proposal.target == RULE) for d in (by_pipeline, by_reps)
    )
    assert won is not None and qualified is not None and won.leads == qualified.leads
    assert won.before.qualified < qualified.before.qualified


@pytest.mark.parametrize("learn_from", [LearnFrom.OPPORTUNITY])
def test_learning_from_opportunities_counts_every_stage_as_a_success(ctx: Context, learn_from: LearnFrom) -> None:
    plant_pipeline_that_disagrees_on_one_rule(ctx)
    by_opportunity, by_reps = build(ctx, learn_from), build(ctx, LearnFrom.QUALIFIED)
    assert kinds(by_opportunity) == kinds(by_reps)  # every qualified lead reached a stage: the same evidence


def test_the_pipeline_and_learning_keys_are_validated_naming_the_line(tmp_path: Path) -> None:
    reasons = "reasons:\n  - {code: spam, label: Spam}\n"
    path = tmp_path / "leadbot.yaml"
    path.write_text(reasons + "pipeline:\n  stale_after_days: 0\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:4: pipeline.stale_after_days:")
    path.write_text(reasons + "proposals:\n  learn_from: revenue\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:4: proposals.learn_from:")
    path.write_text(reasons + "pipeline: {stale_after_days: 45}\nproposals: {learn_from: won, method: conditional}\n")
    config = load_config(path)
    assert config.pipeline.stale_after_days == 45 and config.proposals.learn_from is LearnFrom.WON
    assert load_config().pipeline.stale_after_days == 30 and load_config().proposals.learn_from is LearnFrom.QUALIFIED
