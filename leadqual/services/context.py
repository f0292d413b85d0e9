"""What every service needs: the session factory, the config, a clock, the managers and the active ruleset."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from leadqual.calendar import local_today
from leadqual.config import AppConfig
from leadqual.db.engine import READ_ONLY
from leadqual.db.models import RulesetVersion
from leadqual.managers import ManagerDirectory, UsergroupMembers
from leadqual.rules import parse_ruleset_text
from leadqual.scoring import Ruleset


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    session_factory: sessionmaker[Session]
    config: AppConfig
    clock: Callable[[], datetime] = utcnow
    # The port the bot supplies to read `manager_usergroups` (Slack's usergroups.users.list).
    usergroup_members: UsergroupMembers | None = field(default=None, repr=False)
    # Users acting with a manager's rights without being one (the CLI's operator).
    operators: tuple[str, ...] = ()
    managers: ManagerDirectory = field(init=False, repr=False)
    _compiled: dict[int, Ruleset] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        # Built here, not passed in, so dataclasses.replace(ctx, config=...) gets a matching directory.
        self.managers = ManagerDirectory(
            users=tuple(self.config.managers),
            usergroups=tuple(self.config.manager_usergroups),
            members_of=self.usergroup_members,
            operators=self.operators,
        )

    def with_usergroups(self, members: UsergroupMembers) -> Context:
        """This context with `manager_usergroups` read through `members`."""
        return replace(self, usergroup_members=members)

    def as_operator(self, actor: str) -> Context:
        """This context with `actor` acting as a manager (the CLI runs with the operator's rights)."""
        return replace(self, operators=(*self.operators, actor))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits together or not at all."""
        with self.session_factory() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only (rolled back at the end); on SQLite it never takes the write lock."""
        bind = self.session_factory.kw["bind"].execution_options(**{READ_ONLY: True})
        with self.session_factory(bind=bind) as session:
            yield session

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        """Today in the configured time zone (follow-up dates are local dates)."""
        return local_today(self.clock(), self.config.tz)

    def is_manager(self, user_id: str) -> bool:
        return self.managers.is_manager(user_id)

    def active_ruleset(self) -> Ruleset:
        """The active ruleset, compiled (one short read)."""
        with self.reading() as session:
            return self.ruleset(session)

    def ruleset(self, session: Session, version: int | None = None) -> Ruleset:
        """The compiled ruleset of `version` (default: the active one), compiled once per process."""
        if version is None:
            version = session.scalar(select(RulesetVersion.version).where(RulesetVersion.active))
            if version is None:
                raise LookupError("no active ruleset: run `leadbot rules check` or start the app once")
        cached = self._compiled.get(version)
        if cached is not None:
            return cached
        text = session.scalar(select(RulesetVersion.yaml_text).where(RulesetVersion.version == version))
        if text is None:
            raise LookupError(f"ruleset version {version} does not exist")
        compiled = Ruleset.compile(parse_ruleset_text(text, source=f"ruleset v{version}"), version=version)
        with self._lock:
            self._compiled[version] = compiled
        return compiled
