"""`leadbot digest` and `leadbot rules apply|rollback|backtest`, as an operator runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from freezegun import freeze_time
from sqlalchemy import func, select

from bot.cli import main
from leadqual.config import default_config_path, default_rules_path
from leadqual.db.engine import make_engine
from leadqual.db.models import DigestSend
from leadqual.groups import Group
from leadqual.rules import parse_ruleset_text
from leadqual.simulate import PLANTED, simulate_leads
from tests.slack_standin import SlackStandIn

WEEK = "2026-W47"
WEEK_END = datetime(2026, 11, 23, 6, tzinfo=UTC)  # Monday 2026-W48 00:00 in Chicago


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> str:
    """The environment of an operator's shell: a database, no Slack token, no managers."""
    monkeypatch.chdir(tmp_path)
    for name in ("LEADBOT_CONFIG", "LEADBOT_RULES", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "LEADBOT_MANAGERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


@pytest.fixture
def marginal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The packaged config with `proposals.method: marginal`: the tests below expect its threshold move.

    The default (conditional) method keeps only changes that raise Priority's precision on the
    held-out weeks, and Qualified review's minimum does not change Priority at all.
    """
    path = tmp_path / "leadbot.yaml"
    config = yaml.safe_load(default_config_path().read_text())
    config["proposals"]["method"] = "marginal"
    config["rules"] = str(default_rules_path())
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("LEADBOT_CONFIG", str(path))


@pytest.fixture(scope="module")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve weeks of planted history as a CRM export (JSON Lines with outcomes)."""
    path = tmp_path_factory.mktemp("crm") / "crm-history.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in simulate_leads(n=2500, seed=3, world=PLANTED, end=WEEK_END)))
    return path


@pytest.fixture
def history(env: str, marginal: None, history_file: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """The database with that history loaded by `leadbot import`."""
    assert main(["import", str(history_file)]) == 0
    assert "imported 2500 leads" in capsys.readouterr().out
    return env


def digest_json(capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["digest", "--week", WEEK, "--dry-run", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def sends(db_url: str) -> int:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(DigestSend)) or 0
    engine.dispose()
    return n


def test_a_dry_run_prints_every_figure_and_proposal_as_json_and_sends_nothing(
    history: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = digest_json(capsys)
    assert data["iso_week"] == WEEK and data["sent"] is None
    assert data["week"]["groups"][0]["group"] == "priority" and data["trailing"]["decided"] > 1000
    assert {p["target"] for p in data["proposals"]} >= {"qualified_review", "webinar"}
    assert all(p["id"].startswith("p-") and p["evidence"] and p["backtest"] for p in data["proposals"])
    assert sends(history) == 0


def test_the_text_digest_says_how_to_apply_each_proposal(history: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--week", WEEK, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"== Weekly lead digest · {WEEK} ==\n\nNov 16 to Nov 22 (America/Chicago)")
    assert "Proposed rule changes · learned from" in out and "Apply: leadbot rules apply p-" in out


@freeze_time(WEEK_END + timedelta(days=2))  # the backtest window ends at the last complete week before today
def test_apply_backtest_and_rollback_from_the_command_line(history: str, capsys: pytest.CaptureFixture[str]) -> None:
    move = next(p for p in digest_json(capsys)["proposals"] if p["kind"] == "move_threshold")
    assert main(["rules", "backtest", move["id"], "--limit", "500"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{move['id']}: {move['title']}\nRescored 500 decided leads")
    assert "Qualified review -> Nurture" in out
    assert "\nHeld out, the last 3 weeks from 2026-11-02 (" in out and "so these weeks were seen" in out
    assert main(["rules", "apply", move["id"]]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"applied {move['id']}: {move['title']}",
        "ruleset v2 is active (was v1); leads already scored keep their version. Undo with: leadbot rules rollback",
    ]
    assert main(["rules", "show"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("# active ruleset: industrial-default v2 (apply,")
    spec = parse_ruleset_text(shown)
    assert getattr(spec.groups[Group(move["target"])], move["setting"]) == move["proposed"]
    assert main(["rules", "rollback"]) == 0
    assert capsys.readouterr().out.strip() == "rolled back: ruleset v1 is active again (v2 stays on record)"


def test_the_backtest_shows_a_proposal_on_the_weeks_learnt_from_and_on_the_held_out_weeks(
    env: str, history_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(history_file)]) == 0  # the packaged config: the conditional method
    capsys.readouterr()
    data = digest_json(capsys)
    assert data["method"] == "conditional" and data["proposals"]
    top = data["proposals"][0]  # the strongest: checked against today's rules, as the backtest checks it
    f = top["figures"]
    with freeze_time(WEEK_END + timedelta(days=2)):  # the backtest's window ends at the last complete week
        assert main(["rules", "backtest", top["id"], "--limit", "200"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{top['id']}: {top['title']}" and lines[1].startswith("Rescored 200 decided leads")
    learnt = next(line for line in lines if line.startswith("Weeks before 2026-11-02 ("))
    assert "decided leads, learnt from): Priority precision" in learnt
    held = next(line for line in lines if line.startswith("Held out, the last 3 weeks from 2026-11-02 ("))
    assert "decided leads, not learnt from): Priority precision " in held
    before, after = f["held_out_precision_before"], f["held_out_precision_after"]
    assert f"Priority precision {100 * before:.1f}% -> {100 * after:.1f}%" in held
    assert f"successes in Priority {f['held_out_caught_before']:,.0f} -> {f['held_out_caught_after']:,.0f}" in held
    assert lines[-1].startswith("Held-out verdict: passes the held-out check")


def test_mistakes_are_one_line_and_a_non_zero_exit(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "apply", "p-000000"]) == 1
    assert capsys.readouterr().err == "leadbot: error: No open proposal 'p-000000'.\n"
    assert main(["rules", "rollback"]) == 1
    assert "no previous version" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["digest", "--week", "2026-W54"])
    assert exc.value.code == 2 and "is not an ISO week such as 2026-W48" in capsys.readouterr().err
    assert main(["digest", "--week", WEEK]) == 1  # sending needs a bot token
    assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err


def test_digest_sends_to_the_managers_once(
    env: str, monkeypatch: pytest.MonkeyPatch, slack: SlackStandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    monkeypatch.setenv("LEADBOT_MANAGERS", "UMANAGER")
    assert main(["digest", "--week", WEEK]) == 0
    assert "sent to 1 manager(s); 0 already had it" in capsys.readouterr().out
    assert main(["digest", "--week", WEEK]) == 0
    assert "sent to 0 manager(s); 1 already had it" in capsys.readouterr().out
    assert [c.params["channel"] for c in slack.calls_to("chat.postMessage")] == ["DUMANAGER"]
    assert slack.rejected == [] and sends(env) == 1
