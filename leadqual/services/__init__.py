"""Use cases shared by every edge (HTTP, Slack, CLI, demo): open a session, call the domain, commit."""

from leadqual.services.context import Context

__all__ = ["Context"]
