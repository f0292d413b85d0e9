"""A local stand-in for Slack's side of Socket Mode, for tests.

Slack's Socket Mode (https://docs.slack.dev/apis/events-api/using-socket-mode/): the app
calls `apps.connections.open` with its app-level `xapp-` token and gets a one-time
`wss://` URL; on that WebSocket Slack sends `hello`, then envelopes
(`{"envelope_id", "type", "payload", "accepts_response_payload", ...}`) that the app must
acknowledge within 3 s by sending back `{"envelope_id": ..., "payload": ...}`; every few
hours it sends `disconnect` (reason `warning`, then `refresh_requested`) and expects the
app to open a new connection, after which it closes the old one.

`SocketModeStandIn` does the same on 127.0.0.1 with a real WebSocket server (the
`websockets` library), beside a `SlackStandIn` that answers `apps.connections.open`:

    with SlackStandIn() as web, SocketModeStandIn(web) as socket:
        ...  # the app connects: socket.wait_for_links(1)
        envelope = socket.interactive(block_actions_payload(...))
        assert envelope.wait_for_ack()  # acknowledged within Slack's 3 s, by envelope_id

Acks are matched by `envelope_id` on any of the app's connections; one that comes after
the 3 s window does not count (Slack has given up by then: retried the event or shown the
user an error) and is kept in `late_acks`; an ack for no envelope is kept in `stray_acks`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from itertools import count
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tests.slack_standin import TEAM_ID, SlackStandIn

ACK_WINDOW = 3.0  # seconds Slack waits for an ack
APP_ID = "ABOT"
# Slack closes a refreshed connection some seconds after asking for a new one.
RETIRE_AFTER = 10.0

__all__ = ["ACK_WINDOW", "Envelope", "Link", "SocketModeStandIn", "event_callback", "slash_command"]


@dataclass
class Envelope:
    """One envelope sent to the app, and what became of it."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    link: Link
    sent_at: float  # time.monotonic()
    acked_at: float | None = None
    ack_payload: dict[str, Any] | None = None
    _settled: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def acked(self) -> bool:
        """Acknowledged within Slack's window."""
        return self.acked_at is not None

    @property
    def wait(self) -> float | None:
        """Seconds from sending to the ack (None when not acked in time)."""
        return None if self.acked_at is None else self.acked_at - self.sent_at

    def wait_for_ack(self, timeout: float = 30) -> bool:
        """Block until the envelope is acked or its window has passed; whether it was acked in time."""
        if not self._settled.wait(timeout):
            raise AssertionError(f"envelope {self.envelope_id} neither acked nor expired within {timeout:g}s")
        return self.acked


@dataclass
class Link:
    """One WebSocket connection from the app."""

    number: int
    ticket: str
    ws: ServerConnection
    opened_at: float
    retired: bool = False  # a disconnect was sent: nothing new goes out on it
    closed: threading.Event = field(default_factory=threading.Event, repr=False)

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message))


def event_callback(event: dict[str, Any], *, event_id: str) -> dict[str, Any]:
    """The Events API body Slack wraps in an `events_api` envelope."""
    return {
        "token": "legacy",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id}",
    }


def slash_command(command: str, text: str, user: str, *, channel: str, trigger_id: str) -> dict[str, Any]:
    """A slash command's fields: the form body over HTTP, a JSON object in a `slash_commands` envelope."""
    return {
        "token": "legacy",
        "team_id": TEAM_ID,
        "team_domain": "leadbot-test",
        "channel_id": channel,
        "channel_name": "leads",
        "user_id": user,
        "user_name": user.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.invalid/commands/1",
        "trigger_id": trigger_id,
    }


class SocketModeStandIn:
    """Slack's Socket Mode side on 127.0.0.1: hello, envelopes, acks, disconnects and reconnects."""

    def __init__(
        self, web: SlackStandIn, *, ack_window: float = ACK_WINDOW, retire_after: float = RETIRE_AFTER
    ) -> None:
        self.web = web
        self.ack_window = ack_window
        self.retire_after = retire_after
        self._lock = threading.Condition()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._tickets: set[str] = set()
        self._links: list[Link] = []
        self._envelopes: dict[str, Envelope] = {}
        self._numbers = count(1)
        self.late_acks: list[tuple[str, float]] = []  # (envelope_id, seconds after sending)
        self.stray_acks: list[dict[str, Any]] = []
        self.refused: list[str] = []  # tickets presented that were not issued, or used twice

    # -- lifecycle ----------------------------------------------------------

    def __enter__(self) -> SocketModeStandIn:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._server = serve(self._serve, "127.0.0.1", 0, ping_interval=None)
        self._thread = threading.Thread(target=self._server.serve_forever, name="socket-standin", daemon=True)
        self._thread.start()
        self.web.socket_mode_url = self.issue_url

    def stop(self) -> None:
        self.web.socket_mode_url = None
        for link in self.links:
            link.ws.close()
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return int(self._server.socket.getsockname()[1])

    def issue_url(self) -> str:
        """A one-time URL, as apps.connections.open gives."""
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={APP_ID}"

    # -- what happened ------------------------------------------------------

    @property
    def links(self) -> list[Link]:
        with self._lock:
            return list(self._links)

    @property
    def envelopes(self) -> list[Envelope]:
        with self._lock:
            return list(self._envelopes.values())

    def wait_for_links(self, n: int, timeout: float = 30) -> Link:
        """Wait until the app has opened `n` connections in all; the latest one."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._links) >= n, timeout):
                raise AssertionError(f"the app opened {len(self._links)} Socket Mode connections, expected {n}")
            return self._links[-1]

    # -- sending ------------------------------------------------------------

    def send(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = False,
        link: Link | None = None,
        **extra: Any,
    ) -> Envelope:
        """Send an envelope on `link` (default: the newest live connection)."""
        with self._lock:
            target = link or next(
                (lk for lk in reversed(self._links) if not lk.retired and not lk.closed.is_set()), None
            )
            if target is None:
                raise AssertionError("the app has no live Socket Mode connection")
            envelope = Envelope(
                envelope_id=str(uuid.uuid4()), type=kind, payload=payload, link=target, sent_at=time.monotonic()
            )
            self._envelopes[envelope.envelope_id] = envelope
        timer = threading.Timer(self.ack_window, envelope._settled.set)
        timer.daemon = True
        timer.start()
        target.send(
            {
                "envelope_id": envelope.envelope_id,
                "payload": payload,
                "type": kind,
                "accepts_response_payload": accepts_response_payload,
                **extra,
            }
        )
        return envelope

    def events_api(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_attempt: int = 0, link: Link | None = None
    ) -> Envelope:
        body = event_callback(event, event_id=event_id or f"Ev{uuid.uuid4().hex[:10].upper()}")
        return self.send(
            "events_api",
            body,
            link=link,
            retry_attempt=retry_attempt,
            retry_reason="" if retry_attempt == 0 else "timeout",
        )

    def interactive(self, payload: dict[str, Any], *, link: Link | None = None) -> Envelope:
        # Slack lets a view_submission's ack carry a response_action (errors, update, push, clear).
        return self.send(
            "interactive", payload, link=link, accepts_response_payload=payload.get("type") == "view_submission"
        )

    def slash_commands(self, payload: dict[str, Any], *, link: Link | None = None) -> Envelope:
        return self.send("slash_commands", payload, link=link, accepts_response_payload=True)

    def disconnect(self, reason: str = "refresh_requested", *, link: Link | None = None) -> Link:
        """Ask the app to move to a new connection; Slack closes the old one `retire_after` seconds later."""
        target = link or self.wait_for_links(1)
        with self._lock:
            target.retired = True
        target.send({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-standin"}})
        timer = threading.Timer(self.retire_after, target.ws.close)
        timer.daemon = True
        timer.start()
        return target

    # -- the server side ----------------------------------------------------

    def _serve(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        ticket = (parse_qs(urlsplit(ws.request.path).query).get("ticket") or [""])[0]
        with self._lock:
            if ticket not in self._tickets:
                self.refused.append(ticket)
                ws.close(code=1008, reason="invalid ticket")
                return
            self._tickets.discard(ticket)
            link = Link(number=next(self._numbers), ticket=ticket, ws=ws, opened_at=time.monotonic())
            live = 1 + sum(1 for lk in self._links if not lk.closed.is_set())
        try:
            link.send(
                {
                    "type": "hello",
                    "num_connections": live,
                    "debug_info": {"host": "applink-standin", "build_number": 1, "approximate_connection_time": 18060},
                    "connection_info": {"app_id": APP_ID},
                }
            )
            with self._lock:  # only once hello is out, so that nothing is sent before it
                self._links.append(link)
                self._lock.notify_all()
            for raw in ws:
                self._received(raw)
        except ConnectionClosed:
            pass
        finally:
            link.closed.set()

    def _received(self, raw: str | bytes) -> None:
        arrived = time.monotonic()
        try:
            message = json.loads(raw)
        except ValueError:
            self.stray_acks.append({"raw": raw})
            return
        with self._lock:
            envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
            envelope = self._envelopes.get(envelope_id) if isinstance(envelope_id, str) else None
            if envelope is None or envelope.acked_at is not None:
                self.stray_acks.append(message)
                return
            if arrived - envelope.sent_at > self.ack_window:
                self.late_acks.append((envelope.envelope_id, arrived - envelope.sent_at))
                return
            envelope.acked_at, envelope.ack_payload = arrived, message.get("payload")
        envelope._settled.set()
