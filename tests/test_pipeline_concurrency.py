"""Two first pipeline reports for the same lead at once: both are recorded, neither fails on the key.

On PostgreSQL the two transactions are made to collide for certain: a listener on the engine
(the driver's side, nothing of ours) holds each thread just before it writes `lead_pipeline`
until the other has got there too, so both have read "no current stage" before either writes.
SQLite serialises writers (BEGIN IMMEDIATE), so there the threads only run side by side.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select

from leadqual.db.models import LeadPipeline, PipelineStage
from leadqual.lead import Lead
from leadqual.pipeline import StageReport
from leadqual.services.context import Context
from leadqual.services.intake import ingest
from leadqual.services.pipeline import Recorded, record_stages

OPPORTUNITY = StageReport(
    external_id="crm-1", stage="opportunity", at=datetime(2026, 11, 24, 10, tzinfo=UTC), amount=Decimal(40000)
)
WON = StageReport(external_id="crm-1", stage="won", at=datetime(2026, 12, 20, 10, tzinfo=UTC), amount=Decimal(42000))
REPORTERS = ("report-opportunity", "report-won")


def test_two_concurrent_first_reports_for_one_lead_are_both_recorded_and_the_latest_is_current(
    ctx: Context, db_url: str
) -> None:
    [lead] = ingest(ctx, [Lead.model_validate({"external_id": "crm-1", "company": {"name": "Acme Metals"}})])
    engine = ctx.session_factory.kw["bind"]
    together = threading.Barrier(2, timeout=15)
    held: list[str] = []

    def before_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        name = threading.current_thread().name
        if name in REPORTERS and statement.lstrip().upper().startswith("INSERT INTO LEAD_PIPELINE"):
            held.append(name)
            together.wait()  # both transactions have looked and found no current stage

    if engine.dialect.name == "postgresql":
        event.listen(engine, "before_cursor_execute", before_execute)
    results: dict[str, list[Recorded]] = {}
    errors: dict[str, BaseException] = {}

    def report(name: str, stage: StageReport) -> None:
        try:
            results[name] = record_stages(ctx, [stage])
        except BaseException as exc:
            errors[name] = exc

    threads = [
        threading.Thread(target=report, args=(name, stage), name=name)
        for name, stage in zip(REPORTERS, (OPPORTUNITY, WON), strict=True)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        if engine.dialect.name == "postgresql":
            event.remove(engine, "before_cursor_execute", before_execute)

    assert not any(t.is_alive() for t in threads)
    assert errors == {}
    if engine.dialect.name == "postgresql":
        assert sorted(held) == sorted(REPORTERS)  # the collision did happen
    with ctx.session_factory() as session:
        stages = sorted((s.stage, s.amount) for s in session.scalars(select(PipelineStage)))
        current = session.get(LeadPipeline, lead.id)
    assert stages == [("opportunity", Decimal("40000.00")), ("won", Decimal("42000.00"))]
    assert current is not None and current.stage == "won" and current.amount == Decimal("42000.00")
    assert current.opportunity_at == OPPORTUNITY.at  # whichever committed first, the opportunity is kept
    assert {r[0].repeated for r in results.values()} == {False}


def test_the_same_first_report_sent_twice_at_once_is_recorded_once(ctx: Context) -> None:
    ingest(ctx, [Lead.model_validate({"external_id": "crm-1", "company": {"name": "Acme Metals"}})])
    results: list[Recorded] = []
    barrier = threading.Barrier(2, timeout=15)

    def report() -> None:
        barrier.wait()
        results.extend(record_stages(ctx, [WON]))

    threads = [threading.Thread(target=report) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(r.repeated for r in results) == [False, True]
    with ctx.session_factory() as session:
        assert len(list(session.scalars(select(PipelineStage)))) == 1
