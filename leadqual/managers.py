"""Who is a manager: the one answer every service, listener, SLA step and digest asks.

Managers are the config's users (with LEADBOT_MANAGERS) plus the members of
`manager_usergroups`. Members are read through a port the bot supplies (Slack's
usergroups.users.list) and cached for `ttl` seconds; a group that cannot be read keeps
its last known members (none, the first time), so an outage never grants or revokes
anything new. Without a port (the CLI offline, the demo) only the configured users count.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

USERGROUP_TTL = 300.0  # seconds: membership changes rarely; a manager added to the group waits at most this


class UsergroupUnavailable(Exception):
    """The port could not read a usergroup's members (the group is unknown, or Slack is unreachable)."""

    def __init__(self, usergroup: str, why: str) -> None:
        self.usergroup = usergroup
        self.why = why
        super().__init__(f"{usergroup}: {why}")


# The port: usergroup id -> its members' user ids; raises UsergroupUnavailable.
UsergroupMembers = Callable[[str], Sequence[str]]


@dataclass
class ManagerDirectory:
    """The configured managers and the usergroup members, cached; `operators` act as managers but get no DMs."""

    users: tuple[str, ...] = ()
    usergroups: tuple[str, ...] = ()
    members_of: UsergroupMembers | None = None
    operators: tuple[str, ...] = ()
    ttl: float = USERGROUP_TTL
    monotonic: Callable[[], float] = time.monotonic
    _members: dict[str, tuple[str, ...]] = field(default_factory=dict, init=False, repr=False)
    _read_at: float | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def is_manager(self, user_id: str) -> bool:
        """True when `user_id` may act as a manager (reassign, decide on others' leads, apply rules)."""
        if user_id in self.users or user_id in self.operators:
            return True
        return any(user_id in members for members in self._usergroup_members().values())

    def all(self) -> list[str]:
        """Every manager, configured users first, each once: who gets the digest and SLA escalations."""
        found = list(self.users)
        for group in self.usergroups:
            found += self._usergroup_members().get(group, ())
        return list(dict.fromkeys(found))

    def _usergroup_members(self) -> dict[str, tuple[str, ...]]:
        if not self.usergroups or self.members_of is None:
            return {}
        with self._lock:
            if self._read_at is not None and self.monotonic() - self._read_at < self.ttl:
                return self._members
            for group in self.usergroups:
                try:
                    self._members[group] = tuple(self.members_of(group))
                except UsergroupUnavailable as exc:
                    log.warning("cannot read manager usergroup %s (%s); keeping its last known members", group, exc.why)
            self._read_at = self.monotonic()
            return self._members
