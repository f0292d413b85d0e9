"""Tests of the Slack Web API stand-in itself, through a real slack_sdk.WebClient."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from tests.fixtures_slack import slack  # noqa: F401 - the fixture under test
from tests.slack_standin import TOKEN, SlackStandIn, validate_message_blocks, validate_view

TS = re.compile(r"^\d{10}\.\d{6}$")


def pt(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def md(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def section(text: str) -> dict:
    return {"type": "section", "text": md(text)}


def button(text: str = "Go", action_id: str = "go") -> dict:
    return {"type": "button", "text": pt(text), "action_id": action_id, "value": "v"}


def modal(title: str = "Qualify lead", blocks: list | None = None) -> dict:
    return {
        "type": "modal",
        "callback_id": "qualify",
        "title": pt(title),
        "submit": pt("Save"),
        "blocks": blocks if blocks is not None else [section("hello")],
    }


def header_value(response, name: str) -> str | None:
    for key, value in response.headers.items():
        if key.lower() == name.lower():
            return value[0] if isinstance(value, list) else value
    return None


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:  # noqa: F811
    return WebClient(token=TOKEN, base_url=slack.url, retry_handlers=[])


# --- basics -----------------------------------------------------------------


def test_fixture_yields_a_started_standin_with_an_api_base_url(slack: SlackStandIn) -> None:  # noqa: F811
    assert slack.running
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/", slack.url)


def test_auth_test_answers_with_the_bot_identity(client: WebClient) -> None:
    response = client.auth_test()
    assert response["ok"] is True
    assert (response["user_id"], response["bot_id"], response["team_id"]) == ("UBOT", "BBOT", "T1")


def test_post_message_is_answered_like_slack_and_recorded(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    before = time.monotonic()
    response = client.chat_postMessage(
        channel="C1", text="New lead", blocks=[section("*ACME*")], thread_ts="1700000000.000001"
    )
    assert response["ok"] is True
    assert response["channel"] == "C1"
    assert TS.match(response["ts"])
    assert response["message"]["text"] == "New lead"
    assert response["message"]["thread_ts"] == "1700000000.000001"
    assert response["message"]["blocks"] == [section("*ACME*")]

    (call,) = slack.calls_to("chat.postMessage")
    assert call.method == "chat.postMessage"
    assert call.status == 200 and call.ok
    assert call.params["channel"] == "C1"
    assert call.params["blocks"] == [section("*ACME*")]
    assert "token" not in call.params
    assert before <= call.at <= time.monotonic()
    assert slack.rejected == []
    assert slack.message("C1", response["ts"])["text"] == "New lead"


def test_post_message_timestamps_are_unique_and_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(5)]
    assert stamps[0] == "1700000000.000100"
    assert stamps == sorted(stamps, key=float)
    assert len(set(stamps)) == 5


def test_form_encoded_bodies_with_blocks_as_a_json_string_are_understood(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    response = client.api_call(
        "chat.postMessage",
        data={"channel": "C2", "text": "form", "blocks": json.dumps([section("from a form")])},
    )
    assert response["ok"] is True
    assert slack.calls_to("chat.postMessage")[0].params["blocks"] == [section("from a form")]


def test_multipart_bodies_are_understood(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    response = client.api_call(
        "chat.postMessage",
        data={"channel": "C3", "text": "multipart", "blocks": json.dumps([section("mp")])},
        files={"attachment": b"\x00\x01bytes"},
    )
    assert response["ok"] is True
    params = slack.calls_to("chat.postMessage")[0].params
    assert (params["channel"], params["blocks"]) == ("C3", [section("mp")])
    assert params["attachment"] == b"\x00\x01bytes"


def test_form_encoded_blocks_that_are_not_json_are_invalid_blocks_format(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.api_call("chat.postMessage", data={"channel": "C2", "blocks": "[{'type': 'x'}]"})
    assert raised.value.response["error"] == "invalid_blocks_format"
    assert slack.rejected == [("chat.postMessage", ["invalid_blocks_format"])]


def test_message_without_text_or_blocks_is_no_text(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.api_call("chat.postMessage", json={"channel": "C1"})
    assert raised.value.response["error"] == "no_text"


def test_call_without_a_token_is_not_authed(slack: SlackStandIn) -> None:  # noqa: F811
    anonymous = WebClient(base_url=slack.url, retry_handlers=[])
    with pytest.raises(SlackApiError) as raised:
        anonymous.chat_postMessage(channel="C1", text="hi")
    assert raised.value.response.status_code == 200
    assert raised.value.response.data == {"ok": False, "error": "not_authed"}
    assert slack.calls_to("chat.postMessage") == []
    assert slack.calls_to("chat.postMessage", include_failed=True)[0].error == "not_authed"


def test_a_token_in_the_form_body_is_accepted_instead_of_the_header(
    slack: SlackStandIn,  # noqa: F811
) -> None:
    body = urllib.parse.urlencode({"token": TOKEN, "channel": "C1", "text": "hi"}).encode()
    with urllib.request.urlopen(f"{slack.url}chat.postMessage", data=body, timeout=5) as resp:
        assert json.loads(resp.read())["ok"] is True
    assert "token" not in slack.calls_to("chat.postMessage")[0].params


def test_unknown_method_is_answered_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.api_call("leads.teleport")
    assert raised.value.response.data == {"ok": False, "error": "unknown_method"}


# --- Block Kit validation ----------------------------------------------------

INVALID_MESSAGE_BLOCKS = {
    "section_text_of_3001_chars": [section("x" * 3001)],
    "header_of_151_chars": [{"type": "header", "text": pt("x" * 151)}],
    "header_in_mrkdwn": [{"type": "header", "text": md("title")}],
    "51_blocks": [{"type": "divider"}] * 51,
    "unknown_block_type": [{"type": "lead_card", "text": md("x")}],
    "block_without_type": [{"text": md("x")}],
    "button_text_of_76_chars": [{"type": "actions", "elements": [button("x" * 76)]}],
    "accessory_button_text_of_76_chars": [{**section("x"), "accessory": button("x" * 76)}],
    "action_id_of_256_chars": [{"type": "actions", "elements": [button(action_id="a" * 256)]}],
    "unknown_element_type": [{"type": "actions", "elements": [{"type": "teleporter"}]}],
    "section_field_of_2001_chars": [{"type": "section", "fields": [md("x" * 2001)]}],
    "empty_section_text": [section("")],
    "text_given_as_a_bare_string": [{"type": "section", "text": "hello"}],
    "unknown_property": [{**section("x"), "colour": "red"}],
    "block_id_of_256_chars": [{"type": "divider", "block_id": "b" * 256}],
}


@pytest.mark.parametrize("blocks", INVALID_MESSAGE_BLOCKS.values(), ids=INVALID_MESSAGE_BLOCKS)
def test_post_message_with_invalid_blocks_is_rejected_like_slack(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
    blocks: list,
) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="fallback", blocks=blocks)
    response = raised.value.response
    assert response.status_code == 200
    assert response["ok"] is False
    assert response["error"] == "invalid_blocks"
    assert response["errors"] and all("[json-pointer:/blocks" in e for e in response["errors"])
    assert slack.calls_to("chat.postMessage") == []
    (call,) = slack.calls_to("chat.postMessage", include_failed=True)
    assert (call.status, call.error, call.ok) == (200, "invalid_blocks", False)
    assert slack.rejected == [("chat.postMessage", response["errors"])]
    assert slack.messages == []


def test_blocks_exactly_at_slacks_limits_are_accepted(client: WebClient) -> None:
    at_limits = [
        {"type": "header", "text": pt("h" * 150)},
        section("s" * 3000),
        {"type": "section", "fields": [md("f" * 2000)] * 10},
        {"type": "actions", "elements": [button("b" * 75, "a" * 255)]},
        {"type": "divider", "block_id": "d" * 255},
    ]
    at_limits += [{"type": "divider"}] * (50 - len(at_limits))
    assert client.chat_postMessage(channel="C1", text="t" * 40_000, blocks=at_limits)["ok"]


def test_realistic_block_kit_messages_are_accepted() -> None:
    option = {"text": pt("One"), "value": "1"}
    blocks = [
        {"type": "header", "text": {**pt("Lead: ACME GmbH"), "emoji": True}},
        {
            "type": "section",
            "block_id": "summary",
            "text": {**md("*Score* 87"), "verbatim": False},
            "fields": [md("*Region*\nDACH"), md("*Size*\n500")],
            "accessory": {"type": "overflow", "action_id": "more", "options": [option]},
        },
        {"type": "context", "elements": [md("via web form"), pt("2 min ago")]},
        {
            "type": "actions",
            "elements": [
                {**button("Accept", "accept"), "style": "primary"},
                {
                    **button("Reject", "reject"),
                    "style": "danger",
                    "confirm": {
                        "title": pt("Sure?"),
                        "text": md("Really reject?"),
                        "confirm": pt("Yes"),
                        "deny": pt("No"),
                    },
                },
                {"type": "button", "text": pt("Open CRM"), "url": "https://example.com/lead/1"},
                {"type": "static_select", "action_id": "owner", "options": [option]},
                {"type": "users_select", "action_id": "assign", "placeholder": pt("Assign")},
                {"type": "checkboxes", "action_id": "tags", "options": [option]},
            ],
        },
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Owner ", "style": {"bold": True}},
                        {"type": "user", "user_id": "U1"},
                        {"type": "emoji", "name": "wave"},
                    ],
                }
            ],
        },
        {"type": "image", "image_url": "https://example.com/c.png", "alt_text": "chart"},
        {"type": "divider"},
    ]
    assert validate_message_blocks(blocks) == []


def test_text_longer_than_40000_characters_is_rejected(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="x" * 40_001)
    assert raised.value.response["error"] == "msg_too_long"
    assert slack.rejected and slack.rejected[0][0] == "chat.postMessage"


def test_update_of_a_posted_message_replaces_it_and_unknown_ts_is_message_not_found(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    ts = client.chat_postMessage(channel="C1", text="v1")["ts"]
    updated = client.chat_update(channel="C1", ts=ts, text="v2", blocks=[section("v2")])
    assert (updated["ok"], updated["channel"], updated["ts"]) == (True, "C1", ts)
    assert slack.message("C1", ts)["blocks"] == [section("v2")]

    with pytest.raises(SlackApiError) as raised:
        client.chat_update(channel="C1", ts="1600000000.000001", text="nope")
    assert raised.value.response.data == {"ok": False, "error": "message_not_found"}

    with pytest.raises(SlackApiError) as raised:
        client.chat_update(channel="C1", ts=ts, text="v3", blocks=[section("x" * 3001)])
    assert raised.value.response["error"] == "invalid_blocks"
    assert slack.message("C1", ts)["text"] == "v2"


def test_ephemeral_messages_and_permalinks_are_answered(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    ephemeral = client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert TS.match(ephemeral["message_ts"])
    with pytest.raises(SlackApiError):
        client.chat_postEphemeral(channel="C1", user="U1", text="x", blocks=[{"type": "bogus"}])
    assert slack.rejected[0][0] == "chat.postEphemeral"

    ts = client.chat_postMessage(channel="C1", text="x")["ts"]
    link = client.chat_getPermalink(channel="C1", message_ts=ts)
    assert link["permalink"].endswith(f"/archives/C1/p{ts.replace('.', '')}")


def test_posting_to_a_user_id_lands_in_the_dm_channel(client: WebClient) -> None:
    assert client.chat_postMessage(channel="U7", text="hi")["channel"] == "DU7"
    assert client.conversations_open(users="U7")["channel"]["id"] == "DU7"


# --- views -------------------------------------------------------------------


def test_views_open_push_update_and_publish_answer_with_a_view_id(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    opened = client.views_open(trigger_id="t1", view=modal())
    view_id = opened["view"]["id"]
    assert view_id.startswith("V") and opened["view"]["callback_id"] == "qualify"
    pushed = client.views_push(trigger_id="t2", view=modal("Step 2"))
    assert pushed["view"]["id"] not in ("", view_id)
    updated = client.views_update(view_id=view_id, view=modal("Updated"))
    assert updated["view"]["id"] == view_id
    assert slack.views[view_id]["title"]["text"] == "Updated"
    home = client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("hi")]})
    assert home["view"]["id"].startswith("V")
    assert slack.rejected == []


INVALID_VIEWS = {
    "modal_title_of_25_chars": modal("x" * 25),
    "101_blocks": modal(blocks=[{"type": "divider"}] * 101),
    "section_of_3001_chars_inside": modal(blocks=[section("x" * 3001)]),
    "button_of_76_chars_inside": modal(blocks=[{"type": "actions", "elements": [button("x" * 76)]}]),
    "unknown_block_inside": modal(blocks=[{"type": "lead_card"}]),
    "modal_without_title": {"type": "modal", "blocks": [section("x")]},
    "unknown_view_type": {"type": "sheet", "blocks": [section("x")]},
}


@pytest.mark.parametrize("view", INVALID_VIEWS.values(), ids=INVALID_VIEWS)
def test_views_open_with_an_invalid_view_is_rejected_like_slack(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
    view: dict,
) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.views_open(trigger_id="t1", view=view)
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "invalid_blocks"
    assert raised.value.response["errors"]
    assert slack.rejected == [("views.open", raised.value.response["errors"])]
    assert slack.calls_to("views.open") == []


def test_a_view_at_the_limits_is_valid() -> None:
    assert validate_view(modal("x" * 24, blocks=[{"type": "divider"}] * 100)) == []


def test_views_publish_also_validates(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("x" * 3001)]})
    assert raised.value.response["error"] == "invalid_blocks"


# --- directory methods --------------------------------------------------------


def test_users_info_and_usergroups_are_answered_from_configuration(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    slack.usergroups = {"S1": ["U1", "U2"]}
    slack.users = {"U1": {"real_name": "Ada", "tz": "Europe/Berlin"}}
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U1", "U2"]
    with pytest.raises(SlackApiError) as raised:
        client.usergroups_users_list(usergroup="S404")
    assert raised.value.response["error"] == "no_such_subteam"
    user = client.users_info(user="U1")["user"]
    assert (user["id"], user["real_name"], user["tz"]) == ("U1", "Ada", "Europe/Berlin")
    assert client.users_info(user="U9")["user"]["id"] == "U9"


# --- files ---------------------------------------------------------------------


def test_files_upload_v2_works_end_to_end_and_stores_the_bytes(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    data = bytes(range(256)) * 4
    response = client.files_upload_v2(
        channel="C1",
        content=data,
        filename="report.png",
        title="Weekly report",
        initial_comment="Here it is",
        thread_ts="1700000000.000100",
    )
    assert response["ok"] is True
    file_id = response["file"]["id"]
    assert response["files"] == [response["file"]]
    assert response["file"]["title"] == "Weekly report"
    assert slack.uploads[file_id] == data

    (url_call,) = slack.calls_to("files.getUploadURLExternal")
    assert url_call.params["filename"] == "report.png"
    assert int(url_call.params["length"]) == len(data)
    (complete,) = slack.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C1"
    assert complete.params["initial_comment"] == "Here it is"
    assert complete.params["files"] == [{"id": file_id, "title": "Weekly report"}]
    meta = slack.files[file_id]
    assert (meta["channel_id"], meta["thread_ts"], meta["completed"]) == (
        "C1",
        "1700000000.000100",
        True,
    )


def test_upload_url_points_back_at_the_same_server(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    answer = client.files_getUploadURLExternal(filename="a.txt", length=3)
    assert answer["upload_url"] == f"{slack.root_url}upload/{answer['file_id']}"
    request = urllib.request.Request(answer["upload_url"], data=b"abc", method="POST")
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert resp.status == 200
    assert slack.uploads == {answer["file_id"]: b"abc"}


def test_files_upload_v2_blocks_must_be_a_json_string_and_are_validated(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    # files_upload_v2 form-encodes a Python list as its repr(), which is not JSON.
    with pytest.raises(SlackApiError) as raised:
        client.files_upload_v2(channel="C1", content=b"x", filename="a.txt", blocks=[section("x")])
    assert raised.value.response["error"] == "invalid_blocks_format"

    with pytest.raises(SlackApiError) as raised:
        client.files_upload_v2(channel="C1", content=b"x", filename="a.txt", blocks=json.dumps([section("x" * 3001)]))
    assert raised.value.response["error"] == "invalid_blocks"

    ok = client.files_upload_v2(channel="C1", content=b"x", filename="a.txt", blocks=json.dumps([section("chart")]))
    assert slack.files[ok["file"]["id"]]["blocks"] == [section("chart")]


# --- fault injection -------------------------------------------------------------


def test_fail_next_answers_http_500_the_given_number_of_times(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    slack.fail_next("chat.postMessage", status=500, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel="C1", text="hi")
        assert raised.value.response.status_code == 500
        assert raised.value.response.data == {"ok": False, "error": "internal_error"}
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    statuses = [c.status for c in slack.calls_to("chat.postMessage", include_failed=True)]
    assert statuses == [500, 500, 200]
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert client.auth_test()["ok"]  # other methods were never affected


def test_server_error_retry_handler_recovers_from_an_injected_500(
    slack: SlackStandIn,  # noqa: F811
) -> None:
    slack.fail_next("chat.postMessage")
    retrying = slack.client(
        retry_handlers=[
            ServerErrorRetryHandler(
                max_retry_count=1,
                interval_calculator=FixedValueRetryIntervalCalculator(0.01),
            )
        ]
    )
    assert retrying.chat_postMessage(channel="C1", text="hi")["ok"]
    assert [c.status for c in slack.calls] == [500, 200]


def test_rate_limit_answers_429_with_retry_after_per_channel(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    slack.rate_limit("chat.postMessage", per_second=1.0, retry_after=1)
    assert client.chat_postMessage(channel="C1", text="1")["ok"]
    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="2")
    response = raised.value.response
    assert response.status_code == 429
    assert response.data == {"ok": False, "error": "ratelimited"}
    assert header_value(response, "Retry-After") == "1"
    assert client.chat_postMessage(channel="C2", text="other channel")["ok"]
    assert client.auth_test()["ok"]
    assert [c.status for c in slack.calls_to("chat.postMessage", include_failed=True)] == [
        200,
        429,
        200,
    ]
    assert len(slack.accepted_times("C1")) == 1


def test_fast_rate_limit_lets_calls_through_at_the_allowed_pace(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    slack.rate_limit("chat.postMessage", per_second=20.0)
    accepted = 0
    deadline = time.monotonic() + 0.5
    while accepted < 4 and time.monotonic() < deadline:
        try:
            client.chat_postMessage(channel="C1", text="x")
            accepted += 1
        except SlackApiError as e:
            assert e.response.status_code == 429
            time.sleep(0.01)
    times = slack.accepted_times("C1", "chat.postMessage")
    assert len(times) == 4
    assert all(b - a >= 1 / 20.0 for a, b in itertools.pairwise(times))


def test_rate_limited_client_with_retry_handler_waits_and_then_succeeds(
    slack: SlackStandIn,  # noqa: F811
) -> None:
    slack.rate_limit("chat.postMessage", per_second=1.0, retry_after=1)
    patient = slack.client(retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)])
    assert patient.chat_postMessage(channel="C1", text="1")["ok"]
    started = time.monotonic()
    assert patient.chat_postMessage(channel="C1", text="2")["ok"]
    assert time.monotonic() - started >= 1.0
    statuses = [c.status for c in slack.calls_to("chat.postMessage", include_failed=True)]
    assert statuses[0] == 200 and statuses[-1] == 200 and 429 in statuses
    first, second = slack.accepted_times("C1")
    assert second - first >= 1.0


def test_rate_limit_storm_answers_every_call_429_until_it_passes(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    slack.rate_limit_storm("chat.postMessage", seconds=0.3)
    for channel in ("C1", "C2"):
        with pytest.raises(SlackApiError) as raised:
            client.chat_postMessage(channel=channel, text="x")
        assert raised.value.response.status_code == 429
        assert int(header_value(raised.value.response, "Retry-After")) >= 1
    assert client.auth_test()["ok"]
    time.sleep(0.35)
    assert client.chat_postMessage(channel="C1", text="x")["ok"]


def test_reset_forgets_calls_and_faults_but_keeps_messages(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    ts = client.chat_postMessage(channel="C1", text="x")["ts"]
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C1", text="x", blocks=[{"type": "bogus"}])
    slack.fail_next("chat.update", times=5)
    slack.rate_limit("chat.postMessage", per_second=0.001)
    slack.reset()
    assert slack.calls == [] and slack.rejected == []
    assert client.chat_update(channel="C1", ts=ts, text="y")["ok"]
    assert client.chat_postMessage(channel="C1", text="z")["ok"]


# --- lifecycle and concurrency -----------------------------------------------------


def test_stopped_server_refuses_connections_then_restarts_on_the_same_port(
    slack: SlackStandIn,  # noqa: F811
    client: WebClient,
) -> None:
    url = slack.url
    assert client.auth_test()["ok"]
    slack.stop()
    assert not slack.running
    with pytest.raises(urllib.error.URLError) as raised:
        client.auth_test()
    assert isinstance(raised.value.reason, ConnectionRefusedError)
    slack.start()
    assert slack.url == url
    assert client.auth_test()["ok"]
    assert [c.method for c in slack.calls] == ["auth.test", "auth.test"]


def test_concurrent_posts_from_many_threads_are_all_recorded_with_unique_ts(
    slack: SlackStandIn,  # noqa: F811
) -> None:
    stamps: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        own = slack.client(retry_handlers=[])
        for i in range(10):
            ts = own.chat_postMessage(channel=f"C{n}", text=str(i))["ts"]
            with lock:
                stamps.append(ts)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == len(set(stamps)) == 80
    assert len(slack.calls_to("chat.postMessage")) == 80
    assert len(slack.messages) == 80


def test_bolt_app_initialises_against_the_standin(slack: SlackStandIn) -> None:  # noqa: F811
    from slack_bolt import App

    app = App(client=slack.client(), signing_secret="secret")
    assert app.client.base_url == slack.url
    assert [c.method for c in slack.calls] == ["auth.test"]
