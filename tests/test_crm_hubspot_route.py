"""POST /crm/hubspot through the real app, with HubSpot's API played by a local stand-in.

Requests are signed the way HubSpot signs them, at the route's own (injected) clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.http import create_http_app
from leadqual.db.models import Event, LeadRow, OutboxMessage
from leadqual.services.context import Context
from leadqual.settings import Settings
from tests import hubspot_standin
from tests.conftest import Clock, make_settings
from tests.crm_helpers import (
    ACME_CONTACT,
    HUBSPOT_SECRET,
    PUBLIC_URL,
    body_of,
    hubspot_env,
    hubspot_event,
    hubspot_headers,
)
from tests.http_standin import Call
from tests.hubspot_standin import HubSpotStandIn


@pytest.fixture
def hubspot() -> Iterator[HubSpotStandIn]:
    with HubSpotStandIn() as standin:
        yield standin


@pytest.fixture
def crm_settings(db_url: str, hubspot: HubSpotStandIn) -> Settings:
    return make_settings(
        db_url,
        **hubspot_env(hubspot.url),
    )


@pytest.fixture
def client(ctx: Context, crm_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_http_app(ctx, crm_settings)) as c:
        yield c


def post(client: TestClient, data: object, clock: Clock) -> httpx.Response:
    body = body_of(data)
    return client.post("/crm/hubspot", content=body, headers=hubspot_headers(body, at=clock.now))


def contact_reads(hubspot: HubSpotStandIn, *, include_failed: bool = False) -> list[Call]:
    return hubspot.calls_to("POST", "/crm/v3/objects/contacts/batch/read", include_failed=include_failed)


def counts(ctx: Context) -> tuple[int, int]:
    """(leads stored, outbox rows queued)."""
    with ctx.session_factory() as session:
        return (
            session.scalar(select(func.count()).select_from(LeadRow)) or 0,
            session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
        )


def test_a_signed_contact_creation_fetches_the_contact_and_stores_a_scored_lead_with_its_card(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    contact_id = hubspot.add_contact(ACME_CONTACT)
    response = post(client, [hubspot_event(int(contact_id), event_id=9001, at=clock.now)], clock)
    assert response.status_code == 200, response.text
    [item] = response.json()["leads"]
    assert item["external_id"] == f"hubspot:{contact_id}" and item["duplicate"] is False
    [fetch] = contact_reads(hubspot)
    assert fetch.body["inputs"] == [{"id": contact_id}] and hubspot.calls_to("GET") == []
    assert fetch.headers["authorization"] == f"Bearer {hubspot_standin.TOKEN}"
    assert {"email", "company", "numberofemployees"} <= set(fetch.body["properties"])
    with ctx.session_factory() as session:
        lead = session.scalars(select(LeadRow)).one()
        card = session.scalars(select(OutboxMessage)).one()
    assert lead.company_name == "Acme Metals" and lead.email == "dana@acmemetals.com"
    assert lead.payload["contact"]["name"] == "Dana Ruiz" and lead.payload["company"]["employees"] == 850
    assert lead.fit > 0 and card.kind == "card" and card.lead_id == lead.id


def test_object_creation_of_contacts_is_taken_and_other_subscriptions_are_ignored(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    contact_id = hubspot.add_contact(ACME_CONTACT)
    events = [
        hubspot_event(
            int(contact_id), event_id=1, subscription_type="object.creation", at=clock.now, objectTypeId="0-1"
        ),
        hubspot_event(77, event_id=2, subscription_type="object.creation", at=clock.now, objectTypeId="0-5"),
        hubspot_event(
            int(contact_id),
            event_id=3,
            subscription_type="contact.propertyChange",
            at=clock.now,
            propertyName="email",
            propertyValue="x@y.com",
        ),
    ]
    response = post(client, events, clock)
    assert response.status_code == 200
    assert len(response.json()["leads"]) == 1 and response.json()["ignored"] == 2
    assert len(contact_reads(hubspot)) == 1 and counts(ctx) == (1, 1)


def test_a_redelivered_event_or_another_event_for_the_same_contact_changes_nothing(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    contact_id = int(hubspot.add_contact(ACME_CONTACT))
    assert post(client, [hubspot_event(contact_id, event_id=10, at=clock.now)], clock).status_code == 200
    again = post(client, [hubspot_event(contact_id, event_id=10, at=clock.now, attemptNumber=1)], clock)
    assert again.status_code == 200 and again.json()["repeated"] == 1 and again.json()["leads"] == []
    other = post(
        client,
        [hubspot_event(contact_id, event_id=11, subscription_type="object.creation", objectTypeId="0-1", at=clock.now)],
        clock,
    )
    assert other.status_code == 200 and other.json()["leads"] == []
    assert len(contact_reads(hubspot)) == 1 and counts(ctx) == (1, 1)
    with ctx.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "hubspot_event")) == 2


@pytest.mark.parametrize("how", ["unsigned", "stale", "future", "forged", "other_url", "tampered"])
def test_unsigned_stale_or_forged_requests_are_401_and_store_nothing(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock, how: str
) -> None:
    contact_id = int(hubspot.add_contact(ACME_CONTACT))
    body = body_of([hubspot_event(contact_id, event_id=20, at=clock.now)])
    headers = {
        "unsigned": {"Content-Type": "application/json"},
        "stale": hubspot_headers(body, at=clock.now - timedelta(minutes=5, seconds=1)),
        "future": hubspot_headers(body, at=clock.now + timedelta(minutes=6)),
        "forged": hubspot_headers(body, at=clock.now, secret="guessed-secret"),
        "other_url": hubspot_headers(body, at=clock.now, url="https://evil.example/crm/hubspot"),
        "tampered": hubspot_headers(body.replace(b"20", b"21"), at=clock.now),
    }[how]
    response = client.post("/crm/hubspot", content=body, headers=headers)
    assert response.status_code == 401
    assert counts(ctx) == (0, 0) and hubspot.calls == []


def test_a_request_four_minutes_old_by_the_routes_clock_is_still_taken(
    client: TestClient, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    contact_id = int(hubspot.add_contact(ACME_CONTACT))
    body = body_of([hubspot_event(contact_id, event_id=30, at=clock.now)])
    headers = hubspot_headers(body, at=clock.now)
    clock.advance(minutes=4)
    assert client.post("/crm/hubspot", content=body, headers=headers).status_code == 200


def test_a_query_string_is_part_of_what_hubspot_signs(
    client: TestClient, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    contact_id = int(hubspot.add_contact(ACME_CONTACT))
    body = body_of([hubspot_event(contact_id, event_id=31, at=clock.now)])
    query = "?source=hubspot%3Aapp&portal=62515"
    headers = hubspot_headers(body, at=clock.now, url=PUBLIC_URL + "/crm/hubspot" + query)
    assert client.post("/crm/hubspot" + query, content=body, headers=headers).status_code == 200
    assert client.post("/crm/hubspot?portal=1", content=body, headers=headers).status_code == 401


def test_a_contact_deleted_before_the_fetch_is_skipped_and_the_rest_are_stored(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    contact_id = int(hubspot.add_contact(ACME_CONTACT))
    events = [hubspot_event(999999, event_id=40, at=clock.now), hubspot_event(contact_id, event_id=41, at=clock.now)]
    response = post(client, events, clock)
    assert response.status_code == 200
    assert [s["objectId"] for s in response.json()["skipped"]] == ["999999"]
    assert "OBJECT_NOT_FOUND" in response.json()["skipped"][0]["reason"]
    assert "HubSpot contact 999999 skipped" in caplog.text
    [fetch] = contact_reads(hubspot)  # both in one batch read, answered 207
    assert fetch.status == 207 and fetch.body["inputs"] == [{"id": "999999"}, {"id": str(contact_id)}]
    assert counts(ctx) == (1, 1)


@pytest.mark.parametrize("status", [500, 502, 429])
def test_a_fetch_that_fails_transiently_is_5xx_so_hubspot_retries_and_nothing_is_half_stored(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock, status: int
) -> None:
    first, second = (
        int(hubspot.add_contact(ACME_CONTACT)),
        int(hubspot.add_contact({**ACME_CONTACT, "email": "lee@acmemetals.com"})),
    )
    events = [hubspot_event(first, event_id=50, at=clock.now), hubspot_event(second, event_id=51, at=clock.now)]
    hubspot.fail_next(status)  # the one batch read of both contacts
    response = post(client, events, clock)
    assert response.status_code == 503 and str(status) in response.json()["message"]
    assert [c.status for c in contact_reads(hubspot, include_failed=True)] == [status]
    assert counts(ctx) == (0, 0)
    retried = post(client, events, clock)  # HubSpot's retry, once HubSpot answers again
    assert retried.status_code == 200 and counts(ctx) == (2, 2)


def test_hubspot_down_or_the_token_revoked_is_5xx_and_stores_nothing(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    contact_id = int(hubspot.add_contact(ACME_CONTACT))
    hubspot.revoke_token()
    assert post(client, [hubspot_event(contact_id, event_id=60, at=clock.now)], clock).status_code == 503
    hubspot.stop()
    assert post(client, [hubspot_event(contact_id, event_id=60, at=clock.now)], clock).status_code == 503
    assert counts(ctx) == (0, 0)


def test_a_flat_workflow_body_becomes_a_lead(client: TestClient, ctx: Context, clock: Clock) -> None:
    response = post(client, {**ACME_CONTACT, "hs_object_id": "555"}, clock)
    assert response.status_code == 200
    assert response.json()["leads"][0]["external_id"] == "hubspot:555"
    assert counts(ctx) == (1, 1)


def test_a_workflow_body_with_object_id_and_value_objects_is_idempotent_on_the_contact(
    client: TestClient, ctx: Context, clock: Clock
) -> None:
    data = {"objectId": 556, "properties": {k: {"value": v} for k, v in ACME_CONTACT.items()}}
    first = post(client, data, clock).json()["leads"][0]
    again = post(client, data, clock).json()["leads"][0]
    assert first["external_id"] == "hubspot:556" and again["duplicate"] is True and again["id"] == first["id"]
    assert counts(ctx) == (1, 1)


def test_a_workflow_body_that_is_not_a_lead_is_422_naming_the_hubspot_property(
    client: TestClient, ctx: Context, clock: Clock
) -> None:
    response = post(client, {"objectId": 557, "properties": {"email": "not-an-email", "jobtitle": "Buyer"}}, clock)
    assert response.status_code == 422
    [error] = [d for d in response.json()["detail"] if d["loc"][-1] == "email"]
    assert error["property"] == "email" and error["loc"] == ["body", "contact", "email"]
    assert counts(ctx) == (0, 0)


@pytest.mark.parametrize("body", [b"{not json", b"[]", b"42", b'[{"eventId": 1}]', b"[[[["])
def test_malformed_bodies_are_4xx_with_field_errors_and_store_nothing(
    client: TestClient, ctx: Context, clock: Clock, body: bytes
) -> None:
    response = client.post("/crm/hubspot", content=body, headers=hubspot_headers(body, at=clock.now))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"
    assert counts(ctx) == (0, 0)


def test_the_route_is_404_while_hubspot_is_not_configured(ctx: Context, settings: Settings, clock: Clock) -> None:
    with TestClient(create_http_app(ctx, settings)) as c:
        body = body_of([hubspot_event(1, event_id=1, at=clock.now)])
        assert c.post("/crm/hubspot", content=body, headers=hubspot_headers(body, at=clock.now)).status_code == 404


def test_a_secret_without_a_public_url_stops_start_up(ctx: Context, db_url: str) -> None:
    from leadqual.errors import ConfigError

    with pytest.raises(ConfigError, match="LEADBOT_PUBLIC_URL"):
        create_http_app(ctx, make_settings(db_url, HUBSPOT_CLIENT_SECRET=HUBSPOT_SECRET))
