"""Find a message an earlier attempt already posted, so a retry does not post it twice.

A worker marks an outbox row sent only after Slack answered ok. If the process died (or
the answer was lost, say a 500 after Slack stored the message) in between, the row comes
back and could be posted again. So every card, thread line and DM carries its outbox id in
the message metadata (https://docs.slack.dev/messaging/message-metadata) as a client-side
idempotency key, and a row that was leased before (a failed attempt, or a lease that ran
out) is first looked for (conversations.history; conversations.replies for a thread line)
before it is posted again. A card update needs none of this: chat.update always sends the
whole current card, so a repeated one changes nothing.

The lookup is a courtesy, never a gate: Slack may refuse it (`missing_scope` from an app
installed before `channels:history` was added, `not_in_channel`, `channel_not_found` for a
private channel without `groups:history`, ...). A refused lookup must not cost the message,
so we post anyway and say in the log that a duplicate is possible. Rate limits and 5xx of
the lookup itself are raised, and the worker retries them like any transient failure.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from blocks.ids import CARD_EVENT_TYPE
from leadqual.services import outbox
from leadqual.services.delivery import Lease

log = logging.getLogger("leadbot.worker")

CARD_EVENT = CARD_EVENT_TYPE
MESSAGE_EVENT = "leadbot_message"  # a thread line or DM: the same outbox id, under its own event type
# Slack errors worth another try; every other error is about the payload or the setup.
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org", "ratelimited"}
)
# Posted messages we can find again. A chat.update needs no lookup: it always sends the whole
# current card, so repeating one changes nothing. Ephemerals cannot be read back.
LOOKED_UP = frozenset({outbox.CARD, outbox.THREAD, outbox.DM})


def is_transient(exc: SlackApiError) -> bool:
    """Whether Slack's refusal is worth another try (429, 5xx, Slack's own transient errors)."""
    status = exc.response.status_code
    error = str(exc.response.get("error") or "")
    return status == 429 or status >= 500 or error in TRANSIENT_ERRORS


def stamp(given: Any, lease: Lease) -> dict[str, Any]:
    """The renderer's metadata, with the outbox id (our idempotency key) the lookup looks for."""
    meta = dict(given) if isinstance(given, dict) else {}
    payload = dict(meta.get("event_payload") or {})
    payload["outbox_id"] = lease.id
    if lease.lead_id is not None:
        payload["lead_id"] = lease.lead_id
    return {"event_type": CARD_EVENT if lease.kind == outbox.CARD else MESSAGE_EVENT, "event_payload": payload}


def find_posted(client: WebClient, message: dict[str, Any], lease: Lease, *, margin: timedelta) -> str | None:
    """The ts of the message an earlier attempt of `lease` posted, or None to post it (again).

    Raises SlackApiError only for transient failures of the lookup (429, 5xx).
    """
    channel = str(message["channel"])
    thread_ts = message.get("thread_ts")
    try:
        return _search(client, channel, lease, margin=margin, thread_ts=str(thread_ts) if thread_ts else None)
    except SlackApiError as exc:
        if is_transient(exc):
            raise
        error = exc.response.get("error") or f"http_{exc.response.status_code}"
        log.warning(
            "%s #%d for lead %s: looking it up in %s was refused (%s); posting it again, so a duplicate is possible",
            lease.kind,
            lease.id,
            lease.lead_id,
            channel,
            error,
        )
        return None


def _search(client: WebClient, channel: str, lease: Lease, *, margin: timedelta, thread_ts: str | None) -> str | None:
    """Page through the channel (or the thread: a reply is not in the channel's history) for the row's message."""
    oldest = f"{max((lease.created_at - margin).timestamp(), 0):.6f}"
    cursor: str | None = None
    while True:
        if thread_ts is None:
            page = client.conversations_history(
                channel=channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
            )
        else:
            page = client.conversations_replies(
                channel=channel, ts=thread_ts, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
            )
        for found in page.get("messages") or []:
            if _carries(found, lease):
                return str(found["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not page.get("has_more") or not cursor:
            return None


def _carries(message: dict[str, Any], lease: Lease) -> bool:
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return meta.get("event_type") in (CARD_EVENT, MESSAGE_EVENT) and str(payload.get("outbox_id")) == str(lease.id)
