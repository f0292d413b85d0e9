"""Card buttons through the real Bolt app: signed requests in, the Slack stand-in out, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from slack_sdk.models.blocks import Block
from sqlalchemy import func, select

from blocks import ids
from bot.commands.serve import build_server
from bot.http import create_http_app
from bot.slack.endpoint import SlackEndpoint
from bot.slack.messages import render_outbox
from leadqual.db.models import Claim, Decision, Event, LeadRow, OutboxMessage
from leadqual.errors import CardNotPosted, ConfigError
from leadqual.services import outbox, triage
from leadqual.services.context import Context
from leadqual.settings import Settings
from tests.bot_helpers import (
    CHANNEL,
    HOSTILE_NAME,
    SPECIAL,
    Bot,
    action_ts,
    add_lead,
    bot_fixture,  # noqa: F401  (the `bot` fixture)
    interactive_body,
    mrkdwn_texts,
    signed_request,
)
from tests.conftest import make_settings
from tests.slack_standin import SlackStandIn, validate_message_blocks

MANAGER = "UMANAGER"


def count(ctx: Context, model: type, **where: object) -> int:
    with ctx.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0


def lead(ctx: Context, lead_id: int) -> LeadRow:
    with ctx.session_factory() as session:
        row = session.get(LeadRow, lead_id)
        assert row is not None
        return row


def posted_lead(bot: Bot, **overrides: object) -> int:
    """A lead whose card is in the channel."""
    lead_id = add_lead(bot.ctx, **overrides)
    bot.deliver()
    return lead_id


def card_message(bot: Bot, lead_id: int) -> dict:
    row = lead(bot.ctx, lead_id)
    message = bot.slack.message(row.channel_id or "", row.message_ts or "")
    assert message is not None
    return message


def thread_texts(bot: Bot, lead_id: int) -> list[str]:
    ts = lead(bot.ctx, lead_id).message_ts
    return [c.params["text"] for c in bot.slack.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]


def action_ids(message: dict) -> list[str]:
    return [e["action_id"] for e in message["blocks"][-1]["elements"]]


# ---------------------------------------------------------------------------
# The card
# ---------------------------------------------------------------------------


def test_a_card_is_posted_valid_with_its_outbox_id_in_the_metadata(bot: Bot) -> None:
    lead_id = posted_lead(bot)
    [post] = bot.slack.calls_to("chat.postMessage")
    assert post.params["channel"] == CHANNEL and post.params["unfurl_links"] in (False, "false", "0")
    assert post.params["metadata"]["event_type"] == "leadbot_card"
    assert post.params["metadata"]["event_payload"]["lead_id"] == lead_id
    assert [b.to_dict() for b in Block.parse_all(post.params["blocks"])] == post.params["blocks"]
    assert bot.slack.rejected == []


def test_a_hostile_lead_is_posted_escaped_and_accepted_by_slack(bot: Bot) -> None:
    lead_id = posted_lead(
        bot,
        company={"name": HOSTILE_NAME, "industry": "<!subteam^S1>", "country": "US"},
        message="<!everyone> " + "x" * 9000,
    )
    message = card_message(bot, lead_id)
    assert bot.slack.rejected == []
    texts = [message["text"], *mrkdwn_texts(message["blocks"])]
    assert not [t for t in texts if SPECIAL.search(t)]
    assert not any("<@U0BOSS>" in t for t in texts)
    assert "&lt;!channel&gt;" in message["text"]


# ---------------------------------------------------------------------------
# Claim
# ---------------------------------------------------------------------------


def test_claiming_acks_and_updates_the_card_in_place_and_logs_it_in_the_thread(bot: Bot) -> None:
    lead_id = posted_lead(bot)
    response = bot.click(ids.CLAIM, lead_id, "UDANA")
    assert response.status == 200
    assert lead(bot.ctx, lead_id).owner_id == "UDANA"
    bot.deliver()
    message = card_message(bot, lead_id)
    assert "Claimed by <@UDANA>" in json.dumps(message, ensure_ascii=False)
    assert action_ids(message)[0] == ids.RELEASE and "edited" in message
    assert any("<@UDANA> claimed this lead" in t for t in thread_texts(bot, lead_id))
    assert bot.slack.rejected == [] and bot.ephemerals() == []


def test_a_second_claim_is_refused_with_an_ephemeral_naming_the_owner(bot: Bot) -> None:
    lead_id = posted_lead(bot)
    bot.click(ids.CLAIM, lead_id, "UDANA")
    assert bot.click(ids.CLAIM, lead_id, "USAM").status == 200
    assert bot.ephemerals("USAM") == ["This lead is already claimed by <@UDANA>."]
    assert lead(bot.ctx, lead_id).owner_id == "UDANA" and count(bot.ctx, Claim) == 1


def test_twenty_simultaneous_clicks_have_exactly_one_winner_and_every_loser_hears_who(bot: Bot) -> None:
    lead_id = posted_lead(bot)
    users = [f"UREP{i:02d}" for i in range(20)]
    statuses = bot.dispatch_together(
        [signed_request(interactive_body(bot.action_payload(ids.CLAIM, lead_id, u))) for u in users]
    )

    winner = lead(bot.ctx, lead_id).owner_id
    assert winner in users and statuses == [200] * 20
    assert count(bot.ctx, Claim, lead_id=lead_id) == 1 and count(bot.ctx, Event, kind="claimed") == 1
    assert count(bot.ctx, OutboxMessage, kind="card_update") == 1
    losers = {c.params["user"]: c.params["text"] for c in bot.slack.calls_to("chat.postEphemeral")}
    assert set(losers) == set(users) - {winner}
    assert set(losers.values()) == {f"This lead is already claimed by <@{winner}>."}


def test_a_retried_delivery_and_a_double_click_claim_once(bot: Bot) -> None:
    lead_id = posted_lead(bot)
    ts = action_ts()
    assert bot.click(ids.CLAIM, lead_id, "UDANA", ts=ts).status == 200
    assert bot.click(ids.CLAIM, lead_id, "UDANA", ts=ts, retry_num=1).status == 200
    assert bot.click(ids.CLAIM, lead_id, "UDANA").status == 200  # the double click: a new action_ts
    assert count(bot.ctx, Event, kind="claimed") == 1 and count(bot.ctx, Claim) == 1
    assert count(bot.ctx, OutboxMessage, kind="thread") == 1
    assert lead(bot.ctx, lead_id).version == 2 and bot.ephemerals() == []


def test_a_retried_claim_after_a_release_does_not_claim_again(bot: Bot) -> None:
    lead_id = posted_lead(bot)
    ts = action_ts()
    bot.click(ids.CLAIM, lead_id, "UDANA", ts=ts)
    bot.click(ids.RELEASE, lead_id, "UDANA")
    bot.click(ids.CLAIM, lead_id, "UDANA", ts=ts, retry_num=2)
    assert lead(bot.ctx, lead_id).owner_id is None


# ---------------------------------------------------------------------------
# Release, reassign, reopen
# ---------------------------------------------------------------------------


def test_the_owner_releases_and_the_card_offers_claim_again(bot: Bot) -> None:
    lead_id = posted_lead(bot)
    bot.click(ids.CLAIM, lead_id, "UDANA")
    bot.click(ids.RELEASE, lead_id, "UDANA")
    bot.deliver()
    assert lead(bot.ctx, lead_id).owner_id is None
    assert action_ids(card_message(bot, lead_id))[0] == ids.CLAIM
    assert any("<@UDANA> released this lead" in t for t in thread_texts(bot, lead_id))


def test_someone_else_cannot_release_and_nothing_changes(bot: Bot) -> None:
    lead_id = posted_lead(bot)
    bot.click(ids.CLAIM, lead_id, "UDANA")
    bot.click(ids.RELEASE, lead_id, "USAM")
    assert bot.ephemerals("USAM") == ["Only <@UDANA> or a manager can do that."]
    assert lead(bot.ctx, lead_id).owner_id == "UDANA" and lead(bot.ctx, lead_id).version == 2


def test_a_rep_opening_reassign_is_refused_and_no_modal_opens(bot: Bot) -> None:
    lead_id = posted_lead(bot)
    bot.click(ids.CLAIM, lead_id, "UDANA")
    bot.click(ids.MORE, lead_id, "USAM", selected=f"{ids.MORE_REASSIGN}:{lead_id}")
    assert bot.ephemerals("USAM") == ["Only a manager can do that."]
    assert bot.slack.calls_to("views.open") == []
    assert lead(bot.ctx, lead_id).owner_id == "UDANA"


def test_a_manager_opens_the_reassign_modal_preset_to_the_owner(bot: Bot) -> None:
    lead_id = posted_lead(bot)
    bot.click(ids.CLAIM, lead_id, "UDANA")
    bot.click(ids.MORE, lead_id, MANAGER, selected=f"{ids.MORE_REASSIGN}:{lead_id}")
    view = bot.opened_view(ids.REASSIGN_VIEW)
    [picker] = [b for b in view["blocks"] if b.get("block_id") == ids.REASSIGN_TO]
    assert picker["element"]["initial_user"] == "UDANA"
    assert json.loads(view["private_metadata"])["lead"] == lead_id


def test_a_decision_button_on_someone_elses_lead_is_refused_and_opens_nothing(bot: Bot) -> None:
    lead_id = posted_lead(bot)
    bot.click(ids.CLAIM, lead_id, "UDANA")
    bot.click(ids.DISQUALIFY, lead_id, "USAM")
    assert bot.ephemerals("USAM") == ["Only <@UDANA> or a manager can do that."]
    assert bot.slack.calls_to("views.open") == []


def test_a_decision_button_on_an_unclaimed_lead_claims_it_and_opens_the_modal(bot: Bot) -> None:
    lead_id = posted_lead(bot)
    bot.click(ids.NURTURE, lead_id, "USAM")
    assert lead(bot.ctx, lead_id).owner_id == "USAM"
    assert bot.opened_view()["callback_id"] == ids.NURTURE_VIEW
    assert bot.slack.rejected == []


def test_reopen_is_refused_to_other_reps_and_undoes_the_decision_for_the_owner(bot: Bot) -> None:
    lead_id = posted_lead(bot)
    triage.decide(
        bot.ctx,
        lead_id=lead_id,
        user_id="UDANA",
        decision=triage.DecisionInput(outcome=triage.Outcome.NOT_QUALIFIED, reason="spam"),
    )
    bot.deliver()
    assert action_ids(card_message(bot, lead_id)) == [ids.REOPEN]
    bot.click(ids.REOPEN, lead_id, "USAM")
    assert bot.ephemerals("USAM") == ["Only <@UDANA> or a manager can do that."]
    assert lead(bot.ctx, lead_id).outcome == "not_qualified"
    bot.click(ids.REOPEN, lead_id, "UDANA")
    bot.deliver()
    assert lead(bot.ctx, lead_id).outcome is None
    assert action_ids(card_message(bot, lead_id))[0] == ids.RELEASE
    with bot.ctx.session_factory() as session:
        [decision] = session.scalars(select(Decision)).all()
        assert decision.superseded_at is not None
    assert any("reopened this lead (was Not qualified)" in t for t in thread_texts(bot, lead_id))


def test_a_click_on_a_deleted_lead_is_answered_with_an_ephemeral(bot: Bot) -> None:
    bot.click(ids.CLAIM, 999_999, "UDANA")
    assert bot.ephemerals("UDANA") == ["Lead 999999 was not found."]


# ---------------------------------------------------------------------------
# The HTTP endpoint
# ---------------------------------------------------------------------------


def test_the_http_endpoint_verifies_the_signature_and_dispatches_off_the_event_loop(
    bot: Bot, settings: Settings
) -> None:
    lead_id = posted_lead(bot)
    endpoint = SlackEndpoint(bot.app, signing_secret=settings.slack_signing_secret.get_secret_value(), workers=4)
    http = TestClient(create_http_app(bot.ctx, settings, slack_endpoint=endpoint.handle))
    body = interactive_body(bot.action_payload(ids.CLAIM, lead_id, "UDANA"))
    forged = http.post(
        "/slack/events",
        content=body,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": str(int(time.time())),
            "x-slack-signature": "v0=" + "0" * 64,
        },
    )
    assert forged.status_code == 401
    signed = signed_request(body)
    answer = http.post("/slack/events", content=body, headers={k: v[0] for k, v in signed.headers.items()})
    bot.executor.drain()
    endpoint.close()
    assert answer.status_code == 200
    assert lead(bot.ctx, lead_id).owner_id == "UDANA"


def test_a_stale_signature_is_refused(bot: Bot) -> None:
    lead_id = posted_lead(bot)
    request = signed_request(
        interactive_body(bot.action_payload(ids.CLAIM, lead_id, "UDANA")), timestamp=int(time.time()) - 600
    )
    assert bot.app.dispatch(request).status == 401
    bot.executor.drain()
    assert lead(bot.ctx, lead_id).owner_id is None


# ---------------------------------------------------------------------------
# render_outbox: what the worker sends
# ---------------------------------------------------------------------------


def queued(ctx: Context, kind: str) -> OutboxMessage:
    with ctx.session_factory() as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id.desc()))
        assert row is not None
        return row


def test_updates_and_thread_lines_wait_for_the_card_to_be_posted(bot: Bot) -> None:
    lead_id = add_lead(bot.ctx)
    triage.claim(bot.ctx, lead_id=lead_id, user_id="UDANA")
    for kind in (outbox.CARD_UPDATE, outbox.THREAD):
        row = queued(bot.ctx, kind)
        with bot.ctx.transaction() as session, pytest.raises(CardNotPosted):
            render_outbox(bot.ctx, session, row)
    row = queued(bot.ctx, outbox.CARD)
    with bot.ctx.transaction() as session:
        card = render_outbox(bot.ctx, session, row)
    assert validate_message_blocks(card["blocks"]) == []
    assert "Claimed by <@UDANA>" in json.dumps(card["blocks"], ensure_ascii=False)  # the current state


def test_dm_and_ephemeral_rows_render_their_text_with_the_lead_linked_and_escaped(
    bot: Bot, slack: SlackStandIn
) -> None:
    lead_id = posted_lead(bot, company={"name": "<!channel> Acme", "country": "US"})
    with bot.ctx.transaction() as session:
        outbox.enqueue(
            session,
            outbox.DM,
            lead_id=lead_id,
            channel_id=MANAGER,
            payload={"text": "Escalation: {lead} is unclaimed after 45 minutes."},
            now=bot.ctx.now(),
        )
        outbox.enqueue(
            session,
            outbox.EPHEMERAL,
            lead_id=lead_id,
            channel_id=CHANNEL,
            payload={"text": "Heads up on {lead}", "user": "UDANA"},
            now=bot.ctx.now(),
        )
    dm_row, note_row = queued(bot.ctx, outbox.DM), queued(bot.ctx, outbox.EPHEMERAL)
    with bot.ctx.transaction() as session:
        dm = render_outbox(bot.ctx, session, dm_row)
        note = render_outbox(bot.ctx, session, note_row)
    row = lead(bot.ctx, lead_id)
    link = f"https://slack.com/archives/{CHANNEL}/p{row.message_ts.replace('.', '')}" if row.message_ts else ""
    assert dm == {
        "channel": MANAGER,
        "text": f"Escalation: <{link}|&lt;!channel&gt; Acme> is unclaimed after 45 minutes.",
    }
    assert note["user"] == "UDANA" and note["channel"] == CHANNEL and "&lt;!channel&gt;" in note["text"]
    assert slack.client().chat_postMessage(**dm)["ok"]


def test_serve_mounts_the_slack_endpoint_only_when_slack_is_configured(
    bot: Bot, db_url: str, slack: SlackStandIn
) -> None:
    lead_id = posted_lead(bot)
    body = interactive_body(bot.action_payload(ids.CLAIM, lead_id, "UDANA"))
    headers = {k: v[0] for k, v in signed_request(body).headers.items()}

    intake_only = build_server(make_settings(db_url, SLACK_BOT_TOKEN=""), bot.ctx)
    assert intake_only.slack is None
    assert TestClient(intake_only.http).post("/slack/events", content=body, headers=headers).status_code == 404

    server = build_server(make_settings(db_url, SLACK_API_URL=slack.url), bot.ctx)
    try:
        assert server.socket is None and server.endpoint is not None
        assert slack.calls_to("auth.test")  # the token is checked once at start-up, through SLACK_API_URL
        assert TestClient(server.http).post("/slack/events", content=body, headers=headers).status_code == 200
    finally:
        server.close()


def test_serve_refuses_a_bot_token_with_no_way_for_slack_to_reach_the_app(bot: Bot, db_url: str) -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        build_server(make_settings(db_url, SLACK_SIGNING_SECRET=""), bot.ctx)


def test_serve_prepares_socket_mode_beside_http_when_an_app_token_is_set(
    bot: Bot, db_url: str, slack: SlackStandIn
) -> None:
    server = build_server(make_settings(db_url, SLACK_API_URL=slack.url, SLACK_APP_TOKEN="xapp-1-test"), bot.ctx)
    try:
        assert server.socket is not None and server.endpoint is not None
        assert server.socket.client.web_client.base_url == slack.url  # apps.connections.open goes there too
    finally:
        server.close()
