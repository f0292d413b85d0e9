"""`proposals.method: conditional`: the learner's kept changes are the digest's proposals, checked on held-out weeks."""

from __future__ import annotations

import dataclasses
import json

import pytest

from blocks.digest import digest_blocks
from blocks.proposal_words import evidence
from blocks.terminal import digest_report
from leadqual.config import ProposalMethod, load_config
from leadqual.groups import Group
from leadqual.proposals import ProposalKind
from leadqual.readmodels import Digest
from leadqual.services import digest, proposal_store, proposals
from leadqual.services.context import Context
from leadqual.services.intake import ingest, validate_leads
from leadqual.simulate import PLANTED
from leadqual.worlds import COFIRING, world_leads
from tests.feedback_helpers import import_history


def conditional(ctx: Context) -> Context:
    settings = ctx.config.proposals.model_copy(update={"method": ProposalMethod.CONDITIONAL})
    return dataclasses.replace(ctx, config=ctx.config.model_copy(update={"proposals": settings}))


@pytest.fixture
def built(ctx: Context) -> Digest:
    import_history(ctx, n=3000, seed=3, world=PLANTED)
    return digest.build_digest(conditional(ctx), backtest_limit=300)


def test_conditional_proposals_carry_their_effect_strata_and_held_out_figures(built: Digest) -> None:
    assert built.method == "conditional" and built.proposals
    by_target = {c.proposal.target: c.proposal for c in built.proposals}
    webinar = by_target["webinar"]  # the planted world's worthless rule
    assert webinar.kind is ProposalKind.RETIRE_RULE
    f = webinar.figures
    assert f["log_odds_low"] <= f["log_odds"] <= f["log_odds_high"]
    assert f["held_out_weeks"] == 3 and f["held_out_precision_after"] > f["held_out_precision_before"]
    words = evidence(webinar)
    assert "With the other rules held fixed" in words and "Among leads with" in words
    assert any(k.startswith("strata_with_other_") for k in f)
    assert built.held_out is not None and built.held_out["precision_after"] > built.held_out["precision_before"]
    data = built.as_json()
    assert data["method"] == "conditional" and data["held_out"]["weeks"] == 3


def test_the_digest_says_how_each_proposal_did_on_the_held_out_weeks(built: Digest) -> None:
    n = len(built.proposals)
    text = digest_report(built)
    slack = json.dumps([b.to_dict() for b in digest_blocks(built)])
    assert text.count("On the last 3 weeks (not learnt from)") == n
    assert slack.count("On the last 3 weeks (not learnt from)") == n
    assert "All of them together: on the last 3 weeks" in text and "All of them together" in slack


def test_a_conditional_proposal_is_stored_and_applied_like_any_other(ctx: Context, built: Digest) -> None:
    top = built.proposals[0].proposal
    loaded = proposal_store.load_proposal(ctx, top.id)
    assert loaded is not None and loaded[1].figures == top.figures
    proposals.apply_proposal(ctx, top.id, actor="UMANAGER")
    after = digest.build_digest(conditional(ctx), backtest_limit=300, persist=False)
    assert after.ruleset.version == 2 and after.ruleset.proposal_id == top.id


def test_the_default_config_judges_rules_together_and_sees_through_rules_that_fire_together(ctx: Context) -> None:
    assert load_config().proposals.method is ProposalMethod.CONDITIONAL
    assert (ctx.config.proposals.method, ctx.config.proposals.holdout_weeks) == (ProposalMethod.CONDITIONAL, 3)
    records = list(world_leads(COFIRING, n=12_000, seed=3, end=ctx.now()))
    ingest(ctx, validate_leads(records), post=False, source="test-history")
    built = digest.build_digest(ctx, backtest_limit=200, persist=False)  # the packaged config, nothing set
    assert built.method == "conditional"
    kinds = {c.proposal.target: c.proposal.kind for c in built.proposals}
    assert kinds["bom-review"] is ProposalKind.RAISE_POINTS  # strong, and brings a weak rule along
    assert kinds["pricing-page"] in (ProposalKind.LOWER_POINTS, ProposalKind.RETIRE_RULE)  # rides along with rfq
    assert "application-note" not in kinds and "capex-approved" not in kinds  # right, and rare
    assert set(kinds) <= {"bom-review", "pricing-page"} | {g.value for g in Group}
    for change in built.proposals:
        f = change.proposal.figures
        assert f["held_out_weeks"] == 3 and f["held_out_precision_after"] > f["held_out_precision_before"]
