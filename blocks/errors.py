"""What a user is told when Leadbot refuses or fails an action (mrkdwn for an ephemeral note).

Domain errors carry data (the owner, the fields at fault); this module words them for Slack,
mentioning people with `mention()`, which escapes anything that is not a Slack user id (an
owner from imported CRM history may be "<!channel>" or "Jane <x>").
"""

from __future__ import annotations

from blocks.text import mention
from leadqual.errors import AlreadyClaimed, InvalidDecision, LeadbotError, NotOwner

SORRY = "Something went wrong on Leadbot's side and nothing was changed; it has been logged. Try again in a moment."


def user_message(error: Exception) -> str:
    """What to tell the user about `error` (mrkdwn)."""
    if isinstance(error, AlreadyClaimed):
        return f"This lead is already claimed by {mention(error.owner_id)}."
    if isinstance(error, NotOwner) and error.owner_id:
        return f"Only {mention(error.owner_id)} or a manager can do that."
    if isinstance(error, InvalidDecision):
        return "Not saved: " + " ".join(error.errors.values())
    if isinstance(error, LeadbotError):
        return str(error)
    return SORRY
