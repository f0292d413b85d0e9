"""Events API subscriptions."""

from __future__ import annotations

from slack_bolt import App

from bot.slack.errors import guarded
from bot.slack.listeners.events import home


def register(app: App) -> None:
    app.event("app_home_opened")(guarded(home.home_opened))
