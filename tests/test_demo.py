"""`make demo`'s function runs offline end to end and writes its files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.demo import run_demo
from leadqual.db.engine import make_engine
from leadqual.db.models import LeadRow, RulesetVersion
from tests.slack_standin import validate_message_blocks


def test_the_demo_runs_the_week_and_writes_cards_digest_chart_and_a_rule_change(tmp_path: Path) -> None:
    said: list[str] = []
    result = run_demo(tmp_path / "demo", history=2000, echo=said.append)
    folder = tmp_path / "demo"
    assert result.history == 2000 and result.leads == 44 and result.cards > 20 and result.claims > 10
    assert sum(result.decisions.values()) > 10
    week = "2026-W47"
    digest = json.loads((folder / f"digest-{week}.json").read_text())
    assert digest["iso_week"] == week and digest["week"]["received"] >= 30
    assert digest["proposals"] and all(p["id"].startswith("p-") and p["evidence"] for p in digest["proposals"])
    assert (folder / f"digest-{week}.png").read_bytes().startswith(b"\x89PNG")
    blocks = json.loads((folder / f"digest-{week}-blocks.json").read_text())
    assert validate_message_blocks(blocks) == [] and len(blocks) <= 50
    cards = sorted((folder / "slack" / "cards").glob("card-*.json"))
    assert len(cards) == result.cards
    assert all(validate_message_blocks(json.loads(c.read_text())["blocks"]) == [] for c in cards)
    assert "Claim" in (folder / "slack" / "cards.txt").read_text()
    # The top proposal became ruleset v2; this week's leads kept v1.
    assert result.applied is not None and result.applied[1:] == (1, 2)
    engine = make_engine(f"sqlite:///{folder / 'leadbot.db'}")
    with engine.connect() as conn:
        active = conn.scalar(select(RulesetVersion.version).where(RulesetVersion.active))
        versions = set(conn.scalars(select(LeadRow.ruleset_version)))
    engine.dispose()
    assert active == 2 and versions == {1}
    text = "\n".join(said)
    assert f"demo folder: {folder.resolve()}" in text and "Proposed rule changes" in text
    assert "Time to first response" in text and "Cost per qualified lead" in text
    assert digest["first_response"]["week"]["overall"]["answered"] > 10
    assert {c["currency"] for c in digest["cost_per_qualified_lead"]["by_campaign"]} == {"USD", "EUR"}
    assert "Quick screen:" in (folder / "slack" / "cards.txt").read_text()
    assert f"6. applied the top proposal {result.applied[0]}" in text
    # Follow-ups come due during the week: the owner's reminder DM with its buttons, then Done, logged in the
    # card's thread; told before the digest, whose completion counts them.
    assert "== Follow-ups for " in text and "[Done]  [Snooze a week]  [Qualify]  [Disqualify]" in text
    assert "clicks Done" in text and "did the follow-up due" in text
    assert text.index("4. meanwhile, each morning") < text.index("5. the weekly digest") < text.index("6. applied")
    assert result.follow_ups.done > 0 and result.follow_ups.dms > 0
    completion = digest["follow_up_completion"]["week"]
    assert 0 < completion["done"] <= completion["due"] <= len(result.follow_ups.listed)
    assert "Follow-up completion (done within 3 days of coming due): " in text
    assert "no follow-up came to the end of its" not in text


def test_the_demo_command_starts_over_in_the_folder_it_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "out"
    assert main(["demo", "--out", str(folder), "--history", "300"]) == 0
    assert main(["demo", "--out", str(folder), "--history", "300"]) == 0  # a fresh database each time
    out = capsys.readouterr().out
    assert out.count(f"demo folder: {folder.resolve()}") == 2
    engine = make_engine(f"sqlite:///{folder / 'leadbot.db'}")
    with engine.connect() as conn:
        assert conn.scalar(select(RulesetVersion.version).where(RulesetVersion.active)) in (1, 2)
        assert len(list(conn.scalars(select(LeadRow.id)))) == 344
    engine.dispose()
