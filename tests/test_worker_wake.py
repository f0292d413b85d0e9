"""A commit that queues outbox rows wakes the worker: in its own process, and across processes on PostgreSQL.

Each worker here polls once an hour, so a card that arrives at all arrived because the commit
woke the worker. The waits are bounds for a failure, not measurements.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk import WebClient

from bot.worker import Worker, WorkerOptions
from leadqual.db import doorbell
from leadqual.services import outbox
from leadqual.services.context import Context, utcnow
from tests.outbox_helpers import ingest_leads, plain_render
from tests.procs import wait_until
from tests.slack_standin import SlackStandIn

HOURLY = WorkerOptions(rate_per_channel=20, poll_interval=3600, lease=timedelta(seconds=30))


@pytest.fixture
def live(ctx: Context) -> Context:
    return dataclasses.replace(ctx, clock=utcnow)


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(wall_clock_ts=True) as slack:
        yield slack


def running(
    ctx: Context, slack: SlackStandIn, options: WorkerOptions
) -> tuple[Worker, threading.Event, threading.Thread]:
    client = WebClient(token="xoxb-test", base_url=slack.url, retry_handlers=[], timeout=5)
    worker = Worker(ctx, client, render=plain_render, options=options, worker_id="w-wake")
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    assert worker.wait_ready(30), "the worker never polled"
    return worker, stop, thread


def cards_posted(slack: SlackStandIn) -> int:
    return len([c for c in slack.calls_to("chat.postMessage") if c.ok])


def test_a_lead_committed_beside_an_idle_worker_is_carded_without_waiting_for_the_next_poll(
    live: Context, standin: SlackStandIn
) -> None:
    worker, stop, thread = running(live, standin, dataclasses.replace(HOURLY, listen_postgres=False))
    try:
        ingest_leads(live, 3)
        wait_until(lambda: cards_posted(standin) == 3, timeout=30, what="the three cards, woken by the commit")
    finally:
        stop.set()
        worker.wake()
        thread.join(timeout=30)
        assert not thread.is_alive()


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_lead_committed_in_another_process_wakes_a_worker_listening_on_postgres(
    live: Context, standin: SlackStandIn
) -> None:
    # Only the PostgreSQL notification can wake it: the in-process bell is not listened to.
    assert live.session_factory.kw["bind"].dialect.name == "postgresql"
    worker, stop, thread = running(live, standin, dataclasses.replace(HOURLY, wake_on_commit=False))
    try:
        ingest_leads(live, 2)
        wait_until(lambda: cards_posted(standin) == 2, timeout=30, what="the two cards, woken by NOTIFY")
    finally:
        stop.set()
        worker.wake()
        thread.join(timeout=30)
        assert not thread.is_alive()


def test_only_a_committed_transaction_that_queued_rows_rings(ctx: Context) -> None:
    rung = threading.Event()
    unsubscribe = doorbell.DOORBELL.subscribe(rung.set)
    try:
        with ctx.transaction():
            pass  # queued nothing
        assert not rung.is_set()
        with pytest.raises(RuntimeError), ctx.transaction() as session:
            outbox.enqueue(session, outbox.DM, channel_id="U1", payload={"text": "x"}, now=ctx.now())
            raise RuntimeError("rolled back")
        assert not rung.is_set()
        with ctx.transaction() as session:
            outbox.enqueue(session, outbox.DM, channel_id="U1", payload={"text": "x"}, now=ctx.now())
        assert rung.is_set()
    finally:
        unsubscribe()
