"""Cost per qualified lead and time to first response: pure figures against hand counts, and `costs:` in the YAML."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from leadqual.config import load_config
from leadqual.costs import CostBy, CostEntry, cost_figures
from leadqual.errors import ConfigError
from leadqual.groups import Group
from leadqual.response import nearest_rank, response_times

ALL = (None, None)  # an entry without days


def entry(**values: object) -> CostEntry:
    return CostEntry.model_validate(values)


# --- cost per qualified lead ---------------------------------------------------------------------


def test_cost_per_qualified_lead_divides_each_name_s_cost_by_its_qualified_leads() -> None:
    figures = cost_figures(
        [
            entry(campaign="pump-retrofit-2026", cost=4200, currency="USD"),
            entry(source="web_form", cost=900, currency="usd"),
            entry(source="trade_show", cost=5000, currency="USD"),
        ],
        {(CostBy.CAMPAIGN, "pump-retrofit-2026", ALL): (20, 6), (CostBy.SOURCE, "web_form", ALL): (40, 4)},
    )
    [campaign] = figures.campaigns
    assert (campaign.name, campaign.leads, campaign.qualified, campaign.per_qualified) == (
        "pump-retrofit-2026",
        20,
        6,
        Decimal(700),  # 4200 / 6
    )
    trade_show, web_form = figures.sources
    assert web_form.currency == "USD" and web_form.per_qualified == Decimal(225)  # 900 / 4
    assert trade_show.qualified == 0 and trade_show.per_qualified is None  # no lead yet: nothing to divide


def test_two_currencies_for_one_campaign_stay_apart_and_one_currency_adds_up() -> None:
    figures = cost_figures(
        [
            entry(campaign="expo", cost=1000, currency="USD"),
            entry(campaign="expo", cost=500, currency="USD"),  # a second invoice: added
            entry(campaign="Expo", cost=800, currency="EUR"),  # same campaign, other currency: its own line
        ],
        {(CostBy.CAMPAIGN, "expo", ALL): (10, 4)},
    )
    assert [(c.currency, c.cost, c.per_qualified) for c in figures.campaigns] == [
        ("EUR", Decimal(800), Decimal(200)),
        ("USD", Decimal(1500), Decimal(375)),
    ]


def test_costs_over_different_days_are_their_own_lines_and_the_same_days_add_up() -> None:
    october = {"from": date(2026, 10, 1), "to": date(2026, 10, 31)}
    figures = cost_figures(
        [
            entry(source="web_form", cost=100, currency="USD", **october),
            entry(source="web_form", cost=50, currency="USD", **october),
            entry(source="web_form", cost=400, currency="USD", **{"from": date(2026, 11, 1)}),
        ],
        {
            (CostBy.SOURCE, "web_form", (date(2026, 10, 1), date(2026, 10, 31))): (12, 3),
            (CostBy.SOURCE, "web_form", (date(2026, 11, 1), None)): (20, 8),
        },
    )
    assert [(c.days, c.cost, c.per_qualified) for c in figures.sources] == [
        ((date(2026, 10, 1), date(2026, 10, 31)), Decimal(150), Decimal(50)),
        ((date(2026, 11, 1), None), Decimal(400), Decimal(50)),
    ]
    assert figures.sources[0].as_json()["from"] == "2026-10-01" and "to" not in figures.sources[1].as_json()


@pytest.mark.parametrize(
    ("yaml_entry", "line", "message"),
    [
        ("  - {campaign: pump-retrofit-2026, cost: -5, currency: USD}", 3, "costs[1].cost: cost must not be negative"),
        ("  - {campaign: pump-retrofit-2026, cost: lots, currency: USD}", 3, "costs[1].cost: cost must be a number"),
        ("  - {campaign: x, source: web_form, cost: 5, currency: USD}", 3, "costs[1]: a cost entry names either"),
        ("  - {cost: 5, currency: USD}", 3, "costs[1]: a cost entry names either"),
        ("  - {source: web_form, cost: 5, currency: dollars}", 3, "costs[1].currency:"),
        ("  - {source: web_form, cost: 5, currency: USD, from: 2026-11-30, to: 2026-11-01}", 3, "costs[1]: `to`"),
        ("  - {source: web_form, cost: 5, currency: USD, from: last month}", 3, "costs[1].from:"),
    ],
)
def test_a_bad_cost_entry_stops_start_up_naming_file_line_and_key(
    tmp_path: Path, yaml_entry: str, line: int, message: str
) -> None:
    path = tmp_path / "leadbot.yaml"
    path.write_text("costs:\n  - {source: web_form, cost: 900, currency: USD}\n" + yaml_entry + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:{line}: {message}")


def test_a_cost_for_a_campaign_no_lead_has_yet_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "leadbot.yaml"
    path.write_text("costs:\n  - {campaign: not-launched-yet, cost: 0, currency: EUR}\n")
    [cost] = load_config(path).costs
    assert (cost.by, cost.key, cost.cost, cost.currency) == (CostBy.CAMPAIGN, "not-launched-yet", Decimal(0), "EUR")


# --- time to first response ---------------------------------------------------------------------


def test_nearest_rank_percentiles_are_the_ceil_p_n_th_smallest() -> None:
    values = [30.0, 5.0, 10.0, 120.0, 20.0]  # sorted: 5 10 20 30 120
    assert nearest_rank(values, 50) == 20.0  # ceil(2.5) = 3rd
    assert nearest_rank(values, 90) == 120.0  # ceil(4.5) = 5th
    assert nearest_rank([7.0, 1.0, 3.0, 9.0], 50) == 3.0  # ceil(2) = 2nd of 1 3 7 9
    assert nearest_rank([], 50) is None


def test_response_times_by_group_and_overall_from_hand_counted_minutes() -> None:
    times = response_times(
        {Group.PRIORITY: [4.0, 12.0, 30.0], Group.NURTURE: [60.0, 600.0]},
        {Group.PRIORITY: 4, Group.NURTURE: 2, Group.RESEARCH: 1},
    )
    priority = times.group(Group.PRIORITY)
    assert (priority.received, priority.answered, priority.median_minutes, priority.p90_minutes) == (4, 3, 12.0, 30.0)
    nurture = times.group(Group.NURTURE)
    assert (nurture.median_minutes, nurture.p90_minutes) == (60.0, 600.0)  # ceil(1) = 1st, ceil(1.8) = 2nd
    assert times.group(Group.RESEARCH).answered == 0 and times.group(Group.RESEARCH).median_minutes is None
    # All five answered: 4 12 30 60 600 -> median 3rd, p90 5th; seven received.
    assert (times.overall.received, times.overall.answered) == (7, 5)
    assert (times.overall.median_minutes, times.overall.p90_minutes) == (30.0, 600.0)
