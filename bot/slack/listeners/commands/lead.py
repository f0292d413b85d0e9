"""`/lead`: open the Add-a-lead modal (`/lead`, `/lead add`); anything else shows the usage."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack
from slack_sdk import WebClient

from blocks.add_lead import add_lead_modal
from blocks.modals import encode_metadata

USAGE = (
    "*/lead* opens a form to add a lead by hand; it is scored and routed like any other.\n"
    "Your claimed leads and follow-ups are in Leadbot's Home tab."
)


def lead_command(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    if body.get("text", "").strip().lower() not in ("", "add", "new"):
        ack(text=USAGE)
        return
    ack()
    client.views_open(
        trigger_id=body["trigger_id"], view=add_lead_modal(metadata=encode_metadata(channel=body.get("channel_id")))
    )
