"""The delivery worker: send the outbox to Slack at Slack's pace, and run the scheduled jobs.

One scheduling thread leases rows (see `leadqual.services.delivery`), keeps a small queue
per channel and hands each send to a thread pool, never more than one in flight per
channel. Each channel has its own next-allowed time: the answer time of its last call plus
1/rate, so calls reach Slack at no more than the rate even with network jitter
(https://docs.slack.dev/apis/web-api/rate-limits: about one message per second per
channel). A 429 holds back only its own channel, for the `Retry-After` seconds; 5xx and
connection errors retry with exponential backoff and jitter; other Slack errors are final
and the row goes dead (visible, re-queueable).

A row is marked sent only after Slack answered ok. A card, thread line or DM carries its
outbox id in the message metadata, so if the process died after Slack posted it but before
the database knew, the next attempt finds it in Slack instead of posting it again
(`bot.redelivery`); a repeated chat.update is harmless, it always sends the whole card.
"""

from __future__ import annotations

import http.client
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot import metrics, redelivery
from bot.redelivery import TRANSIENT_ERRORS
from leadqual.db.models import OutboxMessage
from leadqual.errors import CardNotPosted, LeadNotFound
from leadqual.services import delivery, outbox
from leadqual.services.context import Context
from leadqual.services.delivery import Lease
from leadqual.services.sla import sla_tick

log = logging.getLogger("leadbot.worker")

Render = Callable[[Context, Session, OutboxMessage], "dict[str, Any] | None"]

METHODS = {
    outbox.CARD: "chat_postMessage",
    outbox.THREAD: "chat_postMessage",
    outbox.DM: "chat_postMessage",
    outbox.CARD_UPDATE: "chat_update",
    outbox.EPHEMERAL: "chat_postEphemeral",
}
NETWORK_ERRORS = (OSError, http.client.HTTPException, socket.timeout)
CARD_WAIT = timedelta(seconds=5)
PREPARE_AHEAD = 0.05  # seconds before a channel's next slot that its next row is rendered


@dataclass(frozen=True)
class WorkerOptions:
    """How fast and how stubbornly the worker delivers."""

    rate_per_channel: float = 1.0        # calls per second per channel
    lease: timedelta = delivery.DEFAULT_LEASE
    max_attempts: int | None = None      # None: no cap on count; `give_up_after` decides
    give_up_after: timedelta = delivery.DEFAULT_GIVE_UP_AFTER
    batch: int = 100                     # rows leased per poll, at most
    read_ahead: int = 2                  # rows held per channel
    concurrency: int = 4                 # sends in flight (one per channel)
    poll_interval: float = 0.5           # seconds between polls when idle
    backoff_base: float = 2.0            # seconds before the first retry
    backoff_cap: float = 300.0
    http_timeout: float = 30.0           # the client's; no send starts that could outlive its lease
    history_margin: timedelta = timedelta(minutes=2)  # clock skew allowance for the history lookup
    once_horizon: timedelta = timedelta(minutes=5)  # `once` waits for retries due this soon, leaves later ones

    def backoff(self, attempts: int) -> timedelta:
        """Exponential backoff with jitter (half fixed, half random) for the `attempts`-th failure."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1))
        return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))


@dataclass
class WorkerStats:
    sent: int = 0
    found: int = 0      # cards already in Slack from an attempt that crashed before marking
    skipped: int = 0
    retried: int = 0
    rate_limited: int = 0
    dead: int = 0
    lost: int = 0       # leases that ran out or were taken over before sending

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class _Done:
    lease: Lease
    outcome: str         # sent | found | skipped | retry | ratelimited | dead | lost | unmarked
    finished: float      # time.monotonic() when Slack's answer (or the error) arrived
    called: bool = True  # whether a paced call reached Slack
    retry_after: float = 0.0


@dataclass
class _Lane:
    queue: deque[Lease] = field(default_factory=deque)
    busy: bool = False


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """Drain the outbox to Slack; `run(stop)` until `stop` is set (or, with once=True, until empty)."""

    def __init__(self, ctx: Context, client: WebClient, *, render: Render | None = None,
                 options: WorkerOptions | None = None, worker_id: str | None = None) -> None:
        if render is None:
            from bot.slack.messages import render_outbox  # the interactive app's renderer

            render = render_outbox
        self.ctx = ctx
        self.client = client
        self.render = render
        self.options = options or WorkerOptions()
        self.worker_id = worker_id or default_worker_id()
        self.stats = WorkerStats()
        self._interval = 1.0 / self.options.rate_per_channel
        self._lanes: dict[str, _Lane] = {}
        self._next_allowed: dict[str, float] = {}  # per channel, time.monotonic()
        self._holding: dict[int, float] = {}       # leased row id -> last moment to start sending it
        self._dm_channels: dict[str, str] = {}
        self._wake = threading.Event()

    # -- the scheduling loop -------------------------------------------------

    def run(self, stop: threading.Event, *, once: bool = False) -> WorkerStats:
        """Deliver until `stop` is set; with `once`, stop when nothing is pending within `once_horizon`."""
        opts = self.options
        inflight: dict[str, Future[_Done]] = {}
        last_poll = float("-inf")
        changed = True
        with ThreadPoolExecutor(max_workers=opts.concurrency, thread_name_prefix="leadbot-send") as pool:
            while not stop.is_set():
                # Cleared before looking, so a send finishing from here on wakes the wait below.
                self._wake.clear()
                for key, future in list(inflight.items()):
                    if future.done():
                        del inflight[key]
                        self._settle(key, future.result())
                        changed = True
                now = time.monotonic()
                # Poll when something moved (a channel may have a new head) or when idle long enough.
                if (changed and now - last_poll >= 0.02) or now - last_poll >= opts.poll_interval:
                    self._poll()
                    last_poll, changed = now, False
                self._dispatch(pool, inflight)
                if once and not inflight and not self._held() and not self._pending_soon():
                    break
                self._wake.wait(self._until_next(last_poll))
            for key, future in inflight.items():  # finish what is on the wire, then hand back the rest
                self._settle(key, future.result())
        leftover = [lease for lane in self._lanes.values() for lease in lane.queue]
        if leftover:
            self._give_back(leftover)
            log.info("handed back %d leased rows on shutdown", len(leftover))
        self._lanes.clear()
        return self.stats

    def _poll(self) -> None:
        held = self._held()
        try:
            leases = delivery.lease_due(self.ctx, limit=self.options.batch, worker_id=self.worker_id,
                                        lease=self.options.lease, per_channel=self.options.read_ahead, held=held)
        except SQLAlchemyError as exc:
            log.warning("could not lease outbox rows (will retry): %s", exc.__class__.__name__)
            return
        # No send may start so late that it could still be on the wire when the lease ends.
        margin = min(self.options.http_timeout + 5, self.options.lease.total_seconds() / 2)
        deadline = time.monotonic() + self.options.lease.total_seconds() - margin
        for lease in leases:
            self._lanes.setdefault(_lane_key(lease), _Lane()).queue.append(lease)
            self._holding[lease.id] = deadline

    def _dispatch(self, pool: ThreadPoolExecutor, inflight: dict[str, Future[_Done]]) -> None:
        now = time.monotonic()
        for key, lane in self._lanes.items():
            if len(inflight) >= self.options.concurrency:
                return
            not_before = self._next_allowed.get(key, 0.0)
            # Hand the row over a little early: rendering happens before the paced moment, not after it.
            if lane.busy or not lane.queue or not_before - now > PREPARE_AHEAD:
                continue
            lease = lane.queue.popleft()
            if self._holding.get(lease.id, 0.0) < now:
                self._give_back([lease])
                self.stats.lost += 1
                continue
            lane.busy = True
            future = pool.submit(self._deliver, lease, not_before)
            future.add_done_callback(lambda _f: self._wake.set())
            inflight[key] = future

    def _settle(self, key: str, done: _Done) -> None:
        lane = self._lanes[key]
        lane.busy = False
        self._holding.pop(done.lease.id, None)
        pause = done.retry_after if done.outcome == "ratelimited" else self._interval if done.called else 0.0
        self._next_allowed[key] = max(self._next_allowed.get(key, 0.0), done.finished + pause)
        setattr(self.stats, _STAT[done.outcome], getattr(self.stats, _STAT[done.outcome]) + 1)
        if done.outcome in ("ratelimited", "retry", "unmarked") and lane.queue:
            # The rows behind must not overtake the one that failed: give them back; they
            # wait behind it at the head of their channel.
            behind = list(lane.queue)
            lane.queue.clear()
            self._give_back(behind)
        if not lane.queue:
            del self._lanes[key]
        now = time.monotonic()
        for channel in [c for c, t in self._next_allowed.items() if t < now - 60]:
            del self._next_allowed[channel]

    def _give_back(self, leases: list[Lease]) -> None:
        for lease in leases:
            self._holding.pop(lease.id, None)
        self._safely(lambda: delivery.release(self.ctx, leases), 0)

    def _pending_soon(self) -> bool:
        due_by = self.ctx.now() + self.options.once_horizon
        return bool(self._safely(lambda: delivery.has_pending(self.ctx, due_by=due_by), True))

    def _held(self) -> set[int]:
        return set(self._holding)

    def _until_next(self, last_poll: float) -> float:
        now = time.monotonic()
        wake = last_poll + self.options.poll_interval
        for key, lane in self._lanes.items():
            if lane.queue and not lane.busy:
                wake = min(wake, self._next_allowed.get(key, 0.0) - PREPARE_AHEAD)
        return min(max(wake - now, 0.001), self.options.poll_interval)

    # -- one delivery (pool threads) -------------------------------------------

    def _deliver(self, lease: Lease, not_before: float = 0.0) -> _Done:
        try:
            return self._deliver_one(lease, not_before)
        except Exception as exc:  # a bug must not stop the worker: the row is retried, then goes dead
            log.exception("delivering %s #%d failed unexpectedly", lease.kind, lease.id)
            return self._transient(lease, f"{exc.__class__.__name__}: {exc}", time.monotonic())

    def _deliver_one(self, lease: Lease, not_before: float) -> _Done:
        started = time.monotonic()
        try:
            kwargs = self._render(lease)
        except _Outcome as result:
            return _Done(lease, result.outcome, time.monotonic(), called=False)
        if kwargs is None:
            self._mark(lease, None, None)
            self._log_send(lease, "skipped (nothing to send)", None, started)
            return _Done(lease, "skipped", time.monotonic(), called=False)
        try:
            if lease.kind == outbox.DM:
                kwargs["channel"] = self._dm_channel(str(kwargs["channel"]))
            if lease.kind in redelivery.LOOKED_UP:
                kwargs["metadata"] = redelivery.stamp(kwargs.get("metadata"), lease)
                if lease.tried_before:
                    ts = redelivery.find_posted(self.client, kwargs, lease, margin=self.options.history_margin)
                    if ts is not None:
                        marked = self._mark(lease, ts, str(kwargs["channel"]))
                        self._log_send(lease, "found already posted", ts, started)
                        return _Done(lease, "found" if marked else "unmarked", time.monotonic(), called=False)
            wait = not_before - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            response = getattr(self.client, METHODS[lease.kind])(**kwargs)
        except SlackApiError as exc:
            return self._failed(lease, exc, started)
        except NETWORK_ERRORS as exc:
            return self._transient(lease, f"{exc.__class__.__name__}: {exc}", time.monotonic())
        finished = time.monotonic()
        ts = response.get("ts") or response.get("message_ts")
        marked = self._mark(lease, ts, response.get("channel"))
        metrics.sent(lease.kind, finished - max(started, not_before))
        self._log_send(lease, "sent", ts, started)
        return _Done(lease, "sent" if marked else "unmarked", finished)

    def _render(self, lease: Lease) -> dict[str, Any] | None:
        try:
            with self.ctx.session_factory() as session:
                row = session.get(OutboxMessage, lease.id)
                if row is None or row.status != delivery.PENDING or row.next_attempt_at != lease.until:
                    raise _Outcome("lost")  # someone else holds it now
                if lease.kind not in METHODS:
                    raise _Outcome(self._dead(lease, f"unknown outbox kind {lease.kind!r}"))
                rendered = self.render(self.ctx, session, row)
                return dict(rendered) if rendered is not None else None
        except _Outcome:
            raise
        except LeadNotFound:
            return None
        except CardNotPosted:
            # Leasing already holds these back; if one slips through, wait for the card without using an attempt.
            self._safely(lambda: delivery.retry_later(self.ctx, lease.id, CARD_WAIT, "waiting for the card",
                                                      until=lease.until, counts=False), False)
            raise _Outcome("retry") from None
        except SQLAlchemyError as exc:
            outcome = self._transient(lease, f"database: {exc.__class__.__name__}", time.monotonic()).outcome
            raise _Outcome(outcome) from None
        except Exception as exc:  # a rendering bug: this row cannot be sent as it is
            log.exception("rendering outbox row %d (%s) failed", lease.id, lease.kind)
            raise _Outcome(self._dead(lease, f"render failed: {exc.__class__.__name__}: {exc}")) from None

    def _failed(self, lease: Lease, exc: SlackApiError, started: float) -> _Done:
        finished = time.monotonic()
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"http_{status}")
        if status == 429 or error == "ratelimited":
            retry_after = _retry_after(exc.response.headers)
            self._safely(lambda: delivery.retry_later(self.ctx, lease.id, timedelta(seconds=retry_after),
                                                      f"ratelimited (Retry-After {retry_after:g}s)",
                                                      until=lease.until, counts=False), False)
            log.info("rate limited on %s: holding the channel for %gs", lease.channel_id, retry_after)
            metrics.rate_limited(lease.kind)
            return _Done(lease, "ratelimited", finished, retry_after=retry_after)
        if status >= 500 or error in TRANSIENT_ERRORS:
            return self._transient(lease, f"{error} (HTTP {status})", finished)
        log.warning("%s #%d for lead %s refused by Slack: %s", lease.kind, lease.id, lease.lead_id, error)
        return _Done(lease, self._dead(lease, f"slack: {error}"), finished)

    def _transient(self, lease: Lease, error: str, finished: float) -> _Done:
        too_many = self.options.max_attempts is not None and lease.attempts >= self.options.max_attempts
        too_old = self.ctx.now() - lease.created_at >= self.options.give_up_after
        if too_many or too_old:
            log.warning("%s #%d for lead %s: giving up after %d attempts: %s",
                        lease.kind, lease.id, lease.lead_id, lease.attempts, error)
            return _Done(lease, self._dead(lease, f"gave up after {lease.attempts} attempts: {error}"), finished)
        delay = self.options.backoff(lease.attempts)
        self._safely(lambda: delivery.retry_later(self.ctx, lease.id, delay, error, until=lease.until), False)
        metrics.retried(lease.kind)
        log.info("%s #%d for lead %s failed (%s); retry %d in %.1fs",
                 lease.kind, lease.id, lease.lead_id, error, lease.attempts + 1, delay.total_seconds())
        return _Done(lease, "retry", finished)

    def _dead(self, lease: Lease, error: str) -> str:
        self._safely(lambda: delivery.mark_dead(self.ctx, lease.id, error), False)
        return "dead"

    def _mark(self, lease: Lease, ts: str | None, channel: str | None) -> bool:
        """Record Slack's answer; a database hiccup is retried, since Slack already has the message."""
        for attempt in range(5):
            try:
                delivery.mark_sent(self.ctx, lease.id, ts, channel_id=channel)
                return True
            except SQLAlchemyError as exc:
                log.warning("marking row %d sent failed (%s), attempt %d", lease.id, exc.__class__.__name__, attempt)
                time.sleep(0.2 * 2 ** attempt)
        log.error("row %d reached Slack (ts=%s) but could not be marked sent", lease.id, ts)
        return False

    def _dm_channel(self, user_or_channel: str) -> str:
        if user_or_channel[:1] not in ("U", "W"):
            return user_or_channel
        channel = self._dm_channels.get(user_or_channel)
        if channel is None:
            channel = str(self.client.conversations_open(users=user_or_channel)["channel"]["id"])
            self._dm_channels[user_or_channel] = channel
        return channel

    def _log_send(self, lease: Lease, what: str, ts: str | None, started: float) -> None:
        log.info("%s %s #%d lead=%s channel=%s ts=%s attempt=%d %.0fms", what, lease.kind, lease.id, lease.lead_id,
                 lease.channel_id, ts, lease.attempts, (time.monotonic() - started) * 1000)

    def _safely(self, action: Callable[[], Any], default: Any) -> Any:
        try:
            return action()
        except SQLAlchemyError as exc:
            # The lease runs out and the row comes back by itself; nothing is lost.
            log.warning("outbox bookkeeping failed (%s); the lease will expire and the row return",
                        exc.__class__.__name__)
            return default


class _Outcome(Exception):
    def __init__(self, outcome: str) -> None:
        self.outcome = outcome


_STAT = {"sent": "sent", "found": "found", "skipped": "skipped", "retry": "retried", "ratelimited": "rate_limited",
         "dead": "dead", "lost": "lost", "unmarked": "sent"}


def _lane_key(lease: Lease) -> str:
    return lease.channel_id or f"~{lease.id}"


def _retry_after(headers: dict[str, Any]) -> float:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(1.0, float(raw))
            except (TypeError, ValueError):
                break
    return 1.0


# -- the process: worker + scheduler -------------------------------------------------


def start_scheduler(ctx: Context, client: WebClient) -> BackgroundScheduler:
    """Start the background jobs: the SLA ladder every minute and the weekly digest."""
    scheduler = BackgroundScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1,
                                                                 "misfire_grace_time": 60})
    scheduler.add_job(_sla_job, "interval", minutes=1, id="sla_tick", args=[ctx],
                      next_run_time=datetime.now(UTC))
    try:
        from bot.digest import schedule_digest
    except ImportError as exc:
        if exc.name != "bot.digest":
            raise
        log.warning("bot.digest is not available: the weekly digest is not scheduled")
    else:
        schedule_digest(scheduler, ctx, client)
    scheduler.start()
    return scheduler


def _sla_job(ctx: Context) -> None:
    for step in sla_tick(ctx):
        log.info("sla: lead %d step %d (%s after %d min)", step.lead_id, step.index, step.action.value,
                 step.after_minutes)


def run_worker(ctx: Context, client: WebClient, *, stop: threading.Event, once: bool = False,
               options: WorkerOptions | None = None, render: Render | None = None,
               scheduler: bool = True) -> WorkerStats:
    """Run the worker until `stop` is set: deliveries plus the scheduled jobs.

    With `once`, run the SLA ladder one time, deliver everything pending and return
    (for cron and tests); no scheduler is started then.
    """
    worker = Worker(ctx, client, render=render, options=options)
    log.info("worker %s starting: outbox %s", worker.worker_id, delivery.counts(ctx))
    if once:
        _sla_job(ctx)
        return worker.run(stop, once=True)
    jobs = start_scheduler(ctx, client) if scheduler else None
    try:
        return worker.run(stop)
    finally:
        if jobs is not None:
            jobs.shutdown(wait=True)
        log.info("worker %s stopped: %s", worker.worker_id, worker.stats.as_dict())
