"""Deals and Opportunities as stage reports: the pure mapping, no database, no HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from leadqual.crm import deals, hubspot
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
    deal = {"properties": {"dealstage": "closedwon", "amount": "1,200.5", "closedate": "2026-12-01T09:30:00Z"}}
    associations = {
        "status": "COMPLETE",
        "results": [
            {
                "from": {"id": "9001"},
                "to": [
                    {"toObjectId": 201, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3}]},
                    {"toObjectId": "201", "associationTypes": [{"category": "USER_DEFINED", "typeId": 7}]},
                    {"toObjectId": 202, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3}]},
                ],
            }
        ],
    }
    contacts = hubspot.associated_ids(associations)
    assert contacts == {"9001": ["201", "202"]}
    reports = deals.deal_reports(deal, contacts["9001"], HubSpotDeals(), occurred_at=NOW)
    assert [r.external_id for r in reports] == ["hubspot:201", "hubspot:202"]
    assert {(r.stage, r.at, r.amount) for r in reports} == {
        (Stage.WON, datetime(2026, 12, 1, 9, 30, tzinfo=UTC), Decimal("1200.50"))
    }


def test_a_deal_without_contacts_is_absent_from_the_associations_and_reports_nothing() -> None:
    answer = {
        "status": "COMPLETE",
        "results": [],
        "numErrors": 1,
        "errors": [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                "message": "No contact is associated with deal 9002.",
                "context": {"fromObjectId": ["9002"], "fromObjectType": ["deal"], "toObjectType": ["contact"]},
            }
        ],
    }
    assert hubspot.associated_ids(answer) == {} and hubspot.association_pages(answer) == []
    assert deals.deal_reports({"properties": {"dealstage": "closedwon"}}, [], HubSpotDeals(), occurred_at=NOW) == []


def test_a_deal_with_more_contacts_than_one_answer_names_the_page_to_read_next() -> None:
    answer = {
        "results": [
            {"from": {"id": "9001"}, "to": [{"toObjectId": 1}], "paging": {"next": {"after": "MC0z", "link": None}}},
            {"from": {"id": "9002"}, "to": [{"toObjectId": 2}]},
        ]
    }
    assert hubspot.association_pages(answer) == [{"id": "9001", "after": "MC0z"}]


def test_a_batch_read_answer_is_sorted_into_found_and_missing_by_the_ids_asked() -> None:
    answer = {
        "status": "COMPLETE",
        "results": [
            {"id": "101", "properties": {"email": "a@x.com", "hs_object_id": "101"}},
            {"id": "300", "properties": {"email": "b@x.com", "hs_object_id": "300", "hs_merged_object_ids": "103;104"}},
        ],
        "numErrors": 1,
        "errors": [
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": "Could not get some CONTACT objects, they may be deleted or not exist.",
                "context": {"ids": ["102"]},
            }
        ],
    }
    read = hubspot.batch_read(answer, ["101", "102", "103", "105"], "contact")
    assert read.found["101"]["properties"]["email"] == "a@x.com"
    assert read.found["103"]["id"] == "300"  # merged into 300: the event's id still names it
    assert set(read.found) == {"101", "103"} and set(read.missing) == {"102", "105"}
    assert read.missing["102"].startswith("HubSpot OBJECT_NOT_FOUND: Could not get some CONTACT objects")
    assert "neither the contact nor an error" in read.missing["105"]


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
    deal = {"properties": {"dealstage": "closedlost", "amount": "lots"}}
    [report] = deals.deal_reports(deal, ["7"], HubSpotDeals(), occurred_at=NOW)
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
