"""The Bolt app factory: `create_app(settings)` wires the services, listeners and error handling."""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.orm import Session, sessionmaker

from bot.slack import errors
from bot.slack.client import make_client
from bot.slack.deps import Leadbot, ManagerDirectory, attach
from bot.slack.listeners import actions, commands, events, views
from leadqual.bootstrap import bootstrap
from leadqual.services.context import Context
from leadqual.settings import Settings

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
    SLACK_BOT_TOKEN and SLACK_API_URL and its token is checked once.
    """
    ctx = ctx or bootstrap(settings, session_factory=session_factory)
    given = client is not None
    client = client or make_client(settings)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    app = App(
        name="leadbot",
        client=client,
        signing_secret=secret,
        token_verification_enabled=not given,
        process_before_response=False,
        listener_executor=listener_executor or ThreadPoolExecutor(LISTENER_WORKERS, "leadbot-listener"),
    )
    attach(app, Leadbot(ctx=ctx, managers=ManagerDirectory(ctx, client)))
    errors.register(app)
    for kind in (actions, views, commands, events):
        kind.register(app)
    return app
