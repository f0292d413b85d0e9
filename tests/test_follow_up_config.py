"""The `follow_ups:` section of the YAML config: defaults, and bad values stop start-up with file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadqual.config import load_config
from leadqual.errors import ConfigError


def test_follow_ups_default_to_nine_three_and_seven() -> None:
    settings = load_config().follow_ups
    assert (settings.hour, settings.overdue_days, settings.needs_info_days) == (9, 3, 7)


def test_a_config_without_follow_ups_gets_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "leadbot.yaml"
    path.write_text("timezone: Europe/Berlin\n")
    assert load_config(path).follow_ups.hour == 9


@pytest.mark.parametrize(
    ("section", "line", "key"),
    [
        ("follow_ups:\n  hour: 24\n", 3, "follow_ups.hour"),
        ("follow_ups:\n  overdue_days: 0\n", 3, "follow_ups.overdue_days"),
        ("follow_ups:\n  needs_info_days: -1\n", 3, "follow_ups.needs_info_days"),
        ("follow_ups:\n  hour: nine\n", 3, "follow_ups.hour"),
        ("follow_ups:\n  remind_at: 9\n", 3, "follow_ups.remind_at"),
    ],
)
def test_a_bad_follow_ups_value_names_the_file_line_and_key(tmp_path: Path, section: str, line: int, key: str) -> None:
    path = tmp_path / "leadbot.yaml"
    path.write_text("timezone: UTC\n" + section)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:{line}: {key}:")
