"""Apply and Roll back on the weekly digest: managers only; the answer is an ephemeral naming the version.

Refusals (not a manager, already applied, the rules changed meanwhile) are domain errors
that `guarded` turns into an ephemeral, like every other listener's.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from blocks.digest_proposals import applied_blocks, rolled_back_text
from bot.slack.deps import leadbot
from bot.slack.errors import tell
from leadqual.services import proposals


def apply(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    lb, user, proposal_id = leadbot(context), body["user"]["id"], str(action["value"])
    old, new = proposals.apply_proposal(lb.ctx, proposal_id, actor=user)
    blocks = applied_blocks(proposal_id, old=old, new=new)
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id") or user
    client.chat_postEphemeral(
        channel=channel,
        user=user,
        text=f"Applied {proposal_id}: ruleset v{new} is active.",
        blocks=[b.to_dict() for b in blocks],
    )


def rollback(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    lb, user = leadbot(context), body["user"]["id"]
    old, new = proposals.rollback(lb.ctx, actor=user, expected=int(action["value"]))
    tell(client, body, rolled_back_text(old=old, new=new))
