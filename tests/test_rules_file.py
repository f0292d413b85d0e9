"""Rules files are validated on load; every problem names the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadqual.config import default_rules_path
from leadqual.errors import RulesError
from leadqual.rules import content_hash, dump_ruleset, load_ruleset_file, parse_ruleset_text

GOOD = """\
name: t
version: 3
rules:
  - id: rfq
    kind: intent
    label: RFQ
    points: 40
    when: {signal: rfq_request}
groups:
  priority: {fit: 60, intent: 50}
  poor_fit: {}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(RulesError) as info:
        parse_ruleset_text(text, source="rules.yaml")
    return info.value.problems


def test_the_design_example_and_the_packaged_default_load() -> None:
    assert parse_ruleset_text(GOOD).version == 3
    spec = load_ruleset_file(default_rules_path())
    assert spec.name == "industrial-default"
    assert {r.kind.value for r in spec.rules} == {"fit", "intent", "negative", "timing"}


def test_a_wrong_kind_is_reported_at_its_line() -> None:
    assert problems(GOOD.replace("kind: intent", "kind: intnt")) == [
        "rules.yaml:5: rules[0].kind: Input should be 'fit', 'intent', 'negative' or 'timing'"
    ]


def test_an_unknown_field_path_is_reported_at_its_line_with_the_choices() -> None:
    [problem] = problems(GOOD.replace("{signal: rfq_request}", "{field: company.industy, eq: metals}"))
    assert problem.startswith("rules.yaml:8: rules[0].when.field: unknown field 'company.industy'")
    assert "company.industry" in problem


def test_unknown_operators_bad_regexes_and_bad_values_are_refused() -> None:
    assert (
        "unknown operator 'equals'" in problems(GOOD.replace("{signal: rfq_request}", "{field: source, equals: x}"))[0]
    )
    assert (
        "invalid regular expression"
        in problems(GOOD.replace("{signal: rfq_request}", "{field: message, matches: '('}"))[0]
    )
    assert (
        "within_days takes a whole number"
        in problems(GOOD.replace("{signal: rfq_request}", "{field: need.needed_by, within_days: soon}"))[0]
    )
    assert "in needs a non-empty list" in problems(GOOD.replace("{signal: rfq_request}", "{field: source, in: []}"))[0]


def test_invalid_yaml_names_the_line() -> None:
    assert problems("name: t\nrules:\n  - id: [unclosed\n")[0].startswith("rules.yaml:4: invalid YAML")


def test_duplicate_ids_unknown_segments_and_missing_points_are_refused() -> None:
    dup = GOOD + "  # \n"
    dup = dup.replace("groups:", "  - {id: rfq, kind: fit, label: X, points: 5, when: {signal: x}}\ngroups:")
    assert "used twice" in problems(dup)[0]
    assert "unknown segment" in problems(GOOD.replace("points: 40", "points: 40\n    segments: [ghost]"))[0]
    assert "needs points" in problems(GOOD.replace("    points: 40\n", ""))[0]


def test_poor_fit_must_be_the_last_group() -> None:
    text = GOOD.replace(
        "  priority: {fit: 60, intent: 50}\n  poor_fit: {}", "  poor_fit: {}\n  priority: {fit: 60, intent: 50}"
    )
    assert "poor_fit must be the last group" in problems(text)[0]


def test_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read rules file"):
        load_ruleset_file(tmp_path / "nope.yaml")


def test_dumped_rules_load_back_with_the_same_meaning() -> None:
    spec = load_ruleset_file(default_rules_path())
    again = parse_ruleset_text(dump_ruleset(spec))
    assert again == spec
    assert content_hash(again) == content_hash(spec)


def test_the_content_hash_ignores_the_version_line_but_not_the_rules() -> None:
    a = parse_ruleset_text(GOOD)
    assert content_hash(a) == content_hash(parse_ruleset_text(GOOD.replace("version: 3", "version: 9")))
    assert content_hash(a) != content_hash(parse_ruleset_text(GOOD.replace("points: 40", "points: 45")))
