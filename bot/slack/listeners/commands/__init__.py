"""Slash commands."""

from __future__ import annotations

from slack_bolt import App

from blocks import ids
from bot.slack.errors import guarded
from bot.slack.listeners.commands import lead


def register(app: App) -> None:
    app.command(ids.LEAD_COMMAND)(guarded(lead.lead_command))
