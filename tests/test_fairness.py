"""Fairness of the rotation: shares of suggestions and claims against weights, and skips by reason (hand-counted)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block

from blocks.fairness import fairness_blocks, fairness_section
from blocks.home_routing import routing_home_blocks
from blocks.terminal import digest_report
from leadqual.config import AppConfig, RoutingSettings, load_config
from leadqual.routing.fairness import Fairness, RouteFairness, route_fairness
from leadqual.services import availability, triage
from leadqual.services.context import Context
from leadqual.services.digest import build_digest
from leadqual.services.fairness import read_fairness
from leadqual.services.home_routing import routing_home
from leadqual.services.intake import ingest, validate_leads
from tests.conftest import Clock
from tests.outbox_helpers import lead, lead_records

ROUTES = """\
routes:
  - {groups: [priority], channel: C0US, rotation: true, reps: [{user: UANA, weight: 2}, {user: UBEN}]}
"""


def test_shares_are_counted_per_rep_against_their_weight() -> None:
    figures = route_fairness(
        "#0",
        [("UA", 2), ("UB", 1)],
        suggested=["UA", "UA", "UB", "UA", "UC"],  # UC is not in the rotation: not counted
        claimed=["UA", "UB", "UB", "UX"],
        skips=["away", "off_hours", "away"],
    )
    a, b = figures.reps
    assert (a.suggested, b.suggested, figures.suggested) == (3, 1, 4)
    assert (a.suggested_share, b.suggested_share) == (0.75, 0.25)
    assert (a.weight_share, b.weight_share) == (pytest.approx(2 / 3), pytest.approx(1 / 3))
    assert a.gap == pytest.approx(0.75 - 2 / 3)
    assert (a.claimed, b.claimed, figures.claimed, figures.claimed_by_others) == (1, 2, 3, 1)
    assert (a.claimed_share, b.claimed_share) == (pytest.approx(1 / 3), pytest.approx(2 / 3))
    assert figures.skips == {"away": 2, "off_hours": 1}
    text = json.dumps([blk.to_dict() for blk in fairness_blocks_of(figures)], ensure_ascii=False)
    assert "<@UA> weight 2 (67%) · suggested 3 (75%) · claimed 1 (33%)" in text
    assert "Skipped: away 2 · off hours 1" in text


def fairness_blocks_of(figures: RouteFairness) -> list[Block]:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    return fairness_blocks(Fairness(now, now, (figures,)), title="Rotation")


def test_a_route_with_nothing_yet_shows_dashes_not_zero_shares() -> None:
    figures = route_fairness("#0", [("UA", 1)], suggested=[], claimed=[], skips=[])
    assert figures.reps[0].suggested_share is None
    text = json.dumps([b.to_dict() for b in fairness_blocks_of(figures)])
    assert "suggested 0 (-)" in text and "No skips." in text


def routed(ctx: Context, tmp_path: Path) -> Context:
    path = tmp_path / "leadbot.yaml"
    path.write_text(ROUTES)
    config: AppConfig = load_config(path).with_overrides(channel="C0LEADS", managers=["UMANAGER"])
    return dataclasses.replace(ctx, config=config.model_copy(update={"routing": RoutingSettings(account_days=0)}))


def intake(ctx: Context, n: int) -> list[int]:
    return [r.id for r in ingest(ctx, validate_leads(lead_records(n)))]


def week_of_turns(ctx: Context, clock: Clock) -> list[int]:
    """UANA, UBEN; UANA away: UBEN (UANA's skip logged); claims by UANA, UCARL, and a hand-over to UBEN."""
    first, second = intake(ctx, 2)
    availability.mark_away(ctx, actor="UANA", rep="UANA", until=None)
    [third] = intake(ctx, 1)
    assert [lead(ctx, i).suggested_owner for i in (first, second, third)] == ["UANA", "UBEN", "UBEN"]
    triage.claim(ctx, lead_id=first, user_id="UANA")
    triage.claim(ctx, lead_id=second, user_id="UCARL")
    triage.reassign(ctx, lead_id=third, user_id="UMANAGER", to_user="UBEN")
    clock.advance(hours=1)
    return [first, second, third]


def test_the_service_counts_a_weeks_suggestions_claims_and_skips_per_route(
    ctx: Context, tmp_path: Path, clock: Clock
) -> None:
    ctx = routed(ctx, tmp_path)
    start = clock.now
    week_of_turns(ctx, clock)
    [route] = read_fairness(ctx, starts=start, ends=clock.now).routes
    ana, ben = route.reps
    assert route.route == "#0"
    assert (ana.user, ana.weight, ana.suggested, ana.claimed) == ("UANA", 2, 1, 1)
    assert (ben.user, ben.weight, ben.suggested, ben.claimed) == ("UBEN", 1, 2, 1)
    assert (route.suggested, route.claimed, route.claimed_by_others) == (3, 2, 1)
    assert route.skips == {"away": 1}
    assert read_fairness(ctx, starts=clock.now, ends=clock.now + timedelta(days=1)).routes[0].suggested == 0


def test_managers_see_fairness_in_app_home_and_reps_do_not(ctx: Context, tmp_path: Path, clock: Clock) -> None:
    ctx = routed(ctx, tmp_path)
    week_of_turns(ctx, clock)
    manager = json.dumps([b.to_dict() for b in routing_home_blocks(routing_home(ctx, user_id="UMANAGER"))])
    assert "Rotation this week" in manager
    assert "<@UBEN> weight 1 (33%) \\u00b7 suggested 2 (67%) \\u00b7 claimed 1 (50%)" in manager
    assert "<@UANA> until back" in manager  # who is away
    rep = json.dumps([b.to_dict() for b in routing_home_blocks(routing_home(ctx, user_id="UANA"))])
    assert "Rotation" not in rep and "You are *away* until back" in rep


def test_the_digest_shows_the_weeks_fairness_in_slack_the_terminal_and_json(
    ctx: Context, tmp_path: Path, clock: Clock
) -> None:
    ctx = routed(ctx, tmp_path)
    week_of_turns(ctx, clock)
    clock.advance(days=7)
    digest = build_digest(ctx, iso_week="2026-W48", persist=False)
    assert digest.fairness is not None
    section = json.dumps(fairness_section(digest.fairness).to_dict(), ensure_ascii=False)
    assert "<@UANA> weight 2 (67%) · suggested 1 (33%) · claimed 1 (50%)" in section
    report = digest_report(digest)
    assert "Rotation fairness" in report and "@UBEN weight 1 (33%) · suggested 2 (67%)" in report
    assert "Skipped: away 1" in report and "1 by others" in report
    [route] = digest.as_json()["fairness"]["routes"]
    assert route["skips"] == {"away": 1} and [r["suggested"] for r in route["reps"]] == [1, 2]
