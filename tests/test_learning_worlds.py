"""The learning loop on planted co-firing worlds: right directions, quiet on rare and right rules, held-out gains."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import numpy as np

from leadqual.config import ProposalSettings
from leadqual.groups import Group
from leadqual.lead import Lead
from leadqual.learning.hits import HitMatrix, patterns
from leadqual.learning.learn import Learning, learn
from leadqual.learning.marginal import marginal_evidence
from leadqual.learning.points import ChangeKind
from leadqual.learning.rescore import priority_figures, rescore
from leadqual.proposals import ProposalKind, propose
from leadqual.scoring import score
from leadqual.simulate import REVIEW_BAND, simulate_leads
from leadqual.worlds import COFIRING, RIGHT, CoFiringWorld, decided_hits, world_hits, world_leads

SETTINGS = ProposalSettings()
END = datetime(2026, 11, 23, tzinfo=UTC)
SPEC = COFIRING.ruleset.spec
DOWN = (ChangeKind.LOWER_POINTS, ChangeKind.RETIRE_RULE)


@cache
def leads_of(world: CoFiringWorld, n: int, seed: int) -> tuple[HitMatrix, np.ndarray]:
    return world_hits(world, n=n, seed=seed, end=END)


@cache
def learnt(world: CoFiringWorld = COFIRING, n: int = 12_000) -> Learning:
    hits, qualified = leads_of(world, n, 3)
    return learn(hits, qualified, SPEC, version=1, settings=SETTINGS, end=END, holdout_weeks=3)


def kept() -> dict[str, ChangeKind]:
    return {c.change.rule: c.change.kind for c in learnt().kept}


def test_a_strong_rule_that_co_fires_with_a_weak_one_is_raised() -> None:
    bom = next(c for c in learnt().kept if c.change.rule == "bom-review")
    assert bom.change.kind is ChangeKind.RAISE_POINTS
    assert bom.change.proposed is not None and bom.change.proposed >= 60
    assert bom.change.implied_low > 30 * 1.25


def test_a_worthless_rule_riding_along_with_a_strong_one_is_lowered_or_retired() -> None:
    assert kept()["pricing-page"] in DOWN


def test_a_weak_rule_riding_along_with_a_strong_one_keeps_its_points() -> None:
    assert "application-note" not in {c.change.rule for c in learnt().changes}


def test_a_strong_but_rare_rule_stays_silent() -> None:
    effect = learnt().effects.effects["capex-approved"]
    assert effect.fired.decided < SETTINGS.min_decided
    assert "capex-approved" not in {c.change.rule for c in learnt().changes}


def test_rules_that_are_right_get_no_change() -> None:
    assert set(kept()) == {"bom-review", "pricing-page"}
    assert learnt().thresholds == ()


def test_a_world_whose_rules_are_right_gets_no_proposal_even_when_rules_fire_together() -> None:
    right = learnt(RIGHT, 8_000)
    assert [c.change.rule for c in right.changes] == []
    assert [t.proposal.target for t in right.thresholds if t.kept] == []


def test_todays_marginal_method_is_fooled_by_rules_that_fire_together() -> None:
    hits, qualified = leads_of(COFIRING, 12_000, 3)
    found = {
        p.target: p
        for p in propose(SPEC, version=1, evidence=marginal_evidence(hits, qualified, SPEC), settings=SETTINGS)
    }
    # It raises the worthless rider of rfq and the weak companion of BOM reviews.
    assert found["pricing-page"].kind is ProposalKind.RAISE_POINTS
    assert found["application-note"].kind is ProposalKind.RAISE_POINTS


def test_every_kept_change_raises_held_out_precision_and_keeps_nine_tenths_of_the_catch() -> None:
    result = learnt()
    assert result.held_out is not None and result.held_out_leads > 2_000
    today = result.held_out.before
    for c in result.kept:
        assert c.held_out is not None
        assert c.held_out.after.precision > c.held_out.before.precision
        assert c.held_out.after.caught >= 0.9 * today.caught
    assert result.held_out.after.precision > result.held_out.before.precision


def test_applying_every_proposal_raises_priority_precision_on_fresh_leads_of_the_same_world() -> None:
    fresh, qualified = leads_of(COFIRING, 6_000, 103)
    pat = patterns(fresh, qualified)
    before = priority_figures(pat, rescore(pat, fresh.rules, SPEC))
    after = priority_figures(pat, rescore(pat, fresh.rules, learnt().proposed_spec))
    assert after.precision > before.precision
    assert after.caught >= 0.9 * before.caught


def test_strata_evidence_names_the_rule_that_fires_most_with_it_and_adds_up() -> None:
    pricing = next(c for c in learnt().kept if c.change.rule == "pricing-page")
    strata = pricing.strata
    assert strata is not None and strata.other == "rfq" and strata.phi > 0.5
    effect = pricing.change.effect
    assert strata.among_other.fired.decided + strata.among_rest.fired.decided == effect.fired.decided
    assert strata.among_other.not_fired.decided + strata.among_rest.not_fired.decided == effect.not_fired.decided
    # Within each stratum the rider makes little difference, though overall it seems to.
    for stratum in (strata.among_other, strata.among_rest):
        assert abs(stratum.fired.rate - stratum.not_fired.rate) < 0.1
    assert effect.fired.rate - effect.not_fired.rate > 0.2


def test_rescoring_from_hits_gives_the_groups_scoring_gives() -> None:
    records = list(world_leads(COFIRING, n=600, seed=11, end=END))
    hits, _ = decided_hits(records, COFIRING.ruleset)
    groups = [score(Lead.model_validate(r), COFIRING.ruleset).group.rank for r in records]
    pat = patterns(hits, np.zeros(len(hits), dtype=bool))
    regrouped = rescore(pat, hits.rules, SPEC)
    assert regrouped.group[pat.inverse].tolist() == groups
    assert Group.PRIORITY.rank in groups


def test_threshold_moves_are_judged_on_points_after_the_rule_changes() -> None:
    hits, qualified = decided_hits(simulate_leads(n=3_000, seed=3, world=REVIEW_BAND, end=END), COFIRING.ruleset)
    result = learn(hits, qualified, SPEC, version=1, settings=SETTINGS, end=END, holdout_weeks=0)
    moves = {t.proposal.target: t.proposal for t in result.thresholds}
    move = moves[Group.QUALIFIED_REVIEW.value]
    assert move.setting == "intent" and move.proposed is not None and move.proposed > 20
    assert result.proposed_spec.groups[Group.QUALIFIED_REVIEW].intent == move.proposed
