"""`leadbot serve`: the HTTP server (intake, health, and Slack's endpoint), and Socket Mode when configured.

Slack traffic arrives one of two ways, both handled by the same Bolt app:
- HTTP: with SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET, POST /slack/events is mounted;
- Socket Mode: with SLACK_APP_TOKEN too, a websocket to Slack runs in background threads
  (no public URL needed) while uvicorn keeps serving intake.
Without SLACK_BOT_TOKEN the server runs intake only.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from slack_bolt import App
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.http import create_http_app
from bot.slack.app import LISTENER_WORKERS, create_app
from bot.slack.endpoint import SlackEndpoint
from bot.slack.socket_mode import SocketModeHandler
from leadqual.bootstrap import bootstrap
from leadqual.errors import ConfigError
from leadqual.services.context import Context
from leadqual.settings import Settings

log = logging.getLogger(__name__)

SOCKET_RETRY_CAP = 60.0  # seconds between Socket Mode connection attempts while Slack cannot be reached
REFUSED_APP_TOKEN = frozenset(
    {"invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked", "account_inactive"}
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the HTTP server (POST /leads, /healthz, /slack/events)")
    serve.add_argument("--host", default="0.0.0.0")
    serve.set_defaults(run=run_server)


@dataclass
class Server:
    """The HTTP app and the Slack parts that run beside it."""

    http: FastAPI
    slack: App | None = None
    endpoint: SlackEndpoint | None = None
    socket: SocketModeHandler | None = None
    listeners: ThreadPoolExecutor | None = None  # where Bolt runs listeners after their ack
    _closed: bool = field(default=False, init=False, repr=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    def start_socket_mode(self) -> None:
        """Connect to Slack over Socket Mode; while Slack cannot be reached, keep trying in the background.

        The process also serves intake, which must not wait for Slack: a web process restarting
        during a Slack outage still comes up. Once connected, slack_sdk reconnects by itself.
        """
        if self.socket is not None and not self._connect_socket(first=True):
            threading.Thread(target=self._keep_connecting, name="socket-mode-connect", daemon=True).start()

    def _connect_socket(self, *, first: bool = False) -> bool:
        assert self.socket is not None
        try:
            # A fresh URL each time (apps.connections.open); returns once connected, the session runs in its threads.
            self.socket.client.connect_to_new_endpoint(force=True)
        except (SlackClientError, OSError, http.client.HTTPException) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else f"{exc.__class__.__name__}: {exc}"
            if first and error in REFUSED_APP_TOKEN:
                raise ConfigError(f"SLACK_APP_TOKEN was refused by Slack (apps.connections.open: {error})") from None
            log.warning("Slack Socket Mode could not connect (%s); intake is up, retrying in the background", error)
            return False
        log.info("Slack Socket Mode connected")
        return True

    def _keep_connecting(self) -> None:
        delay = 1.0
        while not self._stopping.wait(delay):
            if self._connect_socket():
                return
            delay = min(delay * 2, SOCKET_RETRY_CAP)

    def close(self) -> None:
        """Stop taking Slack requests, then finish the listener work already acknowledged to Slack."""
        if self._closed:  # from the HTTP app's shutdown, and again from run_server's `finally` on Ctrl-C
            return
        self._closed = True
        self._stopping.set()
        if self.socket is not None:
            self.socket.close()
        if self.endpoint is not None:
            self.endpoint.close()
        if self.listeners is not None:
            # Slack got its ack before the work ran: a claim or decision dropped now would be a
            # click that "worked" but never happened. (A platform's SIGKILL after its grace
            # period still bounds this.)
            log.info("stopping: finishing the Slack work in progress")
            self.listeners.shutdown(wait=True)


def build_server(settings: Settings, ctx: Context) -> Server:
    """Wire intake and, when Slack is configured, the Bolt app over HTTP and/or Socket Mode."""
    if settings.slack_bot_token is None:
        log.warning("SLACK_BOT_TOKEN is not set: serving lead intake only, no Slack app")
        return Server(http=create_http_app(ctx, settings))
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        raise ConfigError(
            "SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP events) "
            "nor SLACK_APP_TOKEN (Socket Mode) is: Slack could not reach the app"
        )
    listeners = ThreadPoolExecutor(LISTENER_WORKERS, "leadbot-listener")
    slack = create_app(settings, ctx=ctx, listener_executor=listeners)
    endpoint = (
        SlackEndpoint(slack, signing_secret=settings.slack_signing_secret.get_secret_value())
        if settings.slack_signing_secret is not None
        else None
    )
    socket = (
        SocketModeHandler(slack, app_token=settings.slack_app_token.get_secret_value())
        if settings.slack_app_token is not None
        else None
    )
    http = create_http_app(ctx, settings, slack_endpoint=endpoint.handle if endpoint else None)
    server = Server(http=http, slack=slack, endpoint=endpoint, socket=socket, listeners=listeners)
    _close_on_shutdown(server)
    return server


def _close_on_shutdown(server: Server) -> None:
    """Close the Slack side in the HTTP app's shutdown, after in-flight requests and before the process exits.

    Not in a `finally` around uvicorn.run: after a graceful stop uvicorn re-raises the SIGTERM
    it caught, and the default handler ends the process before any `finally` runs.
    """
    inner = server.http.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        async with inner(app) as state:
            yield state
        await run_in_threadpool(server.close)

    server.http.router.lifespan_context = lifespan


def run_server(args: argparse.Namespace, settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx = bootstrap(settings)
    server = build_server(settings, ctx)
    server.start_socket_mode()
    try:
        uvicorn.run(server.http, host=args.host, port=settings.port, log_level="info", proxy_headers=True)
    finally:
        server.close()
    return 0
