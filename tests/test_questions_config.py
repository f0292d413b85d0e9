"""The question bank in the YAML config: defaults from DOMAIN.md's discovery checklist, motions added, bad entries refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadqual.config import load_config
from leadqual.decisions import Criterion
from leadqual.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "leadbot.yaml"
    path.write_text(text)
    return path


def refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return str(info.value)


def test_without_a_questions_key_the_discovery_checklist_is_the_bank() -> None:
    bank = load_config().questions
    assert bank.fit[0] == "What assets or systems are involved, and where are they located?"
    assert len(bank.intent) == 4 and len(bank.authority) == 3 and len(bank.need) == 3
    assert set(bank.motions) == {"equipment_replacement", "compliance_upgrade", "service_renewal"}


def test_a_criterion_given_replaces_its_default_the_others_keep_theirs_and_a_motion_adds(tmp_path: Path) -> None:
    bank = load_config(
        write(
            tmp_path,
            "questions:\n"
            "  fit: ['Which pump class?']\n"
            "  need: []\n"
            "  motions:\n"
            "    retrofit: {fit: ['Which frame size?', 'Which pump class?']}\n",
        )
    ).questions
    [fit] = bank.ask([Criterion.FIT, Criterion.NEED], motion="retrofit")  # `need: []` asks none
    assert fit.criterion is Criterion.FIT
    assert fit.questions == ("Which pump class?", "Which frame size?")  # the motion's added, repeats dropped
    assert bank.intent[0] == "What timeline or next internal step is planned?"  # kept from the defaults
    assert set(bank.motions) == {"retrofit"}  # motions given replace the packaged ones
    [plain] = bank.ask([Criterion.FIT], motion="no_such_motion")
    assert plain.questions == ("Which pump class?",)


def test_an_empty_question_stops_start_up_with_the_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "leadbot.yaml"
    message = refused(tmp_path, "timezone: UTC\nquestions:\n  fit:\n    - Which pump?\n    - ''\n")
    assert message.startswith(f"{path}:5: questions.fit[1]:")


def test_an_unknown_criterion_in_the_bank_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "leadbot.yaml"
    message = refused(tmp_path, "questions:\n  budget: ['Who pays?']\n")
    assert message.startswith(f"{path}:2: questions.budget:") and "Extra inputs are not permitted" in message


def test_a_motions_entry_that_is_not_a_criterion_map_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "leadbot.yaml"
    message = refused(tmp_path, "questions:\n  motions:\n    equipment_replacement:\n      fit: Which specs?\n")
    assert message.startswith(f"{path}:4: questions.motions.equipment_replacement.fit:")


def test_a_motion_id_that_cannot_be_a_segment_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "leadbot.yaml"
    message = refused(tmp_path, "questions:\n  motions:\n    Equipment Replacement: {fit: [x]}\n")
    assert message.startswith(f"{path}:3: questions.motions.Equipment Replacement")


def test_questions_that_are_not_a_mapping_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "leadbot.yaml"
    assert refused(tmp_path, "questions: [fit]\n").startswith(f"{path}:1: questions:")


def test_follow_ups_needs_info_days_must_be_a_positive_number_of_days(tmp_path: Path) -> None:
    path = tmp_path / "leadbot.yaml"
    assert load_config(write(tmp_path, "follow_ups: {needs_info_days: 10}\n")).follow_ups.needs_info_days == 10
    assert refused(tmp_path, "follow_ups:\n  needs_info_days: 0\n").startswith(f"{path}:2: follow_ups.needs_info_days:")
