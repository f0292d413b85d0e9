"""Record pipeline outcomes: every stage as history, the latest as the lead's stage, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from leadqual.db.models import LeadPipeline, LeadRow, PipelineStage
from leadqual.errors import InvalidLead, UnknownLeads
from leadqual.pipeline import Stage, StageReport, later
from leadqual.services.context import Context
from leadqual.services.intake import field_errors

CHUNK = 500


@dataclass(frozen=True, slots=True)
class Recorded:
    """What `POST /pipeline` answers for each report."""

    lead_id: int
    external_id: str | None
    stage: Stage
    current_stage: Stage
    repeated: bool  # the same stage at the same moment was already recorded

    def as_json(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id,
            "external_id": self.external_id,
            "stage": self.stage.value,
            "current_stage": self.current_stage.value,
            "repeated": self.repeated,
        }


def validate_reports(records: Sequence[Any]) -> list[StageReport]:
    """Validate every report; InvalidLead lists all field errors with their index."""
    reports: list[StageReport] = []
    errors: list[dict[str, Any]] = []
    for i, record in enumerate(records):
        try:
            reports.append(StageReport.model_validate(record))
        except ValidationError as exc:
            errors.extend(field_errors(exc, index=i, where=None))
    if errors:
        raise InvalidLead(errors)
    return reports


def record_stages(ctx: Context, reports: Sequence[StageReport], *, source: str = "api") -> list[Recorded]:
    """Record every report in one transaction; UnknownLeads (nothing recorded) when any lead is not stored."""
    now = ctx.now()
    with ctx.transaction() as session:
        leads = _resolve(session, reports)
        unknown = [{"index": i, **r.name} for i, r in enumerate(reports) if _key(r) not in leads]
        if unknown:
            raise UnknownLeads(unknown)
        return _record_all(session, reports, leads, now=now, source=source)


def record_known_in(
    session: Session, reports: Sequence[StageReport], *, now: datetime, source: str
) -> tuple[list[Recorded], list[StageReport]]:
    """Record the reports whose lead is stored, in the caller's transaction; (recorded, the unknown ones).

    For outcomes a CRM pushes (a HubSpot deal, a Salesforce Opportunity): a deal of a contact
    that never came to Leadbot is not an error the CRM could fix by retrying.
    """
    leads = _resolve(session, reports)
    known = [r for r in reports if _key(r) in leads]
    unknown = [r for r in reports if _key(r) not in leads]
    return _record_all(session, known, leads, now=now, source=source), unknown


def _record_all(
    session: Session,
    reports: Sequence[StageReport],
    leads: dict[tuple[str, object], tuple[int, str | None]],
    *,
    now: datetime,
    source: str,
) -> list[Recorded]:
    results = []
    for report in reports:
        lead_id, external_id = leads[_key(report)]
        at = report.at or now
        results.append(_record(session, lead_id, external_id, report, at, now, report.source or source))
    return results


def _record(
    session: Session, lead_id: int, external_id: str | None, report: StageReport, at: Any, now: Any, source: str
) -> Recorded:
    """Add the stage to the history and move the lead's current stage, safely beside a concurrent report.

    Both rows are inserted with ON CONFLICT DO NOTHING (SQLite and PostgreSQL): a second first
    report for the same lead waits for the first one's commit instead of failing on the key,
    then locks the row that one wrote and applies itself on top.
    """
    fresh = _insert_absent(
        session,
        PipelineStage,
        {
            "lead_id": lead_id,
            "stage": report.stage.value,
            "at": at,
            "amount": report.amount,
            "currency": report.currency,
            "source": source,
            "recorded_at": now,
        },
        key=["lead_id", "stage", "at"],
    )
    opportunity_at = at if report.stage is Stage.OPPORTUNITY else None
    created = _insert_absent(
        session,
        LeadPipeline,
        {
            "lead_id": lead_id,
            "stage": report.stage.value,
            "at": at,
            "amount": report.amount,
            "currency": report.currency,
            "opportunity_at": opportunity_at,
            "updated_at": now,
        },
        key=["lead_id"],
    )
    current = session.get(LeadPipeline, lead_id, with_for_update=True, populate_existing=True)
    assert current is not None  # inserted above, or by a transaction that has committed
    if not created:
        if later(at, current.at):
            current.stage, current.at, current.updated_at = report.stage.value, at, now
            if report.amount is not None:  # else the opportunity's amount stands for the won or lost deal
                current.amount, current.currency = report.amount, report.currency
        if opportunity_at is not None and (current.opportunity_at is None or at < current.opportunity_at):
            current.opportunity_at = at
    session.flush()
    return Recorded(lead_id, external_id, report.stage, Stage(current.stage), repeated=not fresh)


def _insert_absent(session: Session, model: type[Any], values: dict[str, Any], *, key: list[str]) -> bool:
    """INSERT ... ON CONFLICT (key) DO NOTHING; whether the row was inserted."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = model.__table__
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=key)
    # RETURNING tells an insert from a conflict on both engines (psycopg's rowcount here is -1).
    return session.execute(stmt.returning(table.c[key[0]])).first() is not None


def _key(report: StageReport) -> tuple[str, object]:
    return ("external_id", report.external_id) if report.external_id else ("lead_id", report.lead_id)


def _resolve(session: Session, reports: Sequence[StageReport]) -> dict[tuple[str, object], tuple[int, str | None]]:
    """Each report's lead: (id, external_id), found by external_id or by id."""
    externals = sorted({r.external_id for r in reports if r.external_id})
    ids = sorted({r.lead_id for r in reports if r.lead_id is not None})
    found: dict[tuple[str, object], tuple[int, str | None]] = {}
    for start in range(0, len(externals), CHUNK):
        for lead_id, external_id in session.execute(
            select(LeadRow.id, LeadRow.external_id).where(LeadRow.external_id.in_(externals[start : start + CHUNK]))
        ):
            found[("external_id", external_id)] = (lead_id, external_id)
    for start in range(0, len(ids), CHUNK):
        for lead_id, external_id in session.execute(
            select(LeadRow.id, LeadRow.external_id).where(LeadRow.id.in_(ids[start : start + CHUNK]))
        ):
            found[("lead_id", lead_id)] = (lead_id, external_id)
    return found


def unknown_reports(ctx: Context, reports: Sequence[StageReport], *, arriving: set[str]) -> list[int]:
    """Indices of reports naming leads that are neither stored nor `arriving` (external ids about to be)."""
    with ctx.reading() as session:
        known = _resolve(session, reports)
    return [i for i, r in enumerate(reports) if _key(r) not in known and r.external_id not in arriving]
