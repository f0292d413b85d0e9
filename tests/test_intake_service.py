"""Intake stores leads, scores and card outbox rows together, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from leadqual.db.models import Decision, Event, LeadRow, OutboxMessage
from leadqual.errors import InvalidLead
from leadqual.groups import Group
from leadqual.services.context import Context
from leadqual.services.intake import ingest, validate_leads

PRIORITY = {
    "external_id": "crm-1",
    "source": "web_form",
    "offer": "rfq",
    "company": {"name": "Acme Metals", "industry": "metals", "country": "US", "employees": 850},
    "contact": {"email": "dana@acmemetals.com", "title": "Maintenance Manager"},
    "signals": [{"type": "rfq_request"}, {"type": "page_view", "value": "/pricing"}],
    "need": {"scope": "replacement", "problem": "Pump failed on line 3"},
}
POOR = {"external_id": "crm-2", "company": {"name": "Someone"}, "contact": {"email": "kid@gmail.com"}}


def count(ctx: Context, model: type) -> int:
    with ctx.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_routed_lead_is_stored_with_its_score_version_and_one_card_row(ctx: Context) -> None:
    [result] = ingest(ctx, validate_leads([PRIORITY]))
    assert result.group is Group.PRIORITY and not result.duplicate
    with ctx.session_factory() as session:
        row = session.get(LeadRow, result.id)
        assert row is not None
        assert (row.fit, row.intent, row.group) == (result.fit, result.intent, "priority")
        assert row.ruleset_version == ctx.ruleset(session).version
        assert {h["rule"] for h in row.hits} >= {"rfq", "target-industry"}
        assert row.received_at == ctx.now()
        [card] = session.scalars(select(OutboxMessage)).all()
        assert (card.kind, card.lead_id, card.channel_id, card.status) == ("card", row.id, "C0LEADS", "pending")
    assert count(ctx, Event) == 1


def test_poor_fit_leads_are_stored_but_never_queued_for_slack(ctx: Context) -> None:
    [result] = ingest(ctx, validate_leads([POOR]))
    assert result.group is Group.POOR_FIT
    assert count(ctx, LeadRow) == 1
    assert count(ctx, OutboxMessage) == 0


def test_resending_the_same_external_id_answers_the_stored_lead_as_a_duplicate(ctx: Context) -> None:
    [first] = ingest(ctx, validate_leads([PRIORITY]))
    [again] = ingest(ctx, validate_leads([{**PRIORITY, "message": "changed"}]))
    assert again.duplicate and again.id == first.id
    assert count(ctx, LeadRow) == 1 and count(ctx, OutboxMessage) == 1


def test_the_same_email_on_an_open_lead_is_a_duplicate_even_within_one_batch(ctx: Context) -> None:
    other = {**PRIORITY, "external_id": "form-9", "contact": {"email": "DANA@acmemetals.com"}}
    first, second = ingest(ctx, validate_leads([PRIORITY, other]))
    assert not first.duplicate and second.duplicate and second.id == first.id
    assert second.external_id == "form-9"
    assert count(ctx, LeadRow) == 1


def test_an_invalid_lead_in_a_batch_stores_nothing(ctx: Context) -> None:
    with pytest.raises(InvalidLead) as info:
        validate_leads([PRIORITY, {"contact": {"email": "nope"}}, POOR])
    assert info.value.errors[0]["index"] == 1
    assert info.value.errors[0]["loc"] == ["contact", "email"]
    assert count(ctx, LeadRow) == 0


def test_history_with_an_outcome_is_stored_as_decided_and_never_posted(ctx: Context) -> None:
    history = {
        **PRIORITY,
        "external_id": "old-1",
        "outcome": {
            "status": "not_qualified",
            "reason": "spec_mismatch",
            "decided_at": "2026-10-01T12:00:00Z",
            "decided_by": "U123",
        },
    }
    [result] = ingest(ctx, validate_leads([history]))
    with ctx.session_factory() as session:
        row = session.get(LeadRow, result.id)
        assert row is not None
        assert (row.status, row.outcome, row.reason, row.decided_by) == (
            "not_qualified",
            "not_qualified",
            "spec_mismatch",
            "U123",
        )
        assert row.historical and row.decided_at is not None and row.decided_at.month == 10
        decision = session.scalars(select(Decision)).one()
        assert decision.outcome == "not_qualified"
    assert count(ctx, OutboxMessage) == 0


def test_a_decided_lead_does_not_swallow_a_new_enquiry_from_the_same_email(ctx: Context) -> None:
    ingest(ctx, validate_leads([{**PRIORITY, "outcome": {"status": "nurture"}}]))
    [fresh] = ingest(ctx, validate_leads([{**PRIORITY, "external_id": "crm-77"}]))
    assert not fresh.duplicate
    assert count(ctx, LeadRow) == 2


def test_a_thousand_leads_are_ingested_in_one_call(ctx: Context) -> None:
    leads = validate_leads(
        [{**PRIORITY, "external_id": f"bulk-{i}", "contact": {"email": f"p{i}@acme.com"}} for i in range(1000)]
    )
    results = ingest(ctx, leads)
    assert len({r.id for r in results}) == 1000
    assert count(ctx, OutboxMessage) == 1000
