"""HubSpot deals as pipeline outcomes, and one transaction per webhook delivery, through the real route.

Requests are signed the way HubSpot signs them; HubSpot's API is the local stand-in.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.http import create_http_app
from leadqual.crm.config import CrmConfig, HubSpotConfig, HubSpotDeals
from leadqual.db.models import Event, LeadPipeline, LeadRow, OutboxMessage, PipelineStage
from leadqual.services.context import Context
from leadqual.settings import Settings
from tests.conftest import Clock, make_settings
from tests.crm_helpers import (
    ACME_CONTACT,
    body_of,
    hubspot_env,
    hubspot_event,
    hubspot_headers,
)
from tests.http_standin import Call
from tests.hubspot_standin import HubSpotStandIn

BETA = {"email": "k.okafor@betawater.com", "company": "Beta Water", "lastname": "Okafor"}


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
    with TestClient(create_http_app(ctx, crm_settings), raise_server_exceptions=False) as c:
        yield c


def post(client: TestClient, data: object, clock: Clock) -> httpx.Response:
    body = body_of(data)
    return client.post("/crm/hubspot", content=body, headers=hubspot_headers(body, at=clock.now))


def stored_contact(client: TestClient, hubspot: HubSpotStandIn, clock: Clock, properties: dict, event_id: int) -> str:
    contact_id = hubspot.add_contact(properties)
    response = post(client, [hubspot_event(int(contact_id), event_id=event_id, at=clock.now)], clock)
    assert response.status_code == 200 and len(response.json()["leads"]) == 1, response.text
    return contact_id


def deal_event(deal_id: str, event_id: int, clock: Clock, kind: str = "deal.creation", **extra: object) -> dict:
    return hubspot_event(int(deal_id), event_id=event_id, subscription_type=kind, at=clock.now, **extra)


def stage_change(deal_id: str, event_id: int, clock: Clock, value: str) -> dict:
    return deal_event(deal_id, event_id, clock, "deal.propertyChange", propertyName="dealstage", propertyValue=value)


def deal_reads(hubspot: HubSpotStandIn) -> list[Call]:
    return hubspot.calls_to("POST", "/crm/v3/objects/deals/batch/read")


def association_reads(hubspot: HubSpotStandIn) -> list[Call]:
    return hubspot.calls_to("POST", "/crm/v4/associations/deals/contacts/batch/read")


def history(ctx: Context) -> list[tuple[str, str, datetime, Decimal | None, str | None]]:
    with ctx.session_factory() as session:
        rows = session.execute(
            select(
                LeadRow.external_id, PipelineStage.stage, PipelineStage.at, PipelineStage.amount, PipelineStage.currency
            )
            .join(LeadRow, LeadRow.id == PipelineStage.lead_id)
            .order_by(PipelineStage.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def current_stage(ctx: Context, external_id: str) -> str | None:
    with ctx.session_factory() as session:
        return session.scalar(
            select(LeadPipeline.stage)
            .join(LeadRow, LeadRow.id == LeadPipeline.lead_id)
            .where(LeadRow.external_id == external_id)
        )


def counts(ctx: Context) -> tuple[int, int, int]:
    """(leads, outbox rows, hubspot event receipts)."""
    with ctx.session_factory() as session:
        return (
            session.scalar(select(func.count()).select_from(LeadRow)) or 0,
            session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
            session.scalar(select(func.count()).select_from(Event).where(Event.kind == "hubspot_event")) or 0,
        )


# -- deals ----------------------------------------------------------------------------------


def test_a_new_deal_is_fetched_with_its_contacts_and_recorded_as_an_opportunity_of_their_lead(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    contact_id = stored_contact(client, hubspot, clock, ACME_CONTACT, event_id=1)
    deal_id = hubspot.add_deal(
        {"dealstage": "appointmentscheduled", "amount": "40000", "deal_currency_code": "USD", "closedate": None},
        contacts=[contact_id],
        created="2026-11-24T10:00:00.000Z",
    )
    response = post(client, [deal_event(deal_id, 2, clock)], clock)
    assert response.status_code == 200, response.text
    [fetch], [associations] = deal_reads(hubspot), association_reads(hubspot)
    assert fetch.body["inputs"] == [{"id": deal_id}] and associations.body == {"inputs": [{"id": deal_id}]}
    assert set(fetch.body["properties"]) == {
        "dealstage",
        "amount",
        "deal_currency_code",
        "closedate",
        "hs_merged_object_ids",
    }
    assert hubspot.calls_to("GET") == []
    [stage] = response.json()["stages"]
    assert stage["external_id"] == f"hubspot:{contact_id}" and stage["current_stage"] == "opportunity"
    assert history(ctx) == [
        (f"hubspot:{contact_id}", "opportunity", datetime(2026, 11, 24, 10, tzinfo=UTC), Decimal("40000.00"), "USD")
    ]


def test_a_deal_moved_to_closed_won_makes_every_associated_lead_won_at_the_close_date(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    acme = stored_contact(client, hubspot, clock, ACME_CONTACT, event_id=1)
    beta = stored_contact(client, hubspot, clock, BETA, event_id=2)
    deal_id = hubspot.add_deal({"dealstage": "qualifiedtobuy", "amount": "40000"}, contacts=[acme, beta])
    assert post(client, [deal_event(deal_id, 3, clock)], clock).status_code == 200
    hubspot.move_deal(deal_id, dealstage="closedwon", amount="42000.50", closedate="2026-12-20T10:00:00.000Z")
    response = post(client, [stage_change(deal_id, 4, clock, "closedwon")], clock)
    assert response.status_code == 200, response.text
    assert [s["current_stage"] for s in response.json()["stages"]] == ["won", "won"]
    assert current_stage(ctx, f"hubspot:{acme}") == "won" and current_stage(ctx, f"hubspot:{beta}") == "won"
    won = [h for h in history(ctx) if h[1] == "won"]
    assert {h[2] for h in won} == {datetime(2026, 12, 20, 10, tzinfo=UTC)}
    assert {h[3] for h in won} == {Decimal("42000.50")}


def test_closed_lost_is_lost_and_a_configured_stage_maps_as_the_yaml_says(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    ctx.config = ctx.config.model_copy(
        update={"crm": CrmConfig(hubspot=HubSpotConfig(deals=HubSpotDeals(stages={"contractsigned": "won"})))}
    )
    acme = stored_contact(client, hubspot, clock, ACME_CONTACT, event_id=1)
    beta = stored_contact(client, hubspot, clock, BETA, event_id=2)
    lost = hubspot.add_deal({"dealstage": "closedlost", "closedate": "2026-12-01T00:00:00Z"}, contacts=[acme])
    signed = hubspot.add_deal({"dealstage": "contractsigned", "closedate": "2026-12-02T00:00:00Z"}, contacts=[beta])
    events = [
        deal_event(lost, 3, clock, "object.creation", objectTypeId="0-3"),
        deal_event(signed, 4, clock, "object.propertyChange", objectTypeId="0-3", propertyName="dealstage"),
    ]
    assert post(client, events, clock).status_code == 200
    assert current_stage(ctx, f"hubspot:{acme}") == "lost" and current_stage(ctx, f"hubspot:{beta}") == "won"


def test_other_deal_property_changes_and_other_objects_are_ignored_without_a_fetch(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    acme = stored_contact(client, hubspot, clock, ACME_CONTACT, event_id=1)
    deal_id = hubspot.add_deal({"dealstage": "closedwon"}, contacts=[acme])
    events = [
        deal_event(deal_id, 2, clock, "deal.propertyChange", propertyName="dealname", propertyValue="x"),
        deal_event(deal_id, 3, clock, "object.creation", objectTypeId="0-5"),  # a ticket
    ]
    response = post(client, events, clock)
    assert response.status_code == 200 and response.json()["ignored"] == 2
    assert deal_reads(hubspot) == [] and association_reads(hubspot) == [] and history(ctx) == []


def test_a_deal_of_a_contact_leadbot_never_saw_is_acknowledged_logged_and_records_nothing(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = hubspot.add_contact(BETA)  # in HubSpot, never sent to Leadbot
    deal_id = hubspot.add_deal({"dealstage": "closedwon"}, contacts=[stranger])
    orphan = hubspot.add_deal({"dealstage": "closedwon"}, contacts=[])
    response = post(client, [deal_event(deal_id, 5, clock), deal_event(orphan, 6, clock)], clock)
    assert response.status_code == 200
    assert response.json()["unknown_leads"] == [f"hubspot:{stranger}"] and response.json()["stages"] == []
    assert history(ctx) == [] and counts(ctx) == (0, 0, 2)
    assert (
        f"hubspot:{stranger} not recorded" in caplog.text and f"deal {orphan} has no associated contact" in caplog.text
    )


def test_a_redelivered_deal_event_is_not_fetched_again_and_records_nothing_twice(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    acme = stored_contact(client, hubspot, clock, ACME_CONTACT, event_id=1)
    deal_id = hubspot.add_deal({"dealstage": "closedwon", "closedate": "2026-12-20T00:00:00Z"}, contacts=[acme])
    assert post(client, [deal_event(deal_id, 2, clock)], clock).status_code == 200
    again = post(client, [deal_event(deal_id, 2, clock)], clock)
    assert again.status_code == 200 and again.json()["repeated"] == 1
    assert len(deal_reads(hubspot)) == 1 and len(association_reads(hubspot)) == 1 and len(history(ctx)) == 1


def test_a_contact_and_its_deal_in_one_batch_store_the_lead_and_its_stage_together(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    acme = hubspot.add_contact(ACME_CONTACT)
    deal_id = hubspot.add_deal({"dealstage": "appointmentscheduled"}, contacts=[acme])
    response = post(client, [hubspot_event(int(acme), event_id=1, at=clock.now), deal_event(deal_id, 2, clock)], clock)
    assert response.status_code == 200, response.text
    assert len(response.json()["leads"]) == 1 and current_stage(ctx, f"hubspot:{acme}") == "opportunity"


@pytest.mark.parametrize(
    ("status", "retry_after", "after"),
    [(429, 2, 1), (502, None, 1), (401, None, 1), (429, 2, 2), (503, None, 2)],
    ids=["deals-429", "deals-502", "deals-401", "associations-429", "associations-503"],
)
def test_a_deal_fetch_that_fails_is_503_and_nothing_of_the_batch_is_stored(
    client: TestClient,
    ctx: Context,
    hubspot: HubSpotStandIn,
    clock: Clock,
    status: int,
    retry_after: int | None,
    after: int,
) -> None:
    acme = hubspot.add_contact(ACME_CONTACT)
    deal_id = hubspot.add_deal({"dealstage": "closedwon"}, contacts=[acme])
    # the contacts' batch read works; then the deals' batch read (after=1) or their associations' (after=2) fails
    hubspot.fail_next(status, after=after, retry_after=retry_after)
    batch = [hubspot_event(int(acme), event_id=1, at=clock.now), deal_event(deal_id, 2, clock)]
    response = post(client, batch, clock)
    assert response.status_code == 503 and str(status) in response.json()["message"]
    assert counts(ctx) == (0, 0, 0) and history(ctx) == []
    assert post(client, batch, clock).status_code == 200  # HubSpot's retry takes it all
    assert counts(ctx) == (1, 1, 2) and current_stage(ctx, f"hubspot:{acme}") == "won"


def test_a_deleted_deal_is_skipped_and_the_rest_of_the_batch_is_taken(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    acme = hubspot.add_contact(ACME_CONTACT)
    response = post(client, [hubspot_event(int(acme), event_id=1, at=clock.now), deal_event("4242", 2, clock)], clock)
    assert response.status_code == 200
    assert [s["objectId"] for s in response.json()["skipped"]] == ["4242"] and counts(ctx) == (1, 1, 2)


# -- one transaction: the lead, its card and the event receipt ------------------------------------


def _refuse_receipts(ctx: Context) -> None:
    """A database trigger that fails the insert of a HubSpot event receipt: a crash just before it commits."""
    engine = ctx.session_factory.kw["bind"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                sa.text(
                    "CREATE OR REPLACE FUNCTION refuse_receipt() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'crash before the receipt'; END; $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                sa.text(
                    "CREATE TRIGGER refuse_receipt BEFORE INSERT ON events FOR EACH ROW "
                    "WHEN (NEW.kind = 'hubspot_event') EXECUTE FUNCTION refuse_receipt()"
                )
            )
        else:
            conn.execute(
                sa.text(
                    "CREATE TRIGGER refuse_receipt BEFORE INSERT ON events WHEN NEW.kind = 'hubspot_event' "
                    "BEGIN SELECT RAISE(ABORT, 'crash before the receipt'); END"
                )
            )


def _allow_receipts(ctx: Context) -> None:
    engine = ctx.session_factory.kw["bind"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP TRIGGER refuse_receipt ON events"))
            conn.execute(sa.text("DROP FUNCTION refuse_receipt()"))
        else:
            conn.execute(sa.text("DROP TRIGGER refuse_receipt"))


def test_a_crash_before_the_event_receipt_stores_no_lead_and_the_retry_stores_it_once(
    client: TestClient, ctx: Context, hubspot: HubSpotStandIn, clock: Clock
) -> None:
    acme = hubspot.add_contact(ACME_CONTACT)
    deal_id = hubspot.add_deal({"dealstage": "closedwon"}, contacts=[acme])
    batch = [hubspot_event(int(acme), event_id=1, at=clock.now), deal_event(deal_id, 2, clock)]
    _refuse_receipts(ctx)
    try:
        crashed = post(client, batch, clock)
    finally:
        _allow_receipts(ctx)
    assert crashed.status_code == 503  # HubSpot retries
    assert counts(ctx) == (0, 0, 0) and history(ctx) == []  # neither the lead, its card nor its stage

    retried = post(client, batch, clock)
    assert retried.status_code == 200 and len(retried.json()["leads"]) == 1
    assert counts(ctx) == (1, 1, 2) and len(history(ctx)) == 1
    once_more = post(client, batch, clock)
    assert once_more.json()["repeated"] == 2 and counts(ctx) == (1, 1, 2) and len(history(ctx)) == 1
