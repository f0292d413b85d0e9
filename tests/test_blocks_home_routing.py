"""App Home's routing section stays within Block Kit's limits, however many routes and reps are away."""

from __future__ import annotations

from datetime import UTC, date, datetime

from blocks.home import home_view
from blocks.home_routing import routing_home_blocks
from leadqual.readmodels import Home
from leadqual.routing.fairness import Fairness, route_fairness
from leadqual.routing.readmodels import Availability, RoutingHome
from tests.bot_helpers import make_card
from tests.slack_standin import validate_view

NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)


def test_a_managers_home_with_many_routes_and_a_full_team_away_stays_under_100_blocks() -> None:
    reps = [(f"U{i:04d}", 1 + i % 3) for i in range(40)]
    routes = tuple(
        route_fairness(f"#{n}", reps, suggested=[u for u, _ in reps] * 3, claimed=[u for u, _ in reps], skips=["away"])
        for n in range(30)
    )
    routing = RoutingHome(
        me=Availability("UMANAGER", away=True, until=date(2026, 12, 1)),
        manager=True,
        away=tuple(Availability(u, away=True, until=None) for u, _ in reps),
        fairness=Fairness(NOW, NOW, routes),
    )
    cards = tuple(make_card(id=i) for i in range(15))
    home = Home("UMANAGER", open_claims=cards, open_total=40, follow_ups=cards, follow_ups_total=40, week=None)
    view = home_view(home, extra=routing_home_blocks(routing)).to_dict()
    assert len(view["blocks"]) <= 100
    assert validate_view(view) == []
    assert "…and 22 more routes" in str(view)
