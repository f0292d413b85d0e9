"""Write-back pace: how close the worker's HubSpot lane gets to the limit HubSpot enforces.

The HubSpot stand-in enforces 50 calls per second (a token bucket of 5; 429 with
Retry-After beyond it). 1,000 claims of HubSpot leads are queued through the triage
service (one write-back each) in a fresh SQLite outbox, and the worker drains them at its
HubSpot rate set to that limit. The figure is the achieved rate (accepted PATCHes, first
to last) divided by the limit; the target is 0.9. The baseline, in the same run against a
fresh stand-in, is a bare httpx loop making the same PATCHes, each started 1/limit after
the previous one started: no database, leasing, mapping or bookkeeping.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from slack_sdk import WebClient

from bench.leadgen import records
from bot.crm.hubspot import HubSpotClient
from bot.crm.writeback import writers_of
from bot.worker import Worker, WorkerOptions
from leadqual.bootstrap import bootstrap
from leadqual.crm.changes import ChangeKind, LeadChange
from leadqual.crm.hubspot import write_back_properties
from leadqual.services import triage
from leadqual.services.context import Context
from leadqual.services.intake import ingest, validate_leads
from leadqual.settings import Settings
from tests import hubspot_standin
from tests.hubspot_standin import HubSpotStandIn
from tests.slack_standin import SlackStandIn

WRITE_BACKS = 1000
LIMIT = 50.0  # calls per second, enforced by the stand-in
TARGET = 0.9
REP = "UBENCH"


def _queued(folder: Path) -> tuple[Context, list[str]]:
    """A fresh outbox holding one claim write-back for each of WRITE_BACKS HubSpot leads."""
    settings = Settings(
        _env_file=None,
        DATABASE_URL=f"sqlite:///{folder / 'writeback.db'}",  # type: ignore[call-arg]
        LEADBOT_CHANNEL="C0LEADS",
        SLACK_BOT_TOKEN="xoxb-bench",
    )
    ctx = bootstrap(settings)
    contact_ids = [str(1000 + i) for i in range(WRITE_BACKS)]
    leads = records(WRITE_BACKS, seed=7)
    for record, contact_id in zip(leads, contact_ids, strict=True):
        record["external_id"] = f"hubspot:{contact_id}"
    stored = ingest(ctx, validate_leads(leads), post=False)
    for lead in stored:
        triage.claim(ctx, lead_id=lead.id, user_id=REP)
    return ctx, contact_ids


def _portal(contact_ids: list[str]) -> HubSpotStandIn:
    standin = HubSpotStandIn().__enter__()
    for contact_id in contact_ids:
        standin.add_contact({"email": f"c{contact_id}@example.com"}, contact_id)
    standin.limit_rate(LIMIT)
    return standin


def _pace(standin: HubSpotStandIn) -> tuple[float, int]:
    """Accepted PATCHes per second (the stand-in's clock) and how many were refused with 429."""
    times = [c.at for c in standin.calls_to("PATCH")]
    assert len(times) == WRITE_BACKS, f"{len(times)} PATCHes accepted"
    throttled = sum(1 for c in standin.calls if c.status == 429)
    return (len(times) - 1) / (times[-1] - times[0]), throttled


def _bare_loop(ctx: Context, contact_ids: list[str]) -> tuple[float, int]:
    standin = _portal(contact_ids)
    try:
        properties = write_back_properties(
            LeadChange(kind=ChangeKind.CLAIM, external_id="hubspot:0", owner_id=REP), ctx.config.crm.hubspot
        )
        with httpx.Client(headers={"Authorization": f"Bearer {hubspot_standin.TOKEN}"}) as http:
            slot = time.monotonic()
            for contact_id in contact_ids:
                wait = slot - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                slot = max(slot, time.monotonic()) + 1 / LIMIT
                http.patch(f"{standin.url}/crm/v3/objects/contacts/{contact_id}", json={"properties": properties})
        return _pace(standin)
    finally:
        standin.stop()


def _worker(ctx: Context, contact_ids: list[str]) -> tuple[float, int, float]:
    standin = _portal(contact_ids)
    try:
        with SlackStandIn(wall_clock_ts=True) as slack:
            client = WebClient(token="xoxb-bench", base_url=slack.url, retry_handlers=[])
            crm = writers_of(hubspot_client=HubSpotClient(standin.url, hubspot_standin.TOKEN))
            worker = Worker(ctx, client, options=WorkerOptions(crm_rates={"hubspot": LIMIT}), crm=crm)
            started = time.perf_counter()
            stats = worker.run(threading.Event(), once=True)
            elapsed = time.perf_counter() - started
        assert stats.sent == WRITE_BACKS and stats.dead == 0, stats
        rate, throttled = _pace(standin)
        return rate, throttled, elapsed
    finally:
        standin.stop()


def main() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        ctx, contact_ids = _queued(Path(tmp))
        bare, bare_429 = _bare_loop(ctx, contact_ids)
        ours, ours_429, elapsed = _worker(ctx, contact_ids)
        ctx.session_factory.kw["bind"].dispose()
    ratio = ours / LIMIT
    print(
        f"writeback: {WRITE_BACKS} HubSpot write-backs in {elapsed:.2f}s = {ours:.2f}/s, {ratio:.3f} of the "
        f"{LIMIT:g}/s limit, {ours_429} x 429; bare httpx loop {bare:.2f}/s ({bare / LIMIT:.3f}, {bare_429} x 429)"
    )
    return [
        {
            "benchmark": "writeback",
            "figure": f"HubSpot pace ({WRITE_BACKS} write-backs at an enforced {LIMIT:g}/s)",
            "value": f"{ours:.2f}/s ({ours_429} x 429)",
            "baseline": f"{LIMIT:g}/s enforced limit",
            "ratio": round(ratio, 3),
            "target": f">= {TARGET}",
            "ok": ratio >= TARGET,
        },
        {
            "benchmark": "writeback",
            "figure": "HubSpot pace vs a bare httpx loop at the limit",
            "value": f"{ours:.2f}/s",
            "baseline": f"{bare:.2f}/s bare loop ({bare_429} x 429)",
            "ratio": round(ours / bare, 3),
            "target": f">= {TARGET}",
            "ok": ours / bare >= TARGET,
        },
    ]


if __name__ == "__main__":
    main()
