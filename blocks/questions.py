"""The thread line of follow-up questions for the FIAN criteria a decision rated unknown.

The payload is queued by `leadqual.services.follow_up_questions`.
"""

from __future__ import annotations

from typing import Any

from blocks.text import SECTION, fit_mrkdwn, one_line
from leadqual.decisions import Criterion

QUESTION = 300


def questions_line(payload: dict[str, Any], *, motion_label: str | None = None) -> str:
    """`❔ Follow-up questions for what is still unknown`, then each criterion's questions as bullets."""
    parts = ["❔ *Follow-up questions* for what is still unknown" + _motion(motion_label or payload.get("motion"))]
    for entry in payload.get("questions") or ():
        value = str(entry.get("criterion") or "")
        label = Criterion(value).label if value in Criterion._value2member_map_ else one_line(value, 40)
        items = [f"• {one_line(q, QUESTION)}" for q in entry.get("items") or () if q]
        if items:
            parts.append(f"*{label}* (unknown)\n" + "\n".join(items))
    return fit_mrkdwn("\n".join(parts), SECTION)


def is_questions(payload: dict[str, Any]) -> bool:
    return isinstance(payload.get("questions"), list) and "text" not in payload


def _motion(motion: object) -> str:
    return f" ({one_line(str(motion).replace('_', ' '), 80)})" if motion else ""
