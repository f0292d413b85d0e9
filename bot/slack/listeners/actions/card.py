"""Claim, Release, Reopen and the Reassign menu on a lead card.

Each acks at once; the service changes the lead and queues the card update and thread line
in the outbox; refusals come back as ephemerals through the error handler.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from blocks.modals import encode_metadata, reassign_modal
from bot import metrics
from bot.slack.deps import leadbot
from bot.slack.listeners import action_key, card_metadata, lead_id_of
from leadqual.errors import NotManager
from leadqual.services import cards, triage


def claim(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ack()
    user, lead_id = body["user"]["id"], lead_id_of(action)
    metrics.claimed(
        triage.claim(leadbot(context).ctx, lead_id=lead_id, user_id=user, key=action_key(action, lead_id, user))
    )


def release(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ack()
    lb, user, lead_id = leadbot(context), body["user"]["id"], lead_id_of(action)
    triage.release(lb.ctx, lead_id=lead_id, user_id=user, key=action_key(action, lead_id, user))


def reopen(ack: Ack, body: dict[str, Any], action: dict[str, Any], context: BoltContext) -> None:
    ack()
    lb, user, lead_id = leadbot(context), body["user"]["id"], lead_id_of(action)
    triage.reopen(lb.ctx, lead_id=lead_id, user_id=user, key=action_key(action, lead_id, user))


def more(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """The card's overflow menu; its one entry opens the Reassign modal, for managers."""
    ack()
    lb, user, lead_id = leadbot(context), body["user"]["id"], lead_id_of(action)
    if not lb.is_manager(user):
        raise NotManager()
    card = cards.read_card(lb.ctx, lead_id=lead_id)
    client.views_open(
        trigger_id=body["trigger_id"],
        view=reassign_modal(card, metadata=encode_metadata(**card_metadata(body, lead_id))),
    )
