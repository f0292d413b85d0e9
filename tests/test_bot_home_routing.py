"""App Home's routing through the real app: away and back (self, a manager for another, the refusals), reassign."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from blocks import ids
from leadqual.db.models import Event, LeadRow, RepStatus
from leadqual.services import triage
from leadqual.statuses import RoutingEvent
from tests.bot_helpers import (
    Bot,
    add_lead,
    bot_fixture,  # noqa: F401  (the `bot` fixture)
    interactive_body,
)
from tests.slack_standin import validate_view

MANAGER = "UMANAGER"


def home_click(bot: Bot, action_id: str, user: str, value: str) -> None:
    """A button in the App Home, as Slack sends it (container: the home view)."""
    payload = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "leadbot-test"},
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "api_app_id": "ABOT",
        "token": "legacy",
        "trigger_id": f"trigger-{next(bot.triggers)}",
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home", "blocks": [], "state": {"values": {}}},
        "actions": [
            {
                "action_id": action_id,
                "block_id": ids.HOME_ROUTING_ACTIONS,
                "type": "button",
                "value": value,
                "text": {"type": "plain_text", "text": "x"},
                "action_ts": "1764000000.000001",
            }
        ],
    }
    bot.dispatch(interactive_body(payload))


def away_values(*, until: str | None, rep: str | None = None, back: bool = False) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {
        ids.AWAY_UNTIL: {ids.AWAY_UNTIL: {"type": "datepicker", "selected_date": until}}
    }
    if rep is not None:
        values[ids.AWAY_REP] = {ids.AWAY_REP: {"type": "users_select", "selected_user": rep}}
        mode = {"value": "back" if back else "away", "text": {"type": "plain_text", "text": "x"}}
        values[ids.AWAY_MODE] = {ids.AWAY_MODE: {"type": "radio_buttons", "selected_option": mode}}
    return values


def status(bot: Bot, user: str) -> tuple[bool, str | None] | None:
    with bot.ctx.session_factory() as session:
        row = session.get(RepStatus, user)
        return None if row is None else (row.away, row.away_until.isoformat() if row.away_until else None)


def availability_events(bot: Bot) -> list[tuple[str, str | None, dict[str, Any]]]:
    kinds = (RoutingEvent.REP_AWAY, RoutingEvent.REP_BACK)
    with bot.ctx.session_factory() as session:
        return [(e.kind, e.actor, e.data) for e in session.scalars(select(Event).where(Event.kind.in_(kinds)))]


def published_text(bot: Bot, user: str) -> str:
    views = [c.params["view"] for c in bot.slack.calls_to("views.publish") if c.params["user_id"] == user]
    assert views, f"no Home published for {user}"
    assert validate_view(views[-1]) == []
    return json.dumps(views[-1], ensure_ascii=False)


def test_a_rep_sets_themselves_away_until_a_date_from_app_home_and_back(bot: Bot) -> None:
    until = (bot.ctx.today() + timedelta(days=4)).isoformat()
    home_click(bot, ids.HOME_AWAY, "UDANA", "self")
    view = bot.opened_view(ids.AWAY_VIEW)
    assert validate_view(view) == []
    assert ids.AWAY_REP not in json.dumps(view)  # a rep picks no one: it is about themselves
    assert bot.submit(view, "UDANA", away_values(until=until)).status == 200

    assert status(bot, "UDANA") == (True, until)
    assert f"You are *away* through {until}" in published_text(bot, "UDANA")

    home_click(bot, ids.HOME_BACK, "UDANA", "self")
    assert status(bot, "UDANA") == (False, None)
    assert "You are *available*" in published_text(bot, "UDANA")
    assert availability_events(bot) == [
        (RoutingEvent.REP_AWAY, "UDANA", {"user": "UDANA", "until": until}),
        (RoutingEvent.REP_BACK, "UDANA", {"user": "UDANA"}),
    ]


def test_a_manager_sets_another_rep_away_and_back_from_app_home(bot: Bot) -> None:
    until = (bot.ctx.today() + timedelta(days=10)).isoformat()
    home_click(bot, ids.HOME_AWAY, MANAGER, "team")
    view = bot.opened_view(ids.AWAY_VIEW)
    assert validate_view(view) == []
    bot.submit(view, MANAGER, away_values(until=until, rep="UBEN"))
    assert status(bot, "UBEN") == (True, until)
    assert status(bot, MANAGER) is None
    assert "<@UBEN> through " + until in published_text(bot, MANAGER)  # the manager's Home lists who is away

    bot.submit(view, MANAGER, away_values(until=None, rep="UBEN", back=True), view_id="V0SECOND")
    assert status(bot, "UBEN") == (False, None)
    assert [(k, a, d["user"]) for k, a, d in availability_events(bot)] == [
        (RoutingEvent.REP_AWAY, MANAGER, "UBEN"),
        (RoutingEvent.REP_BACK, MANAGER, "UBEN"),
    ]


def test_away_with_a_date_in_the_past_is_refused_in_the_modal_and_nothing_changes(bot: Bot) -> None:
    yesterday = (bot.ctx.today() - timedelta(days=1)).isoformat()
    home_click(bot, ids.HOME_AWAY, "UDANA", "self")
    response = bot.submit(bot.opened_view(ids.AWAY_VIEW), "UDANA", away_values(until=yesterday))
    body = json.loads(response.body)
    assert body["response_action"] == "errors"
    assert bot.ctx.today().isoformat() in body["errors"][ids.AWAY_UNTIL]
    assert status(bot, "UDANA") is None and availability_events(bot) == []


def test_a_rep_setting_someone_else_away_is_refused_privately_and_nothing_changes(bot: Bot) -> None:
    until = (bot.ctx.today() + timedelta(days=2)).isoformat()
    home_click(bot, ids.HOME_AWAY, "UDANA", "team")  # the team picker is for managers
    assert bot.slack.calls_to("views.open") == []
    home_click(bot, ids.HOME_AWAY, "UDANA", "self")
    # A crafted submission naming another rep: the service refuses it.
    bot.submit(bot.opened_view(ids.AWAY_VIEW), "UDANA", away_values(until=until, rep="UBEN"))
    told = [c.params["text"] for c in bot.slack.calls_to("chat.postMessage") if c.params.get("channel") == "UDANA"]
    assert any("Only a manager" in t for t in told)
    assert any("<@UBEN> or a manager can set <@UBEN> away" in t for t in told)
    assert status(bot, "UBEN") is None and availability_events(bot) == []


def test_a_manager_reassigns_an_open_lead_from_app_home_through_the_cards_service(bot: Bot) -> None:
    lead_id = add_lead(bot.ctx)
    triage.claim(bot.ctx, lead_id=lead_id, user_id="UDANA")
    bot.deliver()
    home_click(bot, ids.HOME_REASSIGN, MANAGER, "reassign")
    view = bot.opened_view(ids.HOME_REASSIGN_VIEW)
    assert validate_view(view) == []
    assert f'"value": "{lead_id}"' in json.dumps(view)
    option = {"value": str(lead_id), "text": {"type": "plain_text", "text": "x"}}
    values = {
        ids.HOME_REASSIGN_LEAD: {ids.HOME_REASSIGN_LEAD: {"type": "static_select", "selected_option": option}},
        ids.REASSIGN_TO: {ids.REASSIGN_TO: {"type": "users_select", "selected_user": "UBEN"}},
    }
    assert bot.submit(view, MANAGER, values).status == 200
    with bot.ctx.session_factory() as session:
        row = session.get(LeadRow, lead_id)
        assert row is not None and row.owner_id == "UBEN"
        kinds = [e.kind for e in session.scalars(select(Event).where(Event.lead_id == lead_id))]
    assert "reassigned" in kinds
    bot.deliver()  # the card update and thread line the card's Reassign queues too
    lines = [c.params.get("text", "") for c in bot.slack.calls_to("chat.postMessage") if c.params.get("thread_ts")]
    assert any("reassigned this lead from <@UDANA> to <@UBEN>" in t for t in lines)


def test_a_rep_cannot_open_reassign_from_app_home(bot: Bot) -> None:
    add_lead(bot.ctx)
    home_click(bot, ids.HOME_REASSIGN, "UDANA", "reassign")
    assert bot.slack.calls_to("views.open") == []
    told = [c.params["text"] for c in bot.slack.calls_to("chat.postMessage") if c.params.get("channel") == "UDANA"]
    assert told == ["Only a manager can do that."]
