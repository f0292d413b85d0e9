"""Proposals are stored as data and put in words by blocks/: titles, evidence, backtests, old stored proposals."""

from __future__ import annotations

from dataclasses import replace

from blocks.proposal_words import NO_FIGURES, backtest_summary, evidence, title
from leadqual.backtest import Backtest, PriorityQuality
from leadqual.groups import Group
from leadqual.proposals import EvidenceBasis, Proposal, ProposalKind

MARGINAL = Proposal(
    id="p-000001",
    kind=ProposalKind.RAISE_POINTS,
    target="bom-review",
    label="BOM review requested",
    setting="points",
    current=30,
    proposed=65,
    ruleset_version=3,
    figures={
        "fired_qualified": 51,
        "fired_not_qualified": 33,
        "other_qualified": 198,
        "other_not_qualified": 702,
        "fired_rate": 0.61,
        "other_rate": 0.22,
        "diff_low": 0.283,
        "diff_high": 0.494,
        "implied_points": 64.2,
        "implied_low": 44.0,
        "implied_high": 85.4,
    },
    checks=27,
    segments=("oem",),
)


def test_a_marginal_raise_reads_as_counts_rates_interval_and_worth() -> None:
    assert title(MARGINAL) == 'Raise "BOM review requested" from 30 to 65 points'
    assert evidence(MARGINAL) == (
        "Fired on 84 decided leads in oem: 61% qualified vs 22% of 900 where it did not fire (smoothed); "
        "95% interval allowing for the 27 checks of the difference +28 to +49 points. "
        "Weighed like the other rules, that is worth about 64 points (44 to 85), not 30."
    )


def test_a_rule_retired_for_pointing_the_wrong_way_says_which_way_and_claims_no_worth() -> None:
    figures = {**MARGINAL.figures, "fired_rate": 0.12, "other_rate": 0.30, "diff_low": -0.25, "diff_high": -0.1}
    retired = replace(MARGINAL, kind=ProposalKind.RETIRE_RULE, proposed=None, figures=figures, wrong_direction=True)
    words = evidence(retired)
    assert title(retired) == 'Retire "BOM review requested" (30 points)'
    assert words.endswith("Leads where it fires qualify less often, not more.")
    assert "worth about" not in words


def test_a_threshold_move_names_the_group_below_and_what_the_raise_keeps_and_moves() -> None:
    move = Proposal(
        id="p-000002",
        kind=ProposalKind.MOVE_THRESHOLD,
        target=Group.QUALIFIED_REVIEW.value,
        label=Group.QUALIFIED_REVIEW.label,
        setting="intent",
        current=20,
        proposed=35,
        ruleset_version=3,
        figures={
            "group_qualified": 40,
            "group_not_qualified": 160,
            "below_qualified": 50,
            "below_not_qualified": 150,
            "group_rate": 0.2,
            "below_rate": 0.25,
            "diff_low": -0.12,
            "diff_high": 0.03,
            "kept_qualified": 30,
            "kept_not_qualified": 50,
            "moved_qualified": 10,
            "moved_not_qualified": 110,
            "kept_rate": 0.375,
            "kept_diff_low": 0.02,
            "kept_diff_high": 0.23,
        },
        checks=1,
        below=Group.NURTURE.value,
        after_rule_changes=True,
    )
    assert title(move) == "Raise the Qualified review intent minimum from 20 to 35"
    assert evidence(move) == (
        "Qualified review converted 20% of 200 decided leads vs 25% of 200 in Nurture (smoothed): no better "
        "(95% interval of the difference -12 to +3 points). Raising its intent minimum from 20 to 35 keeps 80 "
        "leads converting 38% (difference to Nurture +2 to +23 points) and moves 120 converting 8% down. "
        "Judged on points after the rule changes above."
    )


def test_a_conditional_change_reads_as_an_odds_ratio_with_the_co_firing_rules_strata() -> None:
    cut = Proposal(
        id="p-000003",
        kind=ProposalKind.LOWER_POINTS,
        target="case-study",
        label="Case study read",
        setting="points",
        current=20,
        proposed=5,
        ruleset_version=3,
        basis=EvidenceBasis.CONDITIONAL,
        strata_with="Drawings shared",
        figures={
            "log_odds": 0.0,
            "log_odds_low": -0.2,
            "log_odds_high": 0.2,
            "fired_success": 300,
            "fired_failure": 200,
            "not_fired_success": 400,
            "not_fired_failure": 1100,
            "strata_with_other_fired_success": 244,
            "strata_with_other_fired_failure": 156,
            "strata_with_other_not_fired_success": 62,
            "strata_with_other_not_fired_failure": 38,
            "strata_without_other_fired_success": 56,
            "strata_without_other_fired_failure": 44,
            "strata_without_other_not_fired_success": 338,
            "strata_without_other_not_fired_failure": 1062,
        },
    )
    words = evidence(cut)
    assert words.startswith('With the other rules held fixed, "Case study read" multiplies the odds of success by 1.00')
    assert "(95% range allowing for every check 0.82 to 1.22)" in words
    assert "it fired on 500 decided leads (60% succeeded), 27% of the 1,500 where it did not." in words
    assert "worth about" not in words  # no scale calibrated: no points claimed
    assert words.endswith(
        'Among leads with "Drawings shared": 61% of 400 succeeded with this rule, 62% of 100 without; '
        "among the rest: 56% of 100 with, 24% of 1,400 without."
    )


def test_a_proposal_stored_before_the_words_moved_keeps_its_sentence_and_gets_its_title_from_data() -> None:
    stored = {
        "id": "p-abcdef",
        "kind": "raise_points",
        "target": "bom-review",
        "label": "BOM review requested",
        "setting": "points",
        "current": 30,
        "proposed": 60,
        "ruleset_version": 2,
        "title": 'Raise "BOM review requested" from 30 to 60 points',
        "evidence": "Fired on 84 decided leads: 61% qualified vs 22% of 900 where it did not fire (smoothed).",
        "figures": {"fired_qualified": 51},
        "strength": 1.5,
    }
    old = Proposal.from_json(stored)
    assert evidence(old) == stored["evidence"]
    assert title(old) == stored["title"]
    assert Proposal.from_json(old.as_json()) == old  # and it stays readable once stored again


def test_a_new_proposal_survives_the_store_as_the_same_data_and_the_same_words() -> None:
    again = Proposal.from_json(MARGINAL.as_json())
    assert again == MARGINAL and evidence(again) == evidence(MARGINAL)
    assert "evidence" not in MARGINAL.as_json() and "title" not in MARGINAL.as_json()


def test_a_backtest_summary_names_its_window_the_moves_and_priority() -> None:
    result = Backtest(
        leads=2000,
        transitions={
            (Group.QUALIFIED_REVIEW, Group.PRIORITY): 30,
            (Group.NURTURE, Group.QUALIFIED_REVIEW): 12,
            (Group.PRIORITY, Group.PRIORITY): 200,
        },
        before=PriorityQuality(200, 150, 600),
        after=PriorityQuality(230, 170, 600),
        window="12 weeks to 2026-W47",
        limit=2000,
    )
    assert backtest_summary(result, limit=1) == (
        "Rescored 2000 decided leads (the most recently decided of 12 weeks to 2026-W47, at most 2,000): "
        "42 change group (30 Qualified review → Priority, +1 more). "
        "Priority precision 75% → 74%, recall 25% → 28%."
    )


def test_a_proposal_stored_without_its_figures_says_so_instead_of_failing() -> None:
    bare = replace(MARGINAL, figures={})
    assert evidence(bare) == NO_FIGURES and title(bare) == title(MARGINAL)
