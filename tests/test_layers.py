"""The layers hold: `blocks/` renders plain objects, `leadqual/` knows nothing of Slack.

Each module's own source is read as an AST (nothing is imported or followed), so the check
is fast and names the file and line that broke the rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCKS_MAY_NOT_IMPORT = ("sqlalchemy", "leadqual.db", "leadqual.services")
DOMAIN_MAY_NOT_IMPORT = ("slack_sdk", "slack_bolt")
PURE_MODELS = ("calendar", "decisions", "figures", "managers", "readmodels")
SLACK_MARKUP = ("<@", "<!")


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every import, `from a import b` counted as both `a` and `a.b`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def forbidden(path: Path, prefixes: tuple[str, ...]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: dict[int, str] = {}
    for line, name in imported(tree):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            found.setdefault(line, name)
    return [f"{shown(path)}:{line}: imports {name}" for line, name in sorted(found.items())]


def markup(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [
        f"{shown(path)}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and any(m in node.value for m in SLACK_MARKUP)
    ]


def test_the_checks_see_a_forbidden_import_and_a_mention(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'from leadqual.services import triage\nfrom leadqual import db\nimport sqlalchemy.orm\nTEXT = f"<@{triage}>"\n'
    )
    assert len(forbidden(sample, BLOCKS_MAY_NOT_IMPORT)) == 3
    assert len(markup(sample)) == 1


@pytest.mark.parametrize("path", modules("blocks"), ids=lambda p: p.name)
def test_blocks_import_neither_sqlalchemy_nor_the_database_nor_services(path: Path) -> None:
    assert forbidden(path, BLOCKS_MAY_NOT_IMPORT) == []


@pytest.mark.parametrize("path", modules("leadqual"), ids=lambda p: str(p.relative_to(ROOT / "leadqual")))
def test_the_domain_imports_no_slack_library(path: Path) -> None:
    assert forbidden(path, DOMAIN_MAY_NOT_IMPORT) == []


@pytest.mark.parametrize("path", modules("leadqual"), ids=lambda p: str(p.relative_to(ROOT / "leadqual")))
def test_the_domain_writes_no_slack_markup(path: Path) -> None:
    assert markup(path) == []


@pytest.mark.parametrize("name", PURE_MODELS)
def test_the_pure_models_import_no_sqlalchemy_and_no_services(name: str) -> None:
    assert forbidden(ROOT / "leadqual" / f"{name}.py", BLOCKS_MAY_NOT_IMPORT) == []
