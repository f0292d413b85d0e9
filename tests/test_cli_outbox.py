"""`leadbot outbox list | requeue`, through the CLI entry point, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from leadqual.bootstrap import bootstrap
from leadqual.services import delivery, outbox
from leadqual.services.context import Context
from tests.conftest import make_settings
from tests.outbox_helpers import ingest_leads, outbox_rows, queue


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> Iterator[Context]:
    """The CLI's environment on the test database, and a context to arrange and inspect it."""
    monkeypatch.chdir(tmp_path)
    for name in ("LEADBOT_CONFIG", "LEADBOT_RULES", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("LEADBOT_CHANNEL", "C0LEADS")
    ctx = bootstrap(make_settings(db_url), migrate=False)
    yield ctx
    ctx.session_factory.kw["bind"].dispose()


def a_dead_card_with_its_thread_line(ctx: Context) -> tuple[int, int]:
    """A card that Slack refused (its queued thread line died with it); returns both row ids."""
    [lead_id] = ingest_leads(ctx, 1)
    queue(ctx, outbox.THREAD, lead_id=lead_id, channel_id="C0LEADS", payload={"text": "Claimed by Dana"})
    [card] = delivery.lease_due(ctx, limit=1, worker_id="w")
    delivery.mark_dead(ctx, card.id, "slack: not_in_channel")
    thread = outbox_rows(ctx, kind="thread")[0].id
    return card.id, thread


def test_list_shows_what_waits_and_what_died_with_its_kind_channel_lead_attempts_and_error(
    env: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    card, _ = a_dead_card_with_its_thread_line(env)
    [waiting_lead] = ingest_leads(env, 1)
    [waiting] = outbox_rows(env, status="pending")

    assert main(["outbox", "list"]) == 0

    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == [
        "id",
        "kind",
        "status",
        "channel",
        "lead",
        "attempts",
        "next",
        "attempt",
        "last",
        "error",
    ]
    dead_line = next(line for line in lines if line.startswith(f"#{card} "))
    assert dead_line.split()[:6] == [f"#{card}", "card", "dead", "C0LEADS", str(waiting_lead - 1), "1"]
    assert dead_line.endswith("slack: not_in_channel")
    waiting_line = next(line for line in lines if line.startswith(f"#{waiting.id} "))
    assert waiting_line.split()[:6] == [f"#{waiting.id}", "card", "pending", "C0LEADS", str(waiting_lead), "0"]
    assert waiting.next_attempt_at.strftime("%Y-%m-%d %H:%M:%SZ") in waiting_line
    assert lines[-1].startswith("1 pending, 2 dead outbox rows")


def test_list_filters_to_the_dead_or_the_pending_rows(env: Context, capsys: pytest.CaptureFixture[str]) -> None:
    card, thread = a_dead_card_with_its_thread_line(env)
    ingest_leads(env, 1)

    assert main(["outbox", "list", "--dead"]) == 0
    dead = capsys.readouterr().out
    assert main(["outbox", "list", "--pending"]) == 0
    pending = capsys.readouterr().out

    assert [line.split()[0] for line in dead.splitlines()[1:-1]] == [f"#{card}", f"#{thread}"]
    assert dead.splitlines()[-1].startswith("2 dead outbox rows")
    assert [line.split()[2] for line in pending.splitlines()[1:-1]] == ["pending"]
    assert pending.splitlines()[-1] == "1 pending outbox rows"


def test_requeue_by_id_brings_a_dead_card_back_with_the_thread_line_that_died_with_it(
    env: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    card, thread = a_dead_card_with_its_thread_line(env)

    assert main(["outbox", "requeue", str(card)]) == 0

    assert capsys.readouterr().out.strip() == f"re-queued 2 dead outbox rows: #{card}, #{thread}"
    assert [(r.status, r.attempts, r.last_error) for r in outbox_rows(env)] == [
        ("pending", 1, None),
        ("pending", 0, None),
    ]


def test_requeue_dead_brings_every_dead_row_back(env: Context, capsys: pytest.CaptureFixture[str]) -> None:
    a_dead_card_with_its_thread_line(env)
    a_dead_card_with_its_thread_line(env)

    assert main(["outbox", "requeue", "--dead"]) == 0

    assert capsys.readouterr().out.startswith("re-queued 4 dead outbox rows")
    assert {r.status for r in outbox_rows(env)} == {"pending"}


def test_requeue_of_an_unknown_or_living_id_is_one_error_line_and_changes_nothing(
    env: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    card, _ = a_dead_card_with_its_thread_line(env)
    [_lead] = ingest_leads(env, 1)
    [pending] = outbox_rows(env, status="pending")

    assert main(["outbox", "requeue", str(card), "9999", str(pending.id)]) == 1

    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"leadbot: error: no outbox row #9999; #{pending.id} is pending "
        "(only dead rows are re-queued); nothing was re-queued"
    ]
    assert [r.status for r in outbox_rows(env)] == ["dead", "dead", "pending"]


def test_requeue_needs_ids_or_dead_but_not_both(env: Context, capsys: pytest.CaptureFixture[str]) -> None:
    card, _ = a_dead_card_with_its_thread_line(env)

    assert main(["outbox", "requeue"]) == 1
    assert main(["outbox", "requeue", "--dead", str(card)]) == 1

    err = capsys.readouterr().err.splitlines()
    assert err == ["leadbot: error: outbox requeue: name the row ids, or --dead for every dead row (not both)"] * 2
    assert [r.status for r in outbox_rows(env)] == ["dead", "dead"]


def test_the_worker_no_longer_takes_the_old_dead_row_flags(env: Context, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["worker", "--list-dead"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --list-dead" in capsys.readouterr().err
