"""Render an outbox row into the keyword arguments of the Slack call that sends it.

The outbox worker leases a row, calls `render_outbox(ctx, session, row)` and passes the
result to the WebClient method for the row's kind:

| kind          | method              | kwargs                                                         |
|---------------|---------------------|----------------------------------------------------------------|
| `card`        | chat.postMessage    | channel, text, blocks, unfurl_links=False, unfurl_media=False, |
|               |                     | metadata={"event_type": "leadbot_card", "event_payload":       |
|               |                     | {"outbox_id": row.id, "lead_id": lead id}}                     |
| `card_update` | chat.update         | channel, ts, text, blocks                                      |
| `thread`      | chat.postMessage    | channel, thread_ts, text, unfurl_links=False, unfurl_media=False |
| `dm`          | chat.postMessage    | channel (a USER id: open the DM with conversations.open first, |
|               |                     | or post to the user id), text, blocks (may be absent)          |
| `ephemeral`   | chat.postEphemeral  | channel, user, text                                            |

Cards and card updates render the lead's *current* state, so a late update never shows
stale data; thread lines render the payload stored when the change happened.

A `card` row's metadata carries its outbox id (the worker adds the same key, under
`leadbot_message`, to thread lines and DMs): after a crash between posting and recording,
the worker can find the message in conversations.history or conversations.replies
(`include_all_metadata=True`) instead of posting it twice (`bot.redelivery`).

Payloads, for rows other slices queue:

* `thread` rows written by the triage service carry `{"event": "claimed" | "released" |
  "reassigned" | "decided" | "reopened", "actor", "at", ...}` (blocks.thread renders them).
  `thread` and `dm` rows written by the SLA ladder carry `{"sla": "remind" | "escalate" |
  "reassign", "step", "after_minutes", "group", "suggested_owner"?}` (blocks.thread.sla_line).
  `thread` rows of follow-up questions carry `{"questions": [{"criterion", "items"}],
  "motion", "outcome"}` (blocks.questions); the owner's Needs info reminder is a `dm` row
  with `{"needs_info": "reminder", "user", "days", "missing", "decided_at"}`
  (blocks.needs_info.reminder_text).
  Any other thread, `dm` or `ephemeral` row carries `{"text": "..."}`: mrkdwn written by our
  code, sent as is, in which the placeholder `{lead}` becomes the lead's name, escaped
  and linked to its card. Lead data must never be put in `text` directly. A `dm` row may
  add `"blocks"` (already-rendered Block Kit dicts) and names its user in `"user"` or in
  the row's `channel_id`; an `ephemeral` row names its user in `"user"`.

Raises CardNotPosted for `card_update` and `thread` while the lead's card has no message
yet (the worker waits for the card), LeadNotFound when the lead is gone, and ValueError for
a kind or payload it does not know.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.orm import Session

from blocks.cards import fallback_text, lead_card
from blocks.home import card_link
from blocks.ids import CARD_EVENT_TYPE
from blocks.needs_info import is_reminder, reminder_text
from blocks.questions import is_questions, questions_line
from blocks.text import FALLBACK_TEXT, fit_mrkdwn, one_line
from blocks.thread import sla_line, thread_line
from leadqual.config import SlaAction
from leadqual.db.models import LeadRow
from leadqual.errors import CardNotPosted, LeadNotFound
from leadqual.readmodels import LeadCard
from leadqual.services import outbox
from leadqual.services.cards import card_for
from leadqual.services.context import Context
from leadqual.statuses import LeadEvent

TRIAGE_EVENTS = frozenset(LeadEvent)
LEAD_PLACEHOLDER = "{lead}"
SLA_STEPS = frozenset(a.value for a in SlaAction)


class OutboxRow(Protocol):
    """What render_outbox reads from a row: an OutboxMessage, or the worker's lease of one."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def lead_id(self) -> int | None: ...
    @property
    def channel_id(self) -> str | None: ...
    @property
    def payload(self) -> dict[str, Any]: ...


def render_outbox(ctx: Context, session: Session, row: OutboxRow) -> dict[str, Any]:
    """The WebClient kwargs that send `row` (see the module docstring for each kind)."""
    payload = row.payload or {}
    if row.kind == outbox.CARD:
        lead = _lead(session, row)
        card = card_for(ctx, session, lead)
        return {
            "channel": row.channel_id or lead.channel_id,
            "text": fallback_text(card),
            "blocks": _card_blocks(ctx, card),
            "unfurl_links": False,
            "unfurl_media": False,
            "metadata": {"event_type": CARD_EVENT_TYPE, "event_payload": {"outbox_id": row.id, "lead_id": lead.id}},
        }
    if row.kind == outbox.CARD_UPDATE:
        lead = _posted(session, row)
        card = card_for(ctx, session, lead)
        return {
            "channel": lead.channel_id,
            "ts": lead.message_ts,
            "text": fallback_text(card),
            "blocks": _card_blocks(ctx, card),
        }
    if row.kind == outbox.THREAD:
        lead = _posted(session, row)
        if payload.get("event") in TRIAGE_EVENTS:
            text = thread_line(payload, tz=ctx.config.tz)
        elif _is_sla_step(payload):
            text = sla_line(payload, lead=_lead_name(ctx, session, row))
        elif is_questions(payload):
            card = card_for(ctx, session, lead)
            label = card.segment_label if payload.get("motion") == card.segment else None
            text = questions_line(payload, motion_label=label)
        else:
            text = _text(ctx, session, row, payload)
        return {
            "channel": lead.channel_id,
            "thread_ts": lead.message_ts,
            "text": text,
            "unfurl_links": False,
            "unfurl_media": False,
        }
    if row.kind == outbox.DM:
        user = payload.get("user") or row.channel_id
        if not user:
            raise ValueError(f"outbox row {row.id}: a dm needs a user")
        if _is_sla_step(payload):
            text = sla_line(payload, lead=_lead_name(ctx, session, row))
        elif is_reminder(payload):
            text = reminder_text(payload, lead=_lead_name(ctx, session, row), tz=ctx.config.tz)
        else:
            text = _text(ctx, session, row, payload)
        message: dict[str, Any] = {"channel": user, "text": text}
        if payload.get("blocks"):
            message["blocks"] = payload["blocks"]
        return message
    if row.kind == outbox.EPHEMERAL:
        if not payload.get("user") or not row.channel_id:
            raise ValueError(f"outbox row {row.id}: an ephemeral needs a channel and a user")
        return {"channel": row.channel_id, "user": payload["user"], "text": _text(ctx, session, row, payload)}
    raise ValueError(f"outbox row {row.id}: unknown kind {row.kind!r}")


def _card_blocks(ctx: Context, card: LeadCard) -> list[dict[str, Any]]:
    return [block.to_dict() for block in lead_card(card, tz=ctx.config.tz)]


def _lead(session: Session, row: OutboxRow) -> LeadRow:
    lead = session.get(LeadRow, row.lead_id) if row.lead_id is not None else None
    if lead is None:
        raise LeadNotFound(row.lead_id)
    return lead


def _posted(session: Session, row: OutboxRow) -> LeadRow:
    lead = _lead(session, row)
    if not lead.message_ts or not lead.channel_id:
        raise CardNotPosted(lead.id)
    return lead


def _is_sla_step(payload: dict[str, Any]) -> bool:
    # Rows queued before SLA payloads were structured carry their own "text": sent as they were.
    return payload.get("sla") in SLA_STEPS and "text" not in payload


def _lead_name(ctx: Context, session: Session, row: OutboxRow) -> str:
    """The lead's name, escaped, linked to its card when it is posted."""
    card = card_for(ctx, session, _lead(session, row))
    name = one_line(card.display_name, 150)
    return f"<{card_link(card)}|{name}>" if card.message_ts and card.channel_id else f"*{name}*"


def _text(ctx: Context, session: Session, row: OutboxRow, payload: dict[str, Any]) -> str:
    text = payload.get("text")
    if not isinstance(text, str) or not text:
        raise ValueError(f"outbox row {row.id}: payload needs a 'text'")
    if LEAD_PLACEHOLDER in text and row.lead_id is not None:
        text = text.replace(LEAD_PLACEHOLDER, _lead_name(ctx, session, row))
    return fit_mrkdwn(text, FALLBACK_TEXT)
