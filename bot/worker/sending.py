"""One delivery: render an outbox row, make its Slack call at the paced moment, record the answer.

`Sender` runs in the worker's pool threads; `bot.worker.loop.Worker` decides what to send when.
"""

from __future__ import annotations

import http.client
import logging
import socket
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot import metrics, redelivery
from bot.crm.results import Delivered, RetryAfter, Transient, Unauthorized
from bot.crm.writeback import CrmWriter
from bot.redelivery import TRANSIENT_ERRORS
from bot.worker.options import Done, WorkerOptions, WorkerStats
from leadqual.crm.changes import ChangeKind
from leadqual.db.models import LeadRow, OutboxMessage
from leadqual.errors import CardNotPosted, LeadNotFound
from leadqual.services import delivery, outbox, writeback
from leadqual.services.context import Context
from leadqual.services.delivery import Lease
from leadqual.statuses import OutboxKind

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


class Sender:
    """Deliver one leased row at a time (thread-safe: each call works on its own lease)."""

    ctx: Context
    client: WebClient
    render: Render
    options: WorkerOptions
    stats: WorkerStats
    crm: Mapping[str, CrmWriter]
    _crm_hold: dict[str, float]  # per CRM, time.monotonic() until which its lane waits (429, 401)
    _dm_channels: dict[str, str]

    def _deliver(self, lease: Lease, not_before: float = 0.0) -> Done:
        try:
            if lease.kind in outbox.CRM_KINDS:
                return self._write_back(lease, not_before)
            return self._deliver_one(lease, not_before)
        except Exception as exc:  # a bug must not stop the worker: the row is retried, then goes dead
            log.exception("delivering %s #%d failed unexpectedly", lease.kind, lease.id)
            return self._transient(lease, f"{exc.__class__.__name__}: {exc}", time.monotonic())

    def _deliver_one(self, lease: Lease, not_before: float) -> Done:
        started = time.monotonic()
        try:
            kwargs = self._render(lease)
        except _Outcome as result:
            return Done(lease, result.outcome, time.monotonic(), called=False)
        if kwargs is None:
            self._mark(lease, None, None)
            self._log_send(lease, "skipped (nothing to send)", None, started)
            return Done(lease, "skipped", time.monotonic(), called=False)
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
                        return Done(lease, "found" if marked else "unmarked", time.monotonic(), called=False)
            wait = not_before - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            response = getattr(self.client, METHODS[OutboxKind(lease.kind)])(**kwargs)
        except SlackApiError as exc:
            return self._failed(lease, exc, started)
        except NETWORK_ERRORS as exc:
            return self._transient(lease, f"{exc.__class__.__name__}: {exc}", time.monotonic())
        finished = time.monotonic()
        ts = response.get("ts") or response.get("message_ts")
        marked = self._mark(lease, ts, response.get("channel"))
        metrics.sent(lease.kind, finished - max(started, not_before))
        self._log_send(lease, "sent", ts, started)
        return Done(lease, "sent" if marked else "unmarked", finished)

    # -- CRM write-backs ---------------------------------------------------------

    def _write_back(self, lease: Lease, not_before: float) -> Done:
        """Tell the lead's CRM about the change the row holds, at the CRM lane's paced moment."""
        crm = lease.kind
        writer = self.crm.get(crm)
        if writer is None:  # not leased without a writer; a row that slips through waits, not dies
            later = timedelta(seconds=self.options.crm_missing_log_every)
            self._wait(lease, later, f"{crm} is not configured")
            return Done(lease, "retry", time.monotonic(), called=False)
        started = time.monotonic()
        card = self._card_of(lease)
        if card is None:
            return Done(lease, "lost", time.monotonic(), called=False)  # someone else holds it now
        try:
            change = writeback.change_of(lease.payload, permalink=self._permalink(lease, *card))
        except (KeyError, ValueError) as exc:
            return Done(lease, self._dead(lease, f"not a write-back: {exc}"), time.monotonic(), called=False)
        wait = not_before - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        held = self._crm_hold.get(crm, 0.0) - time.monotonic()
        if held > 0:  # a 429 or 401 arrived while this row waited for its slot: the whole lane waits
            self._wait(lease, timedelta(seconds=held), "waiting with its CRM lane")
            return Done(lease, "ratelimited", time.monotonic(), called=False, retry_after=held)
        result = writer.write_back(change, self.ctx.config.crm)
        finished = time.monotonic()
        if isinstance(result, Delivered):
            marked = self._mark(lease, None, None)
            metrics.crm_written(crm, "delivered")
            self._log_send(lease, f"wrote back {change.kind.value} to {writer.label}", None, started)
            return Done(lease, "sent" if marked else "unmarked", finished)
        if isinstance(result, RetryAfter):
            seconds = result.seconds
            self._wait(lease, timedelta(seconds=seconds), f"{result.error} (Retry-After {seconds:g}s)")
            self._crm_hold[crm] = max(self._crm_hold.get(crm, 0.0), finished + seconds)
            log.info("%s rate limited the write-backs: holding its lane for %gs", writer.label, seconds)
            metrics.crm_written(crm, "ratelimited")
            return Done(lease, "ratelimited", finished, retry_after=seconds)
        if isinstance(result, Unauthorized):
            hold = self.options.crm_unauthorized_wait
            self._crm_hold[crm] = max(self._crm_hold.get(crm, 0.0), finished + hold.total_seconds())
            self._wait(lease, hold, f"{result.error} (waiting for a working token)")
            log.warning(
                "%s refused the token (%s): write-backs wait and try again every %.0fs; fix %s",
                writer.label,
                result.error,
                hold.total_seconds(),
                writer.missing.split(" ")[0],
            )
            metrics.crm_written(crm, "unauthorized")
            return Done(lease, "unauthorized", finished, retry_after=hold.total_seconds())
        if isinstance(result, Transient):
            metrics.crm_written(crm, "retry")
            return self._transient(lease, result.error, finished)
        log.warning(
            "%s #%d for lead %s refused by %s: %s", lease.kind, lease.id, lease.lead_id, writer.label, result.error
        )
        metrics.crm_written(crm, "dead")
        return Done(lease, self._dead(lease, result.error), finished)

    def _card_of(self, lease: Lease) -> tuple[str | None, str | None] | None:
        """Where the lead's card is in Slack (channel, ts); None when the row is no longer this lease's."""
        with self.ctx.reading() as session:
            row = session.get(OutboxMessage, lease.id)
            if row is None or row.status != delivery.PENDING or row.next_attempt_at != lease.until:
                return None
            lead = session.get(LeadRow, lease.lead_id) if lease.lead_id is not None else None
            return (lead.channel_id, lead.message_ts) if lead is not None else (None, None)

    def _permalink(self, lease: Lease, channel: str | None, ts: str | None) -> str | None:
        """The card's permalink for a decision (Slack's chat.getPermalink), or None when it has no card yet."""
        if lease.payload.get("change") != ChangeKind.DECISION.value or not channel or not ts:
            return None
        try:
            return str(self.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except (SlackApiError, *NETWORK_ERRORS, KeyError) as exc:  # the write-back goes on without the link
            log.warning("no permalink for lead %s's card (%s): writing back without it", lease.lead_id, exc)
            return None

    def _render(self, lease: Lease) -> dict[str, Any] | None:
        try:
            with self.ctx.reading() as session:
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
            self._safely(
                lambda: delivery.retry_later(
                    self.ctx, lease.id, CARD_WAIT, "waiting for the card", until=lease.until, counts=False
                ),
                False,
            )
            raise _Outcome("retry") from None
        except SQLAlchemyError as exc:
            outcome = self._transient(lease, f"database: {exc.__class__.__name__}", time.monotonic()).outcome
            raise _Outcome(outcome) from None
        except Exception as exc:  # a rendering bug: this row cannot be sent as it is
            log.exception("rendering outbox row %d (%s) failed", lease.id, lease.kind)
            raise _Outcome(self._dead(lease, f"render failed: {exc.__class__.__name__}: {exc}")) from None

    def _failed(self, lease: Lease, exc: SlackApiError, started: float) -> Done:
        finished = time.monotonic()
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"http_{status}")
        if status == 429 or error == "ratelimited":
            retry_after = _retry_after(exc.response.headers)
            self._wait(lease, timedelta(seconds=retry_after), f"ratelimited (Retry-After {retry_after:g}s)")
            log.info("rate limited on %s: holding the channel for %gs", lease.channel_id, retry_after)
            metrics.rate_limited(lease.kind)
            return Done(lease, "ratelimited", finished, retry_after=retry_after)
        if status >= 500 or error in TRANSIENT_ERRORS:
            return self._transient(lease, f"{error} (HTTP {status})", finished)
        log.warning("%s #%d for lead %s refused by Slack: %s", lease.kind, lease.id, lease.lead_id, error)
        return Done(lease, self._dead(lease, f"slack: {error}"), finished)

    def _transient(self, lease: Lease, error: str, finished: float) -> Done:
        too_many = self.options.max_attempts is not None and lease.attempts >= self.options.max_attempts
        too_old = self.ctx.now() - lease.created_at >= self.options.give_up_after
        if too_many or too_old:
            log.warning(
                "%s #%d for lead %s: giving up after %d attempts: %s",
                lease.kind,
                lease.id,
                lease.lead_id,
                lease.attempts,
                error,
            )
            return Done(lease, self._dead(lease, f"gave up after {lease.attempts} attempts: {error}"), finished)
        delay = self.options.backoff(lease.attempts)
        self._safely(lambda: delivery.retry_later(self.ctx, lease.id, delay, error, until=lease.until), False)
        metrics.retried(lease.kind)
        log.info(
            "%s #%d for lead %s failed (%s); retry %d in %.1fs",
            lease.kind,
            lease.id,
            lease.lead_id,
            error,
            lease.attempts + 1,
            delay.total_seconds(),
        )
        return Done(lease, "retry", finished)

    def _wait(self, lease: Lease, delay: timedelta, why: str) -> None:
        """Send the row again after `delay` without counting an attempt (a rate limit, a held lane)."""
        self._safely(
            lambda: delivery.retry_later(self.ctx, lease.id, delay, why, until=lease.until, counts=False), False
        )

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
                time.sleep(0.2 * 2**attempt)
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
        log.info(
            "%s %s #%d lead=%s channel=%s ts=%s attempt=%d %.0fms",
            what,
            lease.kind,
            lease.id,
            lease.lead_id,
            lease.channel_id,
            ts,
            lease.attempts,
            (time.monotonic() - started) * 1000,
        )

    def _safely(self, action: Callable[[], Any], default: Any) -> Any:
        try:
            return action()
        except SQLAlchemyError as exc:
            # The lease runs out and the row comes back by itself; nothing is lost.
            log.warning(
                "outbox bookkeeping failed (%s); the lease will expire and the row return", exc.__class__.__name__
            )
            return default


class _Outcome(Exception):
    def __init__(self, outcome: str) -> None:
        self.outcome = outcome


_STAT = {
    "sent": "sent",
    "found": "found",
    "skipped": "skipped",
    "retry": "retried",
    "ratelimited": "rate_limited",
    "unauthorized": "unauthorized",
    "dead": "dead",
    "lost": "lost",
    "unmarked": "sent",
}


def _retry_after(headers: dict[str, Any]) -> float:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(1.0, float(raw))
            except (TypeError, ValueError):
                break
    return 1.0
