"""App Home and /lead through the real app: published views, the add-lead modal and its answers."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from blocks import ids
from bot.slack.app import create_app
from leadqual.db.models import LeadRow, OutboxMessage
from leadqual.lead import Outcome
from leadqual.services import cards, triage
from leadqual.settings import Settings
from tests.bot_helpers import (
    CHANNEL,
    Bot,
    DrainableExecutor,
    add_lead,
    bot_fixture,  # noqa: F401  (the `bot` fixture)
)
from tests.slack_standin import SlackStandIn, validate_view

MANAGER = "UMANAGER"


def home_opened(bot: Bot, user: str, tab: str = "home", retry_num: int | None = None) -> Any:
    return bot.event(
        {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": tab, "event_ts": "1764000000.000100"},
        retry_num=retry_num,
    )


def published(bot: Bot, user: str) -> dict[str, Any]:
    views = [c.params["view"] for c in bot.slack.calls_to("views.publish") if c.params["user_id"] == user]
    assert views, f"no Home published for {user}"
    return views[-1]


# ---------------------------------------------------------------------------
# App Home
# ---------------------------------------------------------------------------


def test_opening_the_home_tab_publishes_the_reps_open_claims_and_due_follow_ups(bot: Bot) -> None:
    mine, nurtured = add_lead(bot.ctx), add_lead(bot.ctx, company={"name": "Beta Water", "country": "US"})
    bot.deliver()
    triage.claim(bot.ctx, lead_id=mine, user_id="UDANA")
    soon = bot.ctx.today() + timedelta(days=3)
    triage.decide(
        bot.ctx,
        lead_id=nurtured,
        user_id="UDANA",
        decision=triage.DecisionInput(outcome=Outcome.NURTURE, follow_up_on=soon),
    )
    assert home_opened(bot, "UDANA").status == 200
    view = published(bot, "UDANA")
    assert validate_view(view) == []
    text = json.dumps(view, ensure_ascii=False)
    assert "*Open claims* (1)" in text and "Acme Metals" in text
    assert "*Follow-ups due this week* (1)" in text and "Beta Water" in text and soon.isoformat() in text
    assert "This week" not in text


def test_a_manager_also_sees_this_weeks_numbers(bot: Bot) -> None:
    first = add_lead(bot.ctx)
    add_lead(bot.ctx)
    triage.claim(bot.ctx, lead_id=first, user_id="UDANA")
    home_opened(bot, MANAGER)
    text = json.dumps(published(bot, MANAGER), ensure_ascii=False)
    assert "This week" in text and "*Received (2)*" in text and "Priority: *2*" in text
    assert "*Claimed*\\n1" in text


def test_the_messages_tab_publishes_nothing(bot: Bot) -> None:
    home_opened(bot, "UDANA", tab="messages")
    assert bot.slack.calls_to("views.publish") == []


def test_refresh_republishes_with_what_changed(bot: Bot) -> None:
    lead_id = add_lead(bot.ctx)
    home_opened(bot, "UDANA")
    assert "*Open claims* (0)" in json.dumps(published(bot, "UDANA"))
    triage.claim(bot.ctx, lead_id=lead_id, user_id="UDANA")
    bot.click(ids.HOME_REFRESH, 0, "UDANA", value="refresh")
    assert "*Open claims* (1)" in json.dumps(published(bot, "UDANA"))


def test_members_of_a_manager_usergroup_count_as_managers(settings: Settings, bot: Bot, slack: SlackStandIn) -> None:
    slack.usergroups = {"S0SALESLEADS": ["UBOSS"]}
    config = bot.ctx.config.model_copy(update={"manager_usergroups": ["S0SALESLEADS"]})
    ctx = dataclasses.replace(bot.ctx, config=config)
    executor = DrainableExecutor()
    app = create_app(settings, ctx=ctx, client=bot.client, listener_executor=executor)
    managed = Bot(app=app, ctx=ctx, slack=slack, executor=executor, client=bot.client)
    lead_id = add_lead(ctx)
    triage.claim(ctx, lead_id=lead_id, user_id="UDANA")
    managed.click(ids.RELEASE, lead_id, "UBOSS")
    assert cards.read_card(ctx, lead_id=lead_id).owner_id is None
    managed.click(ids.MORE, lead_id, "UREP", selected=f"{ids.MORE_REASSIGN}:{lead_id}")
    assert managed.ephemerals("UREP") == ["Only a manager can do that."]
    assert len(slack.calls_to("usergroups.users.list")) == 1  # cached
    executor.shutdown()


# ---------------------------------------------------------------------------
# /lead
# ---------------------------------------------------------------------------


def add_values(**fields: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for block_id in (
        ids.ADD_COMPANY,
        ids.ADD_CONTACT_NAME,
        ids.ADD_TITLE,
        ids.ADD_INDUSTRY,
        ids.ADD_COUNTRY,
        ids.ADD_NEED,
        ids.ADD_MESSAGE,
    ):
        values[block_id] = {block_id: {"type": "plain_text_input", "value": fields.get(block_id)}}
    values[ids.ADD_EMAIL] = {ids.ADD_EMAIL: {"type": "email_text_input", "value": fields.get(ids.ADD_EMAIL)}}
    return values


def test_slash_lead_opens_the_add_lead_modal(bot: Bot) -> None:
    assert bot.command("", "UDANA").status == 200
    view = bot.opened_view(ids.ADD_LEAD_VIEW)
    assert json.loads(view["private_metadata"]) == {"channel": CHANNEL}
    assert bot.slack.rejected == []


def test_slash_lead_with_anything_else_answers_its_usage(bot: Bot) -> None:
    response = bot.command("help", "UDANA")
    assert response.status == 200 and "opens a form to add a lead" in response.body  # an ephemeral reply
    assert bot.slack.calls_to("views.open") == []


def test_a_submitted_lead_is_scored_queued_and_the_rep_hears_its_group(bot: Bot) -> None:
    bot.command("add", "UDANA")
    view = bot.opened_view(ids.ADD_LEAD_VIEW)
    response = bot.submit(
        view,
        "UDANA",
        add_values(
            **{
                ids.ADD_COMPANY: "Gamma Chemicals <!here>",
                ids.ADD_EMAIL: "lee@gammachem.com",
                ids.ADD_TITLE: "Plant Engineering Manager",
                ids.ADD_INDUSTRY: "chemicals",
                ids.ADD_COUNTRY: "us",
                ids.ADD_NEED: "Compressor failing, need replacement quote",
            }
        ),
    )
    assert response.status == 200 and not response.body
    with bot.ctx.session_factory() as session:
        row = session.scalar(select(LeadRow))
        assert row is not None and row.source == "slack" and row.payload["attributes"] == {"added_by": "UDANA"}
        queued = session.scalar(select(OutboxMessage).where(OutboxMessage.lead_id == row.id))
        assert queued is not None and queued.kind == "card"
    [answer] = bot.ephemerals("UDANA")
    assert f"as lead #{row.id}" in answer and f"(fit {row.fit}, intent {row.intent})" in answer
    assert "&lt;!here&gt;" in answer and f"<#{CHANNEL}>" in answer


def test_an_invalid_lead_is_answered_on_its_field_and_nothing_is_stored(bot: Bot) -> None:
    bot.command("", "UDANA")
    view = bot.opened_view(ids.ADD_LEAD_VIEW)
    bad_email = bot.submit(view, "UDANA", add_values(**{ids.ADD_COMPANY: "Acme", ids.ADD_EMAIL: "not-an-email"}))
    assert set(json.loads(bad_email.body)["errors"]) == {ids.ADD_EMAIL}
    empty = bot.submit(view, "UDANA", add_values())
    body = json.loads(empty.body)
    assert body["response_action"] == "errors" and set(body["errors"]) == {ids.ADD_COMPANY}
    with bot.ctx.session_factory() as session:
        assert session.scalar(select(LeadRow)) is None


def test_adding_a_lead_that_is_already_open_says_so(bot: Bot) -> None:
    lead_id = add_lead(bot.ctx)
    email = cards.read_card(bot.ctx, lead_id=lead_id).email
    bot.command("", "UDANA")
    bot.submit(bot.opened_view(ids.ADD_LEAD_VIEW), "UDANA", add_values(**{ids.ADD_EMAIL: email}))
    assert bot.ephemerals("UDANA") == [
        f"*{email}* is already lead #{lead_id}: Priority (fit {cards.read_card(bot.ctx, lead_id=lead_id).fit}, "
        f"intent {cards.read_card(bot.ctx, lead_id=lead_id).intent}). No new lead was added; "
        "its card's thread notes what this one brings."
    ]


# ---------------------------------------------------------------------------
# The manifest matches what the app listens to
# ---------------------------------------------------------------------------


def test_the_manifest_declares_the_command_events_and_urls_the_app_serves() -> None:
    manifest = yaml.safe_load((Path(__file__).resolve().parent.parent / "manifest.yml").read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == ids.LEAD_COMMAND
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert settings["interactivity"]["is_enabled"] is True
    urls = {command["url"], settings["event_subscriptions"]["request_url"], settings["interactivity"]["request_url"]}
    assert urls == {"https://YOUR-HOST/slack/events"}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert settings["socket_mode_enabled"] is False
    assert {"chat:write", "commands", "im:write", "usergroups:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])
