"""Read-only sessions: on SQLite a long read never holds up a writer (a rep's click)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from leadqual.db.models import Event, LeadRow
from leadqual.services.context import Context


def test_a_read_in_progress_does_not_block_a_write(ctx: Context) -> None:
    wrote = threading.Event()

    def click() -> None:
        with ctx.transaction() as session:
            session.add(Event(kind="test_click", actor="UREP", at=ctx.now(), data={}))
        wrote.set()

    with ctx.reading() as session:
        assert session.scalar(select(func.count()).select_from(LeadRow)) == 0  # the read transaction is open
        writer = threading.Thread(target=click)
        writer.start()
        # With the write lock taken by reads (BEGIN IMMEDIATE), the writer would wait out the
        # 30 s busy timeout here; a read that takes no lock lets it through at once.
        assert wrote.wait(timeout=10), "the write waited for the read to finish"
    writer.join()
    with ctx.reading() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "test_click")) == 1


def test_reading_sessions_see_committed_work_and_write_nothing(ctx: Context) -> None:
    with ctx.reading() as session:
        session.add(Event(kind="lost", actor=None, at=ctx.now(), data={}))
        session.flush()
    with ctx.reading() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "lost")) == 0
