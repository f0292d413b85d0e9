"""One translation of errors into what the user sees: an ephemeral note, never a stack trace.

Listeners catch nothing: services raise named domain errors (leadqual.errors) and every
listener is registered through `guarded`, which hands whatever it raised to `handle_error`;
the user who acted is told why, privately, where they acted (or in the app's DM when there
is no channel). `handle_error` is also Bolt's global error handler, for middleware errors.

Why not only `@app.error`: with process_before_response=False, Bolt's runner resets an
ack it has not yet returned to Slack when the listener raises right after acking (the
listener thread and the request thread race), and Slack then sees a 404 for a click that
was acknowledged. Catching in the listener thread avoids that race.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, Args
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from blocks.errors import user_message
from blocks.modals import decode_metadata
from blocks.text import FALLBACK_TEXT, fit_mrkdwn
from leadqual.errors import LeadbotError

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.error(handle_error)


def guarded(listener: Callable[..., None]) -> Callable[[Args], None]:
    """Wrap a listener so whatever it raises is translated once, and Slack always gets its ack."""
    names = list(inspect.signature(listener).parameters)

    def run(args: Args) -> None:
        try:
            listener(**{name: getattr(args, name) for name in names})
        except Exception as exc:
            if args.ack is not None and args.ack.response is None:
                args.ack()  # failed before acking: close the loop with Slack, explain by ephemeral
            handle_error(exc, args.body, args.client)

    run.__name__ = run.__qualname__ = listener.__name__
    return run


def handle_error(error: Exception, body: dict[str, Any], client: WebClient | None) -> None:
    """Tell the user why their action did not happen (Bolt's global error handler)."""
    if isinstance(error, LeadbotError):
        log.info("refused %s: %s", _what(body), error)
    else:
        log.error("failed %s", _what(body), exc_info=error)
    if client is not None:
        tell(client, body, user_message(error))


def tell(client: WebClient, body: dict[str, Any], text: str) -> None:
    """An ephemeral note to the user behind `body`, in the channel they acted in, else by DM."""
    user = _object(body.get("user")).get("id") or body.get("user_id")
    if not user or not isinstance(user, str):
        return
    text = fit_mrkdwn(text, FALLBACK_TEXT)
    channel = _channel(body)
    try:
        if channel:
            try:
                client.chat_postEphemeral(channel=channel, user=user, text=text)
                return
            except SlackApiError as exc:  # e.g. not_in_channel: fall back to the app's DM
                log.info("ephemeral to %s in %s failed: %s", user, channel, exc.response.get("error"))
        client.chat_postMessage(channel=user, text=text)
    except SlackApiError as exc:
        log.warning("could not tell %s: %s", user, exc.response.get("error"))


# This module explains failures, so it must not fail itself: a payload whose user, channel, view
# or actions were not objects (fuzzed, signed requests) made the handler raise while handling.
def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _channel(body: dict[str, Any]) -> str | None:
    channel = _object(body.get("channel")).get("id") or _object(body.get("container")).get("channel_id")
    if channel:
        return str(channel)
    if body.get("channel_id"):  # slash commands
        return str(body["channel_id"])
    metadata = _object(body.get("view")).get("private_metadata")
    found = decode_metadata(metadata if isinstance(metadata, str) else None).get("channel")
    return str(found) if found else None


def _what(body: dict[str, Any]) -> str:
    actions = body.get("actions")
    first = _object(actions[0]) if isinstance(actions, list) and actions else {}
    name = first.get("action_id") or _object(body.get("view")).get("callback_id") or body.get("command")
    return f"{body.get('type') or 'request'} {name or ''}".strip()
