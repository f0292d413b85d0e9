"""The HubSpot and Salesforce clients against their stand-ins: every answer is classified for the outbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.crm.hubspot import HubSpotClient
from bot.crm.results import Delivered, Permanent, RetryAfter, Transient, Unauthorized
from bot.crm.salesforce import SalesforceClient
from tests import hubspot_standin, salesforce_standin
from tests.hubspot_standin import HubSpotStandIn
from tests.salesforce_standin import SalesforceStandIn


@pytest.fixture
def hubspot() -> Iterator[HubSpotStandIn]:
    with HubSpotStandIn() as standin:
        yield standin


@pytest.fixture
def salesforce() -> Iterator[SalesforceStandIn]:
    with SalesforceStandIn() as standin:
        yield standin


def test_a_hubspot_patch_updates_the_contact_with_string_properties(hubspot: HubSpotStandIn) -> None:
    contact_id = hubspot.add_contact({"email": "dana@acmemetals.com"})
    client = HubSpotClient(hubspot.url, hubspot_standin.TOKEN)
    result = client.update_contact(contact_id, {"hs_lead_status": "IN_PROGRESS", "hubspot_owner_id": "61234567"})
    assert isinstance(result, Delivered) and result.status == 200
    assert hubspot.contacts[contact_id]["hs_lead_status"] == "IN_PROGRESS"
    [call] = hubspot.calls_to("PATCH")
    assert call.body == {"properties": {"hs_lead_status": "IN_PROGRESS", "hubspot_owner_id": "61234567"}}


def test_hubspot_answers_are_classified_retry_after_transient_unauthorized_and_permanent(
    hubspot: HubSpotStandIn,
) -> None:
    contact_id = hubspot.add_contact({"email": "dana@acmemetals.com"})
    client = HubSpotClient(hubspot.url, hubspot_standin.TOKEN)
    hubspot.fail_next(429, retry_after=7)
    limited = client.update_contact(contact_id, {"hs_lead_status": "OPEN_DEAL"})
    assert isinstance(limited, RetryAfter) and limited.seconds == 7 and "secondly limit" in limited.error
    hubspot.fail_next(502)
    assert isinstance(client.update_contact(contact_id, {"hs_lead_status": "OPEN_DEAL"}), Transient)
    unknown = client.update_contact(contact_id, {"no_such_property": "x"})
    assert isinstance(unknown, Permanent) and unknown.status == 400 and "PROPERTY_DOESNT_EXIST" in unknown.error
    missing = client.update_contact("999999", {"hs_lead_status": "OPEN_DEAL"})
    assert isinstance(missing, Permanent) and missing.status == 404 and "OBJECT_NOT_FOUND" in missing.error
    hubspot.revoke_token()
    expired = client.update_contact(contact_id, {"hs_lead_status": "OPEN_DEAL"})
    assert isinstance(expired, Unauthorized) and "INVALID_AUTHENTICATION" in expired.error
    assert hubspot.contacts[contact_id].get("hs_lead_status") is None


def test_hubspot_unreachable_is_transient(hubspot: HubSpotStandIn) -> None:
    client = HubSpotClient(hubspot.url, hubspot_standin.TOKEN)
    hubspot.stop()
    result = client.read_batch("contacts", ["101"], ["email"])
    assert isinstance(result, Transient) and "unreachable" in result.error


def test_the_hubspot_standin_refuses_non_string_property_values(hubspot: HubSpotStandIn) -> None:
    contact_id = hubspot.add_contact({"email": "dana@acmemetals.com"})
    client = HubSpotClient(hubspot.url, hubspot_standin.TOKEN)
    result = client.update_contact(contact_id, {"hs_lead_status": 3})  # type: ignore[dict-item]
    assert isinstance(result, Permanent) and "INVALID_STRING" in result.error


def test_a_salesforce_patch_is_204_and_updates_the_lead(salesforce: SalesforceStandIn) -> None:
    lead_id = salesforce.add_lead({"Company": "Acme", "LastName": "Ruiz"})
    client = SalesforceClient(salesforce.url, api_version="v61.0", access_token=salesforce_standin.TOKEN)
    result = client.update_lead(lead_id, {"Status": "Unqualified", "Leadbot_Reason__c": "spec_mismatch"})
    assert result == Delivered(204, None)
    assert salesforce.leads[lead_id]["Status"] == "Unqualified"
    [call] = salesforce.calls_to("PATCH")
    assert call.path == f"/services/data/v61.0/sobjects/Lead/{lead_id}"


def test_salesforce_errors_keep_their_error_codes(salesforce: SalesforceStandIn) -> None:
    lead_id = salesforce.add_lead({"Company": "Acme", "LastName": "Ruiz"})
    client = SalesforceClient(salesforce.url, api_version="v61.0", access_token=salesforce_standin.TOKEN)
    missing = client.update_lead("00Q5g0000099999AAA", {"Status": "Qualified"})
    assert isinstance(missing, Permanent) and missing.status == 404 and "NOT_FOUND" in missing.error
    bad = client.update_lead(lead_id, {"Leadbot_Nonsense__c": "x"})
    assert isinstance(bad, Permanent) and "INVALID_FIELD" in bad.error
    salesforce.fail_next(503)
    assert isinstance(client.update_lead(lead_id, {"Status": "Qualified"}), Transient)
    salesforce.fail_next(429, retry_after=30)
    limited = client.update_lead(lead_id, {"Status": "Qualified"})
    assert isinstance(limited, RetryAfter) and limited.seconds == 30
    salesforce.expire_sessions()
    expired = client.update_lead(lead_id, {"Status": "Qualified"})
    assert isinstance(expired, Unauthorized) and "INVALID_SESSION_ID" in expired.error


def test_the_client_credentials_flow_gets_a_token_and_a_new_one_when_the_session_expires(
    salesforce: SalesforceStandIn,
) -> None:
    lead_id = salesforce.add_lead({"Company": "Acme", "LastName": "Ruiz"})
    client = SalesforceClient(
        salesforce.url,
        api_version="v61.0",
        client_id=salesforce_standin.CLIENT_ID,
        client_secret=salesforce_standin.CLIENT_SECRET,
    )
    assert isinstance(client.update_lead(lead_id, {"Status": "Working - Contacted"}), Delivered)
    salesforce.expire_sessions()
    assert isinstance(client.update_lead(lead_id, {"Status": "Qualified"}), Delivered)
    assert len(salesforce.calls_to("POST", "/services/oauth2/token")) == 2
    [token_call, *_] = salesforce.calls_to("POST", "/services/oauth2/token")
    assert token_call.body["grant_type"] == "client_credentials"


def test_refused_client_credentials_are_unauthorized_so_rows_wait(salesforce: SalesforceStandIn) -> None:
    lead_id = salesforce.add_lead({"Company": "Acme", "LastName": "Ruiz"})
    client = SalesforceClient(salesforce.url, api_version="v61.0", client_id="wrong", client_secret="wrong")
    result = client.update_lead(lead_id, {"Status": "Qualified"})
    assert isinstance(result, Unauthorized) and "invalid_client" in result.error
    assert salesforce.calls_to("PATCH", include_failed=True) == []
