"""Ruleset versions: load a file as a version, activate, roll back, show."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadqual.db.models import Event, ProposalRow, RulesetVersion
from leadqual.errors import NothingToRollBack, RulesetChanged
from leadqual.rules import RulesetSpec, content_hash, dump_ruleset
from leadqual.services.context import Context
from leadqual.statuses import ProposalStatus, RulesetOrigin


def sync_rules_file(ctx: Context, spec: RulesetSpec, *, source: str) -> RulesetVersion:
    """Store a rules file as a new active version if its content is new; return the active one.

    A file whose rules were seen before (whatever its `version:` line) changes nothing, so
    restarts keep a version a manager applied from Slack.
    """
    digest = content_hash(spec)
    for _attempt in range(3):
        try:
            with ctx.transaction() as session:
                known = session.scalar(select(RulesetVersion).where(RulesetVersion.content_hash == digest).limit(1))
                if known is None:
                    return create_version(session, spec, origin=RulesetOrigin.FILE, note=f"loaded from {source}")
                active = _active(session)
                if active is None:
                    known.active = True
                    return known
                return active
        except IntegrityError:  # another process stored the same file at the same moment
            continue
    raise RuntimeError("could not store the ruleset version after 3 attempts")


def create_version(
    session: Session,
    spec: RulesetSpec,
    *,
    origin: RulesetOrigin,
    note: str | None = None,
    created_by: str | None = None,
) -> RulesetVersion:
    """Store `spec` as the next version (numbered after the highest, whatever is active), make it active."""
    latest = session.scalar(select(func.max(RulesetVersion.version))) or 0
    previous = _active(session)
    number = max(latest + 1, spec.version if origin == RulesetOrigin.FILE else 0)
    spec = spec.model_copy(update={"version": number})
    session.execute(update(RulesetVersion).where(RulesetVersion.active).values(active=False))
    row = RulesetVersion(
        version=number,
        name=spec.name,
        content_hash=content_hash(spec),
        yaml_text=dump_ruleset(spec),
        active=True,
        parent_version=previous.version if previous else None,
        origin=origin,
        note=note,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row


def _active(session: Session) -> RulesetVersion | None:
    return session.scalar(select(RulesetVersion).where(RulesetVersion.active))


def active_version(ctx: Context) -> RulesetVersion:
    with ctx.reading() as session:
        row = _active(session)
        if row is None:
            raise LookupError("no active ruleset")
        session.expunge(row)
        return row


def rollback(ctx: Context, *, actor: str | None = None, expected: int | None = None) -> tuple[int, int]:
    """Reactivate the version the active one was made from; return (from, to).

    With `expected`, roll back only if that version is still the active one (a double click
    on a Roll back button must not walk back two versions). A proposal that made the
    rolled-back version is marked rolled back.
    """
    with ctx.transaction() as session:
        current = _active(session)
        if current is not None and expected is not None and current.version != expected:
            raise RulesetChanged(expected, current.version)
        if current is None or current.parent_version is None:
            raise NothingToRollBack()
        target = session.scalar(select(RulesetVersion).where(RulesetVersion.version == current.parent_version))
        if target is None:
            raise NothingToRollBack()
        current.active = False
        session.flush()
        target.active = True
        session.add(Event(kind="ruleset_rollback", actor=actor, data={"from": current.version, "to": target.version}))
        session.execute(
            update(ProposalRow)
            .where(ProposalRow.applied_version == current.version, ProposalRow.status == ProposalStatus.APPLIED)
            .values(status=ProposalStatus.ROLLED_BACK)
        )
        return current.version, target.version
