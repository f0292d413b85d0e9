"""The digest's exactly-once guard: one DigestSend row per manager and ISO week, claimed before sending."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from leadqual.db.models import DigestSend
from leadqual.services.context import Context

# A claim not marked sent after this long is taken to be from a sender that died.
CLAIM_LEASE = timedelta(minutes=10)


def claim_digest_send(ctx: Context, manager_id: str, iso_week: str, version: int) -> bool:
    """Take the right to send `iso_week`'s digest to a manager; False when it is sent or being sent.

    The unique (manager_id, iso_week) constraint is the guard: of any number of processes
    racing here, exactly one insert commits. A claim left unsent past `CLAIM_LEASE` (its
    sender crashed between claiming and posting) is taken over by a conditional update,
    which again only one racer can win.
    """
    now = ctx.now()
    try:
        with ctx.transaction() as session:
            session.execute(
                insert(DigestSend),
                [{"manager_id": manager_id, "iso_week": iso_week, "ruleset_version": version, "created_at": now}],
            )
        return True
    except IntegrityError:
        pass
    with ctx.transaction() as session:
        taken = session.execute(
            update(DigestSend)
            .where(
                DigestSend.manager_id == manager_id,
                DigestSend.iso_week == iso_week,
                DigestSend.sent_at.is_(None),
                DigestSend.created_at < now - CLAIM_LEASE,
            )
            .values(created_at=now, ruleset_version=version)
        )
        return bool(getattr(taken, "rowcount", 0) == 1)


def mark_digest_sent(ctx: Context, manager_id: str, iso_week: str) -> None:
    """Record that Slack took the manager's digest: from now on nobody sends it again."""
    with ctx.transaction() as session:
        session.execute(
            update(DigestSend)
            .where(DigestSend.manager_id == manager_id, DigestSend.iso_week == iso_week)
            .values(sent_at=ctx.now())
        )


def release_digest_send(ctx: Context, manager_id: str, iso_week: str) -> None:
    """Give the guard back after a failed send, so a later run sends it (exactly once, not never)."""
    with ctx.transaction() as session:
        session.execute(
            delete(DigestSend).where(
                DigestSend.manager_id == manager_id, DigestSend.iso_week == iso_week, DigestSend.sent_at.is_(None)
            )
        )


def sent_to(ctx: Context, iso_week: str) -> set[str]:
    """The managers Slack has taken `iso_week`'s digest for."""
    with ctx.reading() as session:
        return set(
            session.scalars(
                select(DigestSend.manager_id).where(DigestSend.iso_week == iso_week, DigestSend.sent_at.is_not(None))
            )
        )


def being_sent(ctx: Context, iso_week: str) -> set[str]:
    """The managers whose `iso_week` digest another run claimed within its lease and has not sent yet."""
    with ctx.reading() as session:
        return set(
            session.scalars(
                select(DigestSend.manager_id).where(
                    DigestSend.iso_week == iso_week,
                    DigestSend.sent_at.is_(None),
                    DigestSend.created_at >= ctx.now() - CLAIM_LEASE,
                )
            )
        )
