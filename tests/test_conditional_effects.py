"""Conditional effects: a penalised logistic fit of success on rule hits, checked against references."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.discrete.discrete_model import Logit
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM

from leadqual.config import default_rules_path
from leadqual.groups import Group
from leadqual.learning.effects import conditional_effects, family_z, fit_logistic, penalty_for
from leadqual.learning.hits import from_dense, patterns
from leadqual.rules import load_ruleset_file

SPEC = load_ruleset_file(default_rules_path())
RULES = ("target-industry", "rfq", "bom-review", "pricing-page", "freemail")
TRUE = np.array([0.8, 1.5, -0.6, 0.0, -1.0])


def _planted(n: int, seed: int, *, tie: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hits = rng.random((n, len(RULES))) < [0.4, 0.2, 0.15, 0.25, 0.1]
    if tie:  # pricing-page rides along with rfq
        hits[:, 3] = np.where(hits[:, 1], rng.random(n) < 0.85, rng.random(n) < 0.06)
    logit = -0.5 + hits @ TRUE
    return hits, rng.random(n) < 1 / (1 + np.exp(-logit))


def test_an_unpenalised_fit_agrees_with_statsmodels_on_a_large_sample() -> None:
    hits, success = _planted(100_000, 1, tie=True)
    spec = SPEC.model_copy(update={"rules": [r for r in SPEC.rules if r.id in RULES]})
    ours = conditional_effects(from_dense(hits, rules=RULES), success, spec, prior_strength=1e-9, checks=1)
    x = np.column_stack([np.ones(len(hits)), hits])
    ref = Logit(success.astype(float), x).fit(disp=0)
    assert ours.intercept == pytest.approx(ref.params[0], abs=1e-6)
    for j, rid in enumerate(RULES):
        assert ours.effects[rid].log_odds == pytest.approx(ref.params[j + 1], abs=1e-6)
        assert ours.effects[rid].se == pytest.approx(ref.bse[j + 1], rel=1e-5)


def test_the_newton_solver_matches_statsmodels_on_grouped_rows_with_a_penalty_of_zero() -> None:
    hits, success = _planted(20_000, 2)
    pat = patterns(from_dense(hits, rules=RULES), success)
    x = np.column_stack([np.ones(len(pat.leads)), pat.hits])
    fit = fit_logistic(x, pat.success, pat.leads, np.zeros(x.shape[1]))
    ref = GLM(np.column_stack([pat.success, pat.failure]), x, family=families.Binomial()).fit()
    np.testing.assert_allclose(fit.coef, ref.params, atol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), ref.bse, rtol=1e-6)


def test_intervals_cover_the_planted_effects_about_as_often_as_they_claim() -> None:
    spec = SPEC.model_copy(update={"rules": [r for r in SPEC.rules if r.id in RULES]})
    covered = trials = 0
    for seed in range(150):
        hits, success = _planted(3_000, 100 + seed, tie=True)
        fit = conditional_effects(from_dense(hits, rules=RULES), success, spec, prior_strength=10, checks=1)
        for j, rid in enumerate(RULES):
            e = fit.effects[rid]
            covered += e.low <= TRUE[j] <= e.high
            trials += 1
    assert 0.925 <= covered / trials <= 0.975, covered / trials


def test_the_prior_strength_maps_to_the_information_of_that_many_typical_leads() -> None:
    assert penalty_for(10, 0.4) == pytest.approx(10 * 0.4 * 0.6)
    hits, success = _planted(2_000, 3)
    spec = SPEC.model_copy(update={"rules": [r for r in SPEC.rules if r.id in RULES]})
    weak = conditional_effects(from_dense(hits, rules=RULES), success, spec, prior_strength=1)
    strong = conditional_effects(from_dense(hits, rules=RULES), success, spec, prior_strength=500)
    assert weak.penalty == pytest.approx(penalty_for(1, weak.rate))
    for rid in RULES:  # a stronger prior pulls every effect towards "no effect" and narrows it
        assert abs(strong.effects[rid].log_odds) < abs(weak.effects[rid].log_odds) + 1e-9
        assert strong.effects[rid].se < weak.effects[rid].se


def test_a_worthless_rule_riding_with_a_strong_one_has_no_conditional_effect() -> None:
    hits, success = _planted(20_000, 4, tie=True)
    spec = SPEC.model_copy(update={"rules": [r for r in SPEC.rules if r.id in RULES]})
    fit = conditional_effects(from_dense(hits, rules=RULES), success, spec, prior_strength=10)
    rider = fit.effects["pricing-page"]
    assert rider.fired.rate > rider.not_fired.rate + 0.15  # marginally it looks strong
    assert rider.low < 0 < rider.high  # held beside rfq it is worth nothing


def test_leads_failing_a_must_have_are_left_out_of_the_fit() -> None:
    hits, success = _planted(4_000, 5)
    cap = np.where(np.arange(4_000) % 4 == 0, Group.RESEARCH.rank, Group.PRIORITY.rank)
    spec = SPEC.model_copy(update={"rules": [r for r in SPEC.rules if r.id in RULES]})
    with_capped = conditional_effects(from_dense(hits, rules=RULES, cap=cap), success, spec, prior_strength=10)
    keep = cap == Group.PRIORITY.rank
    without = conditional_effects(from_dense(hits[keep], rules=RULES), success[keep], spec, prior_strength=10)
    assert with_capped.leads == int(keep.sum())
    for rid in RULES:
        assert with_capped.effects[rid].log_odds == pytest.approx(without.effects[rid].log_odds)


def test_when_every_lead_failed_a_must_have_there_is_nothing_to_fit() -> None:
    hits, success = _planted(200, 5)
    spec = SPEC.model_copy(update={"rules": [r for r in SPEC.rules if r.id in RULES]})
    capped = from_dense(hits, rules=RULES, cap=np.full(200, Group.RESEARCH.rank))
    fit = conditional_effects(capped, success, spec, prior_strength=10)
    assert (fit.effects, fit.leads, fit.iterations) == ({}, 0, 0)


def test_a_segment_rule_is_judged_within_its_segment() -> None:
    rng = np.random.default_rng(6)
    n = 6_000
    segment = rng.integers(-1, 1, n)  # -1: no segment, 0: equipment replacement
    in_segment = segment == 0
    failed = in_segment & (rng.random(n) < 0.5)
    rules = ("rfq", "failed-asset")
    hits = np.column_stack([rng.random(n) < 0.3, failed])
    # The segment converts better on its own; the segment rule adds 0.7 within it.
    logit = -0.8 + 1.0 * in_segment + 1.2 * hits[:, 0] + 0.7 * hits[:, 1]
    success = rng.random(n) < 1 / (1 + np.exp(-logit))
    spec = SPEC.model_copy(update={"rules": [r for r in SPEC.rules if r.id in rules]})
    segments = tuple(s.id for s in SPEC.segments)
    fit = conditional_effects(
        from_dense(hits, rules=rules, segments=segments, segment=segment), success, spec, prior_strength=10, checks=1
    )
    e = fit.effects["failed-asset"]
    assert e.low < 0.7 < e.high
    assert e.fired.decided + e.not_fired.decided == int(in_segment.sum())  # its pool is its segment


def test_the_family_interval_widens_with_the_number_of_checks() -> None:
    assert family_z(1) == pytest.approx(1.96, abs=1e-3)
    assert family_z(30) > 3.0
