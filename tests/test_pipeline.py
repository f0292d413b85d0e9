"""Pipeline outcomes: POST /pipeline, the service behind it, and `pipeline` records in `leadbot import`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.cli import main
from bot.http import create_http_app
from leadqual.db.engine import make_engine
from leadqual.db.models import LeadPipeline, LeadRow, PipelineStage
from leadqual.errors import UnknownLeads
from leadqual.lead import Lead
from leadqual.pipeline import Stage, StageReport, split_record
from leadqual.services.context import Context
from leadqual.services.intake import ingest
from leadqual.services.pipeline import record_stages
from leadqual.settings import Settings

AUTH = {"Authorization": "Bearer intake-secret"}


@pytest.fixture
def client(ctx: Context, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_http_app(ctx, settings)) as c:
        yield c


@pytest.fixture
def leads(ctx: Context) -> list[int]:
    results = ingest(
        ctx, [Lead.model_validate({"external_id": f"crm-{i}", "company": {"name": f"Company {i}"}}) for i in (1, 2)]
    )
    return [r.id for r in results]


def history(ctx: Context) -> list[tuple[int, str, Decimal | None]]:
    with ctx.session_factory() as session:
        return [
            (s.lead_id, s.stage, s.amount) for s in session.scalars(select(PipelineStage).order_by(PipelineStage.id))
        ]


def current(ctx: Context, lead_id: int) -> LeadPipeline | None:
    with ctx.session_factory() as session:
        return session.get(LeadPipeline, lead_id)


def test_a_won_deal_is_recorded_by_external_id_and_becomes_the_leads_stage(
    client: TestClient, ctx: Context, leads: list[int]
) -> None:
    response = client.post(
        "/pipeline",
        headers=AUTH,
        json=[
            {
                "external_id": "crm-1",
                "stage": "opportunity",
                "at": "2026-11-24T10:00:00Z",
                "amount": 40000,
                "currency": "usd",
            },
            {"external_id": "crm-1", "stage": "won", "at": "2026-12-20T10:00:00Z", "amount": 42000, "currency": "USD"},
        ],
    )
    assert response.status_code == 200, response.text
    assert [s["current_stage"] for s in response.json()["stages"]] == ["opportunity", "won"]
    assert history(ctx) == [(leads[0], "opportunity", Decimal("40000.00")), (leads[0], "won", Decimal("42000.00"))]
    now = current(ctx, leads[0])
    assert now is not None and now.stage == "won" and now.amount == Decimal("42000.00") and now.currency == "USD"
    assert now.opportunity_at == datetime(2026, 11, 24, 10, tzinfo=UTC)


def test_a_stage_reported_late_is_history_but_the_latest_by_date_stays_current(ctx: Context, leads: list[int]) -> None:
    record_stages(ctx, [StageReport(lead_id=leads[1], stage=Stage.LOST, at=datetime(2026, 12, 1, tzinfo=UTC))])
    [late] = record_stages(
        ctx,
        [
            StageReport(
                lead_id=leads[1], stage=Stage.OPPORTUNITY, at=datetime(2026, 11, 25, tzinfo=UTC), amount=Decimal(9000)
            )
        ],
    )
    assert late.current_stage is Stage.LOST
    now = current(ctx, leads[1])
    assert now is not None and now.stage == "lost" and now.opportunity_at == datetime(2026, 11, 25, tzinfo=UTC)
    assert len(history(ctx)) == 2


def test_reporting_the_same_stage_again_changes_nothing(client: TestClient, ctx: Context, leads: list[int]) -> None:
    report = {"lead_id": leads[0], "stage": "opportunity", "at": "2026-11-24T10:00:00Z"}
    client.post("/pipeline", headers=AUTH, json=report)
    again = client.post("/pipeline", headers=AUTH, json=report)
    assert again.status_code == 200 and again.json()["stages"][0]["repeated"] is True
    assert len(history(ctx)) == 1


def test_unknown_leads_are_422_naming_each_one_and_nothing_of_the_request_is_recorded(
    client: TestClient, ctx: Context, leads: list[int]
) -> None:
    response = client.post(
        "/pipeline",
        headers=AUTH,
        json=[
            {"external_id": "crm-1", "stage": "won"},
            {"external_id": "crm-404", "stage": "won"},
            {"lead_id": 999999, "stage": "lost"},
        ],
    )
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert [(d["loc"], d.get("external_id"), d.get("lead_id")) for d in detail] == [
        (["body", 1, "external_id"], "crm-404", None),
        (["body", 2, "lead_id"], None, 999999),
    ]
    assert history(ctx) == [] and current(ctx, leads[0]) is None


def test_the_service_refuses_unknown_leads_with_a_named_error(ctx: Context, leads: list[int]) -> None:
    with pytest.raises(UnknownLeads, match="crm-9") as info:
        record_stages(
            ctx, [StageReport(external_id="crm-1", stage=Stage.WON), StageReport(external_id="crm-9", stage=Stage.WON)]
        )
    assert info.value.items == [{"index": 1, "external_id": "crm-9"}]
    assert history(ctx) == []


@pytest.mark.parametrize(
    "report",
    [
        {"external_id": "crm-1", "stage": "closed"},
        {"external_id": "crm-1", "lead_id": 1, "stage": "won"},
        {"stage": "won"},
        {"external_id": "crm-1", "stage": "won", "amount": -5},
        {"external_id": "crm-1", "stage": "won", "currency": "dollars"},
        {"external_id": "crm-1", "stage": "won", "probability": 0.5},
    ],
)
def test_an_invalid_report_is_422_with_field_errors(
    client: TestClient, ctx: Context, leads: list[int], report: dict[str, object]
) -> None:
    response = client.post("/pipeline", headers=AUTH, json=report)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][0] == "body"
    assert history(ctx) == []


@pytest.mark.parametrize("header", [None, "Bearer wrong"])
def test_pipeline_needs_the_intake_token(
    client: TestClient, ctx: Context, leads: list[int], header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.post("/pipeline", headers=headers, json={"external_id": "crm-1", "stage": "won"})
    assert response.status_code == 401 and history(ctx) == []


def test_an_import_record_can_carry_a_lead_and_its_pipeline_or_only_name_a_lead() -> None:
    lead, reports = split_record({"external_id": "crm-7", "company": {"name": "A"}, "pipeline": {"stage": "won"}})
    assert lead == {"external_id": "crm-7", "company": {"name": "A"}}
    assert reports == [{"external_id": "crm-7", "stage": "won"}]
    lead, reports = split_record({"lead_id": 3, "pipeline": [{"stage": "opportunity"}, {"stage": "lost"}]})
    assert lead is None and [r["lead_id"] for r in reports] == [3, 3]
    assert split_record({"company": {"name": "A"}}) == ({"company": {"name": "A"}}, [])


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> str:
    monkeypatch.chdir(tmp_path)
    for name in ("LEADBOT_CONFIG", "LEADBOT_RULES", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("LEADBOT_CHANNEL", "C0LEADS")
    return db_url


def counts_in(db_url: str) -> tuple[int, int]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        result = (
            conn.execute(select(func.count()).select_from(LeadRow)).scalar_one(),
            conn.execute(select(func.count()).select_from(PipelineStage)).scalar_one(),
        )
    engine.dispose()
    return result


def test_import_stores_leads_with_their_pipeline_and_pipeline_only_records(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {
                    "external_id": "crm-10",
                    "company": {"name": "Acme"},
                    "outcome": {"status": "qualified", "decided_at": "2026-10-01T10:00:00Z"},
                    "pipeline": {
                        "stage": "opportunity",
                        "at": "2026-10-05T10:00:00Z",
                        "amount": 12000,
                        "currency": "USD",
                    },
                },
                {"external_id": "crm-11", "company": {"name": "Beta"}},
                {"external_id": "crm-10", "pipeline": {"stage": "won", "at": "2026-11-01T10:00:00Z"}},
            ]
        )
        + "\n"
    )
    assert main(["import", str(path)]) == 0
    assert "recorded 2 pipeline stages" in capsys.readouterr().out
    assert counts_in(env) == (2, 2)


def test_import_with_a_pipeline_record_for_an_unknown_lead_names_the_line_and_stores_nothing(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text(
        json.dumps({"external_id": "crm-20", "company": {"name": "Acme"}})
        + "\n"
        + json.dumps({"pipeline": {"external_id": "crm-missing", "stage": "won"}})
        + "\n"
    )
    assert main(["import", str(path)]) == 1
    assert f"{path}:2: pipeline: no stored lead has" in capsys.readouterr().err
    assert counts_in(env) == (0, 0)


def test_import_reads_pipeline_columns_from_csv(env: str, tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(
        "external_id,company.name,pipeline.stage,pipeline.at,pipeline.amount\n"
        "crm-30,Acme,won,2026-11-01T10:00:00Z,5000\n"
    )
    assert main(["import", str(path), "--no-post"]) == 0
    assert counts_in(env) == (1, 1)
