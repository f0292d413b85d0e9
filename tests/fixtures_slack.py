"""Pytest fixture for the Slack Web API stand-in.

Import it from a conftest.py::

    from tests.fixtures_slack import slack  # noqa: F401
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.slack_standin import SlackStandIn


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    """A started SlackStandIn; ``slack.url`` is the WebClient base_url."""
    with SlackStandIn() as standin:
        yield standin
