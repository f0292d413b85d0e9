"""What listeners need besides Bolt's own arguments: the service Context (its `managers` say who is one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_bolt import App, BoltContext

from leadqual.services.context import Context

KEY = "leadbot"


@dataclass(frozen=True)
class Leadbot:
    """Attached to every request's context by `attach`."""

    ctx: Context

    def is_manager(self, user_id: str) -> bool:
        return self.ctx.managers.is_manager(user_id)


def attach(app: App, leadbot: Leadbot) -> None:
    """Make `leadbot(context)` available in every listener (a global middleware)."""

    @app.middleware
    def _attach(context: BoltContext, next_: Callable[[], None]) -> None:
        context[KEY] = leadbot
        next_()


def leadbot(context: BoltContext) -> Leadbot:
    found = context.get(KEY)
    if not isinstance(found, Leadbot):
        raise RuntimeError("the Leadbot middleware did not run")
    return found
