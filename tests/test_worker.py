"""The delivery worker against the Slack stand-in, on SQLite and PostgreSQL.

The worker is real (threads, HTTP, database); Slack is the stand-in, with its per-channel
rate limiter, injected 500s and 429s, and connection refused while stopped. Rendering is the
plain test renderer, so these tests are about delivery, not about how a card looks.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient

from bot.digest import JOB_ID as DIGEST_JOB
from bot.worker import Worker, WorkerOptions, WorkerStats, start_scheduler
from leadqual.bootstrap import bootstrap
from leadqual.services import delivery, outbox, outbox_admin
from leadqual.services.context import Context, utcnow
from leadqual.services.delivery import Lease
from leadqual.services.sla import sla_tick
from tests.conftest import make_settings
from tests.outbox_helpers import ingest_leads, lead, leads_with_cards, outbox_rows, plain_render, queue
from tests.slack_standin import SlackStandIn


def dead_rows(ctx: Context) -> list[outbox_admin.OutboxEntry]:
    """The dead rows, oldest first, as `leadbot outbox list` shows them."""
    return outbox_admin.entries(ctx, statuses=(delivery.DEAD,))


FAST = WorkerOptions(
    rate_per_channel=20,
    backoff_base=0.05,
    backoff_cap=0.2,
    poll_interval=0.05,
    concurrency=8,
    lease=timedelta(seconds=30),
)


@pytest.fixture
def live(ctx: Context) -> Context:
    """The test context on the wall clock: leases, backoff and Slack's ts all move in real time."""
    return dataclasses.replace(ctx, clock=utcnow)


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn(wall_clock_ts=True) as slack:
        yield slack


def client_for(slack: SlackStandIn) -> WebClient:
    # No SDK retry handlers: the worker handles 429s and failures itself.
    return WebClient(token="xoxb-test", base_url=slack.url, retry_handlers=[], timeout=5)


def drain(ctx: Context, slack: SlackStandIn, options: WorkerOptions = FAST, *, worker_id: str = "w1") -> WorkerStats:
    worker = Worker(ctx, client_for(slack), render=plain_render, options=options, worker_id=worker_id)
    return worker.run(threading.Event(), once=True)


def posts_per_outbox_row(slack: SlackStandIn) -> Counter[int]:
    return Counter(
        c.params["metadata"]["event_payload"]["outbox_id"]
        for c in slack.calls_to("chat.postMessage")
        if c.params.get("metadata")
    )


def wait_until(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def test_thirty_cards_with_injected_500s_are_each_posted_exactly_once(live: Context, standin: SlackStandIn) -> None:
    channels = [f"C{i:02d}" for i in range(10)]
    leads_with_cards(live, channels, per_channel=3)
    standin.rate_limit("chat.postMessage", per_second=20)
    standin.fail_next("chat.postMessage", status=500, times=6)

    stats = drain(live, standin)

    cards = outbox_rows(live, kind="card")
    assert {r.status for r in cards} == {"sent"}
    assert posts_per_outbox_row(standin) == {r.id: 1 for r in cards}
    assert stats.retried == 6 and stats.sent == 30
    assert [c for c in standin.calls if c.status == 429] == []  # paced under the limit, never throttled
    assert all(lead(live, r.lead_id).message_ts == r.result_ts for r in cards if r.lead_id)  # type: ignore[arg-type]


def test_a_429_holds_back_only_its_own_channel(live: Context, standin: SlackStandIn) -> None:
    leads_with_cards(live, ["CSLOW", "CFAST"], per_channel=4)
    standin.rate_limit("chat.postMessage", per_second=4, retry_after=2)
    client_for(standin).chat_postMessage(channel="CSLOW", text="someone else just posted here")

    stats = drain(live, standin, dataclasses.replace(FAST, rate_per_channel=4))

    fast = standin.accepted_times("CFAST", "chat.postMessage")
    slow = [c for c in standin.calls if c.method == "chat.postMessage" and c.params.get("channel") == "CSLOW"]
    throttled = [c for c in slow if c.status == 429]
    delivered = [c.at for c in slow if c.ok and c.params.get("metadata")]
    assert len(fast) == 4 and len(delivered) == 4
    assert len(throttled) == 1 and stats.rate_limited == 1  # Retry-After honoured: no hammering
    # CFAST went on while CSLOW waited out its Retry-After (not "all of CFAST first": on a loaded
    # machine that would be a timing assertion; one delivery inside the hold proves the channel ran).
    assert any(throttled[0].at < t < min(delivered) for t in fast)
    assert min(delivered) - throttled[0].at >= 2


def test_a_card_posted_just_before_a_crash_is_found_not_posted_again(live: Context, standin: SlackStandIn) -> None:
    [lead_id] = ingest_leads(live, 1)
    # The first attempt: leased, sent to Slack with its outbox id... and the process died
    # before marking it. A zero-length lease stands for that lease having run out.
    [first] = delivery.lease_due(live, limit=1, worker_id="crashed", lease=timedelta(0))
    posted = client_for(standin).chat_postMessage(
        channel="C0LEADS",
        text="card",
        metadata={"event_type": "leadbot_card", "event_payload": {"outbox_id": first.id}},
    )

    stats = drain(live, standin)

    assert stats.found == 1 and stats.sent == 0
    assert len(standin.calls_to("chat.postMessage")) == 1
    assert len(standin.calls_to("conversations.history")) == 1
    assert lead(live, lead_id).message_ts == posted["ts"]


def test_a_retried_card_that_never_reached_slack_is_posted_after_the_lookup(
    live: Context, standin: SlackStandIn
) -> None:
    ingest_leads(live, 1)
    standin.fail_next("chat.postMessage", status=503)

    stats = drain(live, standin)

    assert stats.retried == 1 and stats.sent == 1
    assert [c.method for c in standin.calls] == ["chat.postMessage", "conversations.history", "chat.postMessage"]


def test_updates_and_thread_lines_follow_their_card(live: Context, standin: SlackStandIn) -> None:
    [lead_id] = ingest_leads(live, 1)
    queue(live, outbox.CARD_UPDATE, lead_id=lead_id)  # queued before the card was posted: no channel
    queue(live, outbox.THREAD, lead_id=lead_id, channel_id="C0LEADS", payload={"text": "Claimed by Dana"})

    drain(live, standin)

    ts = lead(live, lead_id).message_ts
    assert [c.method for c in standin.calls] == ["chat.postMessage", "chat.update", "chat.postMessage"]
    assert standin.calls[1].params["ts"] == ts
    assert standin.calls[2].params["thread_ts"] == ts


def test_a_direct_message_opens_the_conversation_first(live: Context, standin: SlackStandIn) -> None:
    queue(live, outbox.DM, channel_id="UMANAGER", payload={"text": "A Priority lead is waiting."})

    drain(live, standin)

    assert [c.method for c in standin.calls] == ["conversations.open", "chat.postMessage"]
    assert standin.calls[1].params["channel"] == "DUMANAGER"


def test_a_refused_card_goes_dead_with_its_thread_and_the_rest_still_go(live: Context, standin: SlackStandIn) -> None:
    leads_with_cards(live, ["CBAD", "CGOOD"], per_channel=1)
    [bad] = outbox_rows(live, channel_id="CBAD")
    queue(live, outbox.THREAD, lead_id=bad.lead_id, channel_id="CBAD", payload={"text": "later"})
    standin.fail_next("chat.postMessage", status=200, error="not_in_channel")

    stats = drain(live, standin, dataclasses.replace(FAST, concurrency=1))  # one at a time: CBAD's card first

    assert stats.dead == 1 and stats.sent == 1
    assert [(r.kind, r.status) for r in outbox_rows(live, channel_id="CBAD")] == [("card", "dead"), ("thread", "dead")]
    assert [r.status for r in outbox_rows(live, channel_id="CGOOD")] == ["sent"]
    assert dead_rows(live)[0].last_error == "slack: not_in_channel"  # the card, which died first


def test_a_slack_outage_is_waited_out_without_loss_or_duplicates(live: Context, standin: SlackStandIn) -> None:
    leads_with_cards(live, ["C1", "C2"], per_channel=2)
    standin.stop()
    stop = threading.Event()
    worker = Worker(live, client_for(standin), render=plain_render, options=FAST)
    result: list[WorkerStats] = []
    thread = threading.Thread(target=lambda: result.append(worker.run(stop, once=True)))
    thread.start()

    wait_until(lambda: any("refused" in (r.last_error or "") for r in outbox_rows(live)))
    standin.start()
    thread.join(timeout=30)

    assert result and result[0].retried >= 1
    cards = outbox_rows(live, kind="card")
    assert posts_per_outbox_row(standin) == {r.id: 1 for r in cards}


def test_two_workers_on_one_outbox_never_send_a_row_twice(live: Context, standin: SlackStandIn) -> None:
    leads_with_cards(live, [f"C{i}" for i in range(6)], per_channel=5)
    stats: list[WorkerStats] = []

    def run(worker_id: str) -> None:
        stats.append(drain(live, standin, worker_id=worker_id))

    threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    cards = outbox_rows(live, kind="card")
    assert {r.status for r in cards} == {"sent"}
    assert posts_per_outbox_row(standin) == {r.id: 1 for r in cards}
    assert sum(s.sent for s in stats) == 30


def test_stopping_finishes_the_send_in_flight_and_hands_the_rest_back(live: Context, standin: SlackStandIn) -> None:
    leads_with_cards(live, ["C1", "C2"], per_channel=6)
    stop = threading.Event()
    worker = Worker(
        live,
        client_for(standin),
        render=plain_render,
        options=dataclasses.replace(FAST, rate_per_channel=2, read_ahead=3),
    )
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    wait_until(lambda: len(standin.calls_to("chat.postMessage")) >= 3)
    stop.set()
    thread.join(timeout=30)

    rows = outbox_rows(live, kind="card")
    sent = [r for r in rows if r.status == "sent"]
    waiting = [r for r in rows if r.status == "pending"]
    assert len(sent) == len(standin.calls_to("chat.postMessage"))  # every post reached the database
    assert waiting and all(r.attempts == 0 for r in waiting)  # handed back, not left leased
    assert delivery.lease_due(live, limit=20, worker_id="next")  # due again for the next worker


def test_once_leaves_rows_due_much_later_for_the_next_run(live: Context, standin: SlackStandIn) -> None:
    leads_with_cards(live, ["C1", "C2"], per_channel=1)
    [first, _] = outbox_rows(live)
    delivery.retry_later(live, first.id, timedelta(hours=1), "slack: service_unavailable")

    stats = drain(live, standin)

    assert stats.sent == 1
    assert [r.status for r in outbox_rows(live)] == ["pending", "sent"]


def test_the_scheduler_ticks_the_sla_ladder_and_sends_the_weekly_digest(live: Context, standin: SlackStandIn) -> None:
    scheduler = start_scheduler(live, client_for(standin))
    try:
        jobs = {job.id for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=True)
    assert {"sla_tick", DIGEST_JOB} <= jobs


def test_the_sla_ladder_reaches_slack_through_the_real_renderer(live: Context, standin: SlackStandIn) -> None:
    managed = dataclasses.replace(live, config=live.config.model_copy(update={"managers": ["UMANAGER", "UBOSS"]}))
    [lead_id] = ingest_leads(managed, 1)
    worker = Worker(managed, client_for(standin), options=FAST)  # the app's render_outbox
    worker.run(threading.Event(), once=True)
    card_ts = lead(managed, lead_id).message_ts

    later = dataclasses.replace(managed, clock=lambda: utcnow() + timedelta(minutes=46))
    assert len(sla_tick(later)) == 2
    Worker(later, client_for(standin), options=FAST).run(threading.Event(), once=True)

    posts = standin.calls_to("chat.postMessage")
    reminder = [c for c in posts if c.params.get("thread_ts") == card_ts]
    dms = {c.params["channel"]: c.params["text"] for c in posts if c.params["channel"].startswith("D")}
    assert len(reminder) == 1 and "claimed" in reminder[0].params["text"]
    assert set(dms) == {"DUMANAGER", "DUBOSS"}
    assert all("Acme Metals" in text and "{lead}" not in text for text in dms.values())
    assert standin.rejected == []


# -- at Slack's real pace, and as a real process -----------------------------------------------


@pytest.mark.stress
def test_thirty_cards_at_one_per_second_per_channel_with_500s_are_each_posted_once(
    live: Context, standin: SlackStandIn
) -> None:
    leads_with_cards(live, [f"C{i}" for i in range(5)], per_channel=6)
    standin.rate_limit("chat.postMessage", per_second=1)
    standin.fail_next("chat.postMessage", status=500, times=4)

    stats = drain(live, standin, dataclasses.replace(FAST, rate_per_channel=1))

    cards = outbox_rows(live, kind="card")
    assert {r.status for r in cards} == {"sent"} and stats.retried == 4
    assert posts_per_outbox_row(standin) == {r.id: 1 for r in cards}
    assert [c for c in standin.calls if c.status == 429] == []


def worker_process(db_url: str, slack: SlackStandIn, cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    """`leadbot worker ARGS` (or, when ARGS name another command, `leadbot ARGS`) as a real process."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": db_url,
        "SLACK_API_URL": slack.url,
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "LEADBOT_CHANNEL": "C0LEADS",
        "PYTHONUNBUFFERED": "1",
    }
    command = list(args) if args and args[0] in ("worker", "outbox") else ["worker", *args]
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *command], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


@pytest.fixture
def file_db(tmp_path: Path) -> Iterator[tuple[str, Context]]:
    url = f"sqlite:///{tmp_path / 'leadbot.db'}"
    ctx = bootstrap(make_settings(url))
    yield url, ctx
    ctx.session_factory.kw["bind"].dispose()


@pytest.mark.stress
def test_a_worker_killed_mid_drain_and_restarted_posts_every_card_exactly_once(
    file_db: tuple[str, Context], standin: SlackStandIn, tmp_path: Path
) -> None:
    url, ctx = file_db
    leads_with_cards(ctx, ["C1", "C2", "C3"], per_channel=8)
    standin.rate_limit("chat.postMessage", per_second=2)
    standin.fail_next("chat.postMessage", status=500, times=2)

    first = worker_process(url, standin, tmp_path, "--rate", "2", "--lease", "2")
    try:
        wait_until(lambda: len(standin.calls_to("chat.postMessage")) >= 6)
    finally:
        first.kill()  # SIGKILL: no shutdown code runs
        first.wait(timeout=10)
    assert outbox_rows(ctx, status="pending"), "the first worker should have been stopped mid-drain"

    second = worker_process(url, standin, tmp_path, "--once", "--rate", "2", "--lease", "2")
    output, _ = second.communicate(timeout=60)

    assert second.returncode == 0, output.decode()
    assert standin.rejected == []
    cards = outbox_rows(ctx, kind="card")
    assert {r.status for r in cards} == {"sent"}
    assert posts_per_outbox_row(standin) == {r.id: 1 for r in cards}
    assert all(lead(ctx, r.lead_id).message_ts == r.result_ts for r in cards if r.lead_id)  # type: ignore[arg-type]


def test_sigterm_finishes_in_flight_work_and_hands_the_rest_back(
    file_db: tuple[str, Context], standin: SlackStandIn, tmp_path: Path
) -> None:
    url, ctx = file_db
    leads_with_cards(ctx, ["C1", "C2"], per_channel=6)
    standin.rate_limit("chat.postMessage", per_second=2)

    process = worker_process(url, standin, tmp_path, "--rate", "2")
    wait_until(lambda: len(standin.calls_to("chat.postMessage")) >= 2)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)

    assert process.returncode == 0, output.decode()
    assert b"SIGTERM" in output and b"handed back" in output
    rows = outbox_rows(ctx, kind="card")
    assert len([r for r in rows if r.status == "sent"]) == len(standin.calls_to("chat.postMessage"))
    assert all(r.attempts == 0 and r.next_attempt_at <= utcnow() for r in rows if r.status == "pending")


def test_dead_rows_are_listed_and_requeued_from_the_command_line(
    file_db: tuple[str, Context], standin: SlackStandIn, tmp_path: Path
) -> None:
    url, ctx = file_db
    leads_with_cards(ctx, ["C1"], per_channel=1)
    [row] = outbox_rows(ctx)
    delivery.lease_due(ctx, limit=1, worker_id="w")
    delivery.mark_dead(ctx, row.id, "slack: not_in_channel")

    listed = worker_process(url, standin, tmp_path, "outbox", "list").communicate(timeout=30)[0].decode()
    requeued = worker_process(url, standin, tmp_path, "outbox", "requeue", "--dead").communicate(timeout=30)[0].decode()
    worker_process(url, standin, tmp_path, "worker", "--once").communicate(timeout=30)

    assert f"#{row.id}" in listed and "not_in_channel" in listed
    assert f"re-queued 1 dead outbox rows: #{row.id}" in requeued
    assert [r.status for r in outbox_rows(ctx)] == ["sent"]
    assert len(standin.calls_to("conversations.history")) == 1  # it was tried before: Slack is checked first


def test_a_transient_failure_is_retried_without_a_count_limit_until_the_message_is_a_day_old(
    live: Context, standin: SlackStandIn
) -> None:
    ingest_leads(live, 1)
    standin.fail_next("chat.postMessage", status=500, times=12)  # more than the old 8-attempt budget

    stats = drain(live, standin)

    assert stats.sent == 1 and stats.dead == 0 and stats.retried == 12
    assert len(standin.calls_to("chat.postMessage")) == 1

    ingest_leads(live, 1)
    standin.fail_next("chat.postMessage", status=500)
    old = dataclasses.replace(live, clock=lambda: utcnow() + timedelta(hours=24, seconds=1))
    stats = drain(old, standin)
    assert stats.dead == 1 and stats.sent == 0  # a day of failures: dead, visible in `leadbot outbox list`
    assert dead_rows(old)[0].last_error.startswith("gave up after 1 attempts")


# -- a failed lookup never costs the message (issue 11, bug 1) --------------------------------


@pytest.mark.parametrize("refusal", ["missing_scope", "not_in_channel", "channel_not_found", "invalid_cursor"])
def test_a_card_whose_history_lookup_is_refused_after_a_500_is_posted_not_lost(
    live: Context, standin: SlackStandIn, refusal: str, caplog: pytest.LogCaptureFixture
) -> None:
    ingest_leads(live, 1)
    standin.fail_next("chat.postMessage", status=500)
    standin.fail_next("conversations.history", status=200, error=refusal)

    with caplog.at_level("WARNING", logger="leadbot.worker"):
        stats = drain(live, standin)

    [card] = outbox_rows(live, kind="card")
    assert card.status == "sent" and stats.sent == 1 and stats.dead == 0
    assert [(c.method, c.error) for c in standin.calls] == [
        ("chat.postMessage", "internal_error"),
        ("conversations.history", refusal),
        ("chat.postMessage", None),
    ]
    assert any(refusal in r.getMessage() and "duplicate" in r.getMessage() for r in caplog.records)


def test_a_rate_limited_lookup_waits_out_its_retry_after_and_the_card_is_posted_once(
    live: Context, standin: SlackStandIn
) -> None:
    ingest_leads(live, 1)
    standin.fail_next("chat.postMessage", status=500)
    standin.fail_next("conversations.history", status=429)  # Retry-After: 1

    stats = drain(live, standin)

    [card] = outbox_rows(live, kind="card")
    assert card.status == "sent" and stats.rate_limited == 1 and stats.dead == 0
    assert [(c.method, c.status) for c in standin.calls] == [
        ("chat.postMessage", 500),
        ("conversations.history", 429),
        ("conversations.history", 200),
        ("chat.postMessage", 200),
    ]
    throttled, again = standin.calls[1], standin.calls[2]
    assert again.at - throttled.at >= 1  # Retry-After honoured (a lower bound: never early)
    assert posts_per_outbox_row(standin) == {card.id: 1}


def test_a_lookup_failing_with_a_5xx_is_retried_like_any_transient_failure(
    live: Context, standin: SlackStandIn
) -> None:
    ingest_leads(live, 1)
    standin.fail_next("chat.postMessage", status=500)
    standin.fail_next("conversations.history", status=503, times=2)

    stats = drain(live, standin)

    [card] = outbox_rows(live, kind="card")
    assert card.status == "sent" and stats.retried == 3 and stats.dead == 0
    assert [c.method for c in standin.calls].count("conversations.history") == 3
    assert posts_per_outbox_row(standin) == {card.id: 1}


# -- thread lines and DMs are not repeated after a crash; a repeated update is harmless (bug 4) --


def crashed_after_slack_said_ok(ctx: Context, kind: str) -> Lease:
    """Lease the next row as a worker that then died after sending it: a lease that ran out at once."""
    [first] = delivery.lease_due(ctx, limit=1, worker_id="crashed", lease=timedelta(0))
    assert first.kind == kind
    return first


def a_posted_card(ctx: Context, slack: SlackStandIn) -> int:
    [lead_id] = ingest_leads(ctx, 1)
    drain(ctx, slack)
    return lead_id


def message_metadata(row_id: int) -> dict[str, Any]:
    """The metadata the worker puts on a thread line or DM: its outbox id, the idempotency key."""
    return {"event_type": "leadbot_message", "event_payload": {"outbox_id": row_id}}


def test_a_thread_line_posted_just_before_a_crash_is_found_in_the_thread_not_posted_again(
    live: Context, standin: SlackStandIn
) -> None:
    lead_id = a_posted_card(live, standin)
    card_ts = lead(live, lead_id).message_ts
    queue(live, outbox.THREAD, lead_id=lead_id, channel_id="C0LEADS", payload={"text": "Claimed by Dana"})
    first = crashed_after_slack_said_ok(live, outbox.THREAD)
    posted = client_for(standin).chat_postMessage(
        channel="C0LEADS", thread_ts=card_ts, text="Claimed by Dana", metadata=message_metadata(first.id)
    )

    stats = drain(live, standin)

    assert stats.found == 1 and stats.sent == 0
    replies = [c for c in standin.calls_to("chat.postMessage") if c.params.get("thread_ts") == card_ts]
    assert len(replies) == 1
    assert standin.calls[-1].method == "conversations.replies"
    [row] = outbox_rows(live, kind="thread")
    assert (row.status, row.result_ts) == ("sent", posted["ts"])


def test_a_direct_message_sent_just_before_a_crash_is_found_not_sent_again(
    live: Context, standin: SlackStandIn
) -> None:
    queue(live, outbox.DM, channel_id="UMANAGER", payload={"text": "A Priority lead is waiting."})
    first = crashed_after_slack_said_ok(live, outbox.DM)
    client_for(standin).chat_postMessage(
        channel="DUMANAGER", text="A Priority lead is waiting.", metadata=message_metadata(first.id)
    )

    stats = drain(live, standin)

    assert stats.found == 1 and stats.sent == 0
    assert len(standin.calls_to("chat.postMessage")) == 1
    assert [c.method for c in standin.calls][-2:] == ["conversations.open", "conversations.history"]


def test_thread_lines_and_dms_carry_their_outbox_id_in_the_message_metadata(
    live: Context, standin: SlackStandIn
) -> None:
    lead_id = a_posted_card(live, standin)
    queue(live, outbox.THREAD, lead_id=lead_id, channel_id="C0LEADS", payload={"text": "Claimed by Dana"})
    queue(live, outbox.DM, channel_id="UMANAGER", payload={"text": "A Priority lead is waiting."})

    drain(live, standin)

    [thread] = outbox_rows(live, kind="thread")
    [dm] = outbox_rows(live, kind="dm")
    assert posts_per_outbox_row(standin) == Counter({thread.id: 1, dm.id: 1, thread.id - 1: 1})
    assert [c.method for c in standin.calls].count("conversations.replies") == 0  # first tries look nothing up


def test_a_thread_line_whose_lookup_is_refused_after_a_crash_is_posted_with_a_warning(
    live: Context, standin: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    lead_id = a_posted_card(live, standin)
    queue(live, outbox.THREAD, lead_id=lead_id, channel_id="C0LEADS", payload={"text": "Claimed by Dana"})
    crashed_after_slack_said_ok(live, outbox.THREAD)  # ...without reaching Slack, this time
    standin.fail_next("conversations.replies", status=200, error="missing_scope")

    with caplog.at_level("WARNING", logger="leadbot.worker"):
        stats = drain(live, standin)

    assert stats.sent == 1 and stats.dead == 0
    assert [r.status for r in outbox_rows(live, kind="thread")] == ["sent"]
    assert any("missing_scope" in r.getMessage() and "duplicate" in r.getMessage() for r in caplog.records)


def test_a_card_update_repeated_after_a_crash_leaves_the_card_showing_the_leads_current_state(
    live: Context, standin: SlackStandIn
) -> None:
    from bot.slack.messages import render_outbox
    from leadqual.services import triage

    [lead_id] = ingest_leads(live, 1)
    Worker(live, client_for(standin), options=FAST).run(threading.Event(), once=True)  # the real card
    triage.claim(live, lead_id=lead_id, user_id="UDANA")
    triage.release(live, lead_id=lead_id, user_id="UDANA")
    first = crashed_after_slack_said_ok(live, outbox.CARD_UPDATE)
    with live.session_factory() as session:  # what the crashed worker sent: the full card as it was rendered
        sent = render_outbox(live, session, outbox_rows(live, id=first.id)[0])
    client_for(standin).chat_update(**sent)

    stats = Worker(live, client_for(standin), options=FAST).run(threading.Event(), once=True)

    assert stats.dead == 0 and {r.status for r in outbox_rows(live)} == {"sent"}
    updates = standin.calls_to("chat.update")
    assert len(updates) == 3  # the crashed one, its repeat, and the release's update
    assert all(u.params["blocks"] == updates[-1].params["blocks"] for u in updates)  # each the whole current card
    card = lead(live, lead_id)
    shown = standin.message(str(card.channel_id), str(card.message_ts))
    assert shown is not None and shown["blocks"] == sent["blocks"]
    assert len([c for c in standin.calls_to("chat.postMessage") if c.params.get("thread_ts")]) == 2  # claim, release


# -- order across leads on PostgreSQL (issue 11, bug 5: docs/operations.md, "Order") ----------


def card_row(ctx: Context, lead_id: int) -> dict[str, Any]:
    now = ctx.now()
    return {
        "kind": outbox.CARD,
        "lead_id": lead_id,
        "channel_id": "C0LEADS",
        "payload": {},
        "dedupe_key": f"card:{lead_id}",
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_cards_committed_out_of_id_order_go_out_in_commit_order_and_their_updates_still_follow_them(
    live: Context, standin: SlackStandIn
) -> None:
    from leadqual.services import triage

    early, late = ingest_leads(live, 2, post=False)
    # The first intake transaction takes the lower outbox id but commits last.
    with live.session_factory() as slow, slow.begin():
        outbox.enqueue_many(slow, [card_row(live, early)])
        slow.flush()
        queue(live, outbox.CARD, lead_id=late, channel_id="C0LEADS", dedupe_key=f"card:{late}")
        drain(live, standin)  # the worker sees only what is committed
        assert [c.params["metadata"]["event_payload"]["lead_id"] for c in standin.calls_to("chat.postMessage")] == [
            late
        ]
    triage.claim(live, lead_id=late, user_id="UDANA")  # queued after its card: follows it, whatever the ids

    drain(live, standin)

    posted = standin.calls_to("chat.postMessage")
    assert [c.params.get("metadata", {}).get("event_payload", {}).get("lead_id") for c in posted][:2] == [late, early]
    [early_card, late_card] = sorted(outbox_rows(live, kind="card"), key=lambda r: r.lead_id or 0)
    assert early_card.id < late_card.id  # the ids said otherwise: commit order won
    update = next(c for c in standin.calls_to("chat.update"))
    thread = next(c for c in posted if c.params.get("thread_ts"))
    assert update.params["ts"] == thread.params["thread_ts"] == lead(live, late).message_ts
    assert posted.index(thread) > 0 and update.at > posted[0].at
