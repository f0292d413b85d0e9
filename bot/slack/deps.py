"""What listeners need besides Bolt's own arguments: the service Context and who counts as a manager."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from leadqual.services.context import Context

log = logging.getLogger(__name__)
KEY = "leadbot"
USERGROUP_TTL = 300.0  # seconds: membership changes rarely; a manager added to the group waits at most this


@dataclass
class ManagerDirectory:
    """Managers are the config's users (and LEADBOT_MANAGERS) plus members of `manager_usergroups`.

    Usergroup members are read with usergroups.users.list and cached; when Slack cannot be
    reached the last known members stay valid.
    """

    ctx: Context
    client: WebClient
    ttl: float = USERGROUP_TTL
    _members: frozenset[str] = field(default=frozenset(), init=False)
    _read_at: float | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def is_manager(self, user_id: str) -> bool:
        if self.ctx.is_manager(user_id):
            return True
        if not self.ctx.config.manager_usergroups:
            return False
        return user_id in self._usergroup_members()

    def _usergroup_members(self) -> frozenset[str]:
        with self._lock:
            if self._read_at is not None and time.monotonic() - self._read_at < self.ttl:
                return self._members
            members: set[str] = set()
            try:
                for group in self.ctx.config.manager_usergroups:
                    members.update(self.client.usergroups_users_list(usergroup=group).get("users") or ())
            except SlackApiError as exc:
                log.warning("cannot read manager usergroups (%s); keeping the last known members",
                            exc.response.get("error"))
                return self._members
            self._members, self._read_at = frozenset(members), time.monotonic()
            return self._members


@dataclass(frozen=True)
class Leadbot:
    """Attached to every request's context by `attach`."""

    ctx: Context
    managers: ManagerDirectory

    def is_manager(self, user_id: str) -> bool:
        return self.managers.is_manager(user_id)


def attach(app: App, leadbot: Leadbot) -> None:
    """Make `leadbot(context)` available in every listener (a global middleware)."""

    @app.middleware
    def _attach(context: BoltContext, next_: Callable[[], None]) -> None:
        context[KEY] = leadbot
        next_()


def leadbot(context: BoltContext) -> Leadbot:
    found = context.get(KEY)
    if not isinstance(found, Leadbot):
        raise RuntimeError("the Leadbot middleware did not run")
    return found
