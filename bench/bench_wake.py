"""Latency to card: from `POST /leads` answered to the card reaching Slack, polling against waking.

Each mode posts LEADS leads one at a time through the real FastAPI app (in-process), with a
random pause before each so the worker is caught at every point of its poll cycle, and
times each from the 202 to the stand-in's receipt of that lead's `chat.postMessage`:

- polling: the worker finds the row at its next poll (the default 0.5 s interval);
- woken in-process: the commit rings the worker running in the same process;
- woken by NOTIFY (PostgreSQL): only the database's notification wakes the worker, as for
  a worker in another process.

Baseline, in the same run: the stand-in's own round trip, a `chat.postMessage` timed at the
client (what a card costs once someone sends it).
"""

from __future__ import annotations

import dataclasses
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from slack_sdk import WebClient
from sqlalchemy.engine import make_url

from bot.http import create_http_app
from bot.worker import Worker, WorkerOptions
from leadqual.bootstrap import bootstrap
from leadqual.db.engine import make_engine, upgrade_schema
from tests.bot_helpers import PRIORITY_LEAD
from tests.conftest import PG_SERVER, make_settings
from tests.slack_standin import SlackStandIn

LEADS = 40
PAUSE = 0.5  # the most a lead waits before it is posted (random, uniform)
TARGET = 0.5  # woken p95 as a share of polling's p95


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@contextmanager
def _postgres() -> Iterator[str | None]:
    admin = make_engine(PG_SERVER, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    name = f"leadbot_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError:
        yield None
        return
    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url, poolclass=sa.pool.NullPool)
        upgrade_schema(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _measure(db_url: str, slack: SlackStandIn, options: WorkerOptions) -> list[float]:
    settings = make_settings(db_url, SLACK_API_URL=slack.url)
    ctx = bootstrap(settings, migrate=True)
    client = WebClient(token="xoxb-test-token", base_url=slack.url, retry_handlers=[], timeout=10)
    worker = Worker(ctx, client, options=options, worker_id="bench-wake")
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    worker.wait_ready(30)
    latencies: list[float] = []
    rng = random.Random(7)
    try:
        with TestClient(create_http_app(ctx, settings)) as http:
            for n in range(LEADS):
                time.sleep(rng.uniform(0, PAUSE))
                before = len(slack.calls_to("chat.postMessage"))
                tag = f"{uuid.uuid4().hex[:8]}-{n}"
                contact = {**PRIORITY_LEAD["contact"], "email": f"buyer-{tag}@acmemetals.com"}
                lead = {**PRIORITY_LEAD, "external_id": f"wake-{tag}", "contact": contact}
                answer = http.post("/leads", json=lead, headers={"Authorization": "Bearer intake-secret"})
                answered = time.monotonic()
                assert answer.status_code == 202, answer.text
                deadline = answered + 30
                while len(slack.calls_to("chat.postMessage")) == before:
                    if time.monotonic() > deadline:
                        raise RuntimeError("a card did not arrive within 30 s")
                    time.sleep(0.001)
                latencies.append(max(0.0, slack.calls_to("chat.postMessage")[-1].at - answered))
    finally:
        stop.set()
        worker.wake()
        thread.join(timeout=30)
        ctx.session_factory.kw["bind"].dispose()
    return latencies


def _round_trips(slack: SlackStandIn) -> list[float]:
    client = WebClient(token="xoxb-test-token", base_url=slack.url, retry_handlers=[], timeout=10)
    times = []
    for n in range(LEADS):
        started = time.monotonic()
        client.chat_postMessage(channel="CBASELINE", text=f"round trip {n}")
        times.append(time.monotonic() - started)
    return times


def measure() -> tuple[dict[str, list[float]], list[float]]:
    # Paced well above the leads' arrival, so what is measured is finding the row, not waiting for a slot.
    polling = WorkerOptions(rate_per_channel=50, wake_on_commit=False, listen_postgres=False)
    modes: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, SlackStandIn(wall_clock_ts=True) as slack:
        slack.rate_limit("chat.postMessage", per_second=None)
        baseline = _round_trips(slack)
        modes["polling (SQLite)"] = _measure(f"sqlite:///{Path(tmp) / 'poll.db'}", slack, polling)
        woken = dataclasses.replace(polling, wake_on_commit=True)
        modes["woken in-process (SQLite)"] = _measure(f"sqlite:///{Path(tmp) / 'wake.db'}", slack, woken)
        with _postgres() as pg_url:
            if pg_url is not None:
                notify = dataclasses.replace(polling, listen_postgres=True)
                modes["woken by NOTIFY (PostgreSQL)"] = _measure(pg_url, slack, notify)
    return modes, baseline


def main() -> list[dict[str, Any]]:
    modes, baseline = measure()
    trip50, trip95 = _percentile(baseline, 0.5), _percentile(baseline, 0.95)
    poll95 = _percentile(modes["polling (SQLite)"], 0.95)
    print(f"stand-in round trip: p50 {trip50 * 1000:.1f} ms, p95 {trip95 * 1000:.1f} ms")
    rows = []
    for mode, values in modes.items():
        p50, p95 = _percentile(values, 0.5), _percentile(values, 0.95)
        print(f"{mode}: p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, mean {statistics.mean(values) * 1000:.1f}")
        woken = not mode.startswith("polling")
        rows.append(
            {
                "benchmark": "wake",
                "figure": f"POST /leads answered -> card posted, p50 / p95 ms, {mode}",
                "value": f"{p50 * 1000:.0f} / {p95 * 1000:.0f}",
                "baseline": f"{trip50 * 1000:.0f} / {trip95 * 1000:.0f} stand-in round trip",
                "ratio": round(p95 / trip95, 1),
                "target": f"p95 < {TARGET} x polling's" if woken else "(reported)",
                "ok": p95 < TARGET * poll95 if woken else None,
            }
        )
    return rows


if __name__ == "__main__":
    main()
