"""The quick screen: four questions answered yes, no or unknown from what the lead sent, and `screen:` in the YAML."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from leadqual.config import load_config
from leadqual.errors import ConfigError
from leadqual.lead import Lead
from leadqual.screen import Answer, Question, ScreenSettings, ask_early, default_screen, quick_screen

TODAY = date(2026, 11, 23)
DEFAULT = default_screen()


def answers(record: dict[str, Any], settings: ScreenSettings = DEFAULT) -> dict[Question, Answer]:
    return {a.question: a.answer for a in quick_screen(Lead.model_validate(record), settings, today=TODAY)}


def test_a_lead_that_sent_everything_answers_all_four_yes() -> None:
    got = answers(
        {
            "company": {"name": "Acme Metals", "industry": "metals", "country": "US"},
            "contact": {"title": "Maintenance Manager"},
            "need": {"scope": "replacement", "problem": "Pump failed on line 3"},
        }
    )
    assert got == dict.fromkeys(Question, Answer.YES)


def test_what_the_lead_did_not_send_is_unknown_not_a_no() -> None:
    got = answers({"company": {"name": "Quiet Co"}})
    assert got == dict.fromkeys(Question, Answer.UNKNOWN)


def test_what_the_lead_sent_against_the_target_is_a_no() -> None:
    got = answers(
        {
            "company": {"name": "Far Away", "industry": "retail", "country": "US"},
            "contact": {"title": "Purchasing Agent"},
            "need": {"scope": "consulting"},
        }
    )
    assert got[Question.TARGET] is Answer.NO  # retail is not a target industry, whatever the country
    assert got[Question.CAPABILITY] is Answer.NO  # consulting is not a scope we deliver
    assert got[Question.TECHNICAL_CONTACT] is Answer.NO  # a buyer, not an engineer
    assert got[Question.NEED] is Answer.UNKNOWN  # no problem stated, no RFQ: ask


def test_one_known_part_of_the_target_leaves_it_unknown_until_the_other_is_known() -> None:
    got = answers({"company": {"name": "Half Known", "industry": "metals"}})
    assert got[Question.TARGET] is Answer.UNKNOWN
    got = answers({"company": {"name": "Half Known", "industry": "metals", "country": "DE"}})
    assert got[Question.TARGET] is Answer.NO


def test_an_rfq_signal_is_a_clear_need_and_an_unrelated_request_is_not() -> None:
    assert answers({"company": {"name": "A"}, "signals": [{"type": "rfq_request"}]})[Question.NEED] is Answer.YES
    unrelated = {"company": {"name": "A"}, "need": {"problem": "none"}, "message": "Guest post and backlinks offer"}
    assert answers(unrelated)[Question.NEED] is Answer.NO


def test_the_unknowns_are_the_questions_to_ask_early_in_order() -> None:
    screen = quick_screen(
        Lead.model_validate({"company": {"name": "A", "industry": "metals", "country": "US"}}), DEFAULT, today=TODAY
    )
    assert ask_early(screen) == [
        DEFAULT.capability.ask,
        DEFAULT.need.ask,
        DEFAULT.technical_contact.ask,
    ]


def test_no_readable_lead_leaves_every_answer_unknown() -> None:
    assert {a.answer for a in quick_screen(None, DEFAULT, today=TODAY)} == {Answer.UNKNOWN}


def test_a_configured_question_replaces_only_the_keys_it_gives(tmp_path: Path) -> None:
    path = tmp_path / "leadbot.yaml"
    path.write_text(
        "screen:\n"
        "  target:\n"
        "    when: {field: company.country, in: [DE, AT]}\n"
        "  technical_contact: {label: Engineer named, when: {field: attributes.engineer, exists: true}}\n"
    )
    screen = load_config(path).screen
    assert screen.target.label == DEFAULT.target.label  # kept
    assert answers({"company": {"name": "A", "country": "DE"}}, screen)[Question.TARGET] is Answer.YES
    assert answers({"company": {"name": "A", "country": "US"}}, screen)[Question.TARGET] is Answer.NO
    assert screen.technical_contact.label == "Engineer named"
    got = answers({"company": {"name": "A"}, "attributes": {"engineer": "Kim"}}, screen)
    assert got[Question.TECHNICAL_CONTACT] is Answer.YES
    assert screen.need == DEFAULT.need


def test_a_bad_screen_condition_stops_start_up_naming_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "leadbot.yaml"
    path.write_text("timezone: UTC\nscreen:\n  need:\n    when: {field: company.color, eq: red}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:4: screen.need.when: when.field: unknown field 'company.color'")


def test_an_unknown_screen_question_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "leadbot.yaml"
    path.write_text("screen:\n  budget: {when: {field: company.employees, gte: 10}}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:2: screen.budget:")
