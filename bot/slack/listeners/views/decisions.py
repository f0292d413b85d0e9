"""Decision and Reassign submissions.

Invalid input is answered in the modal itself (`response_action="errors"` on the field);
valid input closes the modal and is stored after the ack. The view id is the idempotency
key, so a double-clicked Submit or a retried delivery is stored once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt import Ack, BoltContext

from blocks import ids
from blocks.modals import decision_errors, decode_metadata, read_decision, read_reassign
from bot.slack.deps import leadbot
from bot.slack.listeners import lead_id
from leadqual.errors import LeadNotFound
from leadqual.follow_ups import FollowUpRef
from leadqual.services import triage


def decision_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    lb = leadbot(context)
    decision = read_decision(view["callback_id"], view["state"]["values"])
    errors = triage.check(lb.ctx, decision)
    if errors:
        ack(response_action="errors", errors=decision_errors(errors))
        return
    ack()
    user = body["user"]["id"]
    metadata = decode_metadata(view.get("private_metadata"))
    lead = lead_id(metadata.get("lead"))
    triage.decide(
        lb.ctx,
        lead_id=lead,
        user_id=user,
        decision=decision,
        key=f"view:{view['id']}",
        follow_up=follow_up_of_modal(lead, metadata),
    )


def follow_up_of_modal(lead: int, metadata: dict[str, Any]) -> FollowUpRef | None:
    """The follow-up a modal opened from a reminder was for (None for a modal opened from the card)."""
    if "due" not in metadata:
        return None
    try:
        return FollowUpRef(lead, date.fromisoformat(str(metadata["due"])), int(metadata["version"]))
    except (KeyError, TypeError, ValueError):
        raise LeadNotFound(lead) from None


def reassign_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    lb = leadbot(context)
    to_user = read_reassign(view["state"]["values"])
    if not to_user:
        ack(response_action="errors", errors={ids.REASSIGN_TO: "Pick the rep who takes the lead over."})
        return
    ack()
    user = body["user"]["id"]
    triage.reassign(
        lb.ctx,
        lead_id=lead_id(decode_metadata(view.get("private_metadata")).get("lead")),
        user_id=user,
        to_user=to_user,
        key=f"view:{view['id']}",
    )
