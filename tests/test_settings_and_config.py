"""Settings and the YAML config stop start-up with a message that names what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadqual.config import load_config
from leadqual.errors import ConfigError
from leadqual.groups import Group
from leadqual.settings import load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DATABASE_URL", "LEADBOT_MANAGERS", "LEADBOT_CHANNEL", "PORT"):
        monkeypatch.delenv(name, raising=False)


def test_heroku_style_postgres_urls_are_normalised_to_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example.com:5432/leads")
    assert load_settings().database_url == "postgresql+psycopg://u:p@db.example.com:5432/leads"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    assert load_settings().database_url == "postgresql+psycopg://u@h/db"


def test_defaults_are_embedded_sqlite_and_port_3000() -> None:
    s = load_settings()
    assert s.database_url == "sqlite:///leadbot.db" and s.port == 3000 and not s.socket_mode


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "SLACK_BOT_TOKEN: Value error, must be a bot token"),
        ("SLACK_APP_TOKEN", "xoxb-nope", "SLACK_APP_TOKEN"),
        ("PORT", "eighty", "PORT"),
        ("LEADBOT_MANAGERS", "U123,@dana", "LEADBOT_MANAGERS"),
        ("LEADBOT_CHANNEL", "#leads", "LEADBOT_CHANNEL"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL"),
    ],
)
def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith("Invalid setting " + name)
    assert message.split(":")[0] in str(info.value)


def test_managers_are_a_comma_separated_list_and_the_api_url_gets_its_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADBOT_MANAGERS", " U1AAA , U2BBB,")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api")
    s = load_settings()
    assert s.managers == ["U1AAA", "U2BBB"]
    assert s.slack_api_url == "http://127.0.0.1:9999/api/"


def test_the_packaged_config_loads_with_the_domain_reason_codes() -> None:
    config = load_config()
    assert {"spec_mismatch", "unsupported_region", "no_authority", "competitor", "duplicate"} <= {
        r.code for r in config.reasons
    }
    assert [s.after_minutes for s in config.sla[Group.PRIORITY]] == [15, 45]


def test_a_bad_config_file_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "leadbot.yaml"
    path.write_text("timezone: UTC\nroutes:\n  priority:\n    channel: '#sales'\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:4: routes.priority.channel:")


def test_an_sla_ladder_out_of_order_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "leadbot.yaml"
    path.write_text(
        "sla:\n  priority:\n    - {after_minutes: 45, action: escalate}\n    - {after_minutes: 15, action: remind}\n"
    )
    with pytest.raises(ConfigError, match="increasing after_minutes"):
        load_config(path)


def test_channel_and_manager_overrides_apply_to_routing() -> None:
    config = load_config().with_overrides(channel="C0SALES", managers=["U9"])
    assert config.channel_for(Group.PRIORITY) == "C0SALES"
    assert config.channel_for(Group.POOR_FIT) is None
    assert "U9" in config.managers


def test_rules_path_in_a_config_is_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "leadbot.yaml"
    path.write_text("rules: rules/ours.yaml\n")
    assert load_config(path).rules_path() == tmp_path / "rules" / "ours.yaml"
