"""How long an envelope waits for its ack across a Socket Mode refresh, old adapter vs Leadbot's.

Slack gives an envelope 3 s to be acked. When it refreshes a connection (`disconnect`,
reason `refresh_requested`) the app opens a new one and envelopes arrive on it at once.
Each round: the Socket Mode stand-in sends `disconnect` on the live connection, waits for
the app's new connection (its `hello` sent), sends an `app_home_opened` envelope on it
straight away and times it until its ack comes back (the stand-in's window is widened so
that late acks are timed too). The app is the real one (`create_app`, SQLite file
database), wrapped once in slack_bolt's default adapter (slack_sdk's built-in client, as
`leadbot serve` used before) and once in `bot.slack.socket_mode.SocketModeHandler`.

Baseline, measured in the same run: the same envelope on a connection that is not being
refreshed, through the same adapter.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler as BuiltinHandler
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_sdk import WebClient

from bot.slack.app import create_app
from bot.slack.socket_mode import SocketModeHandler
from leadqual.bootstrap import bootstrap
from leadqual.settings import Settings
from tests.bot_helpers import DrainableExecutor
from tests.slack_standin import SlackStandIn
from tests.socket_standin import SocketModeStandIn

ROUNDS = 5
STEADY = 10  # envelopes on a steady connection, per adapter
BUDGET = 3.0
TARGET = 1.0 / BUDGET  # under 1 s: a third of the budget
APP_TOKEN = "xapp-1-A0BOT-1-bench"


def _home_opened(n: int) -> dict[str, Any]:
    return {
        "type": "app_home_opened",
        "user": f"UREP{n:02d}",
        "channel": f"DUREP{n:02d}",
        "tab": "home",
        "event_ts": f"1764000000.{n:06d}",
    }


def _measure(make: type[BaseSocketModeHandler], app: App, slack: SlackStandIn) -> tuple[list[float], list[float]]:
    """(waits across a refresh, waits on a steady connection) in seconds."""
    with SocketModeStandIn(slack, ack_window=60, retire_after=60) as socket:
        handler = make(app, app_token=APP_TOKEN)  # type: ignore[call-arg]
        try:
            handler.connect()
            socket.wait_for_links(1)
            steady = []
            for n in range(STEADY + 1):  # the first one warms up
                envelope = socket.events_api(_home_opened(n))
                assert envelope.wait_for_ack(60)
                steady.append(envelope.wait or 0.0)
            refresh = []
            for n in range(ROUNDS):
                socket.disconnect("refresh_requested")
                link = socket.wait_for_links(n + 2)
                envelope = socket.events_api(_home_opened(n), link=link)
                assert envelope.wait_for_ack(60), f"round {n}: no ack"
                refresh.append(envelope.wait or 0.0)
            assert socket.stray_acks == [], socket.stray_acks
            return refresh, steady[1:]
        finally:
            handler.close()


def measure() -> dict[str, tuple[list[float], list[float]]]:
    with tempfile.TemporaryDirectory() as tmp, SlackStandIn() as slack:
        settings = Settings(
            _env_file=None,
            DATABASE_URL=f"sqlite:///{Path(tmp) / 'bench.db'}",  # type: ignore[call-arg]
            LEADBOT_CHANNEL="C0LEADS",
            SLACK_BOT_TOKEN="xoxb-bench",
            SLACK_APP_TOKEN=APP_TOKEN,
        )
        ctx = bootstrap(settings)
        executor = DrainableExecutor()
        app = create_app(
            settings, ctx=ctx, client=WebClient(token="xoxb-bench", base_url=slack.url), listener_executor=executor
        )
        results = {"builtin": _measure(BuiltinHandler, app, slack), "leadbot": _measure(SocketModeHandler, app, slack)}
        executor.drain()
        executor.shutdown()
        ctx.session_factory.kw["bind"].dispose()
    return results


def main() -> list[dict[str, Any]]:
    results = measure()
    rows = []
    old_worst = max(results["builtin"][0])
    for name, label in (
        ("builtin", "slack_sdk built-in client (before)"),
        ("leadbot", "bot.slack.socket_mode (after)"),
    ):
        refresh, steady = results[name]
        worst, median, floor = max(refresh), statistics.median(refresh), statistics.median(steady)
        print(
            f"{label}: across a refresh median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms "
            f"= {worst / BUDGET:.3f} of 3 s; steady median {floor * 1000:.1f} ms"
        )
        after = name == "leadbot"
        rows.append(
            {
                "benchmark": "socket",
                "figure": f"Ack wait across a refresh, worst of {ROUNDS}, {label} (share of 3 s)",
                "value": round(worst / BUDGET, 3),
                "baseline": (
                    f"{old_worst / BUDGET:.3f} built-in client, same run"
                    if after
                    else f"{floor / BUDGET:.4f} steady connection, same adapter"
                ),
                "ratio": round(worst / old_worst, 3) if after else round(worst / floor, 1),
                "target": f"< {TARGET:.3f}" if after else "(reported)",
                "ok": worst / BUDGET < TARGET if after else None,
            }
        )
    return rows


if __name__ == "__main__":
    main()
