"""HubSpot batch reads through the real route: what a delivery costs in calls, and what a 207 or a 429 does.

HubSpot sends up to 100 events per webhook request; the route reads their contacts with one
`POST /crm/v3/objects/contacts/batch/read` and their deals with one deals batch read plus one
v4 associations batch read, against the local stand-in.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.crm.hubspot import HubSpotClient
from bot.http import create_http_app
from leadqual.db.models import Event, LeadRow, OutboxMessage, PipelineStage
from leadqual.services.context import Context
from leadqual.settings import Settings
from tests import hubspot_standin
from tests.conftest import Clock, make_settings
from tests.crm_helpers import ACME_CONTACT, body_of, hubspot_env, hubspot_event, hubspot_headers
from tests.http_standin import Call
from tests.hubspot_standin import HubSpotStandIn

CONTACTS_READ = "/crm/v3/objects/contacts/batch/read"
DEALS_READ = "/crm/v3/objects/deals/batch/read"
ASSOCIATIONS_READ = "/crm/v4/associations/deals/contacts/batch/read"


@pytest.fixture
def hubspot() -> Iterator[HubSpotStandIn]:
    with HubSpotStandIn() as standin:
        yield standin


@pytest.fixture
def crm_settings(db_url: str, hubspot: HubSpotStandIn) -> Settings:
    return make_settings(db_url, **hubspot_env(hubspot.url))


@pytest.fixture
def client(ctx: Context, crm_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_http_app(ctx, crm_settings)) as c:
        yield c


def post(client: TestClient, data: object, clock: Clock) -> httpx.Response:
    body = body_of(data)
    return client.post("/crm/hubspot", content=body, headers=hubspot_headers(body, at=clock.now))


def person(n: int) -> dict[str, str]:
    return {**ACME_CONTACT, "email": f"buyer{n}@acmemetals.com", "lastname": f"Buyer {n}"}


def new_contacts(hubspot: HubSpotStandIn, how_many: int) -> list[str]:
    return [hubspot.add_contact(person(n)) for n in range(how_many)]


def contact_events(ids: list[str], clock: Clock, first_event: int = 1) -> list[dict]:
    return [hubspot_event(int(c), event_id=first_event + n, at=clock.now) for n, c in enumerate(ids)]


def deal_event(deal_id: str, event_id: int, clock: Clock) -> dict:
    return hubspot_event(int(deal_id), event_id=event_id, subscription_type="deal.creation", at=clock.now)


def api_calls(hubspot: HubSpotStandIn) -> list[tuple[str, str, int]]:
    return [(c.method, c.path, c.status) for c in hubspot.calls]


def reads(hubspot: HubSpotStandIn, path: str) -> list[Call]:
    return hubspot.calls_to("POST", path, include_failed=True)


def counts(ctx: Context) -> tuple[int, int, int, int]:
    """(leads, outbox rows, hubspot event receipts, pipeline stages)."""
    with ctx.session_factory() as session:
        return (
            session.scalar(select(func.count()).select_from(LeadRow)) or 0,
            session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
            session.scalar(select(func.count()).select_from(Event).where(Event.kind == "hubspot_event")) or 0,
            session.scalar(select(func.count()).select_from(PipelineStage)) or 0,
        )


def test_a_delivery_of_100_new_contacts_costs_one_batch_read_not_100_gets(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    ids = new_contacts(hubspot, 100)
    response = post(client, contact_events(ids, clock), clock)
    assert response.status_code == 200, response.text
    assert len(response.json()["leads"]) == 100 and response.json()["skipped"] == []
    assert api_calls(hubspot) == [("POST", CONTACTS_READ, 200)]
    [call] = hubspot.calls
    assert call.body["inputs"] == [{"id": c} for c in ids]
    assert counts(ctx) == (100, 100, 100, 0)


def test_found_and_missing_contacts_store_the_found_and_skip_the_missing_with_hubspots_reason(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    found = new_contacts(hubspot, 3)
    events = contact_events([found[0], "880001", found[1], "880002", found[2]], clock)
    response = post(client, events, clock)
    assert response.status_code == 200, response.text
    assert sorted(r["external_id"] for r in response.json()["leads"]) == sorted(f"hubspot:{c}" for c in found)
    skipped = response.json()["skipped"]
    assert [s["objectId"] for s in skipped] == ["880001", "880002"]
    assert all(s["reason"].startswith("HubSpot OBJECT_NOT_FOUND: Could not get some CONTACT") for s in skipped)
    assert api_calls(hubspot) == [("POST", CONTACTS_READ, 207)]
    assert counts(ctx) == (3, 3, 5, 0)  # every event is receipted, so HubSpot's retry changes nothing
    again = post(client, events, clock)
    assert again.json()["repeated"] == 5 and len(hubspot.calls) == 1


def test_a_429_on_the_batch_read_answers_503_and_stores_nothing_until_hubspots_retry(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    ids = new_contacts(hubspot, 40)
    hubspot.fail_next(429, retry_after=3)
    response = post(client, contact_events(ids, clock), clock)
    assert response.status_code == 503 and "429" in response.json()["message"]
    assert api_calls(hubspot) == [("POST", CONTACTS_READ, 429)]
    assert counts(ctx) == (0, 0, 0, 0)
    retried = post(client, contact_events(ids, clock), clock)
    assert retried.status_code == 200 and counts(ctx) == (40, 40, 40, 0)
    assert len(reads(hubspot, CONTACTS_READ)) == 2


def test_deals_and_their_contacts_are_read_in_two_calls_whatever_the_number_of_deals(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    acme, beta, gamma = new_contacts(hubspot, 3)
    assert post(client, contact_events([acme, beta, gamma], clock), clock).status_code == 200
    hubspot.reset()
    won = hubspot.add_deal({"dealstage": "closedwon", "closedate": "2026-12-01T00:00:00Z"}, contacts=[acme, beta])
    open_deal = hubspot.add_deal({"dealstage": "qualifiedtobuy"}, contacts=[gamma])
    orphan = hubspot.add_deal({"dealstage": "closedlost"}, contacts=[])
    events = [deal_event(d, 10 + n, clock) for n, d in enumerate([won, open_deal, orphan, "4242"])]
    response = post(client, events, clock)
    assert response.status_code == 200, response.text
    assert api_calls(hubspot) == [("POST", DEALS_READ, 207), ("POST", ASSOCIATIONS_READ, 207)]
    [deals_read], [associations_read] = reads(hubspot, DEALS_READ), reads(hubspot, ASSOCIATIONS_READ)
    assert deals_read.body["inputs"] == [{"id": d} for d in [won, open_deal, orphan, "4242"]]
    assert associations_read.body == {"inputs": [{"id": d} for d in [won, open_deal, orphan]]}  # not the missing one
    assert sorted((s["external_id"], s["current_stage"]) for s in response.json()["stages"]) == sorted(
        [(f"hubspot:{acme}", "won"), (f"hubspot:{beta}", "won"), (f"hubspot:{gamma}", "opportunity")]
    )
    assert [s["objectId"] for s in response.json()["skipped"]] == ["4242"]
    assert counts(ctx) == (3, 3, 7, 3)


def test_associations_hubspot_refuses_for_good_skip_the_deal_and_the_rest_is_stored(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    [acme] = new_contacts(hubspot, 1)
    deal_id = hubspot.add_deal({"dealstage": "closedwon"}, contacts=[acme])
    hubspot.fail_next(403, after=2)  # the contact and the deal are read; their associations are refused
    response = post(client, [*contact_events([acme], clock), deal_event(deal_id, 30, clock)], clock)
    assert response.status_code == 200, response.text
    [skipped] = response.json()["skipped"]
    assert skipped["objectId"] == deal_id and skipped["reason"].startswith("HubSpot 403")
    assert len(response.json()["leads"]) == 1 and counts(ctx) == (1, 1, 2, 0)


def test_every_page_of_a_deals_contacts_is_read(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    ids = new_contacts(hubspot, 5)
    assert post(client, contact_events(ids, clock), clock).status_code == 200
    hubspot.association_page_size = 2
    deal_id = hubspot.add_deal({"dealstage": "closedwon"}, contacts=ids)
    hubspot.reset()
    response = post(client, [deal_event(deal_id, 20, clock)], clock)
    assert response.status_code == 200, response.text
    assert [c.body["inputs"] for c in reads(hubspot, ASSOCIATIONS_READ)] == [
        [{"id": deal_id}],
        [{"id": deal_id, "after": "2"}],
        [{"id": deal_id, "after": "4"}],
    ]
    assert sorted(s["external_id"] for s in response.json()["stages"]) == sorted(f"hubspot:{c}" for c in ids)


def test_a_contact_merged_before_the_read_is_stored_under_the_id_its_event_named(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    old, kept = new_contacts(hubspot, 2)
    hubspot.merge_contact(old, into=kept)
    response = post(client, contact_events([old], clock), clock)
    assert response.status_code == 200, response.text
    [lead] = response.json()["leads"]
    assert lead["external_id"] == f"hubspot:{old}" and response.json()["skipped"] == []
    with ctx.session_factory() as session:
        assert session.scalars(select(LeadRow.email)).one() == "buyer1@acmemetals.com"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"properties": ["email"], "inputs": [{"id": str(n)} for n in range(101)]}, "limited to 100 inputs"),
        ({"properties": ["email"], "inputs": [{"id": 101}]}, "string id"),
        ({"properties": "email", "inputs": [{"id": "101"}]}, "properties must be a list"),
        ({"inputs": [{"id": "101"}]}, "properties must be a list"),
        ({"properties": ["email"]}, 'expected {"inputs"'),
    ],
)
def test_the_standin_refuses_a_batch_read_hubspot_would_refuse(hubspot: HubSpotStandIn, body: dict, why: str) -> None:
    answer = httpx.post(
        hubspot.url + CONTACTS_READ, json=body, headers={"Authorization": f"Bearer {hubspot_standin.TOKEN}"}
    )
    assert answer.status_code == 400 and answer.json()["category"] == "VALIDATION_ERROR"
    assert why in answer.json()["message"]


def test_the_client_never_sends_more_than_100_ids_in_one_batch(hubspot: HubSpotStandIn) -> None:
    client = HubSpotClient(hubspot.url, hubspot_standin.TOKEN)
    with pytest.raises(ValueError, match="at most 100"):
        client.read_batch("contacts", [str(n) for n in range(101)], ["email"])
    assert hubspot.calls == []
