"""App Home's routing modals: set a rep away (through a date) or back, and Reassign a lead (managers).

Builders return typed `View`s; `read_*` turn a submission's state back into plain values.
Block ids are in `blocks.ids`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from blocks import ids
from blocks.modals import MAX_OPTIONS, State, modal, value_of
from blocks.text import OPTION_LABEL, plain
from leadqual.routing.readmodels import OpenLead

AWAY, BACK = "away", "back"


def away_modal(*, user_id: str, manager: bool, metadata: str) -> View:
    """Away through a date (empty: until back); managers also pick the rep and may mark them back."""
    blocks: list[Block] = []
    if manager:
        blocks.append(
            InputBlock(
                block_id=ids.AWAY_REP,
                label="Rep",
                element=UserSelectElement(action_id=ids.AWAY_REP, placeholder="Pick a rep", initial_user=user_id),
            )
        )
        away, back = Option(value=AWAY, label="Away"), Option(value=BACK, label="Back now")
        blocks.append(
            InputBlock(
                block_id=ids.AWAY_MODE,
                label="Availability",
                element=RadioButtonsElement(action_id=ids.AWAY_MODE, options=[away, back], initial_option=away),
            )
        )
    blocks.append(
        InputBlock(
            block_id=ids.AWAY_UNTIL,
            label="Away through (last day away)",
            optional=True,
            element=DatePickerElement(action_id=ids.AWAY_UNTIL, placeholder="Pick a date"),
            hint="Leave empty to stay away until marked back. Rotation and the SLA reassign skip reps who are away.",
        )
    )
    title = "Set availability" if manager else "I'm away"
    return modal(ids.AWAY_VIEW, title, blocks, metadata=metadata, submit="Save")


@dataclass(frozen=True, slots=True)
class AwayRequest:
    rep: str | None  # None: the submitting user
    back: bool
    until: date | None


def read_away(state: State) -> AwayRequest:
    """What an away modal's submission asks for."""
    raw = value_of(state, ids.AWAY_UNTIL)
    try:
        until = date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        until = None
    return AwayRequest(rep=value_of(state, ids.AWAY_REP), back=value_of(state, ids.AWAY_MODE) == BACK, until=until)


def away_errors(request: AwayRequest, *, today: date) -> dict[str, str]:
    """{block_id: message} for a submission refused before anything is stored (response_action=errors)."""
    if not request.back and request.until is not None and request.until < today:
        return {ids.AWAY_UNTIL: f"Pick today ({today.isoformat()}) or a later date."}
    return {}


def home_reassign_modal(leads: Sequence[OpenLead], *, metadata: str) -> View:
    """Pick an open lead and the rep who takes it over (the card's Reassign, from App Home)."""
    if not leads:
        blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text="No open leads to reassign."))]
        return View(type="modal", title="Reassign a lead", close="Close", blocks=blocks)
    options = [Option(value=str(lead.id), label=plain(_option(lead), OPTION_LABEL)) for lead in leads[:MAX_OPTIONS]]
    blocks = [
        InputBlock(
            block_id=ids.HOME_REASSIGN_LEAD,
            label="Lead",
            element=StaticSelectElement(action_id=ids.HOME_REASSIGN_LEAD, placeholder="Pick a lead", options=options),
        ),
        InputBlock(
            block_id=ids.REASSIGN_TO,
            label="Reassign to",
            element=UserSelectElement(action_id=ids.REASSIGN_TO, placeholder="Pick a rep"),
        ),
    ]
    if len(leads) > MAX_OPTIONS:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"The newest {MAX_OPTIONS} open leads.")]))
    return modal(ids.HOME_REASSIGN_VIEW, "Reassign a lead", blocks, metadata=metadata, submit="Reassign")


def _option(lead: OpenLead) -> str:
    held = "unclaimed" if lead.owner_id is None else "claimed"
    return f"#{lead.id} {lead.name} · {lead.group_label} · {held}"


def read_home_reassign(state: State) -> tuple[str | None, str | None]:
    """(lead id, rep) picked in Reassign a lead."""
    return value_of(state, ids.HOME_REASSIGN_LEAD), value_of(state, ids.REASSIGN_TO)
