"""Salesforce Opportunities as pipeline outcomes: Outbound Messages of sf:Opportunity through the real route.

The Opportunity finds its lead through a custom field holding the Lead Id
(`crm.salesforce.opportunities.lead_field`, default `Leadbot_Lead_Id__c`) or through a converted
Lead's `ConvertedOpportunityId`, sent earlier (or in the same message) by a Lead Outbound Message.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.http import create_http_app
from leadqual.crm.config import CrmConfig, SalesforceConfig, SalesforceOpportunities
from leadqual.crm.deals import long_id
from leadqual.db.models import LeadPipeline, LeadRow, PipelineStage
from leadqual.services.context import Context
from leadqual.settings import Settings
from tests.conftest import make_settings
from tests.crm_helpers import SF_ORG_ID, SOAP_HEADERS, outbound_message

LEAD_ID = "00Q5g000001AcmeAAA"
ACME: dict[str, str | None] = {
    "Company": "Acme Metals",
    "LastName": "Ruiz",
    "Email": "dana@acmemetals.com",
    "Industry": "Metals",
    "Country": "US",
}
OPP_ID = long_id("0065g00000AcmeO") or ""


@pytest.fixture
def client(ctx: Context, db_url: str) -> Iterator[TestClient]:
    settings: Settings = make_settings(
        db_url,
        SALESFORCE_INSTANCE_URL="https://acme.my.salesforce.com",
        SALESFORCE_ORGANIZATION_ID=SF_ORG_ID,
        SALESFORCE_ACCESS_TOKEN="unused-here",
    )
    with TestClient(create_http_app(ctx, settings)) as c:
        yield c


def send(client: TestClient, records: list[tuple[str, dict[str, str | None]]], sobject: str = "Lead") -> None:
    response = client.post("/crm/salesforce", content=outbound_message(records, sobject=sobject), headers=SOAP_HEADERS)
    assert response.status_code == 200, response.text
    assert b"<Ack>true</Ack>" in response.content


def opportunity(**fields: str | None) -> tuple[str, dict[str, str | None]]:
    base: dict[str, str | None] = {
        "Name": "Acme pump retrofit",
        "StageName": "Prospecting",
        "IsClosed": "false",
        "IsWon": "false",
        "Amount": "40000.0",
        "CloseDate": "2026-12-20",
        "CreatedDate": "2026-11-24T10:00:00.000Z",
        "Leadbot_Lead_Id__c": LEAD_ID,
    }
    return OPP_ID, {**base, **fields}


def history(ctx: Context) -> list[tuple[str, datetime, Decimal | None, str | None]]:
    with ctx.session_factory() as session:
        rows = session.execute(
            select(PipelineStage.stage, PipelineStage.at, PipelineStage.amount, PipelineStage.currency).order_by(
                PipelineStage.id
            )
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]


def current(ctx: Context, lead_id: str = LEAD_ID) -> str | None:
    with ctx.session_factory() as session:
        return session.scalar(
            select(LeadPipeline.stage)
            .join(LeadRow, LeadRow.id == LeadPipeline.lead_id)
            .where(LeadRow.external_id == f"salesforce:{lead_id}")
        )


def test_an_open_opportunity_naming_its_lead_is_an_opportunity_and_closed_won_is_won(
    client: TestClient, ctx: Context
) -> None:
    send(client, [(LEAD_ID, ACME)])
    send(client, [opportunity(CurrencyIsoCode="EUR")], sobject="Opportunity")
    assert current(ctx) == "opportunity"
    send(
        client,
        [opportunity(StageName="Closed Won", IsClosed="true", IsWon="true", Amount="42000.5", CurrencyIsoCode="EUR")],
        sobject="Opportunity",
    )
    assert current(ctx) == "won"
    assert history(ctx) == [
        ("opportunity", datetime(2026, 11, 24, 10, tzinfo=UTC), Decimal("40000.00"), "EUR"),
        ("won", datetime(2026, 12, 20, tzinfo=UTC), Decimal("42000.50"), "EUR"),
    ]


def test_closed_and_not_won_is_lost_and_a_repeated_message_records_nothing_new(
    client: TestClient, ctx: Context
) -> None:
    send(client, [(LEAD_ID, ACME)])
    lost = opportunity(StageName="Closed Lost", IsClosed="true", IsWon="false")
    send(client, [lost], sobject="Opportunity")
    send(client, [lost], sobject="Opportunity")  # Salesforce retries until it sees the Ack
    assert current(ctx) == "lost" and [h[0] for h in history(ctx)] == ["lost"]


def test_a_configured_stage_name_wins_over_is_won(client: TestClient, ctx: Context) -> None:
    ctx.config = ctx.config.model_copy(
        update={
            "crm": CrmConfig(
                salesforce=SalesforceConfig(opportunities=SalesforceOpportunities(stages={"Verbal Yes": "won"}))
            )
        }
    )
    send(client, [(LEAD_ID, ACME)])
    send(client, [opportunity(StageName="Verbal Yes")], sobject="Opportunity")
    assert current(ctx) == "won"


def test_a_converted_lead_links_its_opportunity_which_then_needs_no_custom_field(
    client: TestClient, ctx: Context
) -> None:
    send(client, [(LEAD_ID, ACME)])
    converted = {
        **ACME,
        "IsConverted": "true",
        "ConvertedOpportunityId": OPP_ID[:15],
        "ConvertedDate": "2026-11-25",
    }
    send(client, [(LEAD_ID, converted)])
    send(client, [(LEAD_ID, converted)])  # the conversion counts once
    assert current(ctx) == "opportunity"
    assert history(ctx) == [("opportunity", datetime(2026, 11, 25, tzinfo=UTC), None, None)]
    won = opportunity(StageName="Closed Won", IsClosed="true", IsWon="true", Leadbot_Lead_Id__c=None)
    send(client, [won], sobject="Opportunity")
    assert current(ctx) == "won"


def test_an_opportunity_of_an_unknown_lead_or_of_no_lead_is_acknowledged_logged_and_records_nothing(
    client: TestClient, ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    send(client, [opportunity(Leadbot_Lead_Id__c="00Q5g000009NopeAAA")], sobject="Opportunity")
    send(client, [("0065g00000OrphnAAA", {"StageName": "Prospecting"})], sobject="Opportunity")
    assert history(ctx) == []
    assert "salesforce:00Q5g000009NopeAAA not recorded" in caplog.text
    assert "Opportunity 0065g00000OrphnAAA names no Lead" in caplog.text


def test_a_15_character_lead_id_in_the_custom_field_finds_the_18_character_lead() -> None:
    assert long_id("001A0000006Vm9r") == "001A0000006Vm9rIAC"  # Salesforce's documented example
    assert long_id("001A0000006Vm9rIAC") == "001A0000006Vm9rIAC" and long_id("short") is None
