"""Rule proposals from counts: the right rules move the right way, the loop is quiet otherwise."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest

from blocks.proposal_words import evidence, title
from leadqual.config import ProposalSettings, default_rules_path
from leadqual.groups import Group
from leadqual.proposals import (
    Evidence,
    Proposal,
    ProposalKind,
    ScoreCell,
    Tally,
    apply_to_spec,
    contrast,
    family_z,
    newcombe,
    proposal_id,
    propose,
    smoothed_rate,
    wilson,
)
from leadqual.rules import load_ruleset_file
from leadqual.scoring import Ruleset
from leadqual.simulate import FAITHFUL, REVIEW_BAND, RULES_OFF, World, simulate_leads
from tests.feedback_helpers import reference_evidence

SETTINGS = ProposalSettings()  # min_decided 30, prior_strength 10
RULESET = Ruleset.compile(load_ruleset_file(default_rules_path()))
DOWN = (ProposalKind.LOWER_POINTS, ProposalKind.RETIRE_RULE)


@cache
def proposals_in(world: World, n: int = 4000, seed: int = 3) -> tuple[Evidence, dict[str, Proposal]]:
    evidence = reference_evidence(simulate_leads(n=n, seed=seed, world=world), RULESET)
    found = propose(RULESET.spec, version=1, evidence=evidence, settings=SETTINGS)
    return evidence, {p.target: p for p in found}


# --- the planted world -------------------------------------------------------------------------


def test_a_rule_worth_far_more_than_its_points_is_proposed_for_a_raise() -> None:
    _, found = proposals_in(RULES_OFF)
    bom = found["bom-review"]
    assert bom.kind is ProposalKind.RAISE_POINTS
    assert bom.current == 30 and bom.proposed is not None and bom.proposed >= 50
    assert bom.figures["implied_low"] > 30 * 1.25


def test_engagement_that_is_not_intent_is_lowered_or_retired() -> None:
    _, found = proposals_in(RULES_OFF)
    assert found["spec-sheet"].kind in DOWN
    assert found["webinar"].kind in DOWN
    assert found["webinar"].figures["fired_rate"] < found["webinar"].figures["other_rate"]


def test_rules_that_are_right_stay_silent() -> None:
    _, found = proposals_in(RULES_OFF)
    for right in (
        "rfq",
        "target-industry",
        "technical-role",
        "drawings-shared",
        "integration-question",
        "freemail",
        "defined-scope",
        "pricing-page",
    ):
        assert right not in found, evidence(found[right])


def test_a_strong_but_rare_rule_stays_silent_for_want_of_leads() -> None:
    evidence, found = proposals_in(RULES_OFF)
    rare = evidence.rules["capex-approved"]
    assert 0 < rare.decided < SETTINGS.min_decided
    assert rare.rate > evidence.uncapped.rate  # the effect is there, the sample is not
    assert "capex-approved" not in found


def test_only_the_planted_changes_are_proposed() -> None:
    _, found = proposals_in(RULES_OFF)
    assert set(found) == {"bom-review", "spec-sheet", "webinar"}


def test_the_loop_is_quiet_when_the_rules_are_right() -> None:
    _, found = proposals_in(FAITHFUL)
    assert found == {}


def test_a_review_group_converting_no_better_than_nurture_gets_its_intent_minimum_raised() -> None:
    evidence, found = proposals_in(REVIEW_BAND)
    move = found[Group.QUALIFIED_REVIEW.value]
    groups = evidence.groups()
    assert groups[Group.QUALIFIED_REVIEW].rate <= groups[Group.NURTURE].rate
    assert move.kind is ProposalKind.MOVE_THRESHOLD and move.setting == "intent"
    assert move.current == 20 and move.proposed is not None and move.proposed > 20
    assert move.figures["kept_rate"] > move.figures["below_rate"]


def test_the_evidence_is_in_plain_words_with_counts_rates_and_interval() -> None:
    _, found = proposals_in(RULES_OFF)
    bom = found["bom-review"]
    fired = int(bom.figures["fired_qualified"] + bom.figures["fired_not_qualified"])
    words = evidence(bom)
    assert words.startswith(f"Fired on {fired} decided leads: ")
    assert "qualified vs" in words and "(smoothed)" in words
    assert "95% interval allowing for the" in words and "not 30." in words
    assert title(bom) == f'Raise "BOM review requested" from 30 to {bom.proposed} points'


# --- sample size, smoothing, statistics ------------------------------------------------------


def _one_rule(fired: Tally, pool: Tally) -> Evidence:
    """Evidence about `target-industry` alone: it fired on `fired` of the `pool`."""
    return Evidence(overall=pool, rules={"target-industry": fired}, segments={None: pool})


def test_nothing_is_proposed_below_the_minimum_of_decided_leads_where_the_rule_fired() -> None:
    pool = Tally(1000, 1000)
    # A bonus rule whose leads all lost: wrong-way evidence, once there is enough of it.
    few = propose(RULESET.spec, version=1, evidence=_one_rule(Tally(0, 29), pool), settings=SETTINGS)
    enough = propose(RULESET.spec, version=1, evidence=_one_rule(Tally(0, 30), pool), settings=SETTINGS)
    assert few == []
    assert [(p.target, p.kind) for p in enough] == [("target-industry", ProposalKind.RETIRE_RULE)]


def test_nothing_is_proposed_below_the_minimum_where_the_rule_did_not_fire() -> None:
    # It fired on all but 29 leads, and those 29 all qualified: too few on the other side to say anything.
    assert (
        propose(RULESET.spec, version=1, evidence=_one_rule(Tally(0, 1000), Tally(29, 1000)), settings=SETTINGS) == []
    )
    assert (
        propose(RULESET.spec, version=1, evidence=_one_rule(Tally(0, 1000), Tally(30, 1000)), settings=SETTINGS) != []
    )


def test_smoothing_pulls_a_small_sample_towards_the_overall_rate() -> None:
    assert smoothed_rate(Tally(3, 0), prior=0.25, strength=10) == pytest.approx((3 + 2.5) / 13)
    assert smoothed_rate(Tally(300, 0), prior=0.25, strength=10) > 0.97
    assert smoothed_rate(Tally(0, 0), prior=0.25, strength=10) == pytest.approx(0.25)


def test_wilson_and_newcombe_intervals_match_published_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17: 56/70 vs 48/80 -> difference 0.2 (0.0524, 0.3339).
    lo, hi = newcombe(56 / 70, 70, 48 / 80, 80)
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)
    # Wilson for 81/263 (Newcombe 1998, method 3): 0.2553 to 0.3662.
    lo, hi = wilson(81 / 263, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)


def test_the_interval_widens_with_the_number_of_checks() -> None:
    assert family_z(1) == pytest.approx(1.96, abs=1e-3)
    assert family_z(30) > 3.0
    narrow = contrast(Tally(60, 40), Tally(40, 60), prior=0.5, strength=10)
    wide = contrast(Tally(60, 40), Tally(40, 60), prior=0.5, strength=10, z=family_z(30))
    assert wide.diff_low < narrow.diff_low < narrow.diff < narrow.diff_high < wide.diff_high


# --- ids and applying ----------------------------------------------------------------------


def test_proposal_ids_are_short_stable_and_differ_by_change() -> None:
    a = proposal_id(3, ProposalKind.RAISE_POINTS, "bom-review", "points", 60)
    assert a == proposal_id(3, ProposalKind.RAISE_POINTS, "bom-review", "points", 60)
    assert a.startswith("p-") and len(a) == 8
    assert a != proposal_id(3, ProposalKind.RAISE_POINTS, "bom-review", "points", 65)
    assert a != proposal_id(4, ProposalKind.RAISE_POINTS, "bom-review", "points", 60)


def test_applying_a_points_change_touches_only_that_rule() -> None:
    _, found = proposals_in(RULES_OFF)
    bom = found["bom-review"]
    spec = apply_to_spec(RULESET.spec, bom)
    assert spec.rule("bom-review") is not None and spec.rule("bom-review").points == bom.proposed  # type: ignore[union-attr]
    others = [(r.id, r.points) for r in spec.rules if r.id != "bom-review"]
    assert others == [(r.id, r.points) for r in RULESET.spec.rules if r.id != "bom-review"]


def test_retiring_removes_the_rule_and_moving_a_threshold_changes_the_group() -> None:
    _, found = proposals_in(RULES_OFF)
    webinar = found["webinar"]
    assert webinar.kind is ProposalKind.RETIRE_RULE and webinar.proposed is None
    retired = apply_to_spec(RULESET.spec, webinar)
    assert retired.rule("webinar") is None and len(retired.rules) == len(RULESET.spec.rules) - 1
    _, band = proposals_in(REVIEW_BAND)
    move = band[Group.QUALIFIED_REVIEW.value]
    moved = apply_to_spec(RULESET.spec, move)
    assert moved.groups[Group.QUALIFIED_REVIEW].intent == move.proposed
    assert moved.groups[Group.PRIORITY] == RULESET.spec.groups[Group.PRIORITY]


def test_applying_a_proposal_for_a_rule_that_is_gone_is_refused() -> None:
    _, found = proposals_in(RULES_OFF)
    without_webinar = apply_to_spec(RULESET.spec, found["webinar"])
    with pytest.raises(KeyError, match="webinar"):
        apply_to_spec(without_webinar, replace(found["webinar"], kind=ProposalKind.LOWER_POINTS, proposed=1))


def test_a_proposal_survives_a_json_round_trip() -> None:
    _, found = proposals_in(RULES_OFF)
    bom = found["bom-review"]
    assert Proposal.from_json(bom.as_json()) == bom


def test_score_cells_group_their_tallies() -> None:
    evidence = Evidence(
        overall=Tally(3, 2),
        rules={},
        segments={},
        cells=[
            ScoreCell(Group.PRIORITY, 80, 60, Tally(2, 0)),
            ScoreCell(Group.PRIORITY, 70, 55, Tally(1, 1)),
            ScoreCell(Group.NURTURE, 45, 0, Tally(0, 1)),
        ],
    )
    assert evidence.groups() == {Group.PRIORITY: Tally(3, 1), Group.NURTURE: Tally(0, 1)}
