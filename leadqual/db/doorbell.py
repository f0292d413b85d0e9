"""Tell workers that outbox rows were committed, so a card goes out at once rather than at the next poll.

Two bells, both rung only by a commit that queued outbox rows (`queued(session)` marks the
transaction; a rolled-back one rings nothing):

- In the same process, `after_commit` rings every subscribed `threading.Event` (a worker
  that runs beside `leadbot serve`, the demo, the tests).
- On PostgreSQL, the transaction also issues `NOTIFY leadbot_outbox`, which the server
  delivers to listeners only when (and if) the transaction commits; `PostgresListener`
  turns those notifications into a wake-up of the worker that listens.

Polling stays: a bell is a hint to look now, never the only way rows are found (a worker
that was down, a notification lost with a dropped connection, SQLite across processes).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "leadbot_outbox"
_QUEUED = "leadbot.outbox_queued"


class Doorbell:
    """The in-process bell: events to set when a commit queued outbox rows."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` on every ring until the returned function is called."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def ring(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()


DOORBELL = Doorbell()


def queued(session: Session) -> None:
    """Mark this transaction as one that queued outbox rows (once per transaction)."""
    if session.info.get(_QUEUED):
        return
    session.info[_QUEUED] = True
    if session.get_bind().dialect.name == "postgresql":
        # Delivered on commit, dropped on rollback; repeats in one transaction are folded by the server.
        session.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})


@event.listens_for(Session, "after_commit")
def _ring_after_commit(session: Session) -> None:
    if session.info.pop(_QUEUED, False):
        DOORBELL.ring()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_QUEUED, None)


class PostgresListener:
    """LISTEN on `CHANNEL` in a thread and call `heard` for every notification (PostgreSQL only)."""

    def __init__(self, engine: Engine, heard: Callable[[], None], *, retry_every: float = 5.0) -> None:
        self._url = engine.url
        self._heard = heard
        self._retry_every = retry_every
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leadbot-outbox-listen", daemon=True)

    def start(self) -> PostgresListener:
        self._thread.start()
        return self

    def wait_listening(self, timeout: float) -> bool:
        """Whether LISTEN is in effect (notifications from now on are heard)."""
        return self._listening.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg  # only PostgreSQL deployments need it at run time

        conninfo = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    self._heard()  # rows committed while we were not listening
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self._heard()
            except psycopg.Error as exc:
                self._listening.clear()
                log.warning(
                    "outbox listener lost PostgreSQL (%s: %s); polling meanwhile, retrying in %.0fs",
                    exc.__class__.__name__,
                    str(exc).strip(),
                    self._retry_every,
                )
                self._stop.wait(self._retry_every)
