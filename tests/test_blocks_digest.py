"""The digest's Block Kit and chart: within Slack's limits whatever the week, escaped, with the right buttons."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from blocks import ids
from blocks.chart import digest_chart
from blocks.digest import digest_blocks, digest_text
from blocks.digest_proposals import MAX_PROPOSALS
from leadqual.backtest import Backtest, PriorityQuality
from leadqual.calendar import Period
from leadqual.figures import Figures, GroupFigures, SliceFigures
from leadqual.groups import Group
from leadqual.proposals import Proposal, ProposalKind
from leadqual.readmodels import Digest, ProposedChange, RulesetChange
from tests.bot_helpers import SPECIAL, mrkdwn_texts
from tests.slack_standin import validate_message_blocks

HOSTILE = "<!channel> & <https://evil.example|click here>"
WEEK = Period("2026-W47", datetime(2026, 11, 16, 6, tzinfo=UTC), datetime(2026, 11, 23, 6, tzinfo=UTC))
WINDOW = Period("12 weeks to 2026-W47", datetime(2026, 8, 31, 5, tzinfo=UTC), WEEK.end)


def figures(period: Period, scale: int) -> Figures:
    groups = [
        GroupFigures(
            g,
            received=10 * scale,
            live=9 * scale,
            claimed=7 * scale,
            qualified=3 * scale,
            not_qualified=2 * scale,
            open_decisions=scale,
            claim_median_minutes=12.0 + g.rank,
            claim_p90_minutes=240.0,
        )
        for g in Group
    ]
    return Figures(
        period=period,
        groups=groups,
        reasons={Group.PRIORITY: [("spec_mismatch", 2), ("timing", 1), ("no_budget", 1), ("spam", 1)]},
        sources=[SliceFigures(HOSTILE * 5, 9, 3, 2), SliceFigures("web_form", 30, 9, 6)],
        offers=[SliceFigures("rfq", 12, 5, 2)],
        cards_posted=40 * scale,
        cards_actioned=30 * scale,
        claim_median_minutes=14.0,
        claim_p90_minutes=250.0,
    )


def proposal(i: int, *, label: str = "BOM review requested") -> ProposedChange:
    p = Proposal(
        id=f"p-{i:06x}",
        kind=ProposalKind.RAISE_POINTS,
        target=f"rule-{i}",
        label=label,
        setting="points",
        current=30,
        proposed=60,
        ruleset_version=3,
        figures={
            "fired_qualified": 51,
            "fired_not_qualified": 33,
            "other_qualified": 198,
            "other_not_qualified": 702,
            "fired_rate": 0.61,
            "other_rate": 0.22,
            "diff_low": 0.28,
            "diff_high": 0.49,
        },
        checks=12,
    )
    bt = Backtest(
        leads=2000,
        transitions={(Group.QUALIFIED_REVIEW, Group.PRIORITY): 30, (Group.PRIORITY, Group.PRIORITY): 200},
        before=PriorityQuality(200, 150, 600),
        after=PriorityQuality(230, 170, 600),
    )
    return ProposedChange(p, bt)


WEBINAR_RAISE = Proposal(
    id="p-abc123",
    kind=ProposalKind.RAISE_POINTS,
    target="webinar",
    label="Webinar attended",
    setting="points",
    current=5,
    proposed=10,
    ruleset_version=3,
)


def make_digest(n: int = 2, *, applied: bool = False, label: str = "BOM review requested") -> Digest:
    change = RulesetChange(
        version=4 if applied else 3,
        name="industrial-default",
        parent_version=3 if applied else 2,
        origin="apply" if applied else "file",
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
        created_by="UMANAGER" if applied else None,
        proposal_id="p-abc123" if applied else None,
        proposal=WEBINAR_RAISE if applied else None,
    )
    return Digest(
        iso_week="2026-W47",
        timezone="America/Chicago",
        week=figures(WEEK, 1),
        trailing=figures(WINDOW, 12),
        ruleset=change,
        proposals=[proposal(i, label=label) for i in range(n)],
        evidence_leads=2400,
    )


def as_json(d: Digest) -> list[dict[str, Any]]:
    return [b.to_dict() for b in digest_blocks(d)]


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return found + [b["accessory"] for b in blocks if b.get("accessory", {}).get("type") == "button"]


def test_every_proposal_has_an_apply_button_carrying_its_id() -> None:
    blocks = as_json(make_digest(3))
    assert validate_message_blocks(blocks) == []
    applies = [b for b in buttons(blocks) if b["action_id"] == ids.APPLY_PROPOSAL]
    assert [b["value"] for b in applies] == ["p-000000", "p-000001", "p-000002"]
    assert all(b["confirm"]["confirm"]["text"] == "Apply" for b in applies)
    sections = " ".join(mrkdwn_texts(blocks))
    assert 'Raise "BOM review requested" from 30 to 60 points' in sections and "Backtest: Rescored 2000" in sections


def test_roll_back_is_offered_only_when_the_last_change_came_from_a_proposal() -> None:
    assert not [b for b in buttons(as_json(make_digest())) if b["action_id"] == ids.ROLLBACK_RULESET]
    rollback = [b for b in buttons(as_json(make_digest(applied=True))) if b["action_id"] == ids.ROLLBACK_RULESET]
    assert len(rollback) == 1 and rollback[0]["value"] == "4" and rollback[0]["text"]["text"] == "Roll back to v3"
    assert rollback[0]["style"] == "danger" and rollback[0]["confirm"]["confirm"]["text"] == "Roll back"


def test_a_week_with_many_proposals_stays_within_fifty_blocks_and_says_how_many_are_hidden() -> None:
    blocks = as_json(make_digest(40, applied=True))
    assert len(blocks) <= 50 and validate_message_blocks(blocks) == []
    assert len([b for b in buttons(blocks) if b["action_id"] == ids.APPLY_PROPOSAL]) == MAX_PROPOSALS
    assert any("and 32 more" in t and "--json" in t for t in mrkdwn_texts(blocks))
    assert any(b["action_id"] == ids.ROLLBACK_RULESET for b in buttons(blocks))  # never cut off


def test_long_labels_and_hostile_source_names_are_cut_and_escaped() -> None:
    blocks = as_json(make_digest(2, label="x" * 5000))
    assert validate_message_blocks(blocks) == []
    assert all(len(t) <= 3000 for t in mrkdwn_texts(blocks))
    assert all(not SPECIAL.search(t) for t in mrkdwn_texts(blocks))
    assert any("&lt;!channel&gt;" in t for t in mrkdwn_texts(blocks))


def test_a_quiet_week_says_no_change_is_proposed() -> None:
    blocks = as_json(make_digest(0))
    assert validate_message_blocks(blocks) == []
    assert not [b for b in buttons(blocks) if b["action_id"] == ids.APPLY_PROPOSAL]
    assert any(t.startswith("*No rule changes proposed.*") for t in mrkdwn_texts(blocks))


def test_the_figures_show_volume_rates_speed_and_alert_fatigue() -> None:
    text = "\n".join(mrkdwn_texts(as_json(make_digest())))
    assert "*50* leads received, 40 routed to sales (600 in the window)" in text
    assert "*15* qualified of 25 decided: *60%*" in text
    assert "first claim in *14 min* (median), 4.2 h for the slowest 10%" in text
    assert "*75%* of the 40 posted cards got any action" in text
    assert "Nov 16 to Nov 22 (America/Chicago)" in text
    assert re.search(r"Priority\s+10\s+78%\s+60% \(5\)\s+60% \(60\)\s+12 min", text)
    assert "*False positives:* 2 Priority leads not qualified of 5 decided" in text
    assert "Priority: spec mismatch 2, timing 1, no budget 1, +1 more" in text


def test_the_notification_text_sums_the_week_up() -> None:
    assert digest_text(make_digest(1)) == (
        "Weekly lead digest 2026-W47: 50 leads, 15 qualified of 25 decided (60%); 1 proposed rule change."
    )


def test_the_chart_is_a_png() -> None:
    d = make_digest()
    png = digest_chart(d.week, d.trailing, title="Leadbot weekly digest · 2026-W47")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
