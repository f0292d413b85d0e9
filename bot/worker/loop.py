"""The worker's scheduling loop: lease due rows, queue them per channel, pace each channel, hand sends to a pool.

See the package docstring (bot.worker) for the pacing and crash-safety rules. It is one class
over 350 lines because leasing, per-lane pacing and settling share the lanes' state; splitting
them would pass that state around instead of keeping it in one place.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.crm.writeback import LABELS, MISSING, CrmWriter
from bot.slack.client import connected
from bot.worker.jobs import sla_job, start_scheduler
from bot.worker.options import Done, WorkerOptions, WorkerStats
from bot.worker.sending import _STAT, PREPARE_AHEAD, Render, Sender
from leadqual.db import doorbell
from leadqual.services import delivery, outbox
from leadqual.services.context import Context
from leadqual.services.delivery import Lease

log = logging.getLogger("leadbot.worker")

# How long a starting worker waits for LISTEN before it goes on polling alone.
LISTEN_TIMEOUT = 5.0
# The least time between two polls when rows keep arriving (a burst of commits is one poll, not hundreds).
MIN_POLL_GAP = 0.02


@dataclass
class _Lane:
    queue: deque[Lease] = field(default_factory=deque)
    busy: bool = False  # a Slack channel: one send in flight
    # A CRM lane: the leads (their outbox queues) with a write-back in flight, at most one each.
    sending: set[str] = field(default_factory=set)

    @property
    def idle(self) -> bool:
        return not self.queue and not self.busy and not self.sending


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker(Sender):
    """Drain the outbox to Slack; `run(stop)` until `stop` is set (or, with once=True, until empty)."""

    def __init__(
        self,
        ctx: Context,
        client: WebClient,
        *,
        render: Render | None = None,
        options: WorkerOptions | None = None,
        worker_id: str | None = None,
        crm: Mapping[str, CrmWriter] | None = None,
    ) -> None:
        if render is None:
            from bot.slack.messages import render_outbox  # the interactive app's renderer

            render = render_outbox
        self.ctx = ctx
        self.client = client
        self.render = render
        self.options = options or WorkerOptions()
        self.worker_id = worker_id or default_worker_id()
        # CRM writers by outbox kind; a CRM without one keeps its rows pending (logged), never dropped.
        self.crm = dict(crm or {})
        self._unconfigured = frozenset(outbox.CRM_KINDS - set(self.crm))
        self._missing_logged = float("-inf")
        self._crm_hold: dict[str, float] = {}
        self.stats = WorkerStats()
        self._interval = 1.0 / self.options.rate_per_channel
        self._lanes: dict[str, _Lane] = {}
        self._next_allowed: dict[str, float] = {}  # per channel, time.monotonic()
        self._holding: dict[int, float] = {}  # leased row id -> last moment to start sending it
        self._dm_channels: dict[str, str] = {}
        self._wake = threading.Event()
        self._rung = threading.Event()  # a commit queued rows: poll now, not at the next interval
        self._ready = threading.Event()  # polled once, and listening where it listens

    # -- the scheduling loop -------------------------------------------------

    def run(self, stop: threading.Event, *, once: bool = False) -> WorkerStats:
        """Deliver until `stop` is set; with `once`, stop when nothing is pending within `once_horizon`."""
        opts = self.options
        inflight: dict[str, Future[Done]] = {}
        last_poll = float("-inf")
        changed = True
        unsubscribe = doorbell.DOORBELL.subscribe(self.wake) if opts.wake_on_commit else None
        listener = self._listen() if opts.listen_postgres else None
        if listener is not None and not listener.wait_listening(LISTEN_TIMEOUT):
            log.warning("not listening for outbox notifications yet; polling every %.1fs meanwhile", opts.poll_interval)
        try:
            self._drain(stop, once, inflight, last_poll, changed)
        finally:
            if unsubscribe is not None:
                unsubscribe()
            if listener is not None:
                listener.stop()
        leftover = [lease for lane in self._lanes.values() for lease in lane.queue]
        if leftover:
            self._give_back(leftover)
            log.info("handed back %d leased rows on shutdown", len(leftover))
        self._lanes.clear()
        return self.stats

    def wait_ready(self, timeout: float) -> bool:
        """Whether the worker has polled once (and listens where it listens): rows queued from now on wake it."""
        return self._ready.wait(timeout)

    def wake(self) -> None:
        """Look at the outbox now (rows were committed, or `stop` was set) instead of at the next poll."""
        self._rung.set()
        self._wake.set()

    def _listen(self) -> doorbell.PostgresListener | None:
        engine = self.ctx.session_factory.kw["bind"]
        if engine.dialect.name != "postgresql":
            return None
        return doorbell.PostgresListener(engine, self.wake).start()

    def _drain(
        self, stop: threading.Event, once: bool, inflight: dict[str, Future[Done]], last_poll: float, changed: bool
    ) -> None:
        opts = self.options
        threads = opts.concurrency + len(self.crm) * opts.crm_concurrency
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="leadbot-send") as pool:
            while not stop.is_set():
                # Cleared before looking, so a send finishing from here on wakes the wait below.
                self._wake.clear()
                for key, future in list(inflight.items()):
                    if future.done():
                        del inflight[key]
                        self._settle(key, future.result())
                        changed = True
                if self._rung.is_set():
                    self._rung.clear()
                    changed = True
                now = time.monotonic()
                # Poll when something moved (a channel may have a new head) or when idle long enough.
                if (changed and now - last_poll >= MIN_POLL_GAP) or now - last_poll >= opts.poll_interval:
                    self._poll()
                    last_poll, changed = now, False
                    self._ready.set()
                self._dispatch(pool, inflight)
                if once and not inflight and not self._held() and not self._pending_soon():
                    break
                self._wake.wait(self._until_next(last_poll, changed=changed))
            for key, future in inflight.items():  # finish what is on the wire, then hand back the rest
                self._settle(key, future.result())

    def _poll(self) -> None:
        held = self._held()
        try:
            # Slack rows and each CRM's write-backs are leased apart: a CRM backlog never crowds out Slack.
            leases = delivery.lease_due(
                self.ctx,
                limit=self.options.batch,
                worker_id=self.worker_id,
                lease=self.options.lease,
                per_channel=self.options.read_ahead,
                held=held,
                except_kinds=outbox.CRM_KINDS,
            )
            for crm in self.crm:
                room = self._crm_room(crm)
                on_hold = self._next_allowed.get(_crm_lane(crm), 0.0) - time.monotonic() > 1.0
                # Top up in batches (leasing costs the loop time), and not while the lane waits out a 429 or 401.
                if room >= self._crm_cap(crm) / 2 and not on_hold:
                    leases += delivery.lease_due(
                        self.ctx,
                        limit=room,
                        worker_id=self.worker_id,
                        lease=self.options.lease,
                        per_channel=self.options.read_ahead,
                        held=held,
                        kinds=(crm,),
                    )
            self._log_unconfigured()
        except SQLAlchemyError as exc:
            log.warning("could not lease outbox rows (will retry): %s", exc.__class__.__name__)
            return
        # No send may start so late that it could still be on the wire when the lease ends.
        margin = min(self.options.http_timeout + 5, self.options.lease.total_seconds() / 2)
        deadline = time.monotonic() + self.options.lease.total_seconds() - margin
        for lease in leases:
            self._lanes.setdefault(_lane_key(lease), _Lane()).queue.append(lease)
            self._holding[lease.id] = deadline

    def _crm_cap(self, crm: str) -> int:
        """How many rows a CRM lane holds at most: a couple of seconds of its rate."""
        return max(2, int(self.options.crm_rate(crm) * self.options.crm_read_ahead))

    def _crm_room(self, crm: str) -> int:
        lane = self._lanes.get(_crm_lane(crm))
        held = (len(lane.queue) + len(lane.sending)) if lane is not None else 0
        return self._crm_cap(crm) - held

    def _log_unconfigured(self) -> None:
        now = time.monotonic()
        if not self._unconfigured or now - self._missing_logged < self.options.crm_missing_log_every:
            return
        self._missing_logged = now
        for crm in sorted(self._unconfigured):
            if delivery.has_pending(self.ctx, kinds=(crm,)):
                log.warning(
                    "%s write-backs are waiting: %s is not configured in this worker (set %s); nothing is dropped",
                    crm,
                    LABELS.get(crm, crm),
                    MISSING.get(crm, "its settings"),
                )

    def _dispatch(self, pool: ThreadPoolExecutor, inflight: dict[str, Future[Done]]) -> None:
        now = time.monotonic()
        # Write-backs have their own sends in flight (crm_concurrency per CRM): a CRM never takes Slack's.
        slack_sends = sum(1 for k in inflight if not k.startswith(CRM_LANE))
        for key, lane in self._lanes.items():
            if key.startswith(CRM_LANE):
                self._dispatch_crm(pool, inflight, key, lane, now)
                continue
            if slack_sends >= self.options.concurrency:
                continue
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
            slack_sends += 1
            future = pool.submit(self._deliver, lease, not_before)
            future.add_done_callback(lambda _f: self._wake.set())
            inflight[key] = future

    def _dispatch_crm(
        self, pool: ThreadPoolExecutor, inflight: dict[str, Future[Done]], key: str, lane: _Lane, now: float
    ) -> None:
        """Start a CRM lane's next write-backs: paced by start time, a few leads at once, one per lead.

        A lead whose earlier write-back is on the wire blocks the lane's queue at its next row,
        so a lead's changes reach the CRM in the order they happened.
        """
        while lane.queue and len(lane.sending) < self.options.crm_concurrency:
            not_before = self._next_allowed.get(key, 0.0)
            if not_before - now > PREPARE_AHEAD:
                return
            lease = lane.queue[0]
            lead_queue = lease.channel_id or f"~{lease.id}"
            if lead_queue in lane.sending:
                return
            lane.queue.popleft()
            if self._holding.get(lease.id, 0.0) < now:
                self._give_back([lease])
                self.stats.lost += 1
                continue
            # A CRM's limit counts calls started per second: pace from the start, not the answer. A slot
            # missed by a little (the loop was leasing) is caught up, so the pace holds on average; one
            # missed by more is not, so a backlog never bursts past the CRM's limit.
            interval = 1.0 / self.options.crm_rate(lease.kind)
            self._next_allowed[key] = max(not_before, now - CRM_CATCH_UP * interval) + interval
            lane.sending.add(lead_queue)
            future = pool.submit(self._deliver, lease, not_before)
            future.add_done_callback(lambda _f: self._wake.set())
            inflight[f"{key}#{lease.id}"] = future

    def _settle(self, key: str, done: Done) -> None:
        key = key.partition("#")[0]  # a CRM lane's sends are in flight as "<lane>#<row id>"
        lane = self._lanes[key]
        lane.busy = False
        lane.sending.discard(done.lease.channel_id or f"~{done.lease.id}")
        self._holding.pop(done.lease.id, None)
        if done.outcome in ("ratelimited", "unauthorized"):
            pause = done.retry_after  # the whole lane (a Slack channel, or every write-back to that CRM) waits
        elif done.lease.kind in outbox.CRM_KINDS:
            pause = 0.0  # paced at dispatch
        else:
            pause = self._interval if done.called else 0.0
        self._next_allowed[key] = max(self._next_allowed.get(key, 0.0), done.finished + pause)
        setattr(self.stats, _STAT[done.outcome], getattr(self.stats, _STAT[done.outcome]) + 1)
        if done.outcome in ("ratelimited", "unauthorized", "retry", "unmarked") and lane.queue:
            # The rows behind must not overtake the one that failed: give them back; they
            # wait behind it at the head of their channel.
            behind = list(lane.queue)
            lane.queue.clear()
            self._give_back(behind)
        if lane.idle:
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
        # Rows of a CRM this worker cannot reach wait for a worker that can; `once` does not wait for them.
        return bool(
            self._safely(lambda: delivery.has_pending(self.ctx, due_by=due_by, except_kinds=self._unconfigured), True)
        )

    def _held(self) -> set[int]:
        return set(self._holding)

    def _until_next(self, last_poll: float, *, changed: bool = False) -> float:
        now = time.monotonic()
        # Something moved but the last poll was too recent: look again as soon as the gap allows.
        wake = last_poll + (MIN_POLL_GAP if changed else self.options.poll_interval)
        for key, lane in self._lanes.items():
            if lane.queue and not lane.busy:  # a CRM lane may start its next row while others are in flight
                wake = min(wake, self._next_allowed.get(key, 0.0) - PREPARE_AHEAD)
        return min(max(wake - now, 0.001), self.options.poll_interval)


def _lane_key(lease: Lease) -> str:
    if lease.kind in outbox.CRM_KINDS:
        return _crm_lane(lease.kind)  # one lane per CRM; a lead's rows keep their order within it
    return lease.channel_id or f"~{lease.id}"


CRM_LANE = "crm:"
CRM_CATCH_UP = 2  # slots a CRM lane may make up after falling behind (the CRM limits allow small bursts)


def _crm_lane(crm: str) -> str:
    return f"{CRM_LANE}{crm}"


def run_worker(
    ctx: Context,
    client: WebClient,
    *,
    stop: threading.Event,
    once: bool = False,
    options: WorkerOptions | None = None,
    render: Render | None = None,
    scheduler: bool = True,
    crm: Mapping[str, CrmWriter] | None = None,
) -> WorkerStats:
    """Run the worker until `stop` is set: deliveries plus the scheduled jobs.

    With `once`, run the SLA ladder one time, deliver everything pending and return
    (for cron and tests); no scheduler is started then.
    """
    ctx = connected(ctx, client)  # SLA escalations go to every manager, usergroup members included
    worker = Worker(ctx, client, render=render, options=options, crm=crm)
    log.info("worker %s starting: outbox %s", worker.worker_id, delivery.counts(ctx))
    if once:
        sla_job(ctx)
        return worker.run(stop, once=True)
    jobs = start_scheduler(ctx, client) if scheduler else None
    try:
        return worker.run(stop)
    finally:
        if jobs is not None:
            jobs.shutdown(wait=True)
        log.info("worker %s stopped: %s", worker.worker_id, worker.stats.as_dict())
