"""POST /crm/salesforce through the real app, with Outbound Messages built the way Salesforce builds them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from defusedxml.ElementTree import fromstring
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.http import create_http_app
from leadqual.db.models import LeadRow, OutboxMessage
from leadqual.services.context import Context
from leadqual.settings import Settings
from tests.conftest import make_settings
from tests.crm_helpers import BILLION_LAUGHS, SF_ORG_ID, SOAP_HEADERS, XXE, outbound_message

ACME = (
    "00Q5g000001AcmeAAA",
    {
        "Company": "Acme Metals",
        "FirstName": "Dana",
        "LastName": "Ruiz",
        "Email": "dana@acmemetals.com",
        "Title": "Maintenance Manager",
        "Country": "US",
        "State": "TX",
        "Industry": "Metals",
        "NumberOfEmployees": "850",
        "LeadSource": "Web",
        "Description": "RFQ for a pump before the outage",
        "Phone": None,
    },
)
BETA = (
    "00Q5g000002BetaAAA",
    {
        "Company": "Beta Water",
        "LastName": "Okafor",
        "Email": "k.okafor@betawater.com",
        "Industry": "Water",
        "Country": "CA",
    },
)
ENV = "{http://schemas.xmlsoap.org/soap/envelope/}"
OM = "{http://soap.sforce.com/2005/09/outbound}"


@pytest.fixture
def crm_settings(db_url: str) -> Settings:
    return make_settings(
        db_url,
        SALESFORCE_INSTANCE_URL="https://acme.my.salesforce.com",
        SALESFORCE_ORGANIZATION_ID=SF_ORG_ID,
        SALESFORCE_ACCESS_TOKEN="unused-here",
    )


@pytest.fixture
def client(ctx: Context, crm_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_http_app(ctx, crm_settings)) as c:
        yield c


def counts(ctx: Context) -> tuple[int, int]:
    with ctx.session_factory() as session:
        return (
            session.scalar(select(func.count()).select_from(LeadRow)) or 0,
            session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
        )


def fault_of(response_body: bytes) -> tuple[str, str]:
    root = fromstring(response_body)
    fault = root.find(f"{ENV}Body/{ENV}Fault")
    assert fault is not None, response_body
    return fault.findtext("faultcode") or "", fault.findtext("faultstring") or ""


def test_an_outbound_message_with_two_leads_stores_two_scored_leads_and_acks(client: TestClient, ctx: Context) -> None:
    response = client.post("/crm/salesforce", content=outbound_message([ACME, BETA]), headers=SOAP_HEADERS)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    root = fromstring(response.content)
    assert root.findtext(f"{ENV}Body/{OM}notificationsResponse/{OM}Ack") == "true"
    with ctx.session_factory() as session:
        leads = {row.external_id: row for row in session.scalars(select(LeadRow))}
    assert set(leads) == {"salesforce:00Q5g000001AcmeAAA", "salesforce:00Q5g000002BetaAAA"}
    acme = leads["salesforce:00Q5g000001AcmeAAA"]
    assert acme.payload["contact"]["name"] == "Dana Ruiz" and acme.payload["company"]["employees"] == 850
    assert acme.source == "web" and acme.payload["company"]["industry"] == "metals"
    assert counts(ctx)[0] == 2 and counts(ctx)[1] >= 1  # cards for the routed groups


def test_a_repeated_delivery_acks_again_and_changes_nothing(client: TestClient, ctx: Context) -> None:
    body = outbound_message([ACME, BETA])
    assert client.post("/crm/salesforce", content=body, headers=SOAP_HEADERS).status_code == 200
    before = counts(ctx)
    again = client.post("/crm/salesforce", content=body, headers=SOAP_HEADERS)
    assert again.status_code == 200 and b"<Ack>true</Ack>" in again.content
    assert counts(ctx) == before


@pytest.mark.parametrize("org_id", ["00D5g000004ABCD", "00D5g000004ABCDXYZ"])
def test_the_15_character_form_of_the_org_id_is_the_same_org(client: TestClient, ctx: Context, org_id: str) -> None:
    response = client.post("/crm/salesforce", content=outbound_message([ACME], org_id=org_id), headers=SOAP_HEADERS)
    assert response.status_code == 200 and counts(ctx)[0] == 1


@pytest.mark.parametrize("org_id", ["00D5g000009ZZZZEAS", "00d5g000004abcdeas"])
def test_another_org_is_403_and_stores_nothing(client: TestClient, ctx: Context, org_id: str) -> None:
    response = client.post("/crm/salesforce", content=outbound_message([ACME], org_id=org_id), headers=SOAP_HEADERS)
    assert response.status_code == 403
    assert "OrganizationId" in fault_of(response.content)[1]
    assert counts(ctx) == (0, 0)


@pytest.mark.parametrize("body", [XXE, BILLION_LAUGHS], ids=["external-entity", "billion-laughs"])
def test_external_entities_and_entity_bombs_are_refused_with_a_fault_and_read_nothing(
    client: TestClient, ctx: Context, body: bytes
) -> None:
    response = client.post("/crm/salesforce", content=body, headers=SOAP_HEADERS)
    assert response.status_code == 500
    code, text = fault_of(response.content)
    assert code == "soapenv:Client" and "DTDForbidden" in text and "root:" not in text
    assert counts(ctx) == (0, 0)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<soapenv:Envelope",
        b'{"json": true}',
        outbound_message([ACME]).replace(b'xsi:type="sf:Lead"', b'xsi:type="sf:Contact"'),
        outbound_message([ACME]).replace(b"<sf:Id>00Q5g000001AcmeAAA</sf:Id>", b""),
    ],
)
def test_malformed_soap_is_a_fault_with_500_and_stores_nothing(client: TestClient, ctx: Context, body: bytes) -> None:
    response = client.post("/crm/salesforce", content=body, headers=SOAP_HEADERS)
    assert response.status_code == 500
    assert fault_of(response.content)[1]
    assert counts(ctx) == (0, 0)


def test_one_invalid_lead_faults_the_whole_message_and_stores_none_of_it(client: TestClient, ctx: Context) -> None:
    bad = ("00Q5g000003BadAAA", {"LastName": "Nobody", "Email": "not an email"})
    response = client.post("/crm/salesforce", content=outbound_message([ACME, bad]), headers=SOAP_HEADERS)
    assert response.status_code == 500
    assert "contact.email" in fault_of(response.content)[1]
    assert counts(ctx) == (0, 0)


def test_the_route_is_404_while_salesforce_is_not_configured(ctx: Context, settings: Settings) -> None:
    with TestClient(create_http_app(ctx, settings)) as c:
        response = c.post("/crm/salesforce", content=outbound_message([ACME]), headers=SOAP_HEADERS)
    assert response.status_code == 404


def test_without_an_expected_org_id_every_message_is_refused(ctx: Context, db_url: str) -> None:
    settings = make_settings(db_url, SALESFORCE_INSTANCE_URL="https://acme.my.salesforce.com")
    with TestClient(create_http_app(ctx, settings)) as c:
        response = c.post("/crm/salesforce", content=outbound_message([ACME]), headers=SOAP_HEADERS)
    assert response.status_code == 403 and counts(ctx) == (0, 0)
