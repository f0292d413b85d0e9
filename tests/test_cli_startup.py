"""The CLI starts light: `leadbot --help` loads no command module, and each command loads only its own."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import register_all, registry

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("fastapi", "slack_bolt", "slack_sdk", "matplotlib", "sqlalchemy", "prometheus_client", "uvicorn")


def modules_loaded_by(argv: list[str]) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after `leadbot ARGV` exits."""
    script = "\n".join(
        [
            "import json, sys",
            "from bot.cli import main",
            "try:",
            f"    main({argv!r})",
            "except SystemExit:",
            "    pass",
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), file=sys.stderr)",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(done.stderr.strip().splitlines()[-1]))


def test_help_imports_none_of_fastapi_bolt_matplotlib_or_sqlalchemy() -> None:
    loaded = modules_loaded_by(["--help"])

    assert "bot" in loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
    assert "pydantic" not in loaded and "pydantic_settings" not in loaded  # settings load after parsing


def test_a_commands_own_help_loads_that_command_and_not_the_web_server() -> None:
    loaded = modules_loaded_by(["outbox", "--help"])

    assert loaded.isdisjoint({"fastapi", "slack_bolt", "matplotlib", "uvicorn"})


def test_the_help_listed_for_each_command_is_the_help_its_module_registers() -> None:
    light = argparse.ArgumentParser().add_subparsers()
    registry.register(light, [])
    full = argparse.ArgumentParser().add_subparsers()
    register_all(full)

    def helps(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> dict[str, str | None]:
        return {action.dest: action.help for action in sub._choices_actions}

    assert helps(light) == helps(full)
    assert list(helps(light)) == list(registry.COMMANDS)


def test_a_command_run_through_the_light_parser_gets_its_own_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["outbox", "requeue", "--help"])

    assert exited.value.code == 0
    assert "--dead" in capsys.readouterr().out


def test_an_unknown_command_is_refused_with_the_list_of_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sevre"])

    assert exited.value.code == 2
    assert "invalid choice: 'sevre'" in capsys.readouterr().err
