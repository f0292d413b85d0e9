"""Socket Mode that keeps answering across Slack's connection refreshes.

Slack refreshes a Socket Mode connection every few hours: it sends `disconnect` (reason
`warning`, then `refresh_requested`), the app opens a new connection, and envelopes start
arriving on it at once (https://docs.slack.dev/apis/events-api/using-socket-mode/).
slack_sdk's built-in client reads one connection at a time from a single thread: after
opening the new connection it closes the old one, which waits for the old reader's
`recv` to time out (3 s), and only then starts reading the new one. An envelope sent on
the new connection meanwhile waits up to those 3 s, the whole of Slack's ack budget.

`SocketModeClient` here is the built-in client with one change: every connection gets
its own reader thread, started as soon as its handshake is done, and the old connection
is retired in the background (its reader finishes the frame it is on, then stops). The
new connection is read from the moment it is live; nothing waits for the old one.
"""

from __future__ import annotations

import threading
from time import time

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.socket_mode.builtin import SocketModeClient as BuiltinSocketModeClient
from slack_sdk.socket_mode.builtin.connection import Connection, ConnectionState
from slack_sdk.socket_mode.request import SocketModeRequest

# Envelopes handled at once (Bolt acks, then hands the listener's work to the app's own pool).
CONCURRENCY = 10


class SocketModeClient(BuiltinSocketModeClient):
    """slack_sdk's built-in Socket Mode client, reading each connection on its own thread."""

    def connect(self) -> None:
        """Open a new connection, read it at once, then retire the previous one without waiting for it."""
        old_session, old_state = self.current_session, self.current_session_state
        if self.wss_uri is None:
            self.wss_uri = self.issue_new_wss_url()
        session = Connection(
            url=self.wss_uri,
            logger=self.logger,
            ping_interval=self.ping_interval,
            trace_enabled=self.trace_enabled,
            all_message_trace_enabled=self.all_message_trace_enabled,
            ping_pong_trace_enabled=self.ping_pong_trace_enabled,
            receive_buffer_size=self.receive_buffer_size,
            proxy=self.proxy,
            proxy_headers=self.proxy_headers,
            on_message_listener=self._on_message,
            on_error_listener=self._on_error,
            on_close_listener=self._on_close,
            ssl_context=self.web_client.ssl,
        )
        session.connect()
        state = ConnectionState()
        # Acks go out on the current session: switch before the first envelope can be read.
        self.current_session, self.current_session_state = session, state
        self.auto_reconnect_enabled = self.default_auto_reconnect_enabled
        threading.Thread(target=self._read, args=(session, state), name="socket-mode-reader", daemon=True).start()
        if old_session is not None:
            old_state.terminated = True
            # close() waits for the old reader's recv to time out: never on the path of an envelope.
            threading.Thread(target=old_session.close, name="socket-mode-retire", daemon=True).start()
        if not self.current_app_monitor_started:
            self.current_app_monitor_started = True
            self.current_app_monitor.start()
        self.logger.info(f"A new session has been established (session id: {session.session_id})")

    def _read(self, session: Connection, state: ConnectionState) -> None:
        try:
            session.run_until_completion(state)
        except Exception as exc:  # the monitor notices the dead session and reconnects
            self.logger.error(f"Stopped reading a Socket Mode session ({session.session_id}): {exc}")

    def _run_current_session(self) -> None:
        """Not used: `connect` starts a reader per connection (the base class polls this every 0.1 s)."""


class SocketModeHandler(BaseSocketModeHandler):
    """Bolt's Socket Mode adapter over `SocketModeClient` (same as slack_bolt's built-in adapter otherwise)."""

    def __init__(self, app: App, app_token: str, *, concurrency: int = CONCURRENCY) -> None:
        self.app = app
        self.app_token = app_token
        self.client = SocketModeClient(
            app_token=app_token, logger=app.logger, web_client=app.client, concurrency=concurrency
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]

    def handle(self, client: BuiltinSocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        """Dispatch one envelope through the Bolt app and send its ack."""
        start = time()
        send_response(client, req, run_bolt_app(self.app, req), start)
