"""The /lead modal's submission: validate as intake does, ingest, and tell the rep how it scored."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from blocks.add_lead import add_lead_errors, read_add_lead
from blocks.text import one_line
from bot import metrics
from bot.slack.deps import leadbot
from bot.slack.errors import tell
from leadqual.errors import InvalidLead
from leadqual.services.intake import Ingested, ingest, validate_leads


def add_lead_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    user = body["user"]["id"]
    record = read_add_lead(view["state"]["values"], user_id=user)
    # The view id names this one submission. As the lead's external id it makes a retried or
    # repeated delivery of the same form a duplicate of the first (intake is idempotent on
    # external_id), even for a lead with no email to match on.
    record.setdefault("external_id", f"slack-view:{view['id']}")
    try:
        leads = validate_leads([record])
    except InvalidLead as exc:
        ack(response_action="errors", errors=add_lead_errors(exc.errors))
        return
    ack()
    lb = leadbot(context)
    [result] = ingest(lb.ctx, leads, source=user)
    metrics.ingested([result], via="slack")
    tell(client, body, added_message(result, leads[0].display_name, lb.ctx.config.channel_for(result.group)))


def added_message(result: Ingested, name: str, channel: str | None) -> str:
    """The ephemeral answer: score, group and where the card goes (or that the lead was known)."""
    lead = f"*{one_line(name, 150)}*"
    score = f"{result.group.label} (fit {result.fit}, intent {result.intent})"
    if result.duplicate:
        return (
            f"{lead} is already lead #{result.id}: {score}. "
            "No new lead was added; its card's thread notes what this one brings."
        )
    where = (
        f" Its card is on its way to <#{channel}>."
        if channel
        else " It is not posted: Poor fit stays out of the sales queue."
    )
    return f"Added {lead} as lead #{result.id}: {score}.{where}"
