"""Lines in a card's thread: who did what to the lead, when, and why (the decision log).

A line is rendered from the outbox row's payload, written when the change was stored, so
the thread keeps what happened then even after the lead moved on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from blocks.cards import OUTCOME_ICONS
from blocks.handoff import handoff_lines
from blocks.needs_info import info_received_text
from blocks.text import fit_mrkdwn, mention, one_line, when
from leadqual.decisions import MISSING_DETAILS
from leadqual.groups import Group
from leadqual.lead import Outcome

NOTE = 1000
PART = 300
SECTION_LIMIT = 3000


def thread_line(payload: dict[str, Any], *, tz: ZoneInfo | None = None) -> str:
    """The mrkdwn text of one thread line for a triage event payload (see leadqual.services.triage)."""
    event = str(payload.get("event") or "")
    actor = mention(payload.get("actor"))
    at = _at(payload.get("at"), tz)
    match event:
        case "claimed":
            text = f"👤 {actor} claimed this lead"
        case "released":
            text = f"↩️ {actor} released this lead"
            if payload.get("owner") and payload.get("owner") != payload.get("actor"):
                text += f" (held by {mention(payload.get('owner'))})"
        case "reassigned":
            previous = f" from {mention(payload.get('from'))}" if payload.get("from") else ""
            text = f"🔀 {actor} reassigned this lead{previous} to {mention(payload.get('to'))}"
        case "reopened":
            was = str(payload.get("previous") or "")
            label = Outcome(was).label if was in Outcome._value2member_map_ else was
            text = f"🔄 {actor} reopened this lead" + (f" (was {one_line(label, PART)})" if label else "")
        case "decided":
            text = _decision(payload, actor)
        case "info_received":
            text = info_received_text(payload, actor)
        case _:
            text = f"{actor}: {one_line(event or 'update', PART)}"
    note = payload.get("note")
    if note:
        text += "\n> " + one_line(note, NOTE)
    return fit_mrkdwn(f"{text} · {at}" if at else text, SECTION_LIMIT)


def sla_line(payload: dict[str, Any], *, lead: str) -> str:
    """The mrkdwn of one SLA step (leadqual.services.sla): `lead` is the lead's escaped, linked name."""
    minutes = _minutes(int(payload.get("after_minutes") or 0))
    value = str(payload.get("group") or "")
    group = Group(value).label if value in Group._value2member_map_ else "Priority"
    match payload.get("sla"):
        case "remind":
            return f"No one has claimed this {group} lead after {minutes}. Can someone take it?"
        case "escalate":
            return fit_mrkdwn(
                f"{lead}, a {group} lead, has been unclaimed for {minutes}. Can you find it an owner?", SECTION_LIMIT
            )
        case _:
            after = payload.get("suggested_owner")
            who = f"{mention(after)} is now suggested" if after else "The suggested owner was cleared"
            return fit_mrkdwn(f"Unclaimed after {minutes}. {who}.", SECTION_LIMIT)


def _minutes(minutes: int) -> str:
    if minutes % 60 == 0 and minutes >= 60:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _decision(payload: dict[str, Any], actor: str) -> str:
    outcome = Outcome(payload["outcome"])
    text = f"{OUTCOME_ICONS[outcome]} *{outcome.label}* — decided by {actor}"
    if outcome is Outcome.NOT_QUALIFIED:
        text += f"\nReason: {one_line(payload.get('reason_label') or payload.get('reason') or '-', PART)}"
    elif outcome is Outcome.QUALIFIED:
        fian = payload.get("fian") or {}
        # The handoff (DOMAIN.md: fit and intent confirmed, next step defined, artefacts requested).
        text += "\n" + "\n".join(
            handoff_lines(
                fian if isinstance(fian, dict) else {},
                artefacts=payload.get("artefacts") or (),
                next_step=payload.get("next_step"),
                next_step_on=payload.get("next_step_on"),
                owner=payload.get("actor"),
            )
        )
    elif outcome is Outcome.NURTURE and payload.get("follow_up_on"):
        text += f"\nFollow up on {one_line(payload['follow_up_on'], 20)}"
    elif outcome is Outcome.NEEDS_INFO:
        missing = ", ".join(MISSING_DETAILS.get(str(m), str(m)).lower() for m in payload.get("missing") or ())
        if missing:
            text += f"\nMissing: {one_line(missing, PART)}"
        fian = payload.get("fian") or {}
        ratings = " · ".join(f"{k.capitalize()} {one_line(v, 20)}" for k, v in fian.items() if v)
        if ratings:
            text += f"\n{ratings}"
    return text


def _at(value: object, tz: ZoneInfo | None) -> str:
    if not isinstance(value, str):
        return ""
    try:
        return when(datetime.fromisoformat(value), tz)
    except ValueError:
        return ""
