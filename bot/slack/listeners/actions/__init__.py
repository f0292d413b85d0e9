"""Button and menu clicks: on lead cards, in the App Home, and on the weekly digest."""

from __future__ import annotations

from slack_bolt import App

from blocks import ids
from bot.slack.errors import guarded
from bot.slack.listeners.actions import card, decisions, home, needs_info, proposals


def register(app: App) -> None:
    app.action(ids.CLAIM)(guarded(card.claim))
    app.action(ids.RELEASE)(guarded(card.release))
    app.action(ids.REOPEN)(guarded(card.reopen))
    app.action(ids.MORE)(guarded(card.more))
    for decision in ids.DECISIONS:
        app.action(decision.button)(guarded(decisions.open_decision))
    app.action(ids.INFO_RECEIVED)(guarded(needs_info.open_info_received))
    app.action(ids.HOME_REFRESH)(guarded(home.refresh))
    app.action(ids.APPLY_PROPOSAL)(guarded(proposals.apply))
    app.action(ids.ROLLBACK_RULESET)(guarded(proposals.rollback))
