"""The digest's time to first response and cost per qualified lead: in the Slack blocks, the CLI text and JSON."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from blocks import ids
from blocks.digest import digest_blocks
from blocks.terminal import digest_report
from bot.cli import main
from leadqual.costs import CostBy, CostFigures, CostLine
from leadqual.groups import Group
from leadqual.readmodels import Digest
from leadqual.response import FirstResponse, Percentiles, ResponseTimes
from leadqual.services.context import Context
from tests.bot_helpers import mrkdwn_texts
from tests.slack_standin import validate_message_blocks
from tests.test_blocks_digest import HOSTILE, make_digest
from tests.test_followthrough_figures import add

FIRST = FirstResponse(
    week=ResponseTimes(
        Percentiles(9, 7, 12.0, 150.0),
        {Group.PRIORITY: Percentiles(4, 4, 6.0, 20.0), Group.NURTURE: Percentiles(5, 3, 95.0, 150.0)},
    ),
    trailing=ResponseTimes(Percentiles(100, 90, 30.0, 600.0)),
)
COSTS = CostFigures(
    campaigns=[
        CostLine(CostBy.CAMPAIGN, "pump-retrofit-2026", "EUR", Decimal(900), 20, 6),
        CostLine(CostBy.CAMPAIGN, "pump-retrofit-2026", "USD", Decimal(4200), 20, 6),
        CostLine(CostBy.CAMPAIGN, HOSTILE, "USD", Decimal(50), 0, 0),
    ],
    sources=[CostLine(CostBy.SOURCE, "web_form", "USD", Decimal(1000), 40, 8)],
)


def with_figures(**changes: object) -> Digest:
    return dataclasses.replace(make_digest(1), **{"first_response": FIRST, "costs": COSTS, **changes})


def test_the_slack_digest_shows_time_to_first_response_and_cost_per_qualified_lead() -> None:
    blocks = [b.to_dict() for b in digest_blocks(with_figures())]
    assert validate_message_blocks(blocks) == []
    text = "\n".join(mrkdwn_texts(blocks))
    assert "*Time to first response* (from the lead's arrival to its first claim or action)" in text
    assert "This week: *12 min* median, 2.5 h for the slowest 10% · 7 of 9 leads answered" in text
    assert "(window: 30 min median, 10.0 h p90, 90 answered)." in text
    assert "Priority    4 of 4   6 min  20 min" in text
    assert "Nurture     3 of 5   1.6 h   2.5 h" in text
    assert "*Cost per qualified lead*" in text
    # Two currencies for one campaign: two lines, never added together (cost ÷ qualified).
    assert "pump-retrofit-2026                          EUR 900     20          6            EUR 150" in text
    assert "pump-retrofit-2026                        USD 4,200     20          6            USD 700" in text
    assert "web_form  USD 1,000     40          8        USD 125" in text
    assert "USD 50      0          0  no qualified lead" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


def test_the_cli_digest_reads_the_same_figures_aloud() -> None:
    out = digest_report(with_figures())
    assert "Time to first response (from the lead's arrival to its first claim or action)" in out
    assert "This week: 12 min median, 2.5 h for the slowest 10% · 7 of 9 leads answered" in out
    assert "Cost per qualified lead (cost ÷ leads qualified" in out
    assert "\nCampaign                                       Cost  Leads  Qualified      Per qualified\n" in out
    assert "\npump-retrofit-2026                        USD 4,200     20          6            USD 700\n" in out
    assert "\n<!channel> & <https://evil.example|clic…     USD 50      0          0  no qualified lead\n" in out


def test_without_costs_the_digest_has_no_cost_section_and_a_quiet_week_says_so() -> None:
    quiet = FirstResponse(ResponseTimes(Percentiles(3, 0)), ResponseTimes())
    text = "\n".join(mrkdwn_texts([b.to_dict() for b in digest_blocks(with_figures(costs=None, first_response=quiet))]))
    assert "Cost per qualified lead" not in text
    assert "This week: no lead answered yet of 3 received (window: none answered)." in text


def test_leadbot_digest_prints_both_figures_counted_from_the_database(
    ctx: Context, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "leadbot.yaml"
    config.write_text(
        "timezone: America/Chicago\ncosts:\n"
        "  - {campaign: pump-retrofit-2026, cost: 4200, currency: USD}\n"
        "  - {source: web_form, cost: 300, currency: USD}\n"
    )
    for name in ("LEADBOT_RULES", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "LEADBOT_MANAGERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("LEADBOT_CONFIG", str(config))
    monday = datetime(2026, 11, 16, 15, tzinfo=UTC)
    add(
        ctx,
        "a",
        Group.PRIORITY,
        monday,
        claim=10,
        campaign="pump-retrofit-2026",
        source="web_form",
        outcome="qualified",
    )
    add(ctx, "b", Group.PRIORITY, monday, claim=30, campaign="pump-retrofit-2026", outcome="qualified")
    add(ctx, "c", Group.PRIORITY, monday, action=50, source="web_form", outcome="not_qualified")
    assert main(["digest", "--week", "2026-W47", "--dry-run"]) == 0
    out = capsys.readouterr().out
    # 10 30 50: median ceil(1.5) = 2nd = 30, p90 ceil(2.7) = 3rd = 50.
    assert "This week: 30 min median, 50 min for the slowest 10% · 3 of 3 leads answered" in out
    assert "\npump-retrofit-2026  USD 4,200      2          2      USD 2,100\n" in out  # 4200 / 2
    assert "\nweb_form  USD 300      2          1        USD 300\n" in out  # 300 / 1
    assert main(["digest", "--week", "2026-W47", "--dry-run", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["first_response"]["week"]["overall"] == {
        "received": 3,
        "answered": 3,
        "median_minutes": 30.0,
        "p90_minutes": 50.0,
    }
    [campaign] = data["cost_per_qualified_lead"]["by_campaign"]
    assert campaign == {
        "campaign": "pump-retrofit-2026",
        "currency": "USD",
        "cost": 4200.0,
        "leads": 2,
        "qualified": 2,
        "cost_per_qualified_lead": 2100.0,
    }


def test_with_both_sections_a_busy_week_still_fits_fifty_blocks_and_keeps_roll_back() -> None:
    busy = dataclasses.replace(make_digest(20, applied=True), first_response=FIRST, costs=COSTS)
    blocks = [b.to_dict() for b in digest_blocks(busy)]
    assert validate_message_blocks(blocks) == [] and len(blocks) <= 50
    assert blocks[-1].get("block_id") == ids.DIGEST_ROLLBACK_BLOCK


def test_costs_with_days_get_a_days_column_and_undated_ones_read_all() -> None:
    dated = CostFigures(
        campaigns=[],
        sources=[
            CostLine(CostBy.SOURCE, "web_form", "USD", Decimal(1000), 40, 8),
            CostLine(
                CostBy.SOURCE, "web_form", "USD", Decimal(300), 12, 3, days=(date(2026, 10, 1), date(2026, 10, 31))
            ),
            CostLine(CostBy.SOURCE, "web_form", "USD", Decimal(200), 9, 2, days=(date(2026, 11, 1), None)),
        ],
    )
    blocks = [b.to_dict() for b in digest_blocks(with_figures(costs=dated))]
    assert validate_message_blocks(blocks) == []
    text = "\n".join(mrkdwn_texts(blocks))
    assert "Source    Days                   Cost  Leads  Qualified  Per qualified" in text
    assert "web_form  all               USD 1,000     40          8        USD 125" in text
    assert "web_form  Oct 01-Oct 31       USD 300     12          3        USD 100" in text
    assert "web_form  from Nov 01 2026    USD 200      9          2        USD 100" in text
