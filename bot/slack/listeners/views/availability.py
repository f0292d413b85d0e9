"""App Home's modals: away / back, and Reassign a lead (through the same service as the card's Reassign).

A date before today (in the rep's zone, as the rotation reads it) is answered in the modal
(`response_action="errors"`), nothing stored; a rep naming someone else, or a non-manager
reassigning, is refused by the service and told privately by `guarded`. The Home of whoever
acted is published again afterwards.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from blocks import ids
from blocks.routing_modals import away_errors, read_away, read_home_reassign
from bot.slack.deps import leadbot
from bot.slack.listeners import lead_id
from bot.slack.listeners.events.home import publish_home
from leadqual.services import availability, triage


def away_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    lb, user = leadbot(context), body["user"]["id"]
    request = read_away(view["state"]["values"])
    rep = request.rep or user
    errors = away_errors(request, today=availability.today_for(lb.ctx, rep))
    if errors:
        ack(response_action="errors", errors=errors)
        return
    if request.back:
        availability.mark_back(lb.ctx, actor=user, rep=rep)
    else:
        availability.mark_away(lb.ctx, actor=user, rep=rep, until=request.until)
    ack()
    publish_home(client, context, user)


def home_reassign_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext
) -> None:
    lb, user = leadbot(context), body["user"]["id"]
    picked, to_user = read_home_reassign(view["state"]["values"])
    if not picked or not to_user:
        missing = ids.HOME_REASSIGN_LEAD if not picked else ids.REASSIGN_TO
        ack(response_action="errors", errors={missing: "Pick one."})
        return
    ack()
    triage.reassign(lb.ctx, lead_id=lead_id(picked), user_id=user, to_user=to_user, key=f"view:{view['id']}")
    publish_home(client, context, user)
