"""Every refusal a user can meet in Slack is worded by blocks.errors, from the error's data."""

from __future__ import annotations

import leadqual.errors as domain
from blocks.errors import _WORDS, decision_problem, user_message
from leadqual.decisions import Problem
from leadqual.errors import AlreadyClaimed, InvalidDecision, LeadbotError, NotOwner

# Raised at start-up, by the CLI or the HTTP API: their own edges print str(error) or field errors.
NOT_SLACK = {
    domain.ConfigError,
    domain.RulesError,
    domain.InvalidLead,
    domain.ImportFailed,
    domain.UnknownLeads,
    domain.OutboxRowsNotFound,
}


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_domain_error_a_slack_user_can_meet_has_its_own_wording() -> None:
    slack_facing = {c for c in _subclasses(LeadbotError) if c.__module__ == "leadqual.errors"} - NOT_SLACK
    assert slack_facing and slack_facing <= set(_WORDS), sorted(c.__name__ for c in slack_facing - set(_WORDS))


def test_people_are_mentioned_and_hostile_owner_names_are_escaped() -> None:
    assert user_message(AlreadyClaimed("U0REP")) == "This lead is already claimed by <@U0REP>."
    assert "<!channel>" not in user_message(NotOwner("<!channel>"))


def test_a_refused_decision_words_every_field_problem() -> None:
    text = user_message(InvalidDecision({"fit": Problem.NOT_CONFIRMED, "reason": Problem.REQUIRED}))
    assert text == ("Not saved: Qualifying needs a confirmed fit; choose Needs info or Nurture instead. Pick a reason.")


def test_a_field_the_wording_does_not_know_still_gets_a_pointer() -> None:
    assert decision_problem("fit", Problem.REQUIRED) == "Rate fit."
    assert decision_problem("unheard_of", Problem.REQUIRED) == "Check this field."
