"""How the worker delivers (WorkerOptions) and what it reports (WorkerStats)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

from leadqual.services import delivery
from leadqual.services.delivery import Lease


@dataclass(frozen=True)
class WorkerOptions:
    """How fast and how stubbornly the worker delivers."""

    rate_per_channel: float = 1.0  # calls per second per channel
    lease: timedelta = delivery.DEFAULT_LEASE
    max_attempts: int | None = None  # None: no cap on count; `give_up_after` decides
    give_up_after: timedelta = delivery.DEFAULT_GIVE_UP_AFTER
    batch: int = 100  # rows leased per poll, at most
    read_ahead: int = 2  # rows held per channel
    concurrency: int = 4  # sends in flight (one per channel)
    poll_interval: float = 0.5  # seconds between polls when idle
    # Look at once when a commit queued rows: in this process, and on PostgreSQL through LISTEN/NOTIFY.
    wake_on_commit: bool = True
    listen_postgres: bool = True
    backoff_base: float = 2.0  # seconds before the first retry
    backoff_cap: float = 300.0
    http_timeout: float = 30.0  # the client's; no send starts that could outlive its lease
    history_margin: timedelta = timedelta(minutes=2)  # clock skew allowance for the history lookup
    once_horizon: timedelta = timedelta(minutes=5)  # `once` waits for retries due this soon, leaves later ones
    # CRM write-backs: one lane per CRM, paced at its rate (calls per second), apart from Slack's lanes.
    crm_rates: dict[str, float] = field(default_factory=lambda: {"hubspot": 10.0, "salesforce": 5.0})
    crm_concurrency: int = 3  # write-backs in flight per CRM (different leads; one per lead)
    crm_read_ahead: float = 2.0  # seconds of a CRM lane's rate leased ahead (at least 2 rows)
    # A 401 (token expired or revoked): the CRM's rows wait this long, then try again; never dead.
    crm_unauthorized_wait: timedelta = timedelta(minutes=5)
    crm_missing_log_every: float = 300.0  # seconds between "rows wait: CRM not configured" lines

    def crm_rate(self, crm: str) -> float:
        return self.crm_rates.get(crm, 5.0)

    def backoff(self, attempts: int) -> timedelta:
        """Exponential backoff with jitter (half fixed, half random) for the `attempts`-th failure."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1))
        return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))


@dataclass
class WorkerStats:
    sent: int = 0
    found: int = 0  # cards already in Slack from an attempt that crashed before marking
    skipped: int = 0
    retried: int = 0
    rate_limited: int = 0
    dead: int = 0
    lost: int = 0  # leases that ran out or were taken over before sending
    unauthorized: int = 0  # CRM write-backs held back by a 401 (they wait, never dead)

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Done:
    lease: Lease
    outcome: str  # sent | found | skipped | retry | ratelimited | unauthorized | dead | lost | unmarked
    finished: float  # time.monotonic() when Slack's answer (or the error) arrived
    called: bool = True  # whether a paced call reached Slack
    retry_after: float = 0.0
