"""Applying a proposal makes the next ruleset version; leads keep theirs; rollback is one step back."""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from blocks.digest import digest_blocks
from leadqual.db.models import Event, LeadRow, ProposalRow, RulesetVersion
from leadqual.errors import (
    NothingToRollBack,
    NotManager,
    ProposalAlreadyApplied,
    ProposalNoLongerApplies,
    ProposalNotFound,
    RulesetChanged,
)
from leadqual.groups import Group
from leadqual.proposals import Proposal, ProposalKind
from leadqual.readmodels import ProposedChange
from leadqual.services import proposals
from leadqual.services.context import Context
from leadqual.services.digest import build_digest
from leadqual.services.intake import ingest, validate_leads
from tests.feedback_helpers import store_proposal

MANAGER = "UMANAGER"  # LEADBOT_MANAGERS in the test settings
BOM_LEAD: dict[str, Any] = {
    "company": {"name": "Acme Metals", "industry": "metals", "country": "US", "employees": 850},
    "contact": {"email": "dana@acmemetals.com", "title": "Maintenance Manager"},
    "signals": [{"type": "bom_review"}],
    "need": {"scope": "replacement"},
}


def active(ctx: Context) -> RulesetVersion:
    with ctx.transaction() as session:
        row = session.scalar(select(RulesetVersion).where(RulesetVersion.active))
        assert row is not None
        session.expunge(row)
        return row


def proposal_row(ctx: Context, pid: str) -> ProposalRow:
    with ctx.transaction() as session:
        row = session.get(ProposalRow, pid)
        assert row is not None
        session.expunge(row)
        return row


def versions(ctx: Context) -> int:
    with ctx.transaction() as session:
        return session.scalar(select(func.count()).select_from(RulesetVersion)) or 0


def test_applying_makes_the_next_version_active_with_the_change(ctx: Context) -> None:
    pid = store_proposal(ctx)
    old, new = proposals.apply_proposal(ctx, pid, actor=MANAGER)
    assert (old, new) == (1, 2)
    row = active(ctx)
    assert (row.version, row.parent_version, row.origin, row.created_by) == (2, 1, "apply", MANAGER)
    assert pid in (row.note or "")
    spec = ctx.active_ruleset().spec
    assert spec.rule("bom-review").points == 60  # type: ignore[union-attr]
    assert ctx.active_ruleset().version == 2


def test_the_proposal_is_marked_applied_and_the_change_is_audited(ctx: Context, clock: Any) -> None:
    pid = store_proposal(ctx)
    proposals.apply_proposal(ctx, pid, actor=MANAGER)
    row = proposal_row(ctx, pid)
    assert (row.status, row.applied_by, row.applied_version, row.applied_at) == ("applied", MANAGER, 2, clock.now)
    with ctx.transaction() as session:
        event = session.scalar(select(Event).where(Event.kind == proposals.APPLIED))
        assert event is not None and event.actor == MANAGER
        assert event.data == {
            "proposal": pid,
            "kind": "raise_points",
            "target": "bom-review",
            "setting": "points",
            "current": 30,
            "proposed": 60,
            "from": 1,
            "to": 2,
        }


def test_leads_keep_the_version_that_scored_them(ctx: Context) -> None:
    before = ingest(ctx, validate_leads([{**BOM_LEAD, "external_id": "before"}]), post=False)[0]
    proposals.apply_proposal(ctx, store_proposal(ctx), actor=MANAGER)
    after = ingest(
        ctx,
        validate_leads(
            [{**BOM_LEAD, "external_id": "after", "contact": {"email": "lee@acmemetals.com", "title": "Plant Manager"}}]
        ),
        post=False,
    )[0]
    with ctx.transaction() as session:
        rows = {r.external_id: r for r in session.scalars(select(LeadRow))}
    assert rows["before"].ruleset_version == 1 and rows["before"].intent == 30
    assert rows["after"].ruleset_version == 2 and rows["after"].intent == 60
    assert before.group is Group.QUALIFIED_REVIEW and after.group is Group.PRIORITY


def test_a_second_click_on_apply_changes_nothing(ctx: Context) -> None:
    pid = store_proposal(ctx)
    proposals.apply_proposal(ctx, pid, actor=MANAGER)
    with pytest.raises(ProposalAlreadyApplied, match=r"already applied \(ruleset v2\)"):
        proposals.apply_proposal(ctx, pid, actor=MANAGER)
    assert versions(ctx) == 2


def test_only_a_manager_may_apply_from_slack_but_the_cli_may(ctx: Context) -> None:
    pid = store_proposal(ctx)
    with pytest.raises(NotManager):
        proposals.apply_proposal(ctx, pid, actor="UREP1")
    assert versions(ctx) == 1 and proposal_row(ctx, pid).status == "open"
    assert proposals.apply_proposal(ctx.as_operator("cli:ops"), pid, actor="cli:ops") == (1, 2)


def test_an_unknown_proposal_is_refused(ctx: Context) -> None:
    with pytest.raises(ProposalNotFound):
        proposals.apply_proposal(ctx, "p-000000", actor=MANAGER)


def test_a_proposal_for_a_rule_that_no_longer_exists_is_refused(ctx: Context) -> None:
    retire = store_proposal(ctx, kind=ProposalKind.RETIRE_RULE, target="webinar", current=5, proposed=None)
    lower = store_proposal(ctx, kind=ProposalKind.LOWER_POINTS, target="webinar", current=5, proposed=1)
    proposals.apply_proposal(ctx, retire, actor=MANAGER)
    with pytest.raises(ProposalNoLongerApplies, match="no rule 'webinar'"):
        proposals.apply_proposal(ctx, lower, actor=MANAGER)
    assert versions(ctx) == 2


def test_a_proposal_the_active_rules_already_hold_is_refused(ctx: Context) -> None:
    same = store_proposal(ctx, kind=ProposalKind.LOWER_POINTS, target="bom-review", current=30, proposed=30)
    with pytest.raises(ProposalNoLongerApplies, match="already has this change"):
        proposals.apply_proposal(ctx, same, actor=MANAGER)


def test_moving_a_threshold_makes_a_version_with_the_new_minimum(ctx: Context) -> None:
    pid = store_proposal(
        ctx, kind=ProposalKind.MOVE_THRESHOLD, target="qualified_review", setting="intent", current=20, proposed=40
    )
    proposals.apply_proposal(ctx, pid, actor=MANAGER)
    assert ctx.active_ruleset().spec.groups[Group.QUALIFIED_REVIEW].intent == 40


def test_rollback_restores_the_previous_version_and_marks_the_proposal(ctx: Context) -> None:
    pid = store_proposal(ctx)
    proposals.apply_proposal(ctx, pid, actor=MANAGER)
    assert proposals.rollback(ctx, actor=MANAGER, expected=2) == (2, 1)
    assert active(ctx).version == 1
    assert ctx.active_ruleset().spec.rule("bom-review").points == 30  # type: ignore[union-attr]
    assert proposal_row(ctx, pid).status == "rolled_back"
    # A rolled-back proposal can be applied again: it makes a new version.
    assert proposals.apply_proposal(ctx, pid, actor=MANAGER) == (1, 3)


def test_a_second_click_on_roll_back_does_not_walk_back_twice(ctx: Context) -> None:
    proposals.apply_proposal(ctx, store_proposal(ctx), actor=MANAGER)
    proposals.apply_proposal(ctx, store_proposal(ctx, target="rfq", current=40, proposed=50), actor=MANAGER)
    proposals.rollback(ctx, actor=MANAGER, expected=3)
    with pytest.raises(RulesetChanged, match="now v2, not v3"):
        proposals.rollback(ctx, actor=MANAGER, expected=3)
    assert active(ctx).version == 2


def test_rollback_needs_a_manager_and_a_previous_version(ctx: Context) -> None:
    with pytest.raises(NotManager):
        proposals.rollback(ctx, actor="UREP1")
    with pytest.raises(NothingToRollBack):
        proposals.rollback(ctx, actor=MANAGER)


def test_two_managers_applying_the_same_proposal_at_once_make_one_version(ctx: Context) -> None:
    pid = store_proposal(ctx)
    results: list[object] = []
    barrier = threading.Barrier(2)

    def click() -> None:
        barrier.wait()
        try:
            results.append(proposals.apply_proposal(ctx, pid, actor=MANAGER))
        except ProposalAlreadyApplied as exc:
            results.append(exc)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(r).__name__ for r in results) == ["ProposalAlreadyApplied", "tuple"]
    assert versions(ctx) == 2


def test_two_different_proposals_applied_at_once_get_consecutive_versions(ctx: Context) -> None:
    first, second = store_proposal(ctx), store_proposal(ctx, target="rfq", current=40, proposed=50)
    barrier = threading.Barrier(2)
    made: list[tuple[int, int]] = []

    def click(pid: str) -> None:
        barrier.wait()
        made.append(proposals.apply_proposal(ctx, pid, actor=MANAGER))

    threads = [threading.Thread(target=click, args=(pid,)) for pid in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(made) == [(1, 2), (2, 3)]
    spec = ctx.active_ruleset().spec
    assert (spec.rule("bom-review").points, spec.rule("rfq").points) == (60, 50)  # type: ignore[union-attr]


def test_after_a_rollback_the_digest_names_the_version_applying_will_really_make(ctx: Context) -> None:
    pid = store_proposal(ctx)
    proposals.apply_proposal(ctx, pid, actor=MANAGER)
    proposals.rollback(ctx, actor=MANAGER, expected=2)
    ruleset = build_digest(ctx, persist=False).ruleset
    assert (ruleset.version, ruleset.next_version) == (1, 3)
    digest = dataclasses.replace(
        build_digest(ctx, persist=False),
        proposals=[ProposedChange(Proposal.from_json(proposal_row(ctx, pid).data["proposal"]), None)],
    )
    head = json.dumps([b.to_dict() for b in digest_blocks(digest)])
    assert "applying one makes ruleset v3," in head
    assert proposals.apply_proposal(ctx, pid, actor=MANAGER) == (1, 3)
