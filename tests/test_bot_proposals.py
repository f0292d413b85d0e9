"""Apply and Roll back on the digest, through the real Bolt app: managers only, one version per click."""

from __future__ import annotations

from sqlalchemy import func, select

from blocks import ids
from leadqual.db.models import RulesetVersion
from leadqual.proposals import ProposalKind
from tests.bot_helpers import Bot, bot_fixture  # noqa: F401  (the `bot` fixture)
from tests.feedback_helpers import store_proposal

MANAGER = "UMANAGER"


def versions(bot: Bot) -> list[tuple[int, bool, str]]:
    with bot.ctx.transaction() as session:
        return [
            (r.version, r.active, r.origin)
            for r in session.scalars(select(RulesetVersion).order_by(RulesetVersion.version))
        ]


def ephemeral_calls(bot: Bot, user: str) -> list[dict]:
    return [c.params for c in bot.slack.calls_to("chat.postEphemeral") if c.params.get("user") == user]


def test_a_manager_applies_a_proposal_and_is_told_the_new_version(bot: Bot) -> None:
    pid = store_proposal(bot.ctx)
    response = bot.click(ids.APPLY_PROPOSAL, 0, MANAGER, value=pid)
    assert response.status == 200
    assert versions(bot) == [(1, False, "file"), (2, True, "apply")]
    [answer] = ephemeral_calls(bot, MANAGER)
    assert answer["text"] == f"Applied {pid}: ruleset v2 is active."
    assert "ruleset v2 scores new leads from now on (was v1)" in answer["blocks"][0]["text"]["text"]
    assert answer["blocks"][0]["accessory"]["action_id"] == ids.ROLLBACK_RULESET
    assert bot.slack.rejected == []


def test_a_rep_is_refused_privately_and_nothing_changes(bot: Bot) -> None:
    pid = store_proposal(bot.ctx)
    bot.click(ids.APPLY_PROPOSAL, 0, "UREP1", value=pid)
    assert bot.ephemerals("UREP1") == ["Only a manager can do that."]
    assert versions(bot) == [(1, True, "file")]


def test_a_double_click_makes_one_version_and_says_it_was_already_applied(bot: Bot) -> None:
    pid = store_proposal(bot.ctx)
    bot.click(ids.APPLY_PROPOSAL, 0, MANAGER, value=pid)
    bot.click(ids.APPLY_PROPOSAL, 0, MANAGER, value=pid)
    assert [v for v, _, _ in versions(bot)] == [1, 2]
    assert bot.ephemerals(MANAGER)[-1] == f"Proposal {pid} is already applied (ruleset v2)."


def test_roll_back_reactivates_the_previous_version_once(bot: Bot) -> None:
    bot.click(ids.APPLY_PROPOSAL, 0, MANAGER, value=store_proposal(bot.ctx))
    bot.click(ids.ROLLBACK_RULESET, 0, MANAGER, value="2")
    bot.click(ids.ROLLBACK_RULESET, 0, MANAGER, value="2")  # the second click finds v1 active
    assert versions(bot) == [(1, True, "file"), (2, False, "apply")]
    assert bot.ephemerals(MANAGER)[-2:] == [
        "Rolled back: ruleset v1 scores new leads again; v2 stays on record.",
        "The active ruleset is now v1, not v2: nothing was changed.",
    ]


def test_only_a_manager_may_roll_back(bot: Bot) -> None:
    bot.click(
        ids.APPLY_PROPOSAL,
        0,
        MANAGER,
        value=store_proposal(bot.ctx, kind=ProposalKind.RETIRE_RULE, target="webinar", current=5, proposed=None),
    )
    bot.click(ids.ROLLBACK_RULESET, 0, "UREP1", value="2")
    assert bot.ephemerals("UREP1") == ["Only a manager can do that."]
    with bot.ctx.transaction() as session:
        assert session.scalar(select(func.max(RulesetVersion.version)).where(RulesetVersion.active)) == 2
