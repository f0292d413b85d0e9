"""Deals and Opportunities as stage reports: the pure mapping, no database, no HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from leadqual.crm import deals
from leadqual.crm.config import HubSpotDeals, SalesforceOpportunities
from leadqual.crm.hubspot import parse_body
from leadqual.pipeline import Stage

NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)


def events(*items: dict) -> list:
    parsed = parse_body([{"eventId": i, "objectId": 9001, **item} for i, item in enumerate(items, start=1)])
    assert isinstance(parsed, list)
    return parsed


def test_deal_creation_and_dealstage_changes_move_a_deal_and_other_changes_do_not() -> None:
    moved = events(
        {"subscriptionType": "deal.creation"},
        {"subscriptionType": "deal.propertyChange", "propertyName": "dealstage"},
        {"subscriptionType": "object.creation", "objectTypeId": "0-3"},
        {"subscriptionType": "object.propertyChange", "objectTypeId": "0-3", "propertyName": "dealstage"},
        {"subscriptionType": "deal.propertyChange", "propertyName": "amount"},
        {"subscriptionType": "object.creation", "objectTypeId": "0-1"},
        {"subscriptionType": "deal.deletion"},
    )
    assert [e.moves_deal for e in moved] == [True, True, True, True, False, False, False]


def test_a_deal_lists_each_associated_contact_once_whatever_its_labels() -> None:
    deal = {
        "properties": {"dealstage": "closedwon", "amount": "1,200.5", "closedate": "2026-12-01T09:30:00Z"},
        "associations": {
            "contacts": {
                "results": [
                    {"id": "201", "type": "deal_to_contact"},
                    {"id": "201", "type": "decision_maker"},
                    {"id": "202", "type": "deal_to_contact"},
                ]
            }
        },
    }
    reports = deals.deal_reports(deal, HubSpotDeals(), occurred_at=NOW)
    assert [r.external_id for r in reports] == ["hubspot:201", "hubspot:202"]
    assert {(r.stage, r.at, r.amount) for r in reports} == {
        (Stage.WON, datetime(2026, 12, 1, 9, 30, tzinfo=UTC), Decimal("1200.50"))
    }


@pytest.mark.parametrize(
    ("dealstage", "stage"),
    [
        ("closedwon", Stage.WON),
        ("closedlost", Stage.LOST),
        ("presentationscheduled", Stage.OPPORTUNITY),
        (None, Stage.OPPORTUNITY),
    ],
)
def test_hubspot_deal_stages_map_by_default_closed_won_and_lost_and_the_rest_is_an_opportunity(
    dealstage: str | None, stage: Stage
) -> None:
    assert deals.deal_stage(dealstage, HubSpotDeals()) is stage


def test_a_deal_without_dates_is_dated_when_the_event_happened_and_a_bad_amount_is_left_out() -> None:
    deal = {
        "properties": {"dealstage": "closedlost", "amount": "lots"},
        "associations": {"contacts": {"results": [{"id": "7"}]}},
    }
    [report] = deals.deal_reports(deal, HubSpotDeals(), occurred_at=NOW)
    assert (report.stage, report.at, report.amount, report.currency) == (Stage.LOST, NOW, None, None)


@pytest.mark.parametrize(
    ("fields", "stage"),
    [
        ({"StageName": "Closed Won", "IsWon": "true", "IsClosed": "true"}, Stage.WON),
        ({"StageName": "Closed Lost", "IsWon": "false", "IsClosed": "true"}, Stage.LOST),
        ({"StageName": "Negotiation", "IsWon": "false", "IsClosed": "false"}, Stage.OPPORTUNITY),
        ({"StageName": "Verbal Yes", "IsClosed": "false"}, Stage.WON),  # configured below
    ],
)
def test_salesforce_opportunity_stages_follow_the_config_then_is_won_and_is_closed(fields: dict, stage: Stage) -> None:
    config = SalesforceOpportunities(stages={"Verbal Yes": "won"})
    assert deals.opportunity_stage(fields, config) is stage


def test_the_lead_field_may_hold_a_15_character_id() -> None:
    config = SalesforceOpportunities()
    assert deals.opportunity_lead({"Leadbot_Lead_Id__c": "001A0000006Vm9r"}, config) == "001A0000006Vm9rIAC"
    assert deals.opportunity_lead({}, config) is None
    assert deals.opportunity_lead({"X__c": "001A0000006Vm9r"}, SalesforceOpportunities(lead_field=None)) is None
