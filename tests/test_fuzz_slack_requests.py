"""Fuzzing POST /slack/events: forged, stale, tampered and malformed requests through the real app.

The real Bolt app (`create_app`) sits behind the real FastAPI endpoint (`SlackEndpoint` mounted
by `create_http_app`, as `leadbot serve` wires it), on SQLite and PostgreSQL, talking to the
Slack stand-in. Every test starts with one lead whose card is posted, so a request that got
through would have something to claim or decide.

- Requests that are not signed with the signing secret, are stale (more than 5 minutes either
  way) or were changed after signing get 401, make no Web API call and change no row, even
  when they carry a click that would otherwise claim or decide the lead.
- Signed requests that are malformed (garbage bodies, `payload=` with random JSON, clicks with
  missing or odd fields, values that are not lead ids or name no lead, huge strings, view
  submissions without state or lead) never get a 5xx and change no row; telling the user
  privately is fine, posting in the leads channel or updating a card is not.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import traceback
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from blocks import ids
from blocks.add_lead import read_add_lead
from bot.http import create_http_app
from bot.slack.endpoint import SlackEndpoint
from leadqual.db.models import Claim, Decision, Event, LeadRow, OutboxMessage
from leadqual.errors import InvalidLead
from leadqual.services.context import Context
from leadqual.services.intake import validate_leads
from leadqual.settings import Settings
from tests.bot_helpers import (
    CHANNEL,
    SIGNING_SECRET,
    Bot,
    add_lead,
    bot_fixture,  # noqa: F401  (the `bot` fixture)
)
from tests.slack_standin import SlackStandIn

FORM = "application/x-www-form-urlencoded"
USERS = ["U0DANA", "U0SAM", "UMANAGER"]
STALE = 5 * 60
MISSING = 900_000_001  # no such lead


def fuzz(examples: int) -> hsettings:
    """Hypothesis settings for a property that posts through the app on the test's database."""
    return hsettings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )


# ---------------------------------------------------------------------------
# The app under test
# ---------------------------------------------------------------------------


class Server:
    """The HTTP server with the Slack endpoint, the app behind it, and one posted lead."""

    def __init__(self, bot: Bot, http: TestClient, lead_id: int) -> None:
        self.bot, self.http, self.lead_id = bot, http, lead_id

    def __repr__(self) -> str:  # keeps Hypothesis's reports short
        return f"Server({self.bot.ctx.session_factory.kw['bind'].dialect.name}, lead {self.lead_id})"

    @property
    def ctx(self) -> Context:
        return self.bot.ctx

    @property
    def slack(self) -> SlackStandIn:
        return self.bot.slack

    def post(self, body: bytes, headers: dict[str, str]) -> Any:
        response = self.http.post("/slack/events", content=body, headers=headers)
        self.bot.executor.drain()  # listeners finish after the ack
        return response


@pytest.fixture
def server(bot: Bot, settings: Settings) -> Iterator[Server]:
    lead_id = add_lead(bot.ctx)
    bot.deliver()
    endpoint = SlackEndpoint(bot.app, signing_secret=settings.slack_signing_secret.get_secret_value(), workers=4)
    with TestClient(create_http_app(bot.ctx, settings, slack_endpoint=endpoint.handle)) as http:
        yield Server(bot, http, lead_id)
    endpoint.close()


def snapshot(ctx: Context) -> tuple[Any, ...]:
    """Row counts of every table a Slack request could write, and each lead's triage state."""
    with ctx.session_factory() as session:
        counts = tuple(
            session.scalar(select(func.count()).select_from(m))
            for m in (LeadRow, Event, Claim, Decision, OutboxMessage)
        )
        leads = tuple(
            session.execute(
                select(LeadRow.id, LeadRow.owner_id, LeadRow.status, LeadRow.outcome, LeadRow.version).order_by(
                    LeadRow.id
                )
            ).all()
        )
    return counts, leads


def signed(
    body: bytes, *, timestamp: int | str | None = None, secret: str = SIGNING_SECRET, content_type: str = FORM
) -> dict[str, str]:
    """Headers signed as Slack signs: HMAC-SHA256 of `v0:{timestamp}:{raw body}` (any bytes, not only UTF-8)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"content-type": content_type, "x-slack-request-timestamp": ts, "x-slack-signature": f"v0={digest}"}


def form(payload: Any) -> bytes:
    return ("payload=" + quote(json.dumps(payload))).encode()


# ---------------------------------------------------------------------------
# Requests that would act if they were genuine
# ---------------------------------------------------------------------------

ACTIONS = [ids.CLAIM, ids.RELEASE, ids.REOPEN, ids.QUALIFY, ids.DISQUALIFY, ids.NURTURE, ids.NEEDS_INFO]


def click(action_id: str, value: Any, user: Any = "U0DANA", **extra: Any) -> dict[str, Any]:
    """A block_actions payload as Slack sends it for a card button (Bot.action_payload's shape)."""
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": ids.CARD_ACTIONS,
        "type": "button",
        "value": value,
        "action_ts": f"{time.time():.6f}",
        "text": {"type": "plain_text", "text": "x"},
    }
    return {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "leadbot-test"},
        "user": {"id": user, "username": "dana", "team_id": "T1"} if user is not None else None,
        "api_app_id": "ABOT",
        "token": "legacy",
        "trigger_id": "trigger-1",
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": CHANNEL},
        "channel": {"id": CHANNEL, "name": "leads"},
        "response_url": "https://hooks.slack.invalid/1",
        "actions": [action],
        **extra,
    }


def submission(callback_id: str, values: Any, metadata: Any, user: str = "U0DANA") -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": f"V{time.monotonic_ns()}",
        "callback_id": callback_id,
        "type": "modal",
        "team_id": "T1",
        "hash": "1.x",
        "app_id": "ABOT",
        "bot_id": "BBOT",
        "state": {"values": values},
    }
    if metadata is not None:
        view["private_metadata"] = metadata
    return {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "leadbot-test"},
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "api_app_id": "ABOT",
        "token": "legacy",
        "trigger_id": "trigger-2",
        "view": view,
        "response_urls": [],
    }


def qualify_state() -> dict[str, Any]:
    radio = {"type": "radio_buttons", "selected_option": {"value": "confirmed"}}
    return {
        **{b: {b: radio} for b in ids.FIAN_BLOCKS.values()},
        ids.NEXT_STEP: {ids.NEXT_STEP: {"type": "plain_text_input", "value": "Site visit"}},
    }


@st.composite
def genuine(draw: st.DrawFn, lead_id: int) -> bytes:
    """A request that would change the lead if it were signed: a click, a decision, a command."""
    kind = draw(st.sampled_from(["click", "decide", "command"]))
    if kind == "click":
        return form(click(draw(st.sampled_from(ACTIONS)), str(lead_id), draw(st.sampled_from(USERS))))
    if kind == "decide":
        return form(submission(ids.QUALIFY_VIEW, qualify_state(), json.dumps({"lead": lead_id})))
    return urlencode(
        {
            "command": "/lead",
            "text": draw(st.sampled_from(["", "add"])),
            "user_id": "U0DANA",
            "channel_id": CHANNEL,
            "team_id": "T1",
            "trigger_id": "t-3",
            "api_app_id": "ABOT",
        }
    ).encode()


# ---------------------------------------------------------------------------
# Unsigned, wrongly signed, stale and tampered: 401 and nothing happens
# ---------------------------------------------------------------------------

header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)


@st.composite
def forged(draw: st.DrawFn, body: bytes) -> tuple[str, bytes, dict[str, str]]:
    """`body` sent with headers Slack would not have made for it (and the name of the way)."""
    now = int(time.time())
    how = draw(
        st.sampled_from(
            [
                "no headers",
                "no timestamp",
                "no signature",
                "wrong secret",
                "random signature",
                "stale",
                "from the future",
                "odd timestamp",
                "tampered body",
            ]
        )
    )
    headers = signed(body)
    if how == "no headers":
        headers = {"content-type": FORM}
    elif how == "no timestamp":
        del headers["x-slack-request-timestamp"]
    elif how == "no signature":
        del headers["x-slack-signature"]
    elif how == "wrong secret":
        headers = signed(body, secret=draw(header_text.filter(lambda s: s != SIGNING_SECRET)))
    elif how == "random signature":
        headers["x-slack-signature"] = draw(
            st.one_of(
                st.from_regex(r"v0=[0-9a-f]{64}", fullmatch=True),
                header_text,
                st.just(headers["x-slack-signature"].upper()),
                st.just(headers["x-slack-signature"][:-1]),
            )
        )
    elif how == "stale":
        headers = signed(body, timestamp=now - STALE - draw(st.integers(5, 10**9)))
    elif how == "from the future":
        headers = signed(body, timestamp=now + STALE + draw(st.integers(5, 10**9)))
    elif how == "odd timestamp":  # correctly signed over whatever the timestamp says
        headers = signed(
            body,
            timestamp=draw(
                st.one_of(
                    header_text,
                    st.sampled_from(["", " ", "-1", "1e9", f"{now}.5", f" {now}", "9" * 400, "0x10", "NaN"]),
                )
            ),
        )
    else:  # changed after signing: a byte flipped, appended, or the lead swapped
        mutated = draw(
            st.one_of(
                st.integers(0, max(0, len(body) - 1)).map(
                    lambda i: body[:i] + bytes([body[i] ^ 1]) + body[i + 1 :] if body else b"x"
                ),
                st.binary(min_size=1, max_size=8).map(lambda extra: body + extra),
                st.just(body.replace(b"U0DANA", b"UMANAGER")),
            )
        )
        assume(mutated != body)
        body = mutated
    return how, body, headers


@fuzz(200)
@given(data=st.data())
def test_unsigned_stale_or_tampered_requests_are_401_with_no_web_api_call_and_no_change(
    server: Server, data: st.DataObject
) -> None:
    body = data.draw(
        st.one_of(genuine(server.lead_id), st.binary(max_size=200), st.text(max_size=200).map(str.encode)), label="body"
    )
    how, body, headers = data.draw(forged(body), label="forged")
    event(how)
    check_refused(server, body, headers)


def check_refused(server: Server, body: bytes, headers: dict[str, str]) -> None:
    before, calls = snapshot(server.ctx), len(server.slack.calls)
    response = server.post(body, headers)
    assert response.status_code == 401, (response.status_code, response.text[:200])
    assert len(server.slack.calls) == calls, "a forged request reached the Web API"
    assert snapshot(server.ctx) == before, "a forged request changed a row"


@pytest.mark.parametrize("how", ["no signature headers", "wrong signature", "stale", "changed after signing"])
def test_the_classic_forgeries_of_a_claim_are_401_and_the_lead_stays_unclaimed(server: Server, how: str) -> None:
    body = form(click(ids.CLAIM, str(server.lead_id)))
    headers = {
        "no signature headers": {"content-type": FORM},
        "wrong signature": signed(body, secret="not-the-secret"),
        "stale": signed(body, timestamp=int(time.time()) - STALE - 1),
        "changed after signing": signed(form(click(ids.CLAIM, str(MISSING)))),
    }[how]
    check_refused(server, body, headers)


@pytest.mark.parametrize("kind", ["click", "decide", "command"])
def test_the_genuine_requests_used_above_do_act_when_signed(server: Server, kind: str) -> None:
    # Without this, the 401 property could pass because the requests would do nothing anyway.
    body = {
        "click": form(click(ids.CLAIM, str(server.lead_id), "U0SAM")),
        "decide": form(submission(ids.QUALIFY_VIEW, qualify_state(), json.dumps({"lead": server.lead_id}))),
        "command": urlencode(
            {
                "command": "/lead",
                "text": "",
                "user_id": "U0DANA",
                "channel_id": CHANNEL,
                "team_id": "T1",
                "trigger_id": "t-3",
                "api_app_id": "ABOT",
            }
        ).encode(),
    }[kind]
    assert server.post(body, signed(body)).status_code == 200
    with server.ctx.session_factory() as session:
        owner, outcome = session.execute(
            select(LeadRow.owner_id, LeadRow.outcome).where(LeadRow.id == server.lead_id)
        ).one()
    if kind == "click":
        assert owner == "U0SAM"
    elif kind == "decide":
        assert (owner, outcome) == ("U0DANA", "qualified")
    else:
        assert server.slack.calls_to("views.open")


# ---------------------------------------------------------------------------
# Signed but malformed: never 5xx, no row changes
# ---------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
not_a_lead = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "abc",
            "1.5",
            "-1",
            "0",
            "reassign:",
            "reassign:abc",
            "None",
            "null",
            "1e3",
            str(MISSING),
            str(2**63),
            str(10**30),
            "9" * 5000,
            "\u0967\u0968\u0969" + "0" * 6,
            "x" * 100_000,
        ]
    ),
    st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70),
    json_values,
)


def names_the_lead(value: Any, lead_id: int) -> bool:
    """Whether the app would read `value` as the posted lead's id (then the click is not malformed)."""
    try:
        return int(str(value).rsplit(":", 1)[-1]) == lead_id
    except ValueError:
        return False


@st.composite
def odd_click(draw: st.DrawFn, lead_id: int) -> dict[str, Any]:
    """A card click that names no lead, or lacks what the app needs to act on one."""
    action_id = draw(st.sampled_from([*ACTIONS, ids.MORE, ids.HOME_REFRESH, "lead_unknown", ""]))
    value = draw(not_a_lead)
    assume(not names_the_lead(value, lead_id))
    payload = click(action_id, value, draw(st.one_of(st.sampled_from(USERS), st.none())))
    if action_id == ids.MORE:
        payload["actions"][0] |= {"type": "overflow", "selected_option": {"value": f"reassign:{value}"}}
    for key in draw(
        st.lists(
            st.sampled_from(["user", "actions", "trigger_id", "container", "channel", "type", "team"]),
            max_size=3,
            unique=True,
        )
    ):
        payload[key] = draw(st.one_of(st.none(), json_values))  # missing or of a wrong type
    return payload


@st.composite
def odd_submission(draw: st.DrawFn, lead_id: int) -> dict[str, Any]:
    """A modal submission that names no lead (or no valid lead to add)."""
    callback = draw(st.sampled_from([*ids.DECISION_VIEWS.values(), ids.REASSIGN_VIEW, ids.ADD_LEAD_VIEW, "nope"]))
    metadata = draw(
        st.one_of(
            st.none(),
            st.text(max_size=30),
            st.sampled_from(
                [
                    '{"lead": "abc"}',
                    f'{{"lead": {MISSING}}}',
                    '{"lead": 1e400}',
                    '{"lead": null}',
                    "[1]",
                    "{}",
                    f'{{"lead": {2**63}}}',
                    "not json",
                ]
            ),
            json_values.map(json.dumps),
        )
    )
    assume(not (isinstance(metadata, str) and names_the_lead(_lead_in(metadata), lead_id)))
    values = draw(
        st.one_of(
            st.just(qualify_state()),  # complete, but about no lead
            st.just({ids.REASON: {ids.REASON: {"type": "static_select", "selected_option": {"value": "spam"}}}}),
            st.just({ids.REASSIGN_TO: {ids.REASSIGN_TO: {"type": "users_select", "selected_user": "U0SAM"}}}),
            json_values,
            st.just({}),
            st.none(),
        )
    )
    payload = submission(callback, values, metadata)
    if draw(st.booleans()):
        del payload["view"][draw(st.sampled_from(["state", "callback_id", "id"]))]
    if callback == ids.ADD_LEAD_VIEW:
        assume(not _adds_a_lead(payload))
    return payload


def _lead_in(metadata: str) -> Any:
    try:
        found = json.loads(metadata)
    except ValueError:
        return None
    return found.get("lead") if isinstance(found, dict) else None


def _adds_a_lead(payload: dict[str, Any]) -> bool:
    """Whether an Add-a-lead submission is a valid lead (then adding it is right, not a malformed request)."""
    try:
        validate_leads([read_add_lead(payload["view"]["state"]["values"], user_id="U0DANA")])
        return True
    except (InvalidLead, AttributeError, KeyError, TypeError):
        return False


@st.composite
def odd_body(draw: st.DrawFn, lead_id: int) -> tuple[str, bytes, str]:
    """(what it is, body, content type) for a signed request that Slack would never send."""
    kind = draw(st.sampled_from(["garbage", "json", "payload json", "click", "submission", "command", "event", "form"]))
    if kind == "garbage":
        return (
            kind,
            draw(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode))),
            draw(st.sampled_from([FORM, "application/json", "text/plain", ""])),
        )
    if kind == "json":
        return kind, json.dumps(draw(json_values)).encode(), "application/json"
    if kind == "payload json":
        raw = draw(st.one_of(json_values.map(json.dumps), st.text(max_size=50), st.sampled_from(["{", "[1,", "nul"])))
        return kind, ("payload=" + quote(raw)).encode(), FORM
    if kind == "click":
        return kind, form(draw(odd_click(lead_id))), FORM
    if kind == "submission":
        return kind, form(draw(odd_submission(lead_id))), FORM
    if kind == "command":
        fields = draw(
            st.dictionaries(
                st.sampled_from(["command", "text", "user_id", "channel_id", "trigger_id", "team_id", "response_url"]),
                st.one_of(st.sampled_from(["/lead", "/other", ""]), st.text(max_size=40)),
                max_size=7,
            )
        )
        return kind, urlencode(fields).encode(), FORM
    if kind == "event":
        inner = draw(
            st.one_of(
                st.fixed_dictionaries(
                    {"type": st.just("app_home_opened")},
                    optional={
                        "user": st.one_of(st.sampled_from(USERS), json_values),
                        "tab": st.one_of(st.just("home"), json_values),
                    },
                ),
                json_values,
            )
        )
        envelope = draw(st.sampled_from(["event_callback", "url_verification", "app_rate_limited", "x"]))
        body = {
            "type": envelope,
            "token": "legacy",
            "team_id": "T1",
            "api_app_id": "ABOT",
            "event": inner,
            "challenge": draw(st.text(max_size=20)),
            "event_id": "Ev1",
            "event_time": 1,
        }
        return kind, json.dumps(body).encode(), "application/json"
    fields = draw(st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=5))
    return kind, urlencode(fields).encode(), FORM


@fuzz(220)
@given(data=st.data(), retry=st.one_of(st.none(), st.sampled_from(["1", "abc", "-1", "99999999999999999999"])))
def test_signed_malformed_requests_are_never_a_server_error_and_change_no_row(
    server: Server, data: st.DataObject, retry: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    kind, body, content_type = data.draw(odd_body(server.lead_id), label="request")
    event(kind)
    headers = signed(body, content_type=content_type)
    if retry is not None:
        headers |= {"x-slack-retry-num": retry, "x-slack-retry-reason": "http_timeout"}
    before, calls = snapshot(server.ctx), len(server.slack.calls)
    caplog.clear()
    response = server.post(body, headers)
    assert handler_failures(caplog.records) == [], "the error handler failed while explaining a failure"
    event(f"status {response.status_code}")
    assert response.status_code < 500, (kind, response.status_code, response.text[:300])
    assert snapshot(server.ctx) == before, f"a malformed {kind} changed a row"
    for call in server.slack.calls[calls:]:  # telling the user is fine; touching the channel is not
        assert call.method != "chat.update"
        assert not (call.method == "chat.postMessage" and call.params.get("channel") == CHANNEL)


HANDLER = {"handle_error", "user_message", "tell", "_channel", "_what"}  # bot/slack/errors.py, bar `guarded`


def handler_failures(records: list[logging.LogRecord]) -> list[str]:
    """Exceptions raised inside the error handler (while explaining another), not by what it handled."""
    found = []
    for record in records:
        if record.exc_info and record.exc_info[2] is not None:
            frames = traceback.extract_tb(record.exc_info[2])
            inside = [f for f in frames if f.filename.endswith("bot/slack/errors.py") and f.name in HANDLER]
            if inside:
                found.append(f"{record.exc_info[1]!r} in {inside[-1].name}")
    return found


@pytest.mark.parametrize(
    "payload",
    [
        click(ids.CLAIM, str(MISSING)),
        click(ids.QUALIFY, "abc"),
        click(ids.DISQUALIFY, "9" * 5000),
        click(ids.RELEASE, str(2**63)),
        click(ids.CLAIM, "1", user=None),
        submission(ids.QUALIFY_VIEW, qualify_state(), None),
        submission(ids.NURTURE_VIEW, None, '{"lead": 1}'),
        submission(ids.REASSIGN_VIEW, {}, f'{{"lead": {MISSING}}}'),
    ],
    ids=[
        "missing lead",
        "not an id",
        "huge id",
        "id over bigint",
        "no user",
        "no metadata",
        "no state",
        "reassign missing lead",
    ],
)
def test_classic_malformed_clicks_and_submissions_change_nothing(server: Server, payload: dict[str, Any]) -> None:
    body = form(payload)
    before = snapshot(server.ctx)
    response = server.post(body, signed(body))
    assert response.status_code < 500
    assert snapshot(server.ctx) == before


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        # Found by the properties above: each of these was a 500 (or, unsigned, a 400).
        (b"{not json", {"content-type": "application/json"}, 401),
        (b"[1, 2]", {"content-type": "application/json"}, 401),
        (b"payload=%7Bnot", {"content-type": FORM}, 401),
        (b"\x80", {"content-type": FORM}, 401),
        (
            b"payload=%7B%7D",
            {"content-type": FORM, "x-slack-request-timestamp": "abc", "x-slack-signature": "v0=0"},
            401,
        ),
        (
            b"payload=%7B%7D",
            {"content-type": FORM, "x-slack-request-timestamp": "9" * 400, "x-slack-signature": "v0=0"},
            401,
        ),
        (b"payload=%7B", None, 400),
        (b"payload=", None, 400),
        (b"null", None, 400),
        (form({**click(ids.CLAIM, "1"), "user": False}), None, 400),
        (form({**click(ids.CLAIM, "1"), "actions": None}), None, 400),
        (json.dumps({"type": "url_verification", "challenge": "x", "event": None}).encode(), None, 400),
    ],
    ids=[
        "unsigned bad json",
        "unsigned json list",
        "unsigned bad payload",
        "unsigned bad utf-8",
        "timestamp not a number",
        "timestamp overflowing",
        "signed bad payload",
        "signed empty payload",
        "signed null",
        "signed user false",
        "signed actions null",
        "signed event null",
    ],
)
def test_requests_that_once_got_a_500_are_refused_with_401_unsigned_or_400_signed(
    server: Server, body: bytes, headers: dict[str, str] | None, status: int
) -> None:
    content_type = "application/json" if body[:1] in (b"{", b"n", b"[") else FORM
    before, calls = snapshot(server.ctx), len(server.slack.calls)
    response = server.post(body, headers if headers is not None else signed(body, content_type=content_type))
    assert response.status_code == status
    assert snapshot(server.ctx) == before
    if status == 401:
        assert len(server.slack.calls) == calls


@pytest.mark.parametrize(
    "payload",
    [
        click(ids.CLAIM, "abc"),
        click(ids.QUALIFY, ""),
        click(ids.RELEASE, str(2**63)),
        click(ids.REOPEN, "9" * 5000),
        submission(
            ids.NURTURE_VIEW,
            {ids.FOLLOW_UP_ON: {ids.FOLLOW_UP_ON: {"type": "datepicker", "selected_date": "2099-01-01"}}},
            "{}",
        ),
        submission(
            ids.REASSIGN_VIEW,
            {ids.REASSIGN_TO: {ids.REASSIGN_TO: {"type": "users_select", "selected_user": "U0SAM"}}},
            '{"lead": "abc"}',
        ),
    ],
    ids=[
        "not a number",
        "empty",
        "over bigint",
        "too many digits",
        "submission without a lead",
        "submission with a bad lead",
    ],
)
def test_a_click_or_submission_naming_no_lead_is_told_so_not_that_leadbot_failed(
    server: Server, payload: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # Found by the malformed-request property: these raised ValueError/KeyError (or a database
    # overflow) inside the listener, which answered "Something went wrong on Leadbot's side"
    # and logged a failure with a traceback, as if Leadbot had a bug.
    body = form(payload)
    before = snapshot(server.ctx)
    assert server.post(body, signed(body)).status_code == 200
    assert snapshot(server.ctx) == before
    told = [
        c.params["text"]
        for c in server.slack.calls
        if (c.method == "chat.postEphemeral" and c.params.get("user") == "U0DANA")
        or (c.method == "chat.postMessage" and c.params.get("channel") == "U0DANA")
    ]  # by DM from a modal
    assert told and all("was not found" in text for text in told), told
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


@pytest.mark.parametrize(
    "payload",
    [
        click(ids.CLAIM, str(MISSING), channel="C0LEADS"),
        click(ids.CLAIM, str(MISSING), channel=None, container=["C0LEADS"]),
        submission(ids.NURTURE_VIEW, {}, None) | {"view": "not a view"},
        submission(
            ids.NURTURE_VIEW,
            {ids.FOLLOW_UP_ON: {ids.FOLLOW_UP_ON: {"type": "datepicker", "selected_date": "2099-01-01"}}},
            42,
        ),
    ],
    ids=["channel a string", "container a list", "view a string", "metadata a number"],
)
def test_the_error_handler_explains_failures_of_odd_payloads_without_failing_itself(
    server: Server, payload: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # Found by the malformed-request property: the handler read channel, container and view as
    # objects and raised AttributeError/TypeError while handling the listener's error.
    body = form(payload)
    before = snapshot(server.ctx)
    assert server.post(body, signed(body)).status_code < 500
    assert snapshot(server.ctx) == before
    assert handler_failures(caplog.records) == []
