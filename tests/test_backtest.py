"""Backtests: rescore decided leads under the current and a proposed ruleset, as of the day received."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from blocks.proposal_words import backtest_summary
from leadqual.backtest import _Regrouper, backtest, same_conditions
from leadqual.config import default_rules_path
from leadqual.groups import Group
from leadqual.lead import Lead
from leadqual.proposals import Proposal, ProposalKind, apply_to_spec
from leadqual.rules import RulesetSpec, load_ruleset_file
from leadqual.scoring import Ruleset, score
from leadqual.simulate import PLANTED, simulate_leads

CURRENT = Ruleset.compile(load_ruleset_file(default_rules_path()))
BASE: dict[str, Any] = {
    "received_at": "2026-03-02T15:00:00Z",
    "company": {"name": "Acme Metals", "industry": "metals", "country": "US", "employees": 850},
    "contact": {"email": "dana@acmemetals.com", "title": "Maintenance Manager"},
    "need": {"scope": "replacement"},
}


def lead(**changes: Any) -> dict[str, Any]:
    record = copy.deepcopy(BASE)
    record.update(changes)
    return record


# Strong fit (100) for all five; intent decides the group.
RFQ = lead(signals=[{"type": "rfq_request"}])  # intent 40: Qualified review
RFQ_SOON = lead(
    signals=[{"type": "rfq_request"}],  # 40 + 10 timing: Priority,
    need={"scope": "replacement", "needed_by": "2026-03-20"},
)  # as of the day it was received
BOM = lead(signals=[{"type": "bom_review"}])  # 30: Qualified review
BOM_WEBINAR = lead(signals=[{"type": "bom_review"}, {"type": "webinar_attended"}])  # 35: Qualified review
NOTHING = lead(signals=[])  # 0: Nurture

DECIDED = [(RFQ, False), (RFQ_SOON, True), (BOM, True), (BOM_WEBINAR, False), (NOTHING, True)]


def raise_bom(to: int) -> RulesetSpec:
    proposal = Proposal(
        id="p-test01",
        kind=ProposalKind.RAISE_POINTS,
        target="bom-review",
        label="BOM review",
        setting="points",
        current=30,
        proposed=to,
        ruleset_version=CURRENT.version,
    )
    return apply_to_spec(CURRENT.spec, proposal)


def test_raising_a_rule_moves_its_leads_up_and_counts_every_transition() -> None:
    result = backtest(DECIDED, current=CURRENT, proposed={"p": raise_bom(50)})["p"]
    assert result.leads == 5
    assert result.transitions == {
        (Group.QUALIFIED_REVIEW, Group.QUALIFIED_REVIEW): 1,  # the RFQ without a deadline
        (Group.PRIORITY, Group.PRIORITY): 1,
        (Group.QUALIFIED_REVIEW, Group.PRIORITY): 2,  # both BOM reviews
        (Group.NURTURE, Group.NURTURE): 1,
    }
    assert result.moved == 2
    assert result.moves() == [(Group.QUALIFIED_REVIEW, Group.PRIORITY, 2)]


def test_priority_precision_and_recall_before_and_after_are_counted_by_hand() -> None:
    result = backtest(DECIDED, current=CURRENT, proposed={"p": raise_bom(50)})["p"]
    # Qualified: RFQ_SOON, BOM, NOTHING. Before, Priority = {RFQ_SOON}; after, + BOM and BOM_WEBINAR.
    assert (result.before.priority, result.before.priority_qualified, result.before.qualified) == (1, 1, 3)
    assert result.before.precision == 1.0 and result.before.recall == pytest.approx(1 / 3)
    assert (result.after.priority, result.after.priority_qualified) == (3, 2)
    assert result.after.precision == pytest.approx(2 / 3) and result.after.recall == pytest.approx(2 / 3)


def test_leads_are_scored_as_of_the_day_they_were_received() -> None:
    # Needed by 2026-03-20 is within 60 days of 2026-03-02 but long past today: it only counts as of receipt.
    result = backtest([(RFQ_SOON, True)], current=CURRENT, proposed={"same": CURRENT.spec})["same"]
    assert result.transitions == {(Group.PRIORITY, Group.PRIORITY): 1}


def test_an_unchanged_ruleset_moves_nothing() -> None:
    result = backtest(DECIDED, current=CURRENT, proposed={"same": CURRENT.spec})["same"]
    assert result.moved == 0 and result.before == result.after
    assert "no lead changes group" in backtest_summary(result)


def test_one_pass_serves_every_proposal_and_reads_the_leads_once() -> None:
    reads = 0

    def stream() -> Iterator[tuple[dict[str, Any], bool]]:
        nonlocal reads
        for item in DECIDED:
            reads += 1
            yield item

    results = backtest(stream(), current=CURRENT, proposed={"small": raise_bom(45), "big": raise_bom(50)})
    assert reads == len(DECIDED)
    assert results["small"].moved == 1 and results["big"].moved == 2  # 45 lifts only BOM + webinar to 50


def test_the_summary_and_json_name_the_moves_and_the_priority_figures() -> None:
    proposed = {"p": raise_bom(50)}
    result = backtest(DECIDED, current=CURRENT, proposed=proposed, window="12 weeks to 2026-W47", limit=5)["p"]
    assert backtest_summary(result) == (
        "Rescored 5 decided leads (the most recently decided of 12 weeks to 2026-W47, at most 5): 2 change group "
        "(2 Qualified review → Priority). Priority precision 100% → 67%, recall 33% → 67%."
    )
    data = result.as_json()
    assert data["moved"] == 2 and data["after"]["precision"] == pytest.approx(0.6667, abs=1e-4)
    assert {"from": "qualified_review", "to": "priority", "leads": 2} in data["transitions"]


def _change(kind: ProposalKind, target: str, setting: str, proposed: int | None) -> RulesetSpec:
    p = Proposal(
        id="p-x",
        kind=kind,
        target=target,
        label=target,
        setting=setting,
        current=0,
        proposed=proposed,
        ruleset_version=1,
    )
    return apply_to_spec(CURRENT.spec, p)


def test_regrouping_from_hits_agrees_with_a_full_rescore_for_every_kind_of_change() -> None:
    changes = [
        _change(ProposalKind.RAISE_POINTS, "bom-review", "points", 70),
        _change(ProposalKind.LOWER_POINTS, "target-industry", "points", 5),
        _change(ProposalKind.RAISE_POINTS, "freemail", "points", 60),  # a negative rule
        _change(ProposalKind.RETIRE_RULE, "webinar", "points", None),
        _change(ProposalKind.RETIRE_RULE, "failed-asset", "points", None),  # a segment rule
        _change(ProposalKind.MOVE_THRESHOLD, "qualified_review", "intent", 40),
        _change(ProposalKind.MOVE_THRESHOLD, "priority", "fit", 80),
    ]
    leads = [Lead.model_validate(r) for r in simulate_leads(n=600, seed=12, world=PLANTED)]
    for changed in changes:
        assert same_conditions(CURRENT.spec, changed)
        regroup, rescored = _Regrouper(changed), Ruleset.compile(changed, version=2)
        assert [regroup.group(score(lead, CURRENT)) for lead in leads] == [
            score(lead, rescored).group for lead in leads
        ]


def test_a_ruleset_with_other_conditions_is_scored_in_full() -> None:
    data = CURRENT.spec.model_dump(mode="json")
    data["rules"][0]["when"] = {"field": "company.industry", "in": ["metals"]}
    other = RulesetSpec.model_validate(data)
    assert not same_conditions(CURRENT.spec, other)
    narrower = backtest(DECIDED, current=CURRENT, proposed={"o": other})["o"]
    assert narrower.transitions == {  # every lead is a metals company: nothing moves, but it was scored in full
        (Group.QUALIFIED_REVIEW, Group.QUALIFIED_REVIEW): 3,
        (Group.PRIORITY, Group.PRIORITY): 1,
        (Group.NURTURE, Group.NURTURE): 1,
    }
