"""App Home's routing buttons: I'm away… / Set a rep away or back… (modal), I'm back, Reassign a lead… (modal)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from blocks.modals import encode_metadata
from blocks.routing_modals import away_modal, home_reassign_modal
from bot.slack.deps import leadbot
from bot.slack.listeners.events.home import publish_home
from leadqual.errors import NotManager
from leadqual.services import availability
from leadqual.services.home_routing import open_leads


def open_away(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Open the away modal: for yourself, or (managers, "team") for any rep."""
    ack()
    lb, user = leadbot(context), body["user"]["id"]
    team = action.get("value") == "team"
    if team and not lb.is_manager(user):
        raise NotManager()
    view = away_modal(user_id=user, manager=team, metadata=encode_metadata(team=team or None))
    client.views_open(trigger_id=body["trigger_id"], view=view)


def back(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """I'm back: the rotation includes you again from the next lead."""
    ack()
    lb, user = leadbot(context), body["user"]["id"]
    availability.mark_back(lb.ctx, actor=user, rep=user)
    publish_home(client, context, user)


def open_reassign(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Managers: pick an open lead and the rep who takes it over."""
    ack()
    lb, user = leadbot(context), body["user"]["id"]
    if not lb.is_manager(user):
        raise NotManager()
    view = home_reassign_modal(open_leads(lb.ctx), metadata=encode_metadata(home=True))
    client.views_open(trigger_id=body["trigger_id"], view=view)
