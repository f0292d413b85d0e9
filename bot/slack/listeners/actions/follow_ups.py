"""The follow-up reminder's buttons: Done, Snooze a week, and Qualify or Disqualify (the card's modals).

Done and Snooze change the lead through `leadqual.services.follow_ups` (refusals come back as
ephemerals through the error handler), then mark that lead's line in the DM as handled.
Qualify and Disqualify check the follow-up still stands and open the card's decision modal,
whose metadata carries the follow-up, so its submission replaces the lead's decision.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from blocks import ids
from blocks.follow_ups import done_note, handled_blocks, read_follow_up_value, snoozed_note
from blocks.modals import decision_modal, encode_metadata
from bot.slack.deps import leadbot
from bot.slack.listeners import action_key, card_metadata
from leadqual.errors import LeadNotFound
from leadqual.follow_ups import FollowUpRef
from leadqual.lead import Outcome
from leadqual.services import cards
from leadqual.services import follow_ups as service


def follow_up_of(action: dict[str, Any]) -> FollowUpRef:
    """The follow-up a reminder button was made for; LeadNotFound when its value names none."""
    value = str(action.get("value") or "")
    try:
        return read_follow_up_value(value)
    except ValueError:
        raise LeadNotFound(value[:40]) from None


def done(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    user, ref = body["user"]["id"], follow_up_of(action)
    service.mark_done(leadbot(context).ctx, ref=ref, user_id=user, key=action_key(action, ref.lead_id, user))
    _mark_line(client, body, ref.lead_id, done_note(user))


def snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    user, ref = body["user"]["id"], follow_up_of(action)
    applied = service.snooze(leadbot(context).ctx, ref=ref, user_id=user, key=action_key(action, ref.lead_id, user))
    _mark_line(client, body, ref.lead_id, snoozed_note(user, applied.card.follow_up_on))


def decide(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    lb, user, ref = leadbot(context), body["user"]["id"], follow_up_of(action)
    card = service.begin_decision(lb.ctx, ref=ref, user_id=user)
    outcome = ids.FOLLOW_UP_DECISIONS[action["action_id"]]
    metadata = encode_metadata(**card_metadata(body, ref.lead_id), due=ref.due.isoformat(), version=ref.version)
    motions = cards.buying_motions(lb.ctx) if outcome is Outcome.QUALIFIED else ()
    view = decision_modal(outcome, card, motions=motions, reasons=lb.ctx.config.reasons, metadata=metadata)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def _mark_line(client: WebClient, body: dict[str, Any], lead_id: int, note: str) -> None:
    """Replace the lead's buttons in the reminder with what was done (the DM is the bot's own message)."""
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    blocks = message.get("blocks")
    if not channel or not message.get("ts") or not isinstance(blocks, list):
        return
    client.chat_update(
        channel=channel,
        ts=message["ts"],
        text=message.get("text") or "Follow-ups",
        blocks=handled_blocks(blocks, lead_id, note),
    )
