"""Delivery pace: how close the outbox worker gets to Slack's per-channel limit.

The Slack stand-in enforces 5 chat.postMessage per second per channel (429 with
Retry-After beyond it). The worker delivers 3 channels x 15 cards from a fresh SQLite
outbox, rendering each card with the real renderer. The figure is the achieved rate per
channel (accepted posts, first to last) divided by the enforced limit; the target is 0.95
with no 429 at all. The baseline, in the same run against a fresh stand-in, is a bare
WebClient loop per channel posting the same pre-rendered cards, each one 1/limit after
the previous answer: the best pace a client can keep without ever being throttled, with
no database, leasing, rendering or bookkeeping.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from slack_sdk import WebClient

from bench.leadgen import records
from bot.slack.messages import render_outbox
from bot.worker import Worker, WorkerOptions
from leadqual.bootstrap import bootstrap
from leadqual.db.models import OutboxMessage
from leadqual.services import outbox
from leadqual.services.context import Context
from leadqual.services.intake import ingest, validate_leads
from leadqual.settings import Settings
from tests.slack_standin import SlackStandIn

CHANNELS = ["CBENCH1", "CBENCH2", "CBENCH3"]
PER_CHANNEL = 15
LIMIT = 5.0  # posts per second per channel, enforced by the stand-in
TARGET = 0.95


def _outbox(folder: Path) -> Context:
    settings = Settings(
        _env_file=None,
        DATABASE_URL=f"sqlite:///{folder / 'delivery.db'}",  # type: ignore[call-arg]
        LEADBOT_CHANNEL="C0LEADS",
        SLACK_BOT_TOKEN="xoxb-bench",
    )
    ctx = bootstrap(settings)
    leads = ingest(ctx, validate_leads(records(len(CHANNELS) * PER_CHANNEL, seed=5)), post=False)
    now = ctx.now()
    with ctx.transaction() as session:
        outbox.enqueue_many(
            session,
            [
                {
                    "kind": outbox.CARD,
                    "lead_id": r.id,
                    "channel_id": CHANNELS[i % len(CHANNELS)],
                    "payload": {},
                    "dedupe_key": f"card:{r.id}",
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for i, r in enumerate(leads)
            ],
        )
    return ctx


def _rendered(ctx: Context) -> list[dict[str, Any]]:
    with ctx.session_factory() as session:
        return [render_outbox(ctx, session, row) for row in session.query(OutboxMessage).order_by(OutboxMessage.id)]


def _pace(slack: SlackStandIn) -> list[float]:
    """Accepted posts per second, per channel, from the stand-in's own clock."""
    rates = []
    for channel in CHANNELS:
        times = slack.accepted_times(channel, "chat.postMessage")
        assert len(times) == PER_CHANNEL, f"{channel}: {len(times)} posts accepted"
        rates.append((len(times) - 1) / (times[-1] - times[0]))
    return rates


def _throttled(slack: SlackStandIn) -> int:
    return sum(1 for c in slack.calls if c.status == 429)


def _bare_loop(messages: list[dict[str, Any]]) -> tuple[list[float], int]:
    with SlackStandIn(wall_clock_ts=True) as slack:
        slack.rate_limit("chat.postMessage", per_second=LIMIT)
        client = WebClient(token="xoxb-bench", base_url=slack.url, retry_handlers=[])

        def post(channel: str) -> None:
            for kwargs in (m for m in messages if m["channel"] == channel):
                client.chat_postMessage(**kwargs)
                time.sleep(1 / LIMIT)

        threads = [threading.Thread(target=post, args=(c,)) for c in CHANNELS]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return _pace(slack), _throttled(slack)


def _worker(ctx: Context) -> tuple[list[float], int, float]:
    with SlackStandIn(wall_clock_ts=True) as slack:
        slack.rate_limit("chat.postMessage", per_second=LIMIT)
        client = WebClient(token="xoxb-bench", base_url=slack.url, retry_handlers=[])
        worker = Worker(ctx, client, options=WorkerOptions(rate_per_channel=LIMIT))
        started = time.perf_counter()
        stats = worker.run(threading.Event(), once=True)
        elapsed = time.perf_counter() - started
        assert stats.sent == len(CHANNELS) * PER_CHANNEL and not slack.rejected, (stats, slack.rejected[:1])
        return _pace(slack), _throttled(slack), elapsed


def main() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        ctx = _outbox(Path(tmp))
        bare, bare_429 = _bare_loop(_rendered(ctx))
        ours, ours_429, elapsed = _worker(ctx)
        ctx.session_factory.kw["bind"].dispose()
    mean_ours, mean_bare = sum(ours) / len(ours), sum(bare) / len(bare)
    ratio = mean_ours / LIMIT
    print(
        f"delivery: {len(CHANNELS)} channels x {PER_CHANNEL} cards in {elapsed:.2f}s; per channel "
        f"{', '.join(f'{r:.2f}' for r in ours)} msgs/s = {ratio:.3f} of the {LIMIT:g}/s limit, {ours_429} x 429; "
        f"bare WebClient loop {mean_bare:.2f}/s ({mean_bare / LIMIT:.3f}, {bare_429} x 429)"
    )
    return [
        {
            "benchmark": "delivery",
            "figure": f"pace per channel ({len(CHANNELS)}x{PER_CHANNEL} cards, 0 x 429 needed)",
            "value": f"{mean_ours:.2f} msg/s (min {min(ours):.2f}, {ours_429} x 429)",
            "baseline": f"{LIMIT:g}/s enforced limit",
            "ratio": round(ratio, 3),
            "target": f">= {TARGET}",
            "ok": min(ours) / LIMIT >= TARGET and ours_429 == 0,
        },
        {
            "benchmark": "delivery",
            "figure": "pace vs a bare WebClient loop at the limit",
            "value": f"{mean_ours:.2f} msg/s",
            "baseline": f"{mean_bare:.2f} msg/s bare loop ({bare_429} x 429)",
            "ratio": round(mean_ours / mean_bare, 3),
            "target": f">= {TARGET}",
            "ok": mean_ours / mean_bare >= TARGET,
        },
    ]


if __name__ == "__main__":
    main()
