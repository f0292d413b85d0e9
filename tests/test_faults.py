"""Faults: Slack down, refusing and rate-limiting while leads arrive; workers killed; the database restarted;
Slack retrying its deliveries. Nothing may be lost and nothing may reach Slack twice.

The web side is a real `leadbot serve` subprocess (tests.procs) taking leads over HTTP. Where an
outage is compressed into seconds the worker runs in-process, so that its backoff can be
compressed with it (WorkerOptions); where the fault is the process itself (SIGKILL) it is a
real `leadbot worker`. The database restart is every backend of the test database terminated
from an admin connection (the shared PostgreSQL server stays up for the other tests).
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import func, select

from blocks import ids
from bot.worker import Worker, WorkerOptions
from leadqual.db.models import Claim, Decision, Event, LeadRow, OutboxMessage
from leadqual.groups import Group
from leadqual.services import delivery, outbox
from leadqual.services.context import Context, utcnow
from tests.bot_helpers import (
    Bot,
    add_lead,
    bot_fixture,  # noqa: F401  (the `bot` fixture)
    interactive_body,
    signed_request,
)
from tests.outbox_helpers import lead, leads_with_cards, outbox_rows, queue
from tests.procs import (
    Leadbot,
    Processes,
    block_action_body,
    fresh_records,
    post_leads,
    post_to_slack_endpoint,
    procs_fixture,  # noqa: F401  (the `procs` fixture)
    restart_database,
    standin_fixture,  # noqa: F401  (the `standin` fixture)
    wait_until,
    with_application_name,
)
from tests.slack_standin import SlackStandIn

pytestmark = pytest.mark.stress

# The worker's pace and patience compressed from minutes to seconds: backoff starts at 50 ms and
# is capped at half a second, so a few seconds of outage stand for a few minutes of a real one.
# The attempt budget is raised to match: 8 attempts are sized for production backoff (about
# 2-4 minutes of failures before a row goes dead); see test_cards_that_gave_up_during_a_long_outage...
COMPRESSED = WorkerOptions(
    rate_per_channel=50,
    concurrency=4,
    poll_interval=0.05,
    backoff_base=0.05,
    backoff_cap=0.5,
    lease=timedelta(seconds=30),
    http_timeout=5,
    max_attempts=200,
)


# For faults of the web process itself, where the database engine plays no part.
ONE_ENGINE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def live(ctx: Context) -> Context:
    """The test context on the wall clock: leases and backoff move in real time, as in the processes."""
    return dataclasses.replace(ctx, clock=utcnow)


def client_for(slack: SlackStandIn) -> WebClient:
    # No SDK retry handlers: the worker handles failures itself (as `leadbot worker` does).
    return WebClient(token="xoxb-test-token", base_url=slack.url, retry_handlers=[], timeout=5)


@dataclasses.dataclass
class RunningWorker:
    """An in-process Worker running in a thread until `stop()`."""

    worker: Worker
    thread: threading.Thread
    stop_event: threading.Event

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the worker did not stop"


@pytest.fixture
def start_worker(live: Context, standin: SlackStandIn) -> Iterator[Any]:
    running: list[RunningWorker] = []

    def start(options: WorkerOptions = COMPRESSED) -> RunningWorker:
        stop = threading.Event()
        worker = Worker(live, client_for(standin), options=options)  # the real renderer: real cards
        thread = threading.Thread(target=worker.run, args=(stop,), name="test-worker", daemon=True)
        thread.start()
        running.append(RunningWorker(worker, thread, stop))
        return running[-1]

    yield start
    for r in running:
        r.stop_event.set()
        r.thread.join(timeout=30)


def card_posts(slack: SlackStandIn) -> Counter[int]:
    """Successful chat.postMessage calls per lead id, read from the card's message metadata."""
    return Counter(
        int(c.params["metadata"]["event_payload"]["lead_id"])
        for c in slack.calls_to("chat.postMessage")
        if (c.params.get("metadata") or {}).get("event_type") == "leadbot_card"
    )


def card_posts_per_row(slack: SlackStandIn) -> Counter[int]:
    return Counter(
        int(c.params["metadata"]["event_payload"]["outbox_id"])
        for c in slack.calls_to("chat.postMessage")
        if (c.params.get("metadata") or {}).get("event_type") == "leadbot_card"
    )


def routed(answers: list[dict[str, Any]]) -> set[int]:
    return {a["id"] for a in answers if Group(a["group"]).routed}


def count(ctx: Context, model: type, **where: object) -> int:
    with ctx.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0


class Feeder:
    """Posts leads to a server, a few per request, from a thread, until stopped or out of leads."""

    def __init__(self, web: Leadbot, records: list[dict[str, Any]], *, per_request: int = 3) -> None:
        self.web = web
        self.batches = [records[i : i + per_request] for i in range(0, len(records), per_request)]
        self.answers: list[dict[str, Any]] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lead-feeder", daemon=True)

    def __enter__(self) -> Feeder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    @property
    def posted(self) -> int:
        return len(self.answers)

    def _run(self) -> None:
        import httpx

        with httpx.Client(timeout=30) as client:
            for batch in self.batches:
                if self._stop.is_set():
                    return
                try:
                    self.answers.extend(post_leads(self.web, batch, client=client))
                except BaseException as exc:  # surfaced by the test
                    self.errors.append(exc)
                    return
                # A steady trickle (not a synchronisation): leads keep arriving through every phase.
                self._stop.wait(0.03)


# ---------------------------------------------------------------------------
# Slack down, failing and rate-limiting while leads arrive
# ---------------------------------------------------------------------------


def test_leads_arriving_while_slack_refuses_fails_and_rate_limits_are_each_carded_exactly_once(
    db_url: str, live: Context, standin: SlackStandIn, procs: Processes, start_worker: Any
) -> None:
    web = procs.serve(db_url)
    running = start_worker()
    worker = running.worker
    feeder = Feeder(web, fresh_records(900, seed=31))

    with feeder:
        wait_until(lambda: len(card_posts(standin)) >= 5, what="the first cards reach Slack", watch=[web])

        # 1. Slack unreachable: connection refused.
        standin.stop()
        retried, posted = worker.stats.retried, feeder.posted
        wait_until(
            lambda: worker.stats.retried >= retried + 3 and feeder.posted >= posted + 20,
            what="failed attempts against a stopped Slack while leads keep arriving",
            watch=[web],
        )

        # 2. Slack back, but answering 500s.
        standin.start()
        standin.fail_next("chat.postMessage", status=500, times=6)
        wait_until(
            lambda: len([c for c in standin.calls if c.status == 500]) == 6, what="six 500s answered", watch=[web]
        )

        # 3. A rate-limit storm on every method (conversations.history lookups included).
        posted = feeder.posted
        standin.rate_limit_storm("*", seconds=1.5)
        wait_until(lambda: worker.stats.rate_limited >= 1, what="the worker meets the 429 storm", watch=[web])
        stormed = max(c.at for c in standin.calls if c.status == 429)
        wait_until(
            lambda: (
                any(c.ok and c.at > stormed for c in standin.calls_to("chat.postMessage"))
                and feeder.posted >= posted + 20
            ),
            what="cards flowing again after the storm",
            watch=[web],
        )

    # 4. Slack recovered: everything that arrived is delivered.
    assert feeder.errors == [] and feeder.posted >= 100
    expected = routed(feeder.answers)
    wait_until(
        lambda: set(card_posts(standin)) >= expected and not delivery.has_pending(live),
        timeout=60,
        what="every routed lead carded",
        watch=[web],
    )
    running.stop()

    assert card_posts(standin) == {lead_id: 1 for lead_id in expected}  # every routed lead once, nothing else
    rows = outbox_rows(live)
    assert {r.status for r in rows} == {"sent"} and len(rows) == len(expected)
    assert card_posts_per_row(standin) == {r.id: 1 for r in rows}
    assert all(lead(live, r.lead_id).message_ts == r.result_ts for r in rows if r.lead_id)  # type: ignore[arg-type]
    assert standin.rejected == []
    # The faults really happened to this worker: refused connections and 500s retried, 429s waited out.
    assert worker.stats.retried >= 3 + 6 and worker.stats.rate_limited >= 1


@ONE_ENGINE
def test_a_web_process_started_while_slack_is_down_still_takes_leads(
    db_url: str, live: Context, standin: SlackStandIn, procs: Processes
) -> None:
    standin.stop()
    web = procs.serve(db_url)  # a deploy or a crash-restart during a Slack outage

    answers = post_leads(web, fresh_records(20, seed=32))

    assert len(answers) == 20 and count(live, LeadRow) == 20
    standin.start()
    code, output = procs.run(db_url, "worker", "--once", "--rate", "50")
    assert code == 0, output
    assert card_posts(standin) == {lead_id: 1 for lead_id in routed(answers)}


@ONE_ENGINE
def test_a_socket_mode_web_process_started_while_slack_is_down_takes_leads_and_keeps_trying_to_connect(
    db_url: str, live: Context, standin: SlackStandIn, procs: Processes
) -> None:
    standin.stop()
    web = procs.serve(db_url, SLACK_APP_TOKEN="xapp-1-test")

    assert len(post_leads(web, fresh_records(5, seed=35))) == 5 and count(live, LeadRow) == 5
    standin.start()  # Slack is back: the process asks for a Socket Mode URL again by itself
    wait_until(
        lambda: standin.calls_to("apps.connections.open", include_failed=True) != [],
        timeout=30,
        what="a new Socket Mode connection attempt",
        watch=[web],
    )


@ONE_ENGINE
def test_a_bot_token_slack_refuses_still_stops_the_web_process_with_one_line(
    db_url: str, standin: SlackStandIn, procs: Processes
) -> None:
    standin.fail_next("auth.test", status=200, error="invalid_auth")

    web = procs.serve(db_url, wait=False)

    assert web.wait(30) == 1
    assert "leadbot: error: SLACK_BOT_TOKEN" in web.output() and "invalid_auth" in web.output()
    assert "Traceback" not in web.output()


def test_sigterm_to_a_web_process_finishes_the_slack_work_it_already_acknowledged(
    db_url: str, live: Context, procs: Processes
) -> None:
    web = procs.serve(db_url)
    [answer] = post_leads(web, [{**fresh_records(1, seed=34)[0], "company": {"name": "Acme", "country": "US"}}])
    # Bolt acks a click first and claims after; hold the lead so that work is still running at SIGTERM.
    with live.transaction() as session:
        session.scalar(select(LeadRow).where(LeadRow.id == answer["id"]).with_for_update())
        ack = post_to_slack_endpoint(web, block_action_body(ids.CLAIM, answer["id"], "UDANA"))
        assert ack.status_code == 200  # Slack has its ack: the click must now happen
        web.process.send_signal(signal.SIGTERM)  # a deploy
        wait_until(
            lambda: not web.alive() or "finishing the Slack work in progress" in web.output(),
            what="the web process to exit or to wait for its listeners",
        )

    web.wait(30)
    assert lead(live, answer["id"]).owner_id == "UDANA", web.tail()


def test_cards_that_gave_up_during_a_long_outage_are_posted_once_after_requeue(
    db_url: str, live: Context, standin: SlackStandIn, procs: Processes
) -> None:
    where = leads_with_cards(live, ["C1", "C2"], per_channel=3)
    first = min(where)
    queue(live, outbox.THREAD, lead_id=first, channel_id=where[first], payload={"text": "Claimed by Dana"})
    standin.stop()
    # An outage longer than the attempt budget (here 3 attempts): each channel's head gives up in turn.
    options = dataclasses.replace(COMPRESSED, max_attempts=3)
    stats = Worker(live, client_for(standin), options=options).run(threading.Event(), once=True)

    assert stats.dead == 6 and stats.sent == 0
    assert {r.status for r in outbox_rows(live)} == {"dead"}  # the thread line went dead with its card
    standin.start()
    code, listed = procs.run(db_url, "outbox", "list", "--dead")
    assert code == 0 and "7 dead outbox rows" in listed and "gave up after 3 attempts" in listed

    code, output = procs.run(db_url, "outbox", "requeue", "--dead")
    assert code == 0 and "re-queued 7 dead outbox rows" in output, output
    code, output = procs.run(db_url, "worker", "--once", "--rate", "50")

    assert code == 0, output
    assert {r.status for r in outbox_rows(live)} == {"sent"}
    assert card_posts(standin) == dict.fromkeys(where, 1)
    assert [c.params["thread_ts"] for c in standin.calls_to("chat.postMessage") if c.params.get("thread_ts")] == [
        lead(live, first).message_ts
    ]


# ---------------------------------------------------------------------------
# A worker killed mid-send, and the database restarted (PostgreSQL)
# ---------------------------------------------------------------------------


def seed_cards(ctx: Context, n_channels: int, per_channel: int) -> dict[int, str]:
    return leads_with_cards(ctx, [f"C{i:02d}" for i in range(n_channels)], per_channel=per_channel)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_worker_killed_mid_send_then_a_database_restart_loses_and_doubles_nothing(
    db_url: str, live: Context, standin: SlackStandIn, procs: Processes
) -> None:
    seed_cards(live, 4, per_channel=9)
    standin.rate_limit("chat.postMessage", per_second=6, retry_after=1)
    standin.fail_next("chat.postMessage", status=500, times=2)
    web = procs.serve(with_application_name(db_url, "web-under-test"))  # a web process rides the restart out too

    first = procs.worker(db_url, "--rate", "6", "--lease", "3")
    wait_until(
        lambda: len(standin.calls_to("chat.postMessage")) >= 10, what="the first worker mid-drain", watch=[first]
    )
    assert first.kill() == -signal.SIGKILL
    assert delivery.has_pending(live), "the first worker should have died mid-drain"

    assert "web-under-test" in restart_database(db_url)
    second = procs.worker(db_url, "--once", "--rate", "6", "--lease", "3")

    assert second.wait(60) == 0, second.tail()
    rows = outbox_rows(live)
    assert {r.status for r in rows} == {"sent"} and len(rows) == 36
    assert card_posts_per_row(standin) == {r.id: 1 for r in rows}
    assert all(lead(live, r.lead_id).message_ts == r.result_ts for r in rows if r.lead_id)  # type: ignore[arg-type]
    assert standin.rejected == []
    assert post_leads(web, fresh_records(1, seed=33))[0]["duplicate"] is False  # intake reconnected


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_running_worker_survives_its_database_connections_being_terminated(
    db_url: str, live: Context, standin: SlackStandIn, procs: Processes
) -> None:
    where = seed_cards(live, 3, per_channel=15)
    threaded = list(where)[:6]
    for lead_id in threaded:  # thread lines queued behind their cards
        queue(live, outbox.THREAD, lead_id=lead_id, channel_id=where[lead_id], payload={"text": "A note for the team"})
    standin.rate_limit("chat.postMessage", per_second=6, retry_after=1)
    worker = procs.worker(with_application_name(db_url, "worker-under-test"), "--rate", "6", "--lease", "5")

    for n in (6, 18, 30):  # three "restarts" at different points of the drain
        wait_until(
            lambda n=n: len(standin.calls_to("chat.postMessage")) >= n,  # type: ignore[misc]
            what=f"{n} posts",
            watch=[worker],
        )
        assert "worker-under-test" in restart_database(db_url)  # its pooled connections were cut
    wait_until(lambda: not delivery.has_pending(live), timeout=60, what="the outbox drained", watch=[worker])

    assert worker.alive(), worker.tail()
    assert worker.terminate() == 0, worker.tail()
    rows = outbox_rows(live)
    assert {r.status for r in rows} == {"sent"} and len(rows) == 51
    assert card_posts_per_row(standin) == {r.id: 1 for r in rows if r.kind == "card"}
    threads = Counter(c.params["thread_ts"] for c in standin.calls_to("chat.postMessage") if c.params.get("thread_ts"))
    assert threads == {lead(live, lead_id).message_ts: 1 for lead_id in threaded}


# ---------------------------------------------------------------------------
# Slack retrying its deliveries
# ---------------------------------------------------------------------------
# Covered in tests/test_bot_*.py: a Claim redelivered *after* the first was handled (retry header
# or same action_ts), a Disqualify submission repeated *after* the first. Here: the copies
# arrive at the same time, which is what a retry after Slack's 3-second timeout looks like when
# the first delivery is still being processed, and what those tests leave uncovered.


def dispatch_at_once(bot: Bot, body: str, *, content_type: str = "application/x-www-form-urlencoded") -> list[int]:
    """Deliver `body` three times at the same moment: the original and Slack's retries 1 and 2."""
    return bot.dispatch_together([signed_request(body, content_type=content_type, retry_num=n) for n in (None, 1, 2)])


def outbox_kinds(ctx: Context, lead_id: int) -> Counter[str]:
    with ctx.session_factory() as session:
        return Counter(session.scalars(select(OutboxMessage.kind).where(OutboxMessage.lead_id == lead_id)))


def test_a_claim_delivered_with_its_retries_at_the_same_moment_is_applied_once(bot: Bot) -> None:
    lead_id = add_lead(bot.ctx)
    bot.deliver()

    statuses = dispatch_at_once(bot, interactive_body(bot.action_payload(ids.CLAIM, lead_id, "UDANA")))

    assert statuses == [200, 200, 200]
    assert lead(bot.ctx, lead_id).owner_id == "UDANA"
    assert count(bot.ctx, Event, kind="claimed") == 1 and count(bot.ctx, Claim) == 1
    assert outbox_kinds(bot.ctx, lead_id) == {"card": 1, "card_update": 1, "thread": 1}
    assert bot.ephemerals() == []  # the copies are silent, not "already claimed by you"


def submission_body(view: dict[str, Any], user: str, values: dict[str, Any], *, view_id: str) -> str:
    """A view_submission exactly as Slack sends it, so a retry can repeat it byte for byte."""
    return interactive_body(
        {
            "type": "view_submission",
            "team": {"id": "T1", "domain": "leadbot-test"},
            "user": {"id": user, "username": user.lower(), "team_id": "T1"},
            "api_app_id": "ABOT",
            "token": "legacy",
            "trigger_id": "trigger-retried",
            "view": {
                **view,
                "id": view_id,
                "team_id": "T1",
                "state": {"values": values},
                "hash": "1.abc",
                "app_id": "ABOT",
                "bot_id": "BBOT",
            },
            "response_urls": [],
        }
    )


def test_a_disqualify_submission_delivered_with_its_retries_at_once_decides_once(bot: Bot) -> None:
    lead_id = add_lead(bot.ctx)
    bot.deliver()
    bot.click(ids.DISQUALIFY, lead_id, "UDANA")  # claims the lead for the rep and opens the modal
    view = bot.opened_view(ids.DISQUALIFY_VIEW)
    values = {ids.REASON: {ids.REASON: {"type": "static_select", "selected_option": {"value": "competitor"}}}}

    statuses = dispatch_at_once(bot, submission_body(view, "UDANA", values, view_id="V0RETRIED"))

    assert statuses == [200, 200, 200]
    assert (lead(bot.ctx, lead_id).outcome, lead(bot.ctx, lead_id).reason) == ("not_qualified", "competitor")
    assert count(bot.ctx, Decision) == 1 and count(bot.ctx, Event, kind="decided") == 1
    # One card update and one thread line for the claim, one of each for the decision.
    assert outbox_kinds(bot.ctx, lead_id) == {"card": 1, "card_update": 2, "thread": 2}
    assert bot.ephemerals() == []
    bot.deliver()
    assert len(bot.slack.calls_to("chat.update")) == 2 and bot.slack.rejected == []


def test_a_retried_app_home_opened_republishes_the_same_home_and_writes_nothing(bot: Bot) -> None:
    lead_id = add_lead(bot.ctx)
    bot.click(ids.CLAIM, lead_id, "UDANA")
    events_before, outbox_before = count(bot.ctx, Event), count(bot.ctx, OutboxMessage)
    body = (
        '{"token": "legacy", "team_id": "T1", "api_app_id": "ABOT", "type": "event_callback", '
        '"event_id": "Ev0HOME", "event_time": 1764000000, "authorizations": '
        '[{"team_id": "T1", "user_id": "UBOT", "is_bot": true}], "event": {"type": "app_home_opened", '
        '"user": "UDANA", "channel": "DUDANA", "tab": "home", "event_ts": "1764000000.000100"}}'
    )

    statuses = dispatch_at_once(bot, body, content_type="application/json")

    assert statuses == [200, 200, 200]  # acked, so Slack stops retrying
    views = [c.params["view"] for c in bot.slack.calls_to("views.publish")]
    assert len(views) == 3 and all(v == views[0] for v in views)  # publishing is idempotent
    assert "*Open claims* (1)" in str(views[0])
    assert (count(bot.ctx, Event), count(bot.ctx, OutboxMessage)) == (events_before, outbox_before)


def test_a_retried_add_lead_submission_stores_the_lead_once(bot: Bot) -> None:
    bot.command("", "UDANA")
    view = bot.opened_view(ids.ADD_LEAD_VIEW)
    # A lead typed in by hand, without an email: nothing in it to deduplicate on but the delivery.
    values: dict[str, Any] = {
        block: {block: {"type": "plain_text_input", "value": None}}
        for block in (ids.ADD_CONTACT_NAME, ids.ADD_TITLE, ids.ADD_NEED, ids.ADD_MESSAGE)
    }
    values |= {
        ids.ADD_COMPANY: {ids.ADD_COMPANY: {"type": "plain_text_input", "value": "Delta Pumps"}},
        ids.ADD_INDUSTRY: {ids.ADD_INDUSTRY: {"type": "plain_text_input", "value": "water"}},
        ids.ADD_COUNTRY: {ids.ADD_COUNTRY: {"type": "plain_text_input", "value": "US"}},
        ids.ADD_EMAIL: {ids.ADD_EMAIL: {"type": "email_text_input", "value": None}},
    }
    body = submission_body(view, "UDANA", values, view_id="V0ADDLEAD")

    assert bot.dispatch(body).status == 200
    assert bot.dispatch(body, retry_num=1).status == 200

    assert count(bot.ctx, LeadRow) == 1 and count(bot.ctx, OutboxMessage, kind="card") == 1
