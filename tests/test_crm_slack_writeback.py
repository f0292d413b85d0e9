"""Write-back from clicks in Slack: the real Bolt app, the real worker, the CRM stand-ins.

A rep claims a CRM lead's card and disqualifies it through the modal, by signed Slack
requests; the worker then delivers the Slack rows to the Slack stand-in and the write-backs to
the HubSpot and Salesforce stand-ins. `crm.*.write_back.enabled: false` queues nothing.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from blocks import ids
from bot.crm.hubspot import HubSpotClient
from bot.crm.salesforce import SalesforceClient
from bot.crm.writeback import writers_of
from bot.worker import Worker, WorkerOptions
from leadqual.crm.config import CrmConfig, HubSpotConfig, HubSpotWriteBack, SalesforceConfig, SalesforceWriteBack
from leadqual.db.models import LeadRow, OutboxMessage
from leadqual.services.context import Context, utcnow
from leadqual.settings import Settings
from tests import hubspot_standin, salesforce_standin
from tests.bot_helpers import Bot, add_lead, make_bot
from tests.hubspot_standin import HubSpotStandIn
from tests.salesforce_standin import SalesforceStandIn
from tests.slack_standin import SlackStandIn

REP = "U01AAA"
HUBSPOT_OWNER = "61234567"
SALESFORCE_OWNER = "005xx000001Sv6AAAS"
FAST = WorkerOptions(
    rate_per_channel=50,
    backoff_base=0.05,
    backoff_cap=0.2,
    poll_interval=0.05,
    concurrency=4,
    lease=timedelta(seconds=30),
    crm_rates={"hubspot": 50.0, "salesforce": 50.0},
    crm_unauthorized_wait=timedelta(seconds=0.3),
)


@pytest.fixture
def hubspot() -> Iterator[HubSpotStandIn]:
    with HubSpotStandIn() as standin:
        yield standin


@pytest.fixture
def salesforce() -> Iterator[SalesforceStandIn]:
    with SalesforceStandIn() as standin:
        yield standin


@pytest.fixture
def wall_slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(wall_clock_ts=True) as standin:
        yield standin


def live_context(ctx: Context, *, hubspot_on: bool = True, salesforce_on: bool = True) -> Context:
    """The test context on the wall clock (the worker's), the rep's CRM owners mapped."""
    crm = CrmConfig(
        hubspot=HubSpotConfig(owners={REP: HUBSPOT_OWNER}, write_back=HubSpotWriteBack(enabled=hubspot_on)),
        salesforce=SalesforceConfig(
            owners={REP: SALESFORCE_OWNER}, write_back=SalesforceWriteBack(enabled=salesforce_on)
        ),
    )
    return dataclasses.replace(ctx, clock=utcnow, config=ctx.config.model_copy(update={"crm": crm}))


def drain(ctx: Context, slack: SlackStandIn, hubspot: HubSpotStandIn, salesforce: SalesforceStandIn) -> None:
    """Run the real worker once over everything due: Slack rows and write-backs."""
    crm = writers_of(
        hubspot_client=HubSpotClient(hubspot.url, hubspot_standin.TOKEN),
        salesforce_client=SalesforceClient(salesforce.url, api_version="v61.0", access_token=salesforce_standin.TOKEN),
    )
    client = WebClient(token="xoxb-test", base_url=slack.url, retry_handlers=[], timeout=5)
    worker = Worker(ctx, client, options=FAST, worker_id="w1", crm=crm)
    for _ in range(10):  # a lead's next write-back is due once the one before it is sent
        worker.run(threading.Event(), once=True)
        with ctx.session_factory() as session:
            if session.scalar(select(OutboxMessage.id).where(OutboxMessage.status == "pending").limit(1)) is None:
                return
    raise AssertionError("the outbox did not drain")


def card_of(ctx: Context, lead_id: int) -> tuple[str, str]:
    with ctx.session_factory() as session:
        row = session.get(LeadRow, lead_id)
        assert row is not None and row.channel_id and row.message_ts, "the card is not in Slack"
        return row.channel_id, row.message_ts


def claim_and_disqualify_in_slack(bot: Bot, lead_id: int, reason: str = "spec_mismatch") -> None:
    """Click Claim on the card, click Not qualified, pick the reason, submit: all signed Slack requests."""
    _, ts = card_of(bot.ctx, lead_id)
    assert bot.click(ids.CLAIM, lead_id, REP, message_ts=ts).status == 200
    assert bot.click(ids.DISQUALIFY, lead_id, REP, message_ts=ts).status == 200
    view = bot.opened_view(ids.DISQUALIFY_VIEW)
    values = {ids.REASON: {ids.REASON: {"type": "static_select", "selected_option": {"value": reason}}}}
    assert bot.submit(view, REP, values, view_id=f"V{lead_id:08d}").status == 200
    assert bot.slack.rejected == [] and bot.ephemerals() == []


def permalink(slack: SlackStandIn, channel: str, ts: str) -> str:
    client = WebClient(token="xoxb-test", base_url=slack.url, retry_handlers=[], timeout=5)
    return str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])


def crm_rows(ctx: Context) -> list[OutboxMessage]:
    with ctx.session_factory() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind.in_(["hubspot", "salesforce"]))
        return list(session.scalars(query.order_by(OutboxMessage.id)))


def patches(standin: HubSpotStandIn | SalesforceStandIn) -> list[Any]:
    return standin.calls_to("PATCH")


@pytest.fixture
def crm_bot(
    settings: Settings, ctx: Context, wall_slack: SlackStandIn, request: pytest.FixtureRequest
) -> Iterator[Bot]:
    switches = getattr(request, "param", {})
    made = make_bot(settings, live_context(ctx, **switches), wall_slack)
    yield made
    made.executor.drain()
    made.executor.shutdown(wait=True)


def test_a_claim_and_a_disqualification_clicked_in_slack_reach_hubspot_and_salesforce_in_order(
    crm_bot: Bot, hubspot: HubSpotStandIn, salesforce: SalesforceStandIn
) -> None:
    ctx = crm_bot.ctx
    contact_id = hubspot.add_contact({"email": "dana@acmemetals.com", "company": "Acme Metals"})
    sf_lead = salesforce.add_lead({"Company": "Beta Water", "LastName": "Okafor"})
    from_hubspot = add_lead(ctx, external_id=f"hubspot:{contact_id}")
    from_salesforce = add_lead(ctx, external_id=f"salesforce:{sf_lead}")
    drain(ctx, crm_bot.slack, hubspot, salesforce)  # the cards go to Slack

    claim_and_disqualify_in_slack(crm_bot, from_hubspot, reason="spec_mismatch")
    claim_and_disqualify_in_slack(crm_bot, from_salesforce, reason="competitor")
    drain(ctx, crm_bot.slack, hubspot, salesforce)

    hs_link = permalink(crm_bot.slack, *card_of(ctx, from_hubspot))
    sf_link = permalink(crm_bot.slack, *card_of(ctx, from_salesforce))
    assert [(c.path, c.body) for c in patches(hubspot)] == [
        (
            f"/crm/v3/objects/contacts/{contact_id}",
            {"properties": {"hs_lead_status": "IN_PROGRESS", "hubspot_owner_id": HUBSPOT_OWNER}},
        ),
        (
            f"/crm/v3/objects/contacts/{contact_id}",
            {
                "properties": {
                    "hs_lead_status": "UNQUALIFIED",
                    "leadbot_reason": "spec_mismatch",
                    "leadbot_card_url": hs_link,
                }
            },
        ),
    ]
    assert [(c.path, c.body) for c in patches(salesforce)] == [
        (
            f"/services/data/v61.0/sobjects/Lead/{sf_lead}",
            {"Status": "Working - Contacted", "OwnerId": SALESFORCE_OWNER},
        ),
        (
            f"/services/data/v61.0/sobjects/Lead/{sf_lead}",
            {"Status": "Unqualified", "Leadbot_Reason__c": "competitor", "Leadbot_Card_URL__c": sf_link},
        ),
    ]
    assert all(c.headers["authorization"] == f"Bearer {hubspot_standin.TOKEN}" for c in patches(hubspot))
    assert salesforce.leads[sf_lead]["Status"] == "Unqualified"
    assert hubspot.contacts[contact_id]["hubspot_owner_id"] == HUBSPOT_OWNER
    assert {r.status for r in crm_rows(ctx)} == {"sent"}


@pytest.mark.parametrize("crm_bot", [{"hubspot_on": False}], indirect=True)
def test_with_hubspot_write_back_switched_off_clicks_queue_nothing_for_hubspot_but_salesforce_still_hears(
    crm_bot: Bot, hubspot: HubSpotStandIn, salesforce: SalesforceStandIn
) -> None:
    ctx = crm_bot.ctx
    contact_id = hubspot.add_contact({"email": "dana@acmemetals.com", "company": "Acme Metals"})
    sf_lead = salesforce.add_lead({"Company": "Beta Water", "LastName": "Okafor"})
    from_hubspot = add_lead(ctx, external_id=f"hubspot:{contact_id}")
    from_salesforce = add_lead(ctx, external_id=f"salesforce:{sf_lead}")
    drain(ctx, crm_bot.slack, hubspot, salesforce)

    claim_and_disqualify_in_slack(crm_bot, from_hubspot)
    claim_and_disqualify_in_slack(crm_bot, from_salesforce)
    assert [r.kind for r in crm_rows(ctx)] == ["salesforce", "salesforce"]
    drain(ctx, crm_bot.slack, hubspot, salesforce)
    assert patches(hubspot) == [] and len(patches(salesforce)) == 2
    with ctx.session_factory() as session:
        row = session.get(LeadRow, from_hubspot)
        assert row is not None and row.outcome == "not_qualified"  # the decision itself stands


@pytest.mark.parametrize("crm_bot", [{"salesforce_on": False}], indirect=True)
def test_with_salesforce_write_back_switched_off_no_salesforce_row_is_queued(
    crm_bot: Bot, hubspot: HubSpotStandIn, salesforce: SalesforceStandIn
) -> None:
    ctx = crm_bot.ctx
    sf_lead = salesforce.add_lead({"Company": "Beta Water", "LastName": "Okafor"})
    lead_id = add_lead(ctx, external_id=f"salesforce:{sf_lead}")
    drain(ctx, crm_bot.slack, hubspot, salesforce)
    claim_and_disqualify_in_slack(crm_bot, lead_id)
    drain(ctx, crm_bot.slack, hubspot, salesforce)
    assert crm_rows(ctx) == [] and patches(salesforce) == []
