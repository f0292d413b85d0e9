"""The Info received submission: nothing ticked is answered on its field; otherwise the lead goes back to its owner.

The view id is the idempotency key; a lead decided meanwhile, or a user who may not, gets an
ephemeral refusal (through `guarded`) and nothing changes.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext

from blocks import ids
from blocks.errors import decision_problem
from blocks.modals import decode_metadata
from blocks.needs_info import read_info_received
from bot.slack.deps import leadbot
from bot.slack.listeners import lead_id
from leadqual.decisions import Problem
from leadqual.services import needs_info


def info_received_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    arrived, note = read_info_received(view["state"]["values"])
    if not arrived:
        ack(response_action="errors", errors={ids.ARRIVED: decision_problem("arrived", Problem.REQUIRED)})
        return
    ack()
    needs_info.info_received(
        leadbot(context).ctx,
        lead_id=lead_id(decode_metadata(view.get("private_metadata")).get("lead")),
        user_id=body["user"]["id"],
        arrived=arrived,
        note=note,
        key=f"view:{view['id']}",
    )
