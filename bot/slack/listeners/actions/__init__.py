"""Button and menu clicks: on lead cards, in the App Home, on the follow-up reminder and on the weekly digest."""

from __future__ import annotations

from slack_bolt import App

from blocks import ids
from bot.slack.errors import guarded
from bot.slack.listeners.actions import availability, card, decisions, follow_ups, home, needs_info, proposals


def register(app: App) -> None:
    app.action(ids.CLAIM)(guarded(card.claim))
    app.action(ids.RELEASE)(guarded(card.release))
    app.action(ids.REOPEN)(guarded(card.reopen))
    app.action(ids.MORE)(guarded(card.more))
    for decision in ids.DECISIONS:
        app.action(decision.button)(guarded(decisions.open_decision))
    app.action(ids.INFO_RECEIVED)(guarded(needs_info.open_info_received))
    app.action(ids.HOME_REFRESH)(guarded(home.refresh))
    app.action(ids.HOME_AWAY)(guarded(availability.open_away))
    app.action(ids.HOME_BACK)(guarded(availability.back))
    app.action(ids.HOME_REASSIGN)(guarded(availability.open_reassign))
    app.action(ids.FOLLOW_UP_DONE)(guarded(follow_ups.done))
    app.action(ids.FOLLOW_UP_SNOOZE)(guarded(follow_ups.snooze))
    for action_id in ids.FOLLOW_UP_DECISIONS:
        app.action(action_id)(guarded(follow_ups.decide))
    app.action(ids.APPLY_PROPOSAL)(guarded(proposals.apply))
    app.action(ids.ROLLBACK_RULESET)(guarded(proposals.rollback))
