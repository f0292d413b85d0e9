"""The digest's backtests regroup leads from their stored hits where those hold, and agree with a full rescore."""

from __future__ import annotations

import copy

from leadqual.backtest import backtest
from leadqual.calendar import Period, trailing_period
from leadqual.config import ProposalMethod
from leadqual.proposals import apply_to_spec
from leadqual.rules import RulesetSpec
from leadqual.services import digest, rulesets
from leadqual.services.context import Context
from leadqual.simulate import PLANTED
from leadqual.statuses import RulesetOrigin
from tests.feedback_helpers import import_history, with_method


def window(ctx: Context) -> Period:
    week = digest.last_complete_week(ctx)
    return trailing_period(week, ctx.config.digest.trailing_weeks, ctx.config.tz)


def test_regrouping_from_stored_hits_gives_the_backtest_a_full_rescore_gives(ctx: Context) -> None:
    import_history(ctx, n=1500, seed=5, world=PLANTED)
    built = digest.build_digest(with_method(ctx, ProposalMethod.MARGINAL), backtest_limit=0, persist=False)
    proposals = [c.proposal for c in built.proposals]
    assert proposals, "the planted world proposes changes"
    ruleset, period = ctx.active_ruleset(), window(ctx)
    from_hits = digest.backtest_proposals(ctx, ruleset, proposals, period, limit=800)
    changed = {p.id: apply_to_spec(ruleset.spec, p) for p in proposals}
    leads = digest.stream_decided(ctx, period, limit=800)  # no stored hits: every payload validated and scored
    rescored = backtest(leads, current=ruleset, proposed=changed, window=period.label, limit=800)
    assert from_hits == rescored
    assert any(b.moved for b in from_hits.values())  # something to agree about


def test_stored_hits_are_used_only_for_versions_whose_conditions_are_unchanged(ctx: Context) -> None:
    active = ctx.active_ruleset()
    data = active.spec.model_dump(mode="json")
    for rule in data["rules"]:
        if rule["id"] == "bom-review":
            rule["points"] = min(100, rule["points"] + 10)  # points only: its hits still hold
    other = copy.deepcopy(data)
    for rule in other["rules"]:
        if rule["id"] == "bom-review":
            rule["when"] = {"all": [rule["when"], rule["when"]]}  # the same meaning, another condition
    with ctx.transaction() as session:
        same = rulesets.create_version(session, RulesetSpec.model_validate(data), origin=RulesetOrigin.APPLY)
        changed = rulesets.create_version(session, RulesetSpec.model_validate(other), origin=RulesetOrigin.APPLY)
        versions = (same.version, changed.version)
    found = digest._versions_with_the_same_conditions(ctx, active)
    assert {active.version, versions[0]} <= found and versions[1] not in found


def test_a_lead_comes_with_its_stored_hits_and_no_payload_only_for_the_versions_named(ctx: Context) -> None:
    import_history(ctx, n=300, seed=6, world=PLANTED)
    ruleset, period = ctx.active_ruleset(), window(ctx)
    by_payload = list(digest.stream_decided(ctx, period, limit=50))
    by_hits = list(digest.stream_decided(ctx, period, limit=50, hits_hold_for={ruleset.version}))
    assert by_payload and all(payload is not None and hits is None for payload, _, hits in by_payload)
    assert len(by_hits) == len(by_payload)
    assert all(payload is None and hits is not None for payload, _, hits in by_hits)
    assert [q for _, q, _ in by_payload] == [q for _, q, _ in by_hits]
