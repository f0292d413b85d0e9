"""Qualify, Disqualify, Nurture and Needs info: check the user may decide, then open the modal.

The modal must open within the trigger's 3 seconds, so it opens here, right after the
check (which claims an unclaimed lead for the user, atomically).
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from blocks import ids
from blocks.modals import decision_modal, encode_metadata
from bot.slack.deps import leadbot
from bot.slack.listeners import action_key, card_metadata, lead_id_of
from leadqual.lead import Outcome
from leadqual.services import cards, triage


def open_decision(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    ack()
    lb, user, lead_id = leadbot(context), body["user"]["id"], lead_id_of(action)
    card = triage.begin_decision(lb.ctx, lead_id=lead_id, user_id=user, key=action_key(action, lead_id, user))
    metadata = encode_metadata(**card_metadata(body, lead_id))
    outcome = ids.DECISION_BY_BUTTON[action["action_id"]].outcome
    motions = cards.buying_motions(lb.ctx) if outcome is Outcome.QUALIFIED else ()
    view = decision_modal(outcome, card, motions=motions, reasons=lb.ctx.config.reasons, metadata=metadata)
    client.views_open(trigger_id=body["trigger_id"], view=view)
