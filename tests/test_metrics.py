"""GET /metrics through the real HTTP app: values after real intake, deliveries, claims and digest runs.

Per-process counters are shared by every test in this process, so each test reads them
before and after what it does and checks the difference; what the database says (outbox
depth, oldest pending, dead rows) is absolute, since each test has its own database.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from blocks import ids
from bot.digest import run_digest_job
from bot.http import create_http_app
from bot.worker import Worker
from leadqual.services.context import Context, utcnow
from leadqual.settings import Settings
from tests.bot_helpers import add_lead, make_bot
from tests.conftest import Clock
from tests.outbox_helpers import ingest_leads, plain_render
from tests.procs import Processes, free_port, wait_until
from tests.procs import procs_fixture as procs_fixture  # the `procs` fixture
from tests.procs import standin_fixture as standin_fixture  # the `standin` fixture (for `procs`)
from tests.slack_standin import SlackStandIn
from tests.test_digest_schedule import paused_scheduler
from tests.test_http_intake import AUTH, LEAD
from tests.test_worker import FAST, client_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(http: TestClient) -> Samples:
    response = http.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def http(ctx: Context, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_http_app(ctx, settings)) as c:
        yield c


def test_intake_counts_new_leads_by_group_and_duplicates_apart(http: TestClient) -> None:
    before = scrape(http)

    group = http.post("/leads", json=LEAD, headers=AUTH).json()["leads"][0]["group"]
    http.post("/leads", json=LEAD, headers=AUTH)  # the same external_id again

    after = scrape(http)
    assert grew(before, after, "leadbot_leads_ingested_total", group=group, via="api") == 1
    assert grew(before, after, "leadbot_leads_duplicate_total", via="api") == 1


def test_the_outbox_depth_and_the_oldest_pending_age_are_read_from_the_database(
    http: TestClient, ctx: Context, clock: Clock
) -> None:
    empty = scrape(http)
    assert value(empty, "leadbot_database_up") == 1
    assert value(empty, "leadbot_outbox_oldest_pending_age_seconds") == 0
    assert value(empty, "leadbot_outbox_dead_rows") == 0

    ingest_leads(ctx, 2)
    clock.advance(seconds=90)

    samples = scrape(http)
    assert value(samples, "leadbot_outbox_rows", kind="card", status="pending") == 2
    assert value(samples, "leadbot_outbox_oldest_pending_age_seconds") == 90


def test_a_send_a_429_a_retry_and_a_refusal_show_as_latency_counters_and_a_dead_row(
    ctx: Context, settings: Settings, slack: SlackStandIn
) -> None:
    live = dataclasses.replace(ctx, clock=utcnow)  # leases and backoff move in real time
    with TestClient(create_http_app(live, settings)) as http:
        ingest_leads(live, 3)
        before = scrape(http)
        slack.fail_next("chat.postMessage", status=429)  # the first card waits...
        slack.fail_next("chat.postMessage", status=500)  # ...fails once...
        slack.fail_next("chat.postMessage", status=200, error="channel_not_found")  # ...and is refused

        Worker(live, client_for(slack), render=plain_render, options=FAST).run(threading.Event(), once=True)

        after = scrape(http)
    assert grew(before, after, "leadbot_slack_rate_limited_total", kind="card") == 1
    assert grew(before, after, "leadbot_outbox_retries_total", kind="card") == 1
    assert grew(before, after, "leadbot_slack_send_seconds_count", kind="card") == 2
    assert grew(before, after, "leadbot_slack_send_seconds_sum", kind="card") > 0
    assert value(after, "leadbot_outbox_rows", kind="card", status="sent") == 2
    assert value(after, "leadbot_outbox_dead_rows") == 1
    assert value(after, "leadbot_outbox_oldest_pending_age_seconds") == 0


def test_a_claim_records_how_long_the_lead_waited_and_a_refused_one_records_nothing(
    http: TestClient, settings: Settings, ctx: Context, clock: Clock, slack: SlackStandIn
) -> None:
    bot = make_bot(settings, ctx, slack)
    lead_id = add_lead(ctx)
    bot.deliver()
    before = scrape(http)

    clock.advance(minutes=5)
    bot.click(ids.CLAIM, lead_id, "UDANA")
    bot.click(ids.CLAIM, lead_id, "UREP")  # too late: UDANA has it

    after = scrape(http)
    assert grew(before, after, "leadbot_claim_latency_seconds_count") == 1
    # A difference of two running float sums (the registry is per process, shared by the worker's tests).
    assert grew(before, after, "leadbot_claim_latency_seconds_sum") == pytest.approx(300)
    assert grew(before, after, "leadbot_claim_latency_seconds_bucket", le="300.0") == 1
    assert grew(before, after, "leadbot_claim_latency_seconds_bucket", le="60.0") == 0
    bot.executor.shutdown()


def test_digest_runs_are_counted_by_outcome(http: TestClient, ctx: Context, slack: SlackStandIn) -> None:
    before = scrape(http)
    slack.fail_next("chat.postMessage", status=200, error="account_inactive")
    scheduler = paused_scheduler()
    try:
        assert run_digest_job(scheduler, ctx, slack.client()).failed
        assert run_digest_job(scheduler, ctx, slack.client()).sent
        assert run_digest_job(scheduler, ctx, slack.client()).skipped  # this week's is out already
    finally:
        scheduler.shutdown(wait=False)

    after = scrape(http)
    assert grew(before, after, "leadbot_digest_runs_total", outcome="failed") == 1
    assert grew(before, after, "leadbot_digest_runs_total", outcome="sent") == 1
    assert grew(before, after, "leadbot_digest_runs_total", outcome="nothing_to_send") == 1


def test_a_scrape_answers_when_the_database_does_not(ctx: Context, settings: Settings) -> None:
    broken = dataclasses.replace(ctx, session_factory=sessionmaker(create_engine("sqlite:////nonexistent/x.db")))
    with TestClient(create_http_app(broken, settings)) as http:
        samples = scrape(http)
    assert value(samples, "leadbot_database_up") == 0
    assert not any(name.startswith("leadbot_outbox_rows") for name, _ in samples)


def test_a_worker_process_serves_its_own_sends_and_the_outbox_on_its_metrics_port(
    db_url: str, ctx: Context, procs: Processes
) -> None:
    ingest_leads(dataclasses.replace(ctx, clock=utcnow), 2)
    port = free_port()
    worker = procs.worker(db_url, "--rate", "50", "--metrics-port", str(port), "--metrics-host", "127.0.0.1")

    def delivered() -> bool:
        try:
            samples = scrape_url(f"http://127.0.0.1:{port}/metrics")
        except httpx.HTTPError:
            return False
        return (
            value(samples, "leadbot_slack_send_seconds_count", kind="card") == 2
            and value(samples, "leadbot_outbox_rows", kind="card", status="sent") == 2
        )

    wait_until(delivered, timeout=60, what="the worker's metrics to show both cards sent", watch=[worker])


def scrape_url(url: str) -> Samples:
    response = httpx.get(url, timeout=5)
    response.raise_for_status()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
