"""`leadbot routes check FILE`: the route each sample lead takes, offline; errors as one line with file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

ROUTES = """\
timezone: America/Chicago
routes:
  - when: {field: company.country, in: [CA]}
    groups: [priority, qualified_review]
    channel: C0CANADA
    rotation: true
    reps: [{user: UANA, weight: 2}, {user: UBEN}]
  - {groups: [priority, qualified_review, nurture, research], channel: C0US}
"""
HOT = {
    "company": {"name": "Maple Pumps", "industry": "metals", "country": "CA", "employees": 900},
    "contact": {"email": "ann@maple.ca", "title": "Maintenance Manager"},
    "signals": [{"type": "rfq_request"}],
    "need": {"scope": "replacement", "needed_by": "2026-12-01"},
}


@pytest.fixture
def config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEADBOT_RULES", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/unused.db")
    path = tmp_path / "leadbot.yaml"
    path.write_text(ROUTES)
    monkeypatch.setenv("LEADBOT_CONFIG", str(path))
    return path


def write(path: Path, records: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_routes_check_prints_the_route_channel_group_and_rotation_of_each_lead(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    us = {
        **HOT,
        "company": {**HOT["company"], "name": "Lone Star Steel", "country": "US"},  # type: ignore[dict-item]
        "contact": {"email": "bo@lonestar.com", "title": "Maintenance Manager"},
    }
    assert main(["routes", "check", str(write(tmp_path / "sample.jsonl", [HOT, us]))]) == 0
    out = capsys.readouterr().out
    assert f"routes from {config} (list, first match wins)" in out
    [canada] = [line for line in out.splitlines() if line.startswith("Maple Pumps")]
    assert canada.split()[2:4] == ["#0", "C0CANADA"] and canada.endswith("UANAx2, UBEN")
    [states] = [line for line in out.splitlines() if line.startswith("Lone Star Steel")]
    assert states.split()[3:5] == ["#1", "C0US"] and states.endswith("off")


def test_routes_check_names_the_file_and_line_of_a_bad_lead(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "bad.jsonl", [HOT, {"contact": {"email": "not-an-email"}}])
    assert main(["routes", "check", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"leadbot: error: {path}:2: contact.email: must be an email address such as dana@acmemetals.com"]


def test_routes_check_reports_a_bad_route_with_file_and_line(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config.write_text(ROUTES.replace("groups: [priority, qualified_review]\n", "groups: [priority, hot]\n"))
    assert main(["routes", "check", str(write(tmp_path / "sample.jsonl", [HOT]))]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"leadbot: error: {config}:4: routes[0].groups[1]: Input should be")
