"""Scoring is a pure function of a lead and a compiled ruleset."""

from __future__ import annotations

from datetime import date

import pytest

from leadqual.config import default_rules_path
from leadqual.groups import Group
from leadqual.lead import Lead
from leadqual.rules import load_ruleset_file, parse_ruleset_text
from leadqual.scoring import Ruleset, score

RULES = """
name: test
version: 7
segments:
  - id: replacement
    label: Replacement
    when: {field: need.scope, eq: replacement}
rules:
  - {id: industry, kind: fit, label: Target industry, points: 40, when: {field: company.industry, in: [metals, water]}}
  - {id: size, kind: fit, label: Size, points: 30, when: {field: company.employees, gte: 100}}
  - {id: rfq, kind: intent, label: RFQ, points: 60, when: {signal: rfq_request}}
  - {id: pricing, kind: intent, label: Pricing, points: 10, when: {signal: page_view, value_matches: "^/pricing"}}
  - {id: visits, kind: intent, label: Visits, points: 15, when: {signal: page_view, min_count: 3}}
  - {id: swap, kind: fit, label: Replacement focus, points: 20, segments: [replacement], when: {field: need.problem, exists: true}}
  - {id: freemail, kind: negative, label: Freemail, points: 50, when: {field: contact.email, domain_in: [gmail.com]}}
  - {id: junk, kind: negative, label: Junk, points: 100, subtract_from: intent, when: {field: message, matches: "seo"}}
  - {id: soon, kind: timing, label: Soon, when: {field: need.needed_by, within_days: 30}}
must_have:
  - {id: region, when: {field: company.country, in: [US]}, otherwise: nurture}
groups:
  priority: {fit: 60, intent: 50}
  qualified_review: {fit: 60, intent: 20}
  nurture: {fit: 40}
  research: {intent: 30}
  poor_fit: {}
"""


def ruleset() -> Ruleset:
    return Ruleset.compile(parse_ruleset_text(RULES))


def lead(**fields: object) -> Lead:
    base: dict[str, object] = {"company": {"name": "Acme", "country": "US"}, "received_at": "2026-11-20T10:00:00Z"}
    base.update(fields)
    return Lead.model_validate(base)


def test_fit_and_intent_are_scored_separately_and_explained() -> None:
    s = score(
        lead(
            company={"name": "Acme", "industry": "Metals", "employees": 500, "country": "US"},
            signals=[{"type": "rfq_request"}],
        ),
        ruleset(),
    )
    assert (s.fit, s.intent, s.group) == (70, 60, Group.PRIORITY)
    assert {h.rule_id: h.points for h in s.hits} == {"industry": 40, "size": 30, "rfq": 60}
    assert "RFQ (+60)" in s.explain()
    assert s.ruleset_version == 7


def test_negative_rules_subtract_from_their_score_and_clamp_at_zero() -> None:
    s = score(
        lead(contact={"email": "bob@gmail.com"}, message="cheap SEO backlinks", signals=[{"type": "rfq_request"}]),
        ruleset(),
    )
    assert s.fit == 0 and s.intent == 0
    assert [h.points for h in s.hits if h.kind == "negative"] == [-50, -100]
    assert s.group is Group.POOR_FIT


def test_scores_are_clamped_to_one_hundred() -> None:
    s = score(
        lead(
            company={"name": "A", "industry": "water", "employees": 900, "country": "US"},
            need={"scope": "replacement", "problem": "leak"},
        ),
        ruleset(),
    )
    assert s.fit == 90
    s = score(
        lead(
            signals=[
                {"type": "rfq_request"},
                {"type": "page_view", "value": "/pricing"},
                {"type": "page_view", "value": "/a"},
                {"type": "page_view", "value": "/b"},
            ]
        ),
        ruleset(),
    )
    assert s.intent == 85


def test_groups_take_the_first_threshold_met() -> None:
    base = {"company": {"name": "A", "industry": "metals", "employees": 200, "country": "US"}}
    assert score(lead(**base), ruleset()).group is Group.NURTURE
    assert (
        score(lead(**base, signals=[{"type": "page_view", "value": "/pricing"}] * 3), ruleset()).group
        is Group.QUALIFIED_REVIEW
    )
    assert score(lead(signals=[{"type": "rfq_request"}]), ruleset()).group is Group.RESEARCH
    assert score(lead(), ruleset()).group is Group.POOR_FIT


def test_a_failed_must_have_caps_the_group_and_is_explained() -> None:
    s = score(
        lead(
            company={"name": "A", "industry": "metals", "employees": 500, "country": "DE"},
            signals=[{"type": "rfq_request"}],
        ),
        ruleset(),
    )
    assert s.uncapped_group is Group.PRIORITY
    assert s.group is Group.NURTURE
    assert s.failed_must_haves == ("region",)
    assert "fails must-have region" in s.explain()


def test_a_must_have_never_raises_a_group() -> None:
    s = score(lead(company={"name": "A", "country": "DE"}), ruleset())
    assert s.group is Group.POOR_FIT


def test_segment_rules_apply_only_inside_their_segment() -> None:
    inside = score(lead(need={"scope": "replacement", "problem": "pump failed"}), ruleset())
    outside = score(lead(need={"scope": "upgrade", "problem": "pump failed"}), ruleset())
    assert inside.segment == "replacement" and "swap" in {h.rule_id for h in inside.hits}
    assert outside.segment is None and "swap" not in {h.rule_id for h in outside.hits}


def test_timing_rules_mark_a_lead_urgent_relative_to_when_it_arrived() -> None:
    urgent = score(lead(need={"needed_by": "2026-12-10"}), ruleset())
    later = score(lead(need={"needed_by": "2027-03-01"}), ruleset())
    past = score(lead(need={"needed_by": "2026-11-01"}), ruleset())
    assert urgent.urgent and not later.urgent and not past.urgent
    assert score(lead(need={"needed_by": "2027-03-01"}), ruleset(), today=date(2027, 2, 20)).urgent


def test_signal_conditions_count_matching_values() -> None:
    two = [{"type": "page_view", "value": "/x"}] * 2
    assert "visits" not in {h.rule_id for h in score(lead(signals=two), ruleset()).hits}
    assert "visits" in {h.rule_id for h in score(lead(signals=[*two, {"type": "PAGE_VIEW"}]), ruleset()).hits}


@pytest.mark.parametrize(
    ("condition", "lead_fields", "fires"),
    [
        ({"field": "company.industry", "eq": "METALS"}, {"company": {"name": "a", "industry": "metals"}}, True),
        ({"field": "company.country", "not_in": ["US"]}, {"company": {"name": "a", "country": "CA"}}, True),
        ({"field": "company.country", "not_in": ["US"]}, {"company": {"name": "a"}}, False),
        ({"field": "message", "contains": ["outage", "shutdown"]}, {"message": "Planned SHUTDOWN in May"}, True),
        ({"field": "company.employees", "lte": 10}, {"company": {"name": "a", "employees": 10}}, True),
        ({"field": "company.employees", "gte": 10}, {"company": {"name": "a"}}, False),
        ({"field": "need.needed_by", "lte": "2026-12-31"}, {"need": {"needed_by": "2026-12-01"}}, True),
        ({"field": "contact.title", "exists": False}, {}, True),
        ({"field": "contact.email", "domain_in": ["acme.com"]}, {"contact": {"email": "a@eu.acme.com"}}, True),
        ({"field": "contact.email", "domain_in": ["acme.com"]}, {"contact": {"email": "a@notacme.com"}}, False),
        ({"field": "attributes.sites", "gte": 2}, {"attributes": {"sites": "3"}}, True),
        ({"field": "attributes.customer", "eq": True}, {"attributes": {"customer": True}}, True),
        ({"not": {"signal": "rfq_request"}}, {}, True),
        ({"all": [{"signal": "a"}, {"signal": "b"}]}, {"signals": [{"type": "a"}]}, False),
        ({"any": [{"signal": "a"}, {"signal": "b"}]}, {"signals": [{"type": "b"}]}, True),
        (
            {"signal": "spec_sheet_download", "value": "p-200"},
            {"signals": [{"type": "spec_sheet_download", "value": "P-200"}]},
            True,
        ),
    ],
)
def test_each_operator_behaves_as_documented(condition: dict, lead_fields: dict, fires: bool) -> None:
    text = f"name: t\nrules:\n  - {{id: r, kind: fit, label: R, points: 10, when: {condition!r}}}\ngroups: {{poor_fit: {{}}}}"
    text = text.replace("True", "true").replace("False", "false")
    rs = Ruleset.compile(parse_ruleset_text(text))
    fields = {"company": {"name": "x"}, **lead_fields}
    assert (score(Lead.model_validate(fields), rs).fit == 10) is fires


def test_the_packaged_default_ruleset_routes_a_textbook_priority_lead() -> None:
    rs = Ruleset.compile(load_ruleset_file(default_rules_path()))
    s = score(
        Lead.model_validate(
            {
                "received_at": "2026-11-20T14:03:00Z",
                "company": {"name": "Acme Metals", "industry": "metals", "country": "US", "employees": 850},
                "contact": {"email": "dana@acmemetals.com", "title": "Maintenance Manager"},
                "signals": [{"type": "rfq_request"}, {"type": "page_view", "value": "/pricing"}],
                "need": {"scope": "replacement", "problem": "Pump failed on line 3", "needed_by": "2026-12-15"},
                "message": "Need a quote before the December outage.",
            }
        ),
        rs,
    )
    assert s.group is Group.PRIORITY
    assert s.urgent
    assert s.segment == "equipment_replacement"
    assert {"rfq", "target-industry", "failed-asset", "outage-window"} <= {h.rule_id for h in s.hits}


def _default() -> Ruleset:
    return Ruleset.compile(load_ruleset_file(default_rules_path()))


def test_a_competitor_or_a_student_stays_out_of_the_sales_queue_even_with_an_rfq() -> None:
    rfq = {
        "signals": [{"type": "rfq_request"}, {"type": "page_view", "value": "/pricing"}],
        "need": {"scope": "replacement"},
    }
    competitor = score(
        Lead.model_validate({"company": {"name": "Rival", "domain": "rivalpumps.com"}, **rfq}), _default()
    )
    student = score(
        Lead.model_validate(
            {"company": {"name": "State U"}, "contact": {"email": "kim@state.edu", "title": "PhD student"}, **rfq}
        ),
        _default(),
    )
    assert (competitor.group, student.group) == (Group.POOR_FIT, Group.POOR_FIT)
    assert "not-a-competitor" in competitor.failed_must_haves
    assert "not-student-or-research" in student.failed_must_haves


def test_valve_flow_ratings_and_job_sites_are_not_mistaken_for_unrelated_requests() -> None:
    lead = Lead.model_validate(
        {
            "company": {"name": "Irrigation District"},
            "message": "Need control valves with a Cv around 850 delivered to the job site.",
        }
    )
    assert "unrelated-request" not in {h.rule_id for h in score(lead, _default()).hits}
    spam = Lead.model_validate({"company": {"name": "Growth Co"}, "message": "We offer SEO and link building."})
    assert "unrelated-request" in {h.rule_id for h in score(spam, _default()).hits}
