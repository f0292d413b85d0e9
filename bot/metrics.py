"""Prometheus metrics: what the engineer on call watches (docs/operations.md lists the alerts).

Two kinds:
- What describes the database (outbox depth, the oldest pending row's age, dead rows) is
  read from it at scrape time by `OutboxCollector`, so every process scraped tells the
  same truth, however many web processes and workers share the database.
- What happens in one process (a send and its latency, a 429, a retry, a lead ingested, a
  claim, a digest run) is counted where it happens, through the small functions below;
  each process exposes its own counts (`leadbot serve` on GET /metrics, `leadbot worker`
  with `--metrics-port`), and Prometheus sums them.

The domain (`leadqual/`) knows nothing of this: the bot's edges call these hooks with what
the services returned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from leadqual.db.models import OutboxMessage
from leadqual.services.context import Context
from leadqual.statuses import OutboxStatus

if TYPE_CHECKING:
    from bot.digest import SendReport
    from leadqual.readmodels import Applied
    from leadqual.services.intake import Ingested

log = logging.getLogger(__name__)

__all__ = [
    "CONTENT_TYPE_LATEST",
    "OutboxCollector",
    "claimed",
    "crm_written",
    "digest_ran",
    "ingested",
    "rate_limited",
    "registry",
    "render",
    "retried",
    "sent",
]

# Slack answers in tens of milliseconds when healthy; the tail shows a struggling API or network.
SEND_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Speed to lead: minutes matter, and an unattended queue shows up in hours.
CLAIM_BUCKETS = (60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 24 * 3600)

SEND_SECONDS = Histogram(
    "leadbot_slack_send_seconds",
    "Seconds from an outbox row's paced slot to Slack's ok",
    ["kind"],
    buckets=SEND_BUCKETS,
)
RATE_LIMITED = Counter("leadbot_slack_rate_limited", "Slack answers of 429 (ratelimited) to outbox sends", ["kind"])
RETRIES = Counter("leadbot_outbox_retries", "Outbox sends that failed transiently and were rescheduled", ["kind"])
LEADS = Counter(
    "leadbot_leads_ingested", "New leads stored (duplicates not counted), by group and way in", ["group", "via"]
)
DUPLICATES = Counter("leadbot_leads_duplicate", "Leads received that were already known", ["via"])
CLAIM_SECONDS = Histogram(
    "leadbot_claim_latency_seconds", "Seconds from a lead's arrival to a rep's claim", buckets=CLAIM_BUCKETS
)
DIGEST_RUNS = Counter(
    "leadbot_digest_runs", "Weekly digest runs (scheduled, catch-up or retry), by outcome", ["outcome"]
)


# -- hooks, one call at each site ------------------------------------------------------


CRM_WRITEBACKS = Counter(
    "leadbot_crm_writebacks",
    "CRM write-back attempts by CRM and outcome (delivered, ratelimited, unauthorized, retry, dead)",
    ["crm", "outcome"],
)


def crm_written(crm: str, outcome: str) -> None:
    CRM_WRITEBACKS.labels(crm=crm, outcome=outcome).inc()


def sent(kind: str, seconds: float) -> None:
    """An outbox row reached Slack `seconds` after it could go (taken, and its channel's pace allowing)."""
    SEND_SECONDS.labels(kind).observe(max(seconds, 0.0))


def rate_limited(kind: str) -> None:
    RATE_LIMITED.labels(kind).inc()


def retried(kind: str) -> None:
    RETRIES.labels(kind).inc()


def ingested(results: Iterable[Ingested], *, via: str) -> None:
    """Count what intake stored (`via`: api, slack)."""
    for result in results:
        if result.duplicate:
            DUPLICATES.labels(via).inc()
        else:
            LEADS.labels(result.group.value, via).inc()


def claimed(applied: Applied) -> None:
    """A claim that changed the lead: how long the lead waited for it."""
    card = applied.card
    if applied.changed and card.claimed_at is not None:
        CLAIM_SECONDS.observe(max((card.claimed_at - card.received_at).total_seconds(), 0.0))


def digest_ran(report: SendReport) -> None:
    """One digest run: failed (some manager did not get it), waiting (another process is sending), sent, or none due."""
    outcome = (
        "failed" if report.failed else "waiting" if report.waiting else "sent" if report.sent else "nothing_to_send"
    )
    DIGEST_RUNS.labels(outcome).inc()


# -- what the database says, at scrape time ----------------------------------------------


class OutboxCollector(Collector):
    """Outbox depth by kind and status, the oldest pending row's age and the dead rows, read at each scrape."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("leadbot_database_up", "1 when the scrape could read the database")
        try:
            depth, oldest = self._read()
        except Exception as exc:  # a scrape must answer even when the database does not
            log.warning("metrics: cannot read the outbox (%s)", exc.__class__.__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        rows = GaugeMetricFamily("leadbot_outbox_rows", "Outbox rows by kind and status", labels=["kind", "status"])
        for (kind, status), n in sorted(depth.items()):
            rows.add_metric([kind, status], n)
        yield rows
        dead = sum(n for (_kind, status), n in depth.items() if status == OutboxStatus.DEAD)
        yield GaugeMetricFamily(
            "leadbot_outbox_dead_rows", "Outbox rows that gave up: `leadbot outbox` shows why", value=dead
        )
        age = 0.0 if oldest is None else max((self.ctx.now() - oldest).total_seconds(), 0.0)
        yield GaugeMetricFamily(
            "leadbot_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox row (0 when none is pending)",
            value=age,
        )

    def _read(self) -> tuple[dict[tuple[str, str], int], datetime | None]:
        with self.ctx.reading() as session:
            depth = {
                (kind, status): int(n)
                for kind, status, n in session.execute(
                    select(OutboxMessage.kind, OutboxMessage.status, func.count()).group_by(
                        OutboxMessage.kind, OutboxMessage.status
                    )
                )
            }
            oldest = session.scalar(
                select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == OutboxStatus.PENDING)
            )
        return depth, oldest


class _Scrape(Collector):
    """This process's events (the default registry) and the database's state, in one exposition."""

    def __init__(self, ctx: Context) -> None:
        self.outbox = OutboxCollector(ctx)

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        yield from self.outbox.collect()


def registry(ctx: Context) -> CollectorRegistry:
    """A registry to expose for a process working on `ctx`'s database."""
    found = CollectorRegistry(auto_describe=False)
    found.register(_Scrape(ctx))
    return found


def render(ctx_registry: CollectorRegistry) -> bytes:
    """The Prometheus text format of `ctx_registry`."""
    return generate_latest(ctx_registry)
