"""The bundled sample leads load through the real import path and spread over every group."""

from __future__ import annotations

import csv
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from leadqual.config import default_rules_path
from leadqual.groups import Group
from leadqual.importing import read_records
from leadqual.lead import Lead
from leadqual.rules import load_ruleset_file
from leadqual.scoring import Ruleset, Score, score
from leadqual.services.intake import validate_leads

DATA = default_rules_path().parent
JSONL = DATA / "sample_leads.jsonl"
CSV = DATA / "sample_leads.csv"

# The leads the demo and the Slack tests lean on, by external_id.
EQUIPMENT_REPLACEMENT = "web-2026-0002"  # DOMAIN.md scenario 1: failed pump, December outage
COMPLIANCE_UPGRADE = "crm-2026-0008"  # DOMAIN.md scenario 2: four plants, state audit in March
SERVICE_RENEWAL = "crm-2026-0014"  # DOMAIN.md scenario 3: existing customer, renewal in January
STUDENT = "web-2026-0005"
COMPETITOR = "web-2026-0009"
SPAM = "chat-2026-0012"
UNSUPPORTED_REGION_RFQ = "web-2026-0001"
HOSTILE_COMPANY_NAME = "web-2026-0030"
HOSTILE_MESSAGE = "chat-2026-0022"


def _leads(path: Path) -> list[Lead]:
    return validate_leads([record for _, record in read_records(path)], where=lambda i: f"{path} record {i + 1}")


@cache
def _ruleset() -> Ruleset:
    return Ruleset.compile(load_ruleset_file(default_rules_path()))


@cache
def _scored() -> dict[str, tuple[Lead, Score]]:
    ruleset = _ruleset()
    return {lead.external_id or "": (lead, score(lead, ruleset)) for lead in _leads(JSONL)}


def _score(external_id: str) -> Score:
    return _scored()[external_id][1]


def _rule_ids(s: Score) -> set[str]:
    return {hit.rule_id for hit in s.hits}


def test_every_sample_lead_validates_with_a_unique_external_id() -> None:
    jsonl, rows = _leads(JSONL), _leads(CSV)
    ids = [lead.external_id for lead in jsonl + rows]

    assert (len(jsonl), len(rows)) == (44, 8)
    assert None not in ids
    assert len(set(ids)) == len(ids)


def test_the_packaged_rules_put_sample_leads_in_every_group() -> None:
    counts = Counter(s.group for _, s in _scored().values())

    # A demo needs a handful of cards per group, not one token lead.
    assert {group: counts[group] >= 5 for group in Group} == {group: True for group in Group}


@pytest.mark.parametrize("group", list(Group), ids=lambda g: g.value)
def test_each_groups_sample_leads_are_explained_by_at_least_one_rule(group: Group) -> None:
    in_group = {eid: s for eid, (_, s) in _scored().items() if s.group is group}

    assert in_group
    assert [eid for eid, s in in_group.items() if not s.hits] == []


@pytest.mark.parametrize(
    ("external_id", "segment", "expected_rules"),
    [
        (EQUIPMENT_REPLACEMENT, "equipment_replacement", {"rfq", "failed-asset", "outage-window"}),
        (COMPLIANCE_UPGRADE, "compliance_upgrade", {"multi-site", "audit-date", "bom-review"}),
        (SERVICE_RENEWAL, "service_renewal", {"existing-customer", "renewal-window"}),
    ],
)
def test_the_domain_scenarios_reach_sales_in_their_buying_motion(
    external_id: str, segment: str, expected_rules: set[str]
) -> None:
    s = _score(external_id)

    assert s.group in (Group.PRIORITY, Group.QUALIFIED_REVIEW)
    assert s.segment == segment
    assert expected_rules <= _rule_ids(s)
    assert s.urgent


@pytest.mark.parametrize(
    ("external_id", "negative_rule"),
    [(STUDENT, "student-or-research"), (COMPETITOR, "competitor"), (SPAM, "unrelated-request")],
    ids=["student", "competitor", "spam"],
)
def test_students_competitors_and_spam_are_kept_out_of_the_sales_queue(external_id: str, negative_rule: str) -> None:
    s = _score(external_id)

    assert s.group is Group.POOR_FIT
    assert negative_rule in _rule_ids(s)


def test_a_strong_rfq_from_an_unsupported_region_is_capped_by_the_region_must_have() -> None:
    lead, s = _scored()[UNSUPPORTED_REGION_RFQ]

    assert lead.company.country not in ("US", "CA", "MX")
    assert "rfq" in _rule_ids(s)
    assert s.uncapped_group is Group.PRIORITY
    assert s.failed_must_haves == ("supported-region",)
    assert s.group is Group.RESEARCH


def test_hostile_sample_leads_keep_their_slack_markup_for_the_escaping_tests() -> None:
    named, _ = _scored()[HOSTILE_COMPANY_NAME]
    messaged, _ = _scored()[HOSTILE_MESSAGE]

    assert named.company.name is not None and "<!channel>" in named.company.name
    assert messaged.message is not None
    assert "<https://evil.example|click here>" in messaged.message and "&" in messaged.message
    # Both are routed, so their cards really reach Slack.
    assert _score(HOSTILE_COMPANY_NAME).group.routed and _score(HOSTILE_MESSAGE).group.routed


def test_the_csv_sample_parses_to_the_same_shape_as_the_jsonl_sample() -> None:
    jsonl = [record for _, record in read_records(JSONL)]
    rows = [record for _, record in read_records(CSV)]
    shapes = {key: type(value) for record in jsonl for key, value in record.items()}

    for record in rows:
        assert {key: type(value) for key, value in record.items()} == {key: shapes[key] for key in record}
        assert isinstance(record["company"].get("employees", 0), int)
        assert all(isinstance(signal, dict) and set(signal) <= {"type", "value"} for signal in record["signals"])
    assert {"type": "page_view", "value": "/pricing"} in rows[1]["signals"]
    assert {"type": "bom_review"} in rows[1]["signals"]


def test_a_jsonl_sample_lead_written_as_csv_reads_back_as_the_same_lead(tmp_path: Path) -> None:
    leads = _leads(JSONL)
    rows = [_flatten(lead.model_dump(mode="json", exclude_none=True, exclude={"attributes"})) for lead in leads]
    columns = sorted({column for row in rows for column in row})
    path = tmp_path / "round_trip.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)

    back = _leads(path)

    assert [lead.model_dump(exclude={"attributes"}) for lead in back] == [
        lead.model_dump(exclude={"attributes"}) for lead in leads
    ]


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Write a lead as the dotted CSV columns of DESIGN.md, signals as `type=value;...`."""
    row: dict[str, str] = {}
    for key, value in record.items():
        if key == "signals":
            row[key] = ";".join(f"{s['type']}={s['value']}" if "value" in s else s["type"] for s in value)
        elif isinstance(value, dict):
            row.update(_flatten(value, f"{prefix}{key}."))
        else:
            row[f"{prefix}{key}"] = str(value)
    return row
