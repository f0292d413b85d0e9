"""Modal submissions: the four decisions, Reassign, and Add a lead."""

from __future__ import annotations

from slack_bolt import App

from blocks import ids
from bot.slack.errors import guarded
from bot.slack.listeners.views import add_lead, decisions, needs_info


def register(app: App) -> None:
    for decision in ids.DECISIONS:
        app.view(decision.view)(guarded(decisions.decision_submitted))
    app.view(ids.REASSIGN_VIEW)(guarded(decisions.reassign_submitted))
    app.view(ids.INFO_RECEIVED_VIEW)(guarded(needs_info.info_received_submitted))
    app.view(ids.ADD_LEAD_VIEW)(guarded(add_lead.add_lead_submitted))
