"""Helpers for Slack tests: leads, signed requests through the real Bolt app, and a tiny outbox sender.

Requests are signed with the signing secret exactly as Slack signs them (bolt-python's
scenario tests do the same) and dispatched through `App.dispatch`; the Web API is the
`slack` stand-in. Nothing of ours is patched.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from bot.slack.app import create_app
from bot.slack.messages import render_outbox
from leadqual.db.models import LeadRow, OutboxMessage
from leadqual.groups import Group
from leadqual.readmodels import CardReason, LeadCard
from leadqual.services.context import Context
from leadqual.services.intake import ingest, validate_leads
from leadqual.settings import Settings
from tests.slack_standin import SlackStandIn

CHANNEL = "C0LEADS"
SIGNING_SECRET = "signing-secret"

PRIORITY_LEAD: dict[str, Any] = {
    "source": "web_form",
    "offer": "rfq",
    "campaign": "pump-retrofit-2026",
    "company": {"name": "Acme Metals", "industry": "metals", "country": "US", "region": "TX", "employees": 850},
    "contact": {"name": "Dana Ruiz", "email": "dana@acmemetals.com", "title": "Maintenance Manager"},
    "signals": [{"type": "rfq_request"}, {"type": "page_view", "value": "/pricing"}],
    "need": {"scope": "replacement", "problem": "Pump failed on line 3", "needed_by": "2026-12-15"},
    "message": "Need a quote before the December outage.",
}

HOSTILE_NAME = "<!channel> & <https://evil.example|click here> <@U0BOSS>"

# Anything in angle brackets that Slack would turn into a mention, a broadcast or a link
# (our own <@U...> mentions of owners aside). Plain_text is never parsed, so only mrkdwn counts.
SPECIAL = re.compile(r"<(?!@U[A-Z0-9]+>)[^>]*>")


def mrkdwn_texts(node: Any) -> list[str]:
    """Every mrkdwn text in a Block Kit tree."""
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == "mrkdwn" else []
        return found + [t for v in node.values() for t in mrkdwn_texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in mrkdwn_texts(v)]
    return []


# Anything in angle brackets that Slack would turn into a mention, a broadcast or a link.
SPECIAL = re.compile(r"<(?!@U[A-Z0-9]+>)[^>]*>")


_serial = count(1)

RECEIVED = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def make_card(**overrides: Any) -> LeadCard:
    values: dict[str, Any] = {
        "id": 42,
        "company": "Acme Metals",
        "contact_name": "Dana Ruiz",
        "contact_title": "Maintenance Manager",
        "email": "dana@acmemetals.com",
        "industry": "metals",
        "country": "US",
        "region": "TX",
        "employees": 850,
        "source": "web_form",
        "offer": "rfq",
        "campaign": "pump-retrofit-2026",
        "scope": "replacement",
        "problem": "Pump failed on line 3",
        "needed_by": "2026-12-15",
        "message": "Need a quote.",
        "fit": 80,
        "intent": 60,
        "group": Group.PRIORITY,
        "urgent": True,
        "segment": "equipment_replacement",
        "segment_label": "Equipment replacement",
        "reasons": (CardReason("RFQ or quote request", 40, "intent"), CardReason("Target industry", 25, "fit")),
        "failed_must_haves": (),
        "ruleset_version": 3,
        "status": "new",
        "owner_id": None,
        "suggested_owner": None,
        "claimed_at": None,
        "outcome": None,
        "reason": None,
        "reason_label": None,
        "decided_by": None,
        "decided_at": None,
        "follow_up_on": None,
        "received_at": RECEIVED,
        "channel_id": "C0LEADS",
        "message_ts": "1700000000.000100",
        "version": 1,
    }
    return LeadCard(**{**values, **overrides})


def add_lead(ctx: Context, **overrides: Any) -> int:
    """Ingest one Priority lead (unique email) and return its id; overrides replace top-level keys."""
    n = next(_serial)
    record = {
        **PRIORITY_LEAD,
        "external_id": f"test-{n}-{time.monotonic_ns()}",
        "contact": {**PRIORITY_LEAD["contact"], "email": f"dana{n}.{time.monotonic_ns()}@acmemetals.com"},
        **overrides,
    }
    [result] = ingest(ctx, validate_leads([record]))
    return result.id


# ---------------------------------------------------------------------------
# An executor tests can wait on
# ---------------------------------------------------------------------------


class DrainableExecutor(ThreadPoolExecutor):
    """Bolt's listener executor for tests: `drain()` waits until every listener has finished.

    With process_before_response=False Bolt answers Slack as soon as a listener acks and
    runs the rest of it in this executor; tests assert after `drain()`.
    """

    def __init__(self, max_workers: int = 32) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="test-listener")
        self._futures: list[Future[Any]] = []
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.append(future)
        return future

    def drain(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
                self._futures = pending
            if not pending:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(pending)} listeners still running")
            wait_futures(pending, timeout=left)


# ---------------------------------------------------------------------------
# Signed requests
# ---------------------------------------------------------------------------


def signed_request(
    body: str,
    *,
    content_type: str = "application/x-www-form-urlencoded",
    secret: str = SIGNING_SECRET,
    retry_num: int | None = None,
    timestamp: int | None = None,
) -> BoltRequest:
    """A BoltRequest signed like Slack signs it (X-Slack-Signature over v0:ts:body)."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    headers = {
        "content-type": [content_type],
        "x-slack-request-timestamp": [ts],
        "x-slack-signature": [SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)],
    }
    if retry_num is not None:
        headers["x-slack-retry-num"] = [str(retry_num)]
        headers["x-slack-retry-reason"] = ["http_timeout"]
    return BoltRequest(body=body, headers=headers)


def interactive_body(payload: dict[str, Any]) -> str:
    return "payload=" + quote(json.dumps(payload))


_ts = count(1)


def action_ts() -> str:
    return f"1764000000.{next(_ts):06d}"


def block_actions_payload(
    action_id: str,
    lead_id: int,
    user: str,
    *,
    trigger_id: str,
    ts: str | None = None,
    value: str | None = None,
    selected: str | None = None,
    message_ts: str | None = None,
    channel: str = CHANNEL,
) -> dict[str, Any]:
    """A click on a lead card, as Slack sends it: a button (value = lead id) or an overflow option."""
    action: dict[str, Any] = {"action_id": action_id, "block_id": "lead_actions", "action_ts": ts or action_ts()}
    if selected is not None:
        action |= {
            "type": "overflow",
            "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": selected},
        }
    else:
        action |= {
            "type": "button",
            "value": value if value is not None else str(lead_id),
            "text": {"type": "plain_text", "text": "x"},
        }
    message_ts = message_ts or "1700000000.000100"
    return {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "leadbot-test"},
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "api_app_id": "ABOT",
        "token": "legacy",
        "trigger_id": trigger_id,
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
        "channel": {"id": channel, "name": "leads"},
        "message": {"type": "message", "ts": message_ts, "text": "card"},
        "response_url": "https://hooks.slack.invalid/actions/T1/1/x",
        "actions": [action],
    }


def view_submission_payload(
    view: dict[str, Any], user: str, values: dict[str, dict[str, Any]], *, trigger_id: str, view_id: str = "V0SUBMIT"
) -> dict[str, Any]:
    """A modal submitted with state `values` ({block_id: {action_id: state}}), as Slack sends it."""
    return {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "leadbot-test"},
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "api_app_id": "ABOT",
        "token": "legacy",
        "trigger_id": trigger_id,
        "view": {
            **view,
            "id": view_id,
            "team_id": "T1",
            "state": {"values": values},
            "hash": "1.abc",
            "app_id": "ABOT",
            "bot_id": "BBOT",
        },
        "response_urls": [],
    }


@dataclass
class Bot:
    """The real Bolt app wired to a test database and the Slack stand-in."""

    app: App
    ctx: Context
    slack: SlackStandIn
    executor: DrainableExecutor
    client: WebClient
    triggers: Iterator[int] = field(default_factory=lambda: count(1))

    def dispatch(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        retry_num: int | None = None,
        drain: bool = True,
    ) -> BoltResponse:
        response = self.app.dispatch(signed_request(body, content_type=content_type, retry_num=retry_num))
        if drain:
            self.executor.drain()
        return response

    def dispatch_together(self, requests: list[BoltRequest]) -> list[int]:
        """Dispatch signed requests at the same instant, one thread each; their statuses once all have run."""
        barrier = threading.Barrier(len(requests))
        statuses: list[int] = []

        def deliver(request: BoltRequest) -> None:
            barrier.wait()
            statuses.append(self.app.dispatch(request).status)

        threads = [threading.Thread(target=deliver, args=(r,)) for r in requests]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads), "a dispatch did not finish within 30 s"
        self.executor.drain()
        return statuses

    # -- block actions --------------------------------------------------------

    def action_payload(
        self,
        action_id: str,
        lead_id: int,
        user: str,
        *,
        ts: str | None = None,
        value: str | None = None,
        selected: str | None = None,
        message_ts: str | None = None,
    ) -> dict[str, Any]:
        return block_actions_payload(
            action_id,
            lead_id,
            user,
            trigger_id=f"trigger-{next(self.triggers)}",
            ts=ts,
            value=value,
            selected=selected,
            message_ts=message_ts,
        )

    def click(
        self,
        action_id: str,
        lead_id: int,
        user: str,
        *,
        ts: str | None = None,
        retry_num: int | None = None,
        drain: bool = True,
        **kwargs: Any,
    ) -> BoltResponse:
        payload = self.action_payload(action_id, lead_id, user, ts=ts, **kwargs)
        return self.dispatch(interactive_body(payload), retry_num=retry_num, drain=drain)

    # -- views ----------------------------------------------------------------

    def opened_view(self, callback_id: str | None = None) -> dict[str, Any]:
        """The last view opened on the stand-in (optionally with this callback_id)."""
        opened = [c.params["view"] for c in self.slack.calls_to("views.open")]
        if callback_id is not None:
            opened = [v for v in opened if v.get("callback_id") == callback_id]
        assert opened, f"no view {callback_id or ''} was opened"
        return opened[-1]

    def submit(
        self,
        view: dict[str, Any],
        user: str,
        values: dict[str, dict[str, Any]],
        *,
        view_id: str = "V0SUBMIT",
        retry_num: int | None = None,
    ) -> BoltResponse:
        """Submit `view` with state `values` ({block_id: {action_id: state}}) as `user`."""
        payload = view_submission_payload(
            view, user, values, trigger_id=f"trigger-{next(self.triggers)}", view_id=view_id
        )
        return self.dispatch(interactive_body(payload), retry_num=retry_num)

    # -- commands and events ----------------------------------------------------

    def command(self, text: str, user: str, *, command: str = "/lead") -> BoltResponse:
        body = urlencode(
            {
                "token": "legacy",
                "team_id": "T1",
                "team_domain": "leadbot-test",
                "channel_id": CHANNEL,
                "channel_name": "leads",
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": "ABOT",
                "response_url": "https://hooks.slack.invalid/commands/1",
                "trigger_id": f"trigger-{next(self.triggers)}",
            }
        )
        return self.dispatch(body)

    def event(self, event: dict[str, Any], *, retry_num: int | None = None) -> BoltResponse:
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": "T1",
                "api_app_id": "ABOT",
                "event": event,
                "type": "event_callback",
                "event_id": f"Ev{next(_ts):08d}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": "T1", "user_id": "UBOT", "is_bot": True}],
            }
        )
        return self.dispatch(body, content_type="application/json", retry_num=retry_num)

    # -- what reached Slack ---------------------------------------------------------

    def ephemerals(self, user: str | None = None) -> list[str]:
        return [
            c.params["text"]
            for c in self.slack.calls_to("chat.postEphemeral")
            if user is None or c.params.get("user") == user
        ]

    def deliver(self) -> int:
        """Send the pending outbox through the stand-in (a minimal stand-in for the worker)."""
        return deliver_outbox(self.ctx, self.client)


def make_bot(settings: Settings, ctx: Context, slack: SlackStandIn) -> Bot:
    executor = DrainableExecutor()
    client = WebClient(token="xoxb-test-token", base_url=slack.url)
    app = create_app(settings, ctx=ctx, client=client, listener_executor=executor)
    return Bot(app=app, ctx=ctx, slack=slack, executor=executor, client=client)


def deliver_outbox(ctx: Context, client: WebClient) -> int:
    """Send every pending outbox row in id order with render_outbox, recording where cards landed.

    Not the worker (no leasing, pacing or retries): just enough to see the real payloads
    reach the stand-in, and to give cards the message_ts their updates need.
    """
    sent = 0
    while True:
        with ctx.transaction() as session:
            row = session.scalar(
                select(OutboxMessage).where(OutboxMessage.status == "pending").order_by(OutboxMessage.id).limit(1)
            )
            if row is None:
                return sent
            kwargs = render_outbox(ctx, session, row)
            if row.kind == "card":
                answer = client.chat_postMessage(**kwargs)
                lead = session.get(LeadRow, row.lead_id)
                assert lead is not None
                lead.channel_id, lead.message_ts = answer["channel"], answer["ts"]
            elif row.kind == "card_update":
                answer = client.chat_update(**kwargs)
            else:
                answer = client.chat_postMessage(**kwargs)
            row.status, row.result_ts = "sent", answer.get("ts")
            sent += 1


@pytest.fixture(name="bot")
def bot_fixture(settings: Settings, ctx: Context, slack: SlackStandIn) -> Iterator[Bot]:
    """The real app on the parametrised database, talking to the Slack stand-in."""
    made = make_bot(settings, ctx, slack)
    yield made
    made.executor.drain()
    made.executor.shutdown(wait=True)
