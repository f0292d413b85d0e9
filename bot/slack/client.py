"""The one way to build a Slack Web API client (the bot token, SLACK_API_URL, retries), and the ports it serves."""

from __future__ import annotations

import http.client

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from leadqual.errors import ConfigError
from leadqual.managers import UsergroupMembers, UsergroupUnavailable
from leadqual.services.context import Context
from leadqual.settings import Settings

TIMEOUT = 15  # seconds per call: Slack answers in well under a second when healthy


def make_client(settings: Settings, *, retries: bool = True, token: str | None = None) -> WebClient:
    """A WebClient on settings.slack_api_url (every method, file uploads included).

    With `retries`, connection errors and 5xx answers are retried twice and a 429 waits
    for its Retry-After once; the outbox worker passes `retries=False` because it paces
    and retries itself.
    """
    if token is None:
        if settings.slack_bot_token is None:
            raise ConfigError("SLACK_BOT_TOKEN is not set: Slack features need the app's xoxb- bot token")
        token = settings.slack_bot_token.get_secret_value()
    handlers = (
        [
            ConnectionErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=1),
        ]
        if retries
        else []
    )
    return WebClient(token=token, base_url=settings.slack_api_url, timeout=TIMEOUT, retry_handlers=handlers)


def usergroup_members(client: WebClient) -> UsergroupMembers:
    """The manager directory's port: a usergroup's members via usergroups.users.list."""

    def members_of(usergroup: str) -> list[str]:
        try:
            return list(client.usergroups_users_list(usergroup=usergroup).get("users") or ())
        except SlackApiError as exc:
            raise UsergroupUnavailable(usergroup, str(exc.response.get("error"))) from None
        except (OSError, http.client.HTTPException) as exc:
            raise UsergroupUnavailable(usergroup, f"{exc.__class__.__name__}: {exc}") from None

    return members_of


def connected(ctx: Context, client: WebClient) -> Context:
    """`ctx` with its manager directory reading usergroups through `client` (unchanged if it already does)."""
    return ctx if ctx.usergroup_members is not None else ctx.with_usergroups(usergroup_members(client))
