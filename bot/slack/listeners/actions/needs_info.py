"""Info received on a Needs-info card: check the user may (owner or manager, lead waiting), then open the modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from blocks.modals import encode_metadata
from blocks.needs_info import info_received_modal
from bot.slack.deps import leadbot
from bot.slack.listeners import card_metadata, lead_id_of
from leadqual.services import needs_info


def open_info_received(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    lb, user, lead_id = leadbot(context), body["user"]["id"], lead_id_of(action)
    card = needs_info.begin_info_received(lb.ctx, lead_id=lead_id, user_id=user)
    view = info_received_modal(card, metadata=encode_metadata(**card_metadata(body, lead_id)))
    client.views_open(trigger_id=body["trigger_id"], view=view)
