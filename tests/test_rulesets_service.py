"""Ruleset versions: a new file content makes a version; rollback reactivates the parent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from leadqual.db.models import RulesetVersion
from leadqual.errors import NothingToRollBack
from leadqual.rules import parse_ruleset_text
from leadqual.services.context import Context
from leadqual.services.intake import ingest, validate_leads
from leadqual.services.rulesets import active_version, create_version, rollback, sync_rules_file
from leadqual.statuses import RulesetOrigin

RULES = """
name: small
version: 1
rules:
  - {id: rfq, kind: intent, label: RFQ, points: 60, when: {signal: rfq_request}}
groups: {priority: {intent: 50}, poor_fit: {}}
"""


def test_bootstrapping_stores_the_packaged_rules_as_the_active_first_version(ctx: Context) -> None:
    row = active_version(ctx)
    assert (row.version, row.name, row.origin, row.active) == (1, "industrial-default", "file", True)


def test_loading_the_same_content_again_creates_no_version(ctx: Context) -> None:
    spec = parse_ruleset_text(RULES)
    first = sync_rules_file(ctx, spec, source="a.yaml")
    again = sync_rules_file(ctx, parse_ruleset_text(RULES.replace("version: 1", "version: 5")), source="a.yaml")
    assert first.version == again.version == 2
    with ctx.reading() as session:  # rulesets.list_versions had no other reader
        assert list(session.scalars(select(RulesetVersion.version).order_by(RulesetVersion.version))) == [1, 2]


def test_leads_keep_the_version_that_scored_them_and_rollback_restores_the_parent(ctx: Context) -> None:
    [before] = ingest(ctx, validate_leads([{"company": {"name": "A"}, "signals": [{"type": "rfq_request"}]}]))
    sync_rules_file(ctx, parse_ruleset_text(RULES), source="b.yaml")
    [after] = ingest(ctx, validate_leads([{"company": {"name": "B"}, "signals": [{"type": "rfq_request"}]}]))
    assert (before.group.value, after.group.value) == ("research", "priority")
    assert rollback(ctx, actor="U1") == (2, 1)
    assert active_version(ctx).version == 1
    with pytest.raises(NothingToRollBack):
        rollback(ctx)


def test_a_created_version_is_numbered_after_the_newest_and_becomes_active(ctx: Context) -> None:
    with ctx.transaction() as session:
        row = create_version(session, parse_ruleset_text(RULES), origin=RulesetOrigin.APPLY, created_by="UMANAGER")
        assert row.version == 2 and row.parent_version == 1
    assert active_version(ctx).version == 2
    assert "version: 2" in active_version(ctx).yaml_text
