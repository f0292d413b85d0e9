"""The App Home's Refresh button."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.slack.listeners.events.home import publish_home


def refresh(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    publish_home(client, context, body["user"]["id"])
