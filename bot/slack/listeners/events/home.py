"""App Home: publish the user's view whenever they open the Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from blocks.home import home_view
from blocks.home_routing import routing_home_blocks
from bot.slack.deps import leadbot
from leadqual.services.home import home_for
from leadqual.services.home_routing import routing_home


def home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":  # the Messages tab needs nothing from us
        return
    publish_home(client, context, event["user"])


def publish_home(client: WebClient, context: BoltContext, user_id: str) -> None:
    lb = leadbot(context)
    home = home_for(lb.ctx, user_id=user_id)
    routing = routing_home_blocks(routing_home(lb.ctx, user_id=user_id))
    client.views_publish(user_id=user_id, view=home_view(home, tz=lb.ctx.config.tz, extra=routing))
