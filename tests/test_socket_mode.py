"""Socket Mode end to end: `leadbot serve`'s Slack side against a local Socket Mode stand-in.

The server is built as `leadbot serve` builds it (SLACK_APP_TOKEN set, the Web API at the
stand-in); it asks `apps.connections.open` for a URL with its app-level token, connects,
and every click, submission, command and event below arrives as a Socket Mode envelope that
must be acked by envelope_id within Slack's 3 s. Effects are read from the database and
from the Web API stand-in's recorded calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from blocks import ids
from bot.commands.serve import Server, build_server
from leadqual.db.models import LeadRow
from leadqual.services import cards
from leadqual.services.context import Context
from tests.bot_helpers import CHANNEL, add_lead, block_actions_payload, deliver_outbox, view_submission_payload
from tests.conftest import make_settings
from tests.procs import wait_until
from tests.slack_standin import SlackStandIn
from tests.socket_standin import SocketModeStandIn, slash_command
from tests.test_bot_home_and_commands import add_values

APP_TOKEN = "xapp-1-A0BOT-1-standin"


@pytest.fixture
def socket(slack: SlackStandIn) -> Iterator[SocketModeStandIn]:
    with SocketModeStandIn(slack) as standin:
        yield standin


@pytest.fixture
def server(db_url: str, ctx: Context, slack: SlackStandIn, socket: SocketModeStandIn) -> Iterator[Server]:
    """`leadbot serve`'s server with Socket Mode on, connected to the stand-in."""
    built = build_server(make_settings(db_url, SLACK_API_URL=slack.url, SLACK_APP_TOKEN=APP_TOKEN), ctx)
    built.start_socket_mode()
    socket.wait_for_links(1)
    yield built
    built.close()


def eventually(condition: Callable[[], Any], what: str) -> None:
    """Listeners run after their ack, in the server's pool: wait for their effect (30 s is only a failure bound)."""
    wait_until(lambda: bool(condition()), timeout=30, what=what)


def home_opened(user: str) -> dict[str, Any]:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": f"D{user}",
        "tab": "home",
        "event_ts": "1764000000.000100",
    }


def posted_card(ctx: Context, slack: SlackStandIn) -> LeadRow:
    lead_id = add_lead(ctx)
    deliver_outbox(ctx, WebClient(token="xoxb-test-token", base_url=slack.url))
    with ctx.session_factory() as session:
        row = session.get(LeadRow, lead_id)
        assert row is not None and row.message_ts
        return row


def test_the_server_connects_with_its_app_token_and_receives_hello(
    server: Server, slack: SlackStandIn, socket: SocketModeStandIn
) -> None:
    [opened] = slack.calls_to("apps.connections.open")
    assert opened.ok and len(socket.links) == 1 and socket.refused == []
    assert server.socket is not None and server.socket.client.is_connected()


def test_app_home_opened_is_acked_and_publishes_the_home(
    server: Server, slack: SlackStandIn, socket: SocketModeStandIn
) -> None:
    envelope = socket.events_api(home_opened("UDANA"))

    assert envelope.wait_for_ack()
    eventually(
        lambda: [c for c in slack.calls_to("views.publish") if c.params["user_id"] == "UDANA"],
        "the Home published for UDANA",
    )
    assert slack.rejected == [] and socket.stray_acks == [] and socket.late_acks == []


def test_a_claim_is_acked_and_the_rep_owns_the_lead(
    server: Server, ctx: Context, slack: SlackStandIn, socket: SocketModeStandIn
) -> None:
    card = posted_card(ctx, slack)
    click = block_actions_payload(
        ids.CLAIM,
        card.id,
        "UDANA",
        trigger_id="trigger-claim",
        message_ts=card.message_ts,
        channel=card.channel_id or CHANNEL,
    )

    envelope = socket.interactive(click)

    assert envelope.wait_for_ack() and envelope.ack_payload is None
    eventually(lambda: cards.read_card(ctx, lead_id=card.id).owner_id == "UDANA", "the claim to be stored")
    assert socket.late_acks == []


def test_slash_lead_opens_the_modal_and_its_submission_stores_the_lead(
    server: Server, ctx: Context, slack: SlackStandIn, socket: SocketModeStandIn
) -> None:
    command = socket.slash_commands(
        slash_command(ids.LEAD_COMMAND, "", "UDANA", channel=CHANNEL, trigger_id="trigger-lead")
    )
    assert command.wait_for_ack()
    eventually(lambda: slack.calls_to("views.open"), "the add-lead modal to open")
    [opened] = slack.calls_to("views.open")
    assert opened.params["trigger_id"] == "trigger-lead" and opened.params["view"]["callback_id"] == ids.ADD_LEAD_VIEW

    values = add_values(
        **{
            ids.ADD_COMPANY: "Gamma Chemicals",
            ids.ADD_EMAIL: "lee@gammachem.com",
            ids.ADD_INDUSTRY: "chemicals",
            ids.ADD_COUNTRY: "US",
        }
    )
    submission = socket.interactive(
        view_submission_payload(opened.params["view"], "UDANA", values, trigger_id="trigger-submit")
    )

    assert submission.wait_for_ack() and submission.ack_payload is None  # no field errors: the modal closes
    eventually(lambda: slack.calls_to("chat.postEphemeral"), "the rep to hear the lead's group")
    with ctx.session_factory() as session:
        row = session.scalar(select(LeadRow))
        assert row is not None and row.source == "slack" and row.company_name == "Gamma Chemicals"
    assert f"as lead #{row.id}" in slack.calls_to("chat.postEphemeral")[0].params["text"]
    assert slack.rejected == []


def test_an_invalid_submission_is_answered_in_its_ack_with_the_fields_errors(
    server: Server, ctx: Context, slack: SlackStandIn, socket: SocketModeStandIn
) -> None:
    socket.slash_commands(
        slash_command(ids.LEAD_COMMAND, "", "UDANA", channel=CHANNEL, trigger_id="trigger-lead")
    ).wait_for_ack()
    eventually(lambda: slack.calls_to("views.open"), "the add-lead modal to open")
    view = slack.calls_to("views.open")[0].params["view"]

    submission = socket.interactive(view_submission_payload(view, "UDANA", add_values(), trigger_id="t-2"))

    assert submission.wait_for_ack()
    assert submission.ack_payload is not None and submission.ack_payload["response_action"] == "errors"
    assert set(submission.ack_payload["errors"]) == {ids.ADD_COMPANY}
    with ctx.session_factory() as session:
        assert session.scalar(select(LeadRow)) is None


@pytest.mark.parametrize("reason", ["warning", "refresh_requested"])
def test_after_a_disconnect_the_server_reconnects_and_acks_the_envelope_sent_right_after(
    reason: str, server: Server, slack: SlackStandIn, socket: SocketModeStandIn
) -> None:
    old = socket.disconnect(reason)
    new = socket.wait_for_links(2)

    envelope = socket.events_api(home_opened("UDANA"), link=new)  # at once, as Slack does on a fresh link

    assert envelope.wait_for_ack(), f"not acked within Slack's 3 s (late acks: {socket.late_acks})"
    assert len(slack.calls_to("apps.connections.open")) == 2 and new is not old
    assert old.closed.wait(30), "the old connection was never closed"
    eventually(lambda: slack.calls_to("views.publish"), "the Home published")
    assert socket.envelopes[-1].link is new and len(socket.links) == 2


def test_work_keeps_flowing_across_several_refreshes(
    server: Server, ctx: Context, slack: SlackStandIn, socket: SocketModeStandIn
) -> None:
    card = posted_card(ctx, slack)
    for n in range(2, 5):
        socket.disconnect("refresh_requested")
        socket.wait_for_links(n)
        assert socket.events_api(home_opened(f"UREP{n}")).wait_for_ack()
    click = block_actions_payload(
        ids.CLAIM,
        card.id,
        "UREP4",
        trigger_id="trigger-claim",
        message_ts=card.message_ts,
        channel=card.channel_id or CHANNEL,
    )
    assert socket.interactive(click).wait_for_ack()
    eventually(lambda: cards.read_card(ctx, lead_id=card.id).owner_id == "UREP4", "the claim to be stored")
    assert len(slack.calls_to("apps.connections.open")) == 4 and socket.late_acks == []
