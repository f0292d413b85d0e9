"""CRM write-back end to end: leads in through the real routes, triage, the real worker, the CRM stand-ins.

Slack is the Slack stand-in and the cards are rendered by the real renderer; HubSpot and
Salesforce are their stand-ins. The worker runs on the wall clock with short backoffs.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from slack_sdk import WebClient
from sqlalchemy import select

from bot.cli import main
from bot.crm.hubspot import HubSpotClient
from bot.crm.salesforce import SalesforceClient
from bot.crm.writeback import writers_of
from bot.http import create_http_app
from bot.worker import Worker, WorkerOptions, WorkerStats
from leadqual.crm.config import CrmConfig, HubSpotConfig, SalesforceConfig
from leadqual.db.models import LeadRow, OutboxMessage
from leadqual.decisions import DecisionInput
from leadqual.lead import Outcome
from leadqual.services import triage
from leadqual.services.context import Context, utcnow
from leadqual.settings import Settings
from tests import hubspot_standin, salesforce_standin
from tests.conftest import make_settings
from tests.crm_helpers import (
    ACME_CONTACT,
    SF_ORG_ID,
    SOAP_HEADERS,
    body_of,
    hubspot_env,
    hubspot_event,
    hubspot_headers,
    outbound_message,
)
from tests.hubspot_standin import HubSpotStandIn
from tests.salesforce_standin import SalesforceStandIn
from tests.slack_standin import SlackStandIn

REP = "U01AAA"
HUBSPOT_OWNER = "61234567"
SALESFORCE_OWNER = "005xx000001Sv6AAAS"
FAST = WorkerOptions(
    rate_per_channel=20,
    backoff_base=0.05,
    backoff_cap=0.2,
    poll_interval=0.05,
    concurrency=8,
    lease=timedelta(seconds=30),
    crm_rates={"hubspot": 50.0, "salesforce": 50.0},
    crm_unauthorized_wait=timedelta(seconds=0.3),
)
SF_LEADS = [
    (
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
            "Description": "RFQ for a pump before the outage",
        },
    ),
    (
        "00Q5g000002BetaAAA",
        {
            "Company": "Beta Water",
            "FirstName": "Kemi",
            "LastName": "Okafor",
            "Email": "k.okafor@betawater.com",
            "Title": "Plant Engineer",
            "Industry": "Water",
            "Country": "CA",
            "NumberOfEmployees": "400",
        },
    ),
]


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def hubspot() -> Iterator[HubSpotStandIn]:
    with HubSpotStandIn() as standin:
        yield standin


@pytest.fixture
def salesforce() -> Iterator[SalesforceStandIn]:
    with SalesforceStandIn() as standin:
        yield standin


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(wall_clock_ts=True) as standin:
        yield standin


@pytest.fixture
def crm_settings(db_url: str, hubspot: HubSpotStandIn, salesforce: SalesforceStandIn) -> Settings:
    return make_settings(
        db_url,
        **hubspot_env(hubspot.url),
        SALESFORCE_INSTANCE_URL=salesforce.url,
        SALESFORCE_ORGANIZATION_ID=SF_ORG_ID,
        SALESFORCE_ACCESS_TOKEN=salesforce_standin.TOKEN,
    )


@pytest.fixture
def live(ctx: Context) -> Context:
    """The test context on the wall clock, with the rep's CRM owners mapped."""
    crm = CrmConfig(
        hubspot=HubSpotConfig(owners={REP: HUBSPOT_OWNER}),
        salesforce=SalesforceConfig(owners={REP: SALESFORCE_OWNER}),
    )
    return dataclasses.replace(ctx, clock=utcnow, config=ctx.config.model_copy(update={"crm": crm}))


@pytest.fixture
def app(live: Context, crm_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_http_app(live, crm_settings)) as client:
        yield client


# -- helpers ----------------------------------------------------------------------------


def worker(
    ctx: Context,
    slack: SlackStandIn,
    *,
    hubspot: HubSpotStandIn | None = None,
    salesforce: SalesforceStandIn | None = None,
    options: WorkerOptions = FAST,
) -> Worker:
    """The real worker with the real renderer, writing back to the given stand-ins."""
    crm = writers_of(
        hubspot_client=HubSpotClient(hubspot.url, hubspot_standin.TOKEN) if hubspot else None,
        salesforce_client=(
            SalesforceClient(salesforce.url, api_version="v61.0", access_token=salesforce_standin.TOKEN)
            if salesforce
            else None
        ),
    )
    client = WebClient(token="xoxb-test", base_url=slack.url, retry_handlers=[], timeout=5)
    return Worker(ctx, client, options=options, worker_id="w1", crm=crm)


def drain(w: Worker) -> WorkerStats:
    return w.run(threading.Event(), once=True)


class Running:
    """The worker in a thread until the test ends."""

    def __init__(self, w: Worker) -> None:
        self.stop = threading.Event()
        self.stats: WorkerStats | None = None
        self.thread = threading.Thread(target=self._run, args=(w,), daemon=True)
        self.thread.start()

    def _run(self, w: Worker) -> None:
        self.stats = w.run(self.stop)

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def post_hubspot(app: TestClient, contact_id: str, event_id: int) -> int:
    """A signed contact.creation event through the real route; the stored lead's id."""
    now = datetime.now(UTC)
    body = body_of([hubspot_event(int(contact_id), event_id=event_id, at=now)])
    response = app.post("/crm/hubspot", content=body, headers=hubspot_headers(body, at=now))
    assert response.status_code == 200, response.text
    [lead] = response.json()["leads"]
    return int(lead["id"])


def lead_of(ctx: Context, external_id: str) -> LeadRow:
    with ctx.session_factory() as session:
        row = session.scalar(select(LeadRow).where(LeadRow.external_id == external_id))
        assert row is not None
        return row


def rows(ctx: Context, kind: str) -> list[OutboxMessage]:
    with ctx.session_factory() as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def disqualify(reason: str = "spec_mismatch") -> DecisionInput:
    return DecisionInput(outcome=Outcome.NOT_QUALIFIED, reason=reason, note="Wrong pump class")


def patches(standin: HubSpotStandIn | SalesforceStandIn, *, include_failed: bool = False) -> list[Any]:
    return standin.calls_to("PATCH", include_failed=include_failed)


def hubspot_properties(standin: HubSpotStandIn) -> list[tuple[str, dict[str, str]]]:
    return [(c.path.rsplit("/", 1)[-1], c.body["properties"]) for c in patches(standin)]


def permalink_of(ctx: Context, slack: SlackStandIn, lead_id: int) -> str:
    with ctx.session_factory() as session:
        row = session.get(LeadRow, lead_id)
        assert row is not None and row.channel_id and row.message_ts
        channel, ts = row.channel_id, row.message_ts
    client = WebClient(token="xoxb-test", base_url=slack.url, retry_handlers=[], timeout=5)
    return str(client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])


# -- (a) HubSpot end to end --------------------------------------------------------------


def test_a_hubspot_contact_becomes_a_card_and_its_claim_and_disqualification_reach_hubspot(
    live: Context, app: TestClient, slack: SlackStandIn, hubspot: HubSpotStandIn
) -> None:
    contact_id = hubspot.add_contact(ACME_CONTACT)
    lead_id = post_hubspot(app, contact_id, event_id=9001)
    w = worker(live, slack, hubspot=hubspot)
    drain(w)
    assert lead_of(live, f"hubspot:{contact_id}").message_ts  # the scored card is in Slack

    triage.claim(live, lead_id=lead_id, user_id=REP, key="claim-1")
    triage.claim(live, lead_id=lead_id, user_id=REP, key="claim-1")  # Slack's retry of the same click
    triage.decide(live, lead_id=lead_id, user_id=REP, decision=disqualify(), key="view-1")
    stats = drain(w)

    link = permalink_of(live, slack, lead_id)
    assert hubspot_properties(hubspot) == [
        (contact_id, {"hs_lead_status": "IN_PROGRESS", "hubspot_owner_id": HUBSPOT_OWNER}),
        (
            contact_id,
            {"hs_lead_status": "UNQUALIFIED", "leadbot_reason": "spec_mismatch", "leadbot_card_url": link},
        ),
    ]
    contact = hubspot.contacts[contact_id]
    assert contact["hs_lead_status"] == "UNQUALIFIED" and contact["hubspot_owner_id"] == HUBSPOT_OWNER
    assert {r.status for r in rows(live, "hubspot")} == {"sent"}
    assert stats.dead == 0


def test_a_reopen_writes_the_claimed_status_back_and_clears_the_reason(
    live: Context, app: TestClient, slack: SlackStandIn, hubspot: HubSpotStandIn
) -> None:
    contact_id = hubspot.add_contact(ACME_CONTACT)
    lead_id = post_hubspot(app, contact_id, event_id=9002)
    triage.decide(live, lead_id=lead_id, user_id=REP, decision=disqualify(), key="view-1")
    triage.reopen(live, lead_id=lead_id, user_id=REP, key="reopen-1")
    drain(worker(live, slack, hubspot=hubspot))

    statuses = [props["hs_lead_status"] for _, props in hubspot_properties(hubspot)]
    assert statuses == ["IN_PROGRESS", "UNQUALIFIED", "IN_PROGRESS"]  # claim, decision, reopen: in order
    assert hubspot.contacts[contact_id]["hs_lead_status"] == "IN_PROGRESS"


def test_a_lead_that_did_not_come_from_a_crm_queues_no_write_back(
    live: Context, slack: SlackStandIn, hubspot: HubSpotStandIn
) -> None:
    from tests.outbox_helpers import ingest_leads

    [lead_id] = ingest_leads(live, 1)
    triage.claim(live, lead_id=lead_id, user_id=REP)
    assert rows(live, "hubspot") == [] and rows(live, "salesforce") == []


# -- (c) the CRM down for a while, then back -----------------------------------------------


def test_hubspot_down_then_throttling_loses_nothing_keeps_each_leads_order_and_never_holds_up_slack(
    live: Context, app: TestClient, slack: SlackStandIn, hubspot: HubSpotStandIn
) -> None:
    contacts = [hubspot.add_contact({**ACME_CONTACT, "email": f"dana{i}@acmemetals.com"}) for i in range(3)]
    leads = [post_hubspot(app, c, event_id=9100 + i) for i, c in enumerate(contacts)]
    hubspot.stop()  # connection refused from now on
    # One write-back in flight, so no call was already on the wire when the 429 came back.
    serial = dataclasses.replace(FAST, crm_concurrency=1)
    with Running(worker(live, slack, hubspot=hubspot, options=serial)):
        wait_until(lambda: all(lead_of(live, f"hubspot:{c}").message_ts for c in contacts))
        for lead_id in leads:
            triage.claim(live, lead_id=lead_id, user_id=REP)
            triage.decide(live, lead_id=lead_id, user_id=REP, decision=disqualify())
        # Slack goes on: every card update reaches Slack while HubSpot is unreachable.
        wait_until(lambda: {r.status for r in rows(live, "card_update")} == {"sent"})
        assert {r.status for r in rows(live, "hubspot")} == {"pending"}
        assert max(r.attempts for r in rows(live, "hubspot")) >= 1

        hubspot.fail_next(status=503, times=2)
        hubspot.fail_next(status=429, retry_after=1)
        hubspot.start()
        wait_until(lambda: {r.status for r in rows(live, "hubspot")} == {"sent"})

    delivered = hubspot_properties(hubspot)
    assert len(delivered) == 6  # each write-back once
    for contact_id in contacts:
        statuses = [props["hs_lead_status"] for cid, props in delivered if cid == contact_id]
        assert statuses == ["IN_PROGRESS", "UNQUALIFIED"]  # claim before decision, for every lead
    throttled = [c for c in patches(hubspot, include_failed=True) if c.status == 429]
    assert len(throttled) == 1
    after = [c.at for c in patches(hubspot, include_failed=True) if c.at > throttled[0].at]
    assert min(after) - throttled[0].at >= 1  # the whole lane waited out Retry-After


# -- (d) 401: rows wait and say why -------------------------------------------------------------


def test_an_expired_hubspot_token_keeps_write_backs_waiting_logs_why_and_sends_them_once_it_works(
    live: Context,
    app: TestClient,
    slack: SlackStandIn,
    hubspot: HubSpotStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    contact_id = hubspot.add_contact(ACME_CONTACT)
    lead_id = post_hubspot(app, contact_id, event_id=9200)
    hubspot.revoke_token()
    caplog.set_level(logging.WARNING, logger="leadbot.worker")
    with Running(worker(live, slack, hubspot=hubspot)) as running:
        triage.claim(live, lead_id=lead_id, user_id=REP)
        wait_until(lambda: len([c for c in patches(hubspot, include_failed=True) if c.status == 401]) >= 2)
        [row] = rows(live, "hubspot")
        assert row.status == "pending" and "401" in (row.last_error or "")
        assert "HubSpot refused the token" in caplog.text and "HUBSPOT_ACCESS_TOKEN" in caplog.text

        hubspot.token = hubspot_standin.TOKEN  # the sales-op fixed the token
        wait_until(lambda: rows(live, "hubspot")[0].status == "sent")
    assert hubspot.contacts[contact_id]["hubspot_owner_id"] == HUBSPOT_OWNER
    assert running.stats is not None and running.stats.dead == 0 and running.stats.unauthorized >= 2


# -- (e) a permanent 4xx: dead, listed, requeueable ------------------------------------------------


def test_a_write_back_hubspot_refuses_goes_dead_with_hubspots_error_and_is_listed(
    live: Context,
    app: TestClient,
    slack: SlackStandIn,
    hubspot: HubSpotStandIn,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    contact_id = hubspot.add_contact(ACME_CONTACT)
    lead_id = post_hubspot(app, contact_id, event_id=9300)
    hubspot.known_properties.discard("hubspot_owner_id")  # the portal has no such property
    triage.claim(live, lead_id=lead_id, user_id=REP)
    stats = drain(worker(live, slack, hubspot=hubspot))

    [row] = rows(live, "hubspot")
    assert row.status == "dead" and stats.dead == 1
    assert 'Property "hubspot_owner_id" does not exist' in (row.last_error or "")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("LEADBOT_CHANNEL", "C0LEADS")
    capsys.readouterr()
    assert main(["outbox", "list", "--dead"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(f"#{row.id} "))
    assert line.split()[:3] == [f"#{row.id}", "hubspot", "dead"] and "VALIDATION_ERROR" in line

    hubspot.known_properties.add("hubspot_owner_id")  # the sales-op created it
    assert main(["outbox", "requeue", str(row.id)]) == 0
    drain(worker(live, slack, hubspot=hubspot))
    assert rows(live, "hubspot")[0].status == "sent"
    assert hubspot.contacts[contact_id]["hubspot_owner_id"] == HUBSPOT_OWNER


# -- (b) Salesforce end to end ------------------------------------------------------------------


def test_a_salesforce_outbound_message_of_two_leads_writes_each_claim_and_disqualification_back(
    live: Context, app: TestClient, slack: SlackStandIn, salesforce: SalesforceStandIn
) -> None:
    for lead_id, fields in SF_LEADS:
        salesforce.add_lead(fields, lead_id)
    response = app.post("/crm/salesforce", content=outbound_message(SF_LEADS), headers=SOAP_HEADERS)
    assert response.status_code == 200 and b"<Ack>true</Ack>" in response.content
    w = worker(live, slack, salesforce=salesforce)
    drain(w)
    ids = {sf_id: lead_of(live, f"salesforce:{sf_id}").id for sf_id, _ in SF_LEADS}
    assert all(lead_of(live, f"salesforce:{sf_id}").message_ts for sf_id in ids)

    for lead_id in ids.values():
        triage.claim(live, lead_id=lead_id, user_id=REP)
        triage.decide(live, lead_id=lead_id, user_id=REP, decision=disqualify("no_budget"))
    drain(w)

    for sf_id, lead_id in ids.items():
        calls = [c.body for c in patches(salesforce) if c.path.endswith(f"/sobjects/Lead/{sf_id}")]
        assert calls == [
            {"Status": "Working - Contacted", "OwnerId": SALESFORCE_OWNER},
            {
                "Status": "Unqualified",
                "Leadbot_Reason__c": "no_budget",
                "Leadbot_Card_URL__c": permalink_of(live, slack, lead_id),
            },
        ]
        assert salesforce.leads[sf_id]["Status"] == "Unqualified"
    assert all(c.path.startswith("/services/data/v61.0/") for c in patches(salesforce))


# -- a worker without a CRM's credentials --------------------------------------------------------


def test_write_backs_of_a_crm_the_worker_cannot_reach_wait_with_a_log_line_and_once_still_finishes(
    live: Context, app: TestClient, slack: SlackStandIn, hubspot: HubSpotStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    contact_id = hubspot.add_contact(ACME_CONTACT)
    lead_id = post_hubspot(app, contact_id, event_id=9400)
    triage.claim(live, lead_id=lead_id, user_id=REP)
    caplog.set_level(logging.WARNING, logger="leadbot.worker")

    stats = drain(worker(live, slack))  # no CRM writers

    [row] = rows(live, "hubspot")
    assert row.status == "pending" and row.attempts == 0 and patches(hubspot) == []
    assert stats.sent >= 1  # the card went to Slack
    assert "hubspot write-backs are waiting" in caplog.text and "HUBSPOT_ACCESS_TOKEN" in caplog.text

    drain(worker(live, slack, hubspot=hubspot))  # a worker that has the token
    assert rows(live, "hubspot")[0].status == "sent"


def test_each_write_back_is_counted_by_crm_and_outcome(
    live: Context, app: TestClient, slack: SlackStandIn, hubspot: HubSpotStandIn
) -> None:
    def counted(outcome: str) -> float:
        labels = {"crm": "hubspot", "outcome": outcome}
        return REGISTRY.get_sample_value("leadbot_crm_writebacks_total", labels) or 0.0

    before = {o: counted(o) for o in ("delivered", "retry")}
    contact_id = hubspot.add_contact(ACME_CONTACT)
    lead_id = post_hubspot(app, contact_id, event_id=9500)
    triage.claim(live, lead_id=lead_id, user_id=REP)
    hubspot.fail_next(status=500)
    drain(worker(live, slack, hubspot=hubspot))

    assert counted("delivered") - before["delivered"] == 1
    assert counted("retry") - before["retry"] == 1
