"""Scale-out on PostgreSQL: two `leadbot serve` and two `leadbot worker` processes on one database.

Slack is the stand-in, rate-limited per channel (20 posts and 20 updates a second, so a burst
drains in seconds); each group has its own channel. What must hold however the processes
interleave: every routed lead carded exactly once, a lead sent to both servers stored once,
one winner per contested claim (the losers told who won), and one digest per manager a week.
"""

from __future__ import annotations

import random
import re
import signal
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from blocks import ids
from leadqual.bootstrap import bootstrap
from leadqual.db.models import Claim, DigestSend, Event, LeadRow, OutboxMessage
from leadqual.groups import Group
from leadqual.services import delivery
from leadqual.services.context import Context
from tests.conftest import make_settings
from tests.feedback_helpers import import_history
from tests.procs import (
    Leadbot,
    Processes,
    block_action_body,
    fresh_records,
    post_leads,
    post_to_slack_endpoint,
    procs_fixture,  # noqa: F401  (the `procs` fixture)
    standin_fixture,  # noqa: F401  (the `standin` fixture)
    wait_until,
)
from tests.slack_standin import SlackStandIn

pytestmark = [pytest.mark.stress, pytest.mark.postgres, pytest.mark.parametrize("db_url", ["postgres"], indirect=True)]

CHANNELS = {
    Group.PRIORITY: "C0PRIORITY",
    Group.QUALIFIED_REVIEW: "C0REVIEW",
    Group.NURTURE: "C0NURTURE",
    Group.RESEARCH: "C0RESEARCH",
}
MANAGERS = ("UMANAGER", "UBOSS")
RATE = 20  # calls per second per channel, enforced by the stand-in and kept by the workers

CONFIG = f"""\
timezone: UTC
routes:
  priority: {{channel: {CHANNELS[Group.PRIORITY]}}}
  qualified_review: {{channel: {CHANNELS[Group.QUALIFIED_REVIEW]}}}
  nurture: {{channel: {CHANNELS[Group.NURTURE]}}}
  research: {{channel: {CHANNELS[Group.RESEARCH]}}}
managers: [{", ".join(MANAGERS)}]
"""


@dataclass
class Cluster:
    """Web and worker processes on one PostgreSQL, and a Context on it for the assertions."""

    webs: list[Leadbot]
    workers: list[Leadbot]
    ctx: Context

    def stop(self) -> tuple[list[int], list[int]]:
        """SIGTERM every process, as a platform does on deploy; the workers' and the webs' exit codes."""
        return [p.terminate() for p in self.workers], [p.terminate() for p in self.webs]


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "leadbot.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture
def ctx_on(db_url: str, config_file: Path) -> Iterator[Context]:
    """A Context on the processes' database and config; bootstrapping stores the ruleset version up front."""
    ctx = bootstrap(make_settings(db_url, LEADBOT_CONFIG=str(config_file)))
    yield ctx
    ctx.session_factory.kw["bind"].dispose()


def start_cluster(
    procs: Processes, db_url: str, config_file: Path, ctx: Context, *, webs: int, workers: int
) -> Cluster:
    """Start the processes together (as a platform scales a formation), then wait for the webs' /healthz."""
    config = {"LEADBOT_CONFIG": str(config_file)}
    started_webs = [procs.serve(db_url, wait=False, **config) for _ in range(webs)]
    started_workers = [procs.worker(db_url, "--rate", str(RATE), **config) for _ in range(workers)]
    for web in started_webs:
        web.wait_healthy()
    return Cluster(webs=started_webs, workers=started_workers, ctx=ctx)


@pytest.fixture
def rate_limited(standin: SlackStandIn) -> SlackStandIn:
    standin.rate_limit("chat.postMessage", per_second=RATE, retry_after=1)
    standin.rate_limit("chat.update", per_second=RATE, retry_after=1)
    return standin


def card_posts(slack: SlackStandIn) -> list[tuple[int, str]]:
    """(lead id, channel) of every card Slack accepted, from the card's message metadata."""
    return [
        (int(c.params["metadata"]["event_payload"]["lead_id"]), c.params["channel"])
        for c in slack.calls_to("chat.postMessage")
        if (c.params.get("metadata") or {}).get("event_type") == "leadbot_card"
    ]


def count_by_lead(ctx: Context, model: Any, *where: Any) -> Counter[int]:
    with ctx.session_factory() as session:
        return Counter(
            {
                lead_id: n
                for lead_id, n in session.execute(
                    select(model.lead_id, func.count()).where(*where).group_by(model.lead_id)
                )
            }
        )


def at_once(calls: list[Any]) -> list[Any]:
    """Run every zero-argument callable in its own thread, released together; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Any) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_web_and_two_worker_processes_card_a_burst_once_and_give_each_contested_claim_one_winner(
    db_url: str, procs: Processes, rate_limited: SlackStandIn, config_file: Path, ctx_on: Context
) -> None:
    standin, ctx = rate_limited, ctx_on
    cluster = start_cluster(procs, db_url, config_file, ctx, webs=2, workers=2)
    web_a, web_b = cluster.webs
    records = fresh_records(500, seed=41)
    rng = random.Random(41)
    # 100 requests of 5 leads, alternating between the servers; 40 of those leads are also sent,
    # alone and at the same time, to the other server (a CRM retrying against another instance).
    requests = [(web_a if i % 2 else web_b, records[i * 5 : i * 5 + 5]) for i in range(100)]
    twice = rng.sample(range(500), 40)
    requests += [(web_b if (i // 5) % 2 else web_a, [records[i]]) for i in twice]
    rng.shuffle(requests)

    with (
        httpx.Client(timeout=60, limits=httpx.Limits(max_connections=50)) as http,
        ThreadPoolExecutor(max_workers=24) as pool,
    ):
        answers = [a for batch in pool.map(lambda r: post_leads(r[0], r[1], client=http), requests) for a in batch]

    # Intake: one lead per external_id, whichever server stored it; the other answered "duplicate".
    ids_by_external: dict[str, set[int]] = defaultdict(set)
    for a in answers:
        ids_by_external[a["external_id"]].add(a["id"])
    assert len(ids_by_external) == 500 and all(len(v) == 1 for v in ids_by_external.values())
    for i in twice:
        assert sorted(a["duplicate"] for a in answers if a["external_id"] == records[i]["external_id"]) == [False, True]
    with ctx.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(LeadRow)) == 500
    group_of = {a["id"]: Group(a["group"]) for a in answers}
    routed = {lead_id for lead_id, group in group_of.items() if group.routed}
    assert len(set(group_of.values())) == 5  # the burst covers every group, Poor fit included

    # Delivery: every routed lead carded exactly once, in its group's channel.
    wait_until(
        lambda: {lead_id for lead_id, _ in card_posts(standin)} >= routed and not delivery.has_pending(ctx),
        timeout=90,
        what="every routed lead carded by the two workers",
        watch=cluster.workers,
    )
    posts = card_posts(standin)
    assert Counter(lead_id for lead_id, _ in posts) == dict.fromkeys(routed, 1)
    assert all(channel == CHANNELS[group_of[lead_id]] for lead_id, channel in posts)
    assert standin.rejected == []

    # Contested claims: 8 leads, 5 reps each, every click sent to one server and its retry to the other.
    with ctx.session_factory() as session:
        contested = list(session.scalars(select(LeadRow).where(LeadRow.id.in_(sorted(routed)[::37][:8]))))
    reps = {lead.id: [f"UREP{n}{j}" for j in range(5)] for n, lead in enumerate(contested)}
    clicks = []
    for lead in contested:
        for j, user in enumerate(reps[lead.id]):
            body = block_action_body(
                ids.CLAIM, lead.id, user, channel=lead.channel_id or "", message_ts=lead.message_ts or ""
            )
            first, other = (web_a, web_b) if j % 2 else (web_b, web_a)
            clicks.append(lambda body=body, web=first: post_to_slack_endpoint(web, body))
            clicks.append(lambda body=body, web=other: post_to_slack_endpoint(web, body, retry_num=1))

    statuses = [r.status_code for r in at_once(clicks)]

    assert statuses == [200] * len(clicks)  # every click acknowledged

    def owners() -> dict[int, str | None]:
        with ctx.session_factory() as session:
            return dict(session.execute(select(LeadRow.id, LeadRow.owner_id).where(LeadRow.id.in_(reps))).all())

    def told() -> dict[str, set[str]]:
        heard: dict[str, set[str]] = defaultdict(set)
        for call in standin.calls_to("chat.postEphemeral"):
            heard[call.params["user"]].add(call.params["text"])
        return heard

    def losers() -> set[str]:
        won = owners()
        return {u for lead_id, users in reps.items() for u in users if u != won[lead_id]}

    wait_until(
        lambda: None not in owners().values() and set(told()) >= losers(),
        timeout=30,
        what="a winner for every contested lead and an ephemeral for every loser",
        watch=cluster.webs,
    )
    wait_until(
        lambda: not delivery.has_pending(ctx),
        timeout=60,
        what="the card updates and thread lines sent",
        watch=cluster.workers,
    )

    won = owners()
    assert all(won[lead_id] in users for lead_id, users in reps.items())
    assert count_by_lead(ctx, Event, Event.kind == "claimed") == dict.fromkeys(reps, 1)
    assert count_by_lead(ctx, Claim) == dict.fromkeys(reps, 1)
    heard = told()
    assert set(heard) == losers()  # winners hear nothing, not even from their own retried click
    for lead_id, users in reps.items():
        for user in users:
            if user != won[lead_id]:
                assert heard[user] == {f"This lead is already claimed by <@{won[lead_id]}>."}
    assert count_by_lead(ctx, OutboxMessage, OutboxMessage.kind == "card_update") == dict.fromkeys(reps, 1)
    card_ts = {lead.message_ts: lead.id for lead in contested}
    updates = Counter(card_ts[c.params["ts"]] for c in standin.calls_to("chat.update"))
    lines = Counter(
        card_ts[c.params["thread_ts"]] for c in standin.calls_to("chat.postMessage") if c.params.get("thread_ts")
    )
    assert updates == dict.fromkeys(reps, 1) and lines == dict.fromkeys(reps, 1)

    # SIGTERM: the workers hand back what they hold and exit 0; uvicorn, after its graceful
    # shutdown, re-raises the SIGTERM it caught, so a web process ends "killed by SIGTERM".
    assert cluster.stop() == ([0, 0], [-signal.SIGTERM, -signal.SIGTERM])


def test_two_workers_starting_together_send_each_manager_exactly_one_digest(
    db_url: str, procs: Processes, standin: SlackStandIn, config_file: Path, ctx_on: Context
) -> None:
    ctx = ctx_on
    import_history(ctx, n=300, seed=5, end=ctx.now())  # decided leads, so the digest has figures
    engine = ctx.session_factory.kw["bind"]
    # Hold back every digest guard until both workers are about to take one: on start each
    # finds the week's digest missing and catches up, and the two race on the unique constraint.
    with engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE digest_sends IN SHARE MODE"))  # SELECTs pass, INSERTs wait
        cluster = start_cluster(procs, db_url, config_file, ctx, webs=0, workers=2)
        wait_until(
            lambda: waiting_for(engine, "digest_sends") == 2,
            timeout=60,
            what="both workers blocked taking a digest guard",
            watch=cluster.workers,
        )
        blocker.rollback()

    def finished(worker: Leadbot) -> bool:
        return any(
            "digest catch-up" in line and "executed successfully" in line for line in worker.output().splitlines()
        )

    wait_until(
        lambda: all(finished(w) for w in cluster.workers),
        timeout=60,
        what="both catch-up runs finished",
        watch=cluster.workers,
    )
    # Both had every manager pending when they reached the guard; the database let one through for each,
    # and the other found it claimed (already sent, or still being sent, which its retry checks later).
    runs = [
        re.findall(r"digest \S+: sent to (\d+), already had it (\d+), being sent elsewhere (\d+)", w.output())
        for w in cluster.workers
    ]
    assert [len(r) for r in runs] == [1, 1]
    sent, had, elsewhere = (sum(int(r[0][i]) for r in runs) for i in (0, 1, 2))
    assert sent == len(MANAGERS) and had + elsewhere == len(MANAGERS)
    assert dm_posts(standin) == {f"D{m}": 1 for m in MANAGERS}
    assert Counter(c.params["channel_id"] for c in standin.calls_to("files.completeUploadExternal")) == {
        f"D{m}": 1 for m in MANAGERS
    }  # one chart each, in the same DM
    assert standin.rejected == []

    # A restart (a deploy) does not send the week again: the guard rows say it went out.
    assert cluster.workers[0].terminate() == 0
    again = procs.worker(db_url, "--rate", str(RATE), LEADBOT_CONFIG=str(config_file))
    wait_until(lambda: "Scheduler started" in again.output(), what="the restarted worker's scheduler", watch=[again])
    assert "catching up now" not in again.output()
    # Nor does an operator sending "this week's digest now" by hand.
    code, output = procs.run(db_url, "digest", "--week", runs_week(cluster.workers[1]), LEADBOT_CONFIG=str(config_file))
    assert code == 0 and "sent to 0 manager(s); 2 already had it" in output, output
    assert dm_posts(standin) == {f"D{m}": 1 for m in MANAGERS}
    with ctx.session_factory() as session:
        assert sorted(session.scalars(select(DigestSend.manager_id))) == sorted(MANAGERS)


def runs_week(worker: Leadbot) -> str:
    """The ISO week a worker's digest run reported on (from its log)."""
    found = re.search(r"digest (\d{4}-W\d{2}): sent to", worker.output())
    assert found, worker.tail()
    return found.group(1)


def waiting_for(engine: Any, table: str) -> int:
    """How many backends wait for a lock on `table`."""
    with engine.connect() as conn:
        return int(
            conn.scalar(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE c.relname = :t AND NOT l.granted"
                ),
                {"t": table},
            )
            or 0
        )


def dm_posts(slack: SlackStandIn) -> Counter[str]:
    """Successful chat.postMessage calls per DM channel (D + user id on the stand-in)."""
    return Counter(
        c.params["channel"]
        for c in slack.calls_to("chat.postMessage")
        if str(c.params.get("channel", "")).startswith("D")
    )
