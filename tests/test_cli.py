"""The `leadbot` CLI: readable output, one-line errors naming file and line, nothing half-imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from leadqual.db.engine import make_engine
from leadqual.db.models import LeadRow

GOOD = {
    "external_id": "e1",
    "company": {"name": "Acme Metals", "industry": "metals", "country": "US"},
    "contact": {"email": "dana@acmemetals.com", "title": "Plant Engineer"},
    "signals": [{"type": "rfq_request"}],
    "need": {"scope": "replacement"},
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> str:
    monkeypatch.chdir(tmp_path)
    for name in ("LEADBOT_CONFIG", "LEADBOT_RULES", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("LEADBOT_CHANNEL", "C0LEADS")
    return db_url


def leads_in(db_url: str) -> int:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(LeadRow)).scalar_one()
    engine.dispose()
    return n


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_import_stores_every_lead_of_a_good_file(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_jsonl(
        tmp_path / "leads.jsonl", [GOOD, {**GOOD, "external_id": "e2", "contact": {"email": "b@beta.com"}}]
    )
    assert main(["import", str(path)]) == 0
    assert "imported 2 leads (0 duplicates)" in capsys.readouterr().out
    assert leads_in(env) == 2


def test_import_of_a_file_with_a_bad_row_names_the_line_and_stores_nothing(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + json.dumps({"contact": {"email": "nope"}}) + "\n")
    assert main(["import", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"leadbot: error: {path}:3: contact.email: must be an email address" in err
    assert "nothing was imported" in err
    assert leads_in(env) == 0


def test_import_reports_broken_json_by_line(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_text(json.dumps(GOOD) + "\n{broken\n")
    assert main(["import", str(path)]) == 1
    assert f"{path}:2: invalid JSON" in capsys.readouterr().err
    assert leads_in(env) == 0


def test_import_reads_csv_with_dotted_columns_and_signal_lists(env: str, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(
        "external_id,company.name,company.employees,contact.email,signals\n"
        "c1,Acme,850,a@acme.com,rfq_request;page_view=/pricing\n"
        "c2,Beta,,b@beta.com,\n"
    )
    assert main(["import", str(path), "--no-post"]) == 0
    engine = make_engine(env)
    with engine.connect() as conn:
        payload = conn.execute(select(LeadRow.payload).where(LeadRow.external_id == "c1")).scalar_one()
    engine.dispose()
    assert payload["company"]["employees"] == 850
    assert payload["signals"] == [{"type": "rfq_request"}, {"type": "page_view", "value": "/pricing"}]


def test_a_bad_csv_cell_names_its_line(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("company.name,company.employees\nAcme,850\nBeta,lots\n")
    assert main(["import", str(path)]) == 1
    assert f"{path}:3: company.employees:" in capsys.readouterr().err
    assert leads_in(env) == 0


def test_score_prints_a_table_with_fit_intent_group_and_why(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_jsonl(tmp_path / "leads.jsonl", [GOOD])
    assert main(["score", str(path)]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("lead"))
    assert header.split() == ["lead", "fit", "intent", "group", "why"]
    assert "Acme Metals" in out and "RFQ or quote request (+40)" in out
    assert leads_in(env) == 0  # scoring is offline


def test_rules_check_accepts_the_default_and_names_the_line_of_a_mistake(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", "check"]) == 0
    assert "ok: industrial-default" in capsys.readouterr().out
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "name: x\nrules:\n  - {id: a, kind: fit, label: A, points: 500, when: {signal: x}}\ngroups: {poor_fit: {}}\n"
    )
    assert main(["rules", "check", str(bad)]) == 1
    assert f"leadbot: error: {bad}:3: rules[0].points: Input should be less than or equal to 100" in (
        capsys.readouterr().err
    )


def test_a_bad_setting_stops_any_command_with_one_line(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LEADBOT_CHANNEL", "#sales")
    assert main(["rules", "check"]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("leadbot: error: Invalid setting LEADBOT_CHANNEL")


def test_rules_show_prints_the_active_version_as_loadable_yaml(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    from leadqual.rules import parse_ruleset_text

    assert main(["rules", "show"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# active ruleset: industrial-default v1")
    assert parse_ruleset_text(out).name == "industrial-default"


def test_db_upgrade_is_idempotent(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "upgrade"]) == 0
    assert "is up to date" in capsys.readouterr().out


def test_an_unreachable_database_is_one_line_with_the_password_masked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgres://leadbot:s3cret@127.0.0.1:1/leads")
    assert main(["rules", "show"]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(
        "leadbot: error: cannot use the database at postgresql+psycopg://leadbot:***@127.0.0.1:1/leads"
    )
    assert "s3cret" not in line
