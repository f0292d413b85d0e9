"""The Bolt app factory: `create_app(settings)` wires the services, listeners and error handling."""

from __future__ import annotations

import http.client
import logging
from concurrent.futures import Executor, ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session, sessionmaker

from bot.slack import errors
from bot.slack.client import connected, make_client
from bot.slack.deps import Leadbot, attach
from bot.slack.listeners import actions, commands, events, views
from leadqual.bootstrap import bootstrap
from leadqual.errors import ConfigError
from leadqual.services.context import Context
from leadqual.settings import Settings

log = logging.getLogger(__name__)

# Listeners ack first and then do their work (a short transaction, at most a couple of Web API
# calls) in this pool. Bolt's default of 5 threads would make a burst of clicks wait for
# each other's work before even acking; 64 keeps 20+ simultaneous clicks far inside 3 s.
LISTENER_WORKERS = 64


def create_app(
    settings: Settings,
    *,
    ctx: Context | None = None,
    client: WebClient | None = None,
    session_factory: sessionmaker[Session] | None = None,
    listener_executor: Executor | None = None,
) -> App:
    """Build the Bolt app for `settings`; tests and the demo pass their own ctx, client or executor.

    Requests are verified with SLACK_SIGNING_SECRET (Socket Mode requests need none). A
    given `client` is trusted as is (no auth.test at start-up); otherwise one is made from
    SLACK_BOT_TOKEN and SLACK_API_URL and its token is checked once (`check_token`).
    """
    ctx = ctx or bootstrap(settings, session_factory=session_factory)
    if client is None:
        client = make_client(settings)
        check_token(client)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    app = App(
        name="leadbot",
        client=client,
        signing_secret=secret,
        # Checked above (or trusted); Bolt's own check would stop the process whenever Slack is unreachable.
        token_verification_enabled=False,
        process_before_response=False,
        listener_executor=listener_executor or ThreadPoolExecutor(LISTENER_WORKERS, "leadbot-listener"),
    )
    attach(app, Leadbot(ctx=connected(ctx, client)))
    errors.register(app)
    for kind in (actions, views, commands, events):
        kind.register(app)
    return app


def check_token(client: WebClient) -> None:
    """Check the bot token with auth.test: raise ConfigError if Slack refuses it; only warn if Slack is unreachable.

    `leadbot serve` also takes leads, and intake must not depend on Slack: a web process that
    restarts during a Slack outage (a deploy, a crash, a scale-up) has to come up. Bolt then
    runs auth.test on the first Slack request instead.
    """
    try:
        client.auth_test()
    except SlackApiError as exc:
        status, error = exc.response.status_code, exc.response.get("error")
        if (
            status >= 500
            or status == 429
            or error in ("internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited")
        ):
            log.warning(
                "Slack answered auth.test with %s (HTTP %s): starting anyway; "
                "the token is checked again on the first Slack request",
                error,
                status,
            )
            return
        raise ConfigError(f"SLACK_BOT_TOKEN was refused by Slack (auth.test: {error})") from None
    except (OSError, http.client.HTTPException) as exc:  # connection refused, DNS, timeout
        log.warning(
            "Slack is not reachable (%s: %s): starting anyway; the token is checked again on the first Slack request",
            exc.__class__.__name__,
            exc,
        )
