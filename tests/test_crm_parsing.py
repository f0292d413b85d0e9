"""HubSpot and Salesforce inbound parsing and write-back payloads (pure: no database, no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadqual.config import load_config
from leadqual.crm import hubspot, salesforce
from leadqual.crm.changes import ChangeKind, LeadChange, crm_of
from leadqual.crm.config import HubSpotConfig, SalesforceConfig
from leadqual.errors import InvalidLead
from leadqual.lead import Lead, Outcome
from tests.crm_helpers import BILLION_LAUGHS, HUBSPOT_SECRET, SF_ORG_ID, XXE, hubspot_headers, outbound_message

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
URL = "https://leads.acme.com/crm/hubspot"


def verify(body: bytes, headers: dict[str, str], *, uri: str = URL, now: datetime = NOW) -> str | None:
    return hubspot.verify_v3(
        HUBSPOT_SECRET,
        method="POST",
        uri=uri,
        body=body,
        signature=headers.get("X-HubSpot-Signature-v3"),
        timestamp=headers.get("X-HubSpot-Request-Timestamp"),
        now=now,
    )


def test_a_request_signed_as_hubspot_signs_it_verifies_within_five_minutes() -> None:
    body = b'[{"eventId":1}]'
    headers = hubspot_headers(body, at=NOW - timedelta(minutes=4))
    assert verify(body, headers) is None
    assert "5 minutes" in (verify(body, headers, now=NOW + timedelta(minutes=1, seconds=1)) or "")


def test_a_changed_body_uri_or_secret_fails_verification() -> None:
    body = b'[{"eventId":1}]'
    headers = hubspot_headers(body, at=NOW)
    assert verify(body + b" ", headers) == "the signature does not match"
    assert verify(body, headers, uri="https://evil.example/crm/hubspot") == "the signature does not match"
    forged = hubspot_headers(body, at=NOW, secret="not-the-secret")
    assert verify(body, forged) == "the signature does not match"
    assert verify(body, {}) is not None


def test_hubspots_listed_url_encodings_are_decoded_before_the_uri_is_compared() -> None:
    body = b"{}"
    url = URL + "?portal=62515&return=https%3A%2F%2Facme.com%2Fx%40y"
    headers = hubspot_headers(body, at=NOW, url=url)
    uri = hubspot.signed_uri(
        "https://leads.acme.com/", "/crm/hubspot", "portal=62515&return=https%3A%2F%2Facme.com%2Fx%40y"
    )
    assert uri == "https://leads.acme.com/crm/hubspot?portal=62515&return=https://acme.com/x@y"
    assert verify(body, headers, uri=uri) is None


def test_webhook_arrays_are_events_and_objects_are_workflow_contacts() -> None:
    events = hubspot.parse_body(
        [
            {"eventId": 100, "subscriptionType": "contact.creation", "objectId": 123, "portalId": 62515},
            {"eventId": "101", "subscriptionType": "object.creation", "objectTypeId": "0-1", "objectId": "124"},
            {"eventId": 102, "subscriptionType": "object.creation", "objectTypeId": "0-3", "objectId": 9},
            {"eventId": 103, "subscriptionType": "contact.propertyChange", "objectId": 123},
        ]
    )
    assert isinstance(events, list)
    assert [e.creates_contact for e in events] == [True, True, False, False]
    assert events[0].event_id == "100" and events[0].object_id == "123"
    flat = hubspot.parse_body({"email": "dana@acmemetals.com", "company": "Acme"})
    assert isinstance(flat, hubspot.WorkflowContact) and flat.object_id is None
    nested = hubspot.parse_body({"objectId": 123, "properties": {"email": {"value": "dana@acmemetals.com"}}})
    assert isinstance(nested, hubspot.WorkflowContact) and nested.object_id == "123"


@pytest.mark.parametrize("data", [[], {}, 42, "x", [{"eventId": 1}], ["event"], {"properties": [1]}])
def test_bodies_that_are_neither_events_nor_a_contact_are_refused_with_field_errors(data: object) -> None:
    with pytest.raises(InvalidLead) as info:
        hubspot.parse_body(data)
    assert info.value.errors and all(e["loc"][0] == "body" for e in info.value.errors)


def test_a_contact_becomes_a_lead_named_by_its_hubspot_id() -> None:
    record = hubspot.contact_record("123", {"email": "dana@acmemetals.com", "company": "Acme Metals"}, HubSpotConfig())
    lead = Lead.model_validate(record)
    assert lead.external_id == "hubspot:123" and lead.source == "hubspot"
    assert "email" in hubspot.requested_properties(HubSpotConfig())


def test_an_outbound_message_with_two_leads_parses_with_its_envelope_fields() -> None:
    body = outbound_message(
        [
            ("00Q5g0000001AAA", {"Company": "Acme Metals", "LastName": "Ruiz", "Email": None}),
            ("00Q5g0000002AAA", {"Company": "Beta Water", "NumberOfEmployees": "120"}),
        ]
    )
    message = salesforce.parse_outbound_message(body)
    assert message.organization_id == SF_ORG_ID and message.action_id == "04k5g000000ABCDAA2"
    assert message.session_id is None and message.partner_url and message.partner_url.endswith(SF_ORG_ID[:15])
    first, second = message.notifications
    assert first.sobject_type == "Lead" and first.lead_id == "00Q5g0000001AAA" and first.fields["Email"] is None
    record = salesforce.lead_record_of(second, SalesforceConfig())
    assert record["external_id"] == "salesforce:00Q5g0000002AAA" and record["company"]["employees"] == 120


@pytest.mark.parametrize("body", [XXE, BILLION_LAUGHS])
def test_external_entities_and_entity_bombs_are_refused_before_anything_is_read(body: bytes) -> None:
    with pytest.raises(salesforce.MalformedMessage, match="refused: DTDForbidden"):
        salesforce.parse_outbound_message(body)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<not xml",
        b"<a/>",
        b'<?xml version="1.0"?><soapenv:Envelope '
        b'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body/></soapenv:Envelope>',
    ],
)
def test_bodies_that_are_not_outbound_messages_are_malformed(body: bytes) -> None:
    with pytest.raises(salesforce.MalformedMessage):
        salesforce.parse_outbound_message(body)


def test_more_than_a_hundred_notifications_is_malformed() -> None:
    body = outbound_message([(f"00Q5g{i:010d}", {"Company": "A"}) for i in range(101)])
    with pytest.raises(salesforce.MalformedMessage, match="100 at most"):
        salesforce.parse_outbound_message(body)


def test_org_ids_compare_on_their_first_fifteen_characters_case_sensitively() -> None:
    assert salesforce.same_org("00D5g000004ABCD", SF_ORG_ID)
    assert salesforce.same_org(SF_ORG_ID, "00D5g000004ABCD")
    assert not salesforce.same_org("00D5g000004abcd", SF_ORG_ID)
    assert not salesforce.same_org("00D5g000004ABC", SF_ORG_ID)


def test_the_ack_is_a_notifications_response_envelope_and_faults_escape_their_text() -> None:
    assert b"<Ack>true</Ack>" in salesforce.ACK and b"notificationsResponse" in salesforce.ACK
    assert b"<faultstring>a &lt;b&gt;</faultstring>" in salesforce.fault("a <b>")


CONFIG = load_config().crm


def test_a_claim_writes_the_claimed_status_and_the_mapped_owner() -> None:
    hs = CONFIG.hubspot.model_copy(update={"owners": {"U01AAA": "61234567"}})
    change = LeadChange(ChangeKind.CLAIM, "hubspot:123", owner_id="U01AAA", permalink="https://x.slack.com/p1")
    assert hubspot.write_back_properties(change, hs) == {
        "hs_lead_status": "IN_PROGRESS",
        "hubspot_owner_id": "61234567",
        "leadbot_card_url": "https://x.slack.com/p1",
    }
    unmapped = LeadChange(ChangeKind.CLAIM, "hubspot:123", owner_id="U0OTHER")
    assert hubspot.write_back_properties(unmapped, hs) == {"hs_lead_status": "IN_PROGRESS"}


def test_a_disqualification_writes_status_reason_and_permalink_to_either_crm() -> None:
    change = LeadChange(
        ChangeKind.DECISION,
        "salesforce:00Q1",
        outcome=Outcome.NOT_QUALIFIED,
        reason="spec_mismatch",
        permalink="https://x.slack.com/p1",
    )
    assert salesforce.write_back_fields(change, CONFIG.salesforce) == {
        "Status": "Unqualified",
        "Leadbot_Reason__c": "spec_mismatch",
        "Leadbot_Card_URL__c": "https://x.slack.com/p1",
    }
    assert hubspot.write_back_properties(change, CONFIG.hubspot) == {
        "hs_lead_status": "UNQUALIFIED",
        "leadbot_reason": "spec_mismatch",
        "leadbot_card_url": "https://x.slack.com/p1",
    }


def test_other_decisions_clear_the_reason_and_a_reopen_writes_claimed_again() -> None:
    qualified = LeadChange(ChangeKind.DECISION, "salesforce:00Q1", outcome=Outcome.QUALIFIED)
    assert salesforce.write_back_fields(qualified, CONFIG.salesforce) == {
        "Status": "Qualified",
        "Leadbot_Reason__c": None,
    }
    assert hubspot.write_back_properties(qualified, CONFIG.hubspot) == {
        "hs_lead_status": "OPEN_DEAL",
        "leadbot_reason": "",
    }
    reopen = LeadChange(ChangeKind.REOPEN, "salesforce:00Q1")
    assert salesforce.write_back_fields(reopen, CONFIG.salesforce) == {"Status": "Working - Contacted"}


def test_only_leads_from_a_crm_have_a_crm_to_write_back_to() -> None:
    assert crm_of("hubspot:123") == ("hubspot", "123")
    assert crm_of("salesforce:00Q1") == ("salesforce", "00Q1")
    assert crm_of("crm-000123") is None and crm_of(None) is None and crm_of("hubspot:") is None
