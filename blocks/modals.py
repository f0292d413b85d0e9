"""Modals: the four decisions (Qualify, Disqualify, Nurture, Needs info) and Reassign (Add a lead: blocks.add_lead).

Each builder returns a typed `View`; each `read_*` turns a submission's state back into the
domain input, and `*_errors` maps the domain's field errors onto the block that shows them
(`ack(response_action="errors", errors=...)`). Block ids are in `blocks.ids`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from blocks import ids
from blocks.cards import lead_summary
from blocks.errors import decision_problem
from blocks.handoff import ARTEFACT_LABELS
from blocks.text import MODAL_TITLE, OPTION_LABEL, OPTION_VALUE, PRIVATE_METADATA, fit_mrkdwn, plain
from leadqual.config import Reason
from leadqual.decisions import FIAN, MISSING_DETAILS, NEXT_STEP_MAX, NOTE_MAX, DecisionInput, Problem, Rating
from leadqual.lead import Outcome
from leadqual.readmodels import LeadCard

MAX_OPTIONS = 100  # static_select

# Domain field -> block that shows its error, per decision.
DECISION_FIELDS = {
    **ids.FIAN_BLOCKS,
    "motion": ids.MOTION,
    "next_step": ids.NEXT_STEP,
    "next_step_on": ids.NEXT_STEP_ON,
    "reason": ids.REASON,
    "follow_up_on": ids.FOLLOW_UP_ON,
    "missing": ids.MISSING,
    "artefacts": ids.ARTEFACTS,
    "arrived": ids.ARRIVED,
    "note": ids.NOTE,
}

# ---------------------------------------------------------------------------
# private_metadata: which lead (and card) a modal is about
# ---------------------------------------------------------------------------


def encode_metadata(**values: Any) -> str:
    """JSON for a view's private_metadata (ids only, well under Slack's 3000 characters)."""
    text = json.dumps({k: v for k, v in values.items() if v is not None}, separators=(",", ":"))
    if len(text) > PRIVATE_METADATA:
        raise ValueError("private_metadata too long")
    return text


def decode_metadata(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# ---------------------------------------------------------------------------
# Decision modals
# ---------------------------------------------------------------------------


def modal(callback_id: str, title: str, blocks: Sequence[Block], *, metadata: str, submit: str = "Save") -> View:
    return View(
        type="modal",
        callback_id=callback_id,
        title=plain(title, MODAL_TITLE),
        submit=plain(submit, MODAL_TITLE),
        close="Cancel",
        blocks=list(blocks),
        private_metadata=metadata,
    )


def _about(card: LeadCard) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=fit_mrkdwn(lead_summary(card))))


def _note(*, optional: bool = True, label: str = "Note") -> InputBlock:
    return InputBlock(
        block_id=ids.NOTE,
        label=label,
        optional=optional,
        element=PlainTextInputElement(action_id=ids.NOTE, multiline=True, max_length=NOTE_MAX),
    )


# For the other modals built on these (blocks.needs_info).
about, note_input = _about, _note


def _artefacts() -> InputBlock:
    options = [Option(value=value, label=label) for value, label in ARTEFACT_LABELS.items()]
    return InputBlock(
        block_id=ids.ARTEFACTS,
        label="Artefacts requested",
        optional=True,
        hint="What you asked the customer for; the handoff lists them as still missing.",
        element=CheckboxesElement(action_id=ids.ARTEFACTS, options=options),
    )


def _rating_options() -> list[Option]:
    return [Option(value=r.value, label=r.label) for r in Rating]


def qualify_modal(card: LeadCard, *, motions: Iterable[tuple[str, str]], metadata: str) -> View:
    """FIAN checklist, buying motion, next step and its date, note."""
    blocks: list[Block] = [_about(card)]
    for criterion in FIAN:
        blocks.append(
            InputBlock(
                block_id=ids.FIAN_BLOCKS[criterion],
                label=criterion.label,
                element=RadioButtonsElement(action_id=ids.FIAN_BLOCKS[criterion], options=_rating_options()),
            )
        )
    options = [
        Option(value=plain(value, OPTION_VALUE), label=plain(label, OPTION_LABEL))
        for value, label in list(motions)[:MAX_OPTIONS]
    ]
    if options:
        initial = next((o for o in options if o.value == card.segment), None)
        blocks.append(
            InputBlock(
                block_id=ids.MOTION,
                label="Buying motion",
                optional=True,
                element=StaticSelectElement(
                    action_id=ids.MOTION, placeholder="Pick one", options=options, initial_option=initial
                ),
            )
        )
    blocks += [
        InputBlock(
            block_id=ids.NEXT_STEP,
            label="Next step",
            element=PlainTextInputElement(
                action_id=ids.NEXT_STEP,
                max_length=NEXT_STEP_MAX,
                placeholder="e.g. site visit, send quote, technical call",
            ),
        ),
        InputBlock(
            block_id=ids.NEXT_STEP_ON,
            label="Next step date",
            optional=True,
            element=DatePickerElement(action_id=ids.NEXT_STEP_ON),
        ),
        _artefacts(),
        _note(),
    ]
    return modal(ids.QUALIFY_VIEW, "Qualify lead", blocks, metadata=metadata, submit="Qualify")


def disqualify_modal(card: LeadCard, *, reasons: Iterable[Reason], metadata: str) -> View:
    """A required reason code from the configured list, and a note."""
    options = [Option(value=r.code, label=plain(r.label, OPTION_LABEL)) for r in list(reasons)[:MAX_OPTIONS]]
    blocks: list[Block] = [
        _about(card),
        InputBlock(
            block_id=ids.REASON,
            label="Reason",
            element=StaticSelectElement(action_id=ids.REASON, placeholder="Why is it not qualified?", options=options),
        ),
        _note(),
    ]
    return modal(ids.DISQUALIFY_VIEW, "Disqualify lead", blocks, metadata=metadata, submit="Disqualify")


def nurture_modal(card: LeadCard, *, metadata: str) -> View:
    """A required follow-up date (after today) and a note."""
    blocks: list[Block] = [
        _about(card),
        InputBlock(
            block_id=ids.FOLLOW_UP_ON,
            label="Follow up on",
            hint="The lead shows in your App Home from that day.",
            element=DatePickerElement(action_id=ids.FOLLOW_UP_ON),
        ),
        _note(),
    ]
    return modal(ids.NURTURE_VIEW, "Nurture lead", blocks, metadata=metadata, submit="Nurture")


def needs_info_modal(card: LeadCard, *, metadata: str) -> View:
    """Which details are missing (at least one), and a note (required with Other)."""
    options = [Option(value=key, label=label) for key, label in MISSING_DETAILS.items()]
    blocks: list[Block] = [
        _about(card),
        InputBlock(
            block_id=ids.MISSING,
            label="What is missing?",
            element=CheckboxesElement(action_id=ids.MISSING, options=options),
        ),
        # Optional ratings: a criterion rated unknown gets its follow-up questions in the thread.
        *(
            InputBlock(
                block_id=ids.FIAN_BLOCKS[criterion],
                label=criterion.label,
                optional=True,
                element=RadioButtonsElement(action_id=ids.FIAN_BLOCKS[criterion], options=_rating_options()),
            )
            for criterion in FIAN
        ),
        _note(),
    ]
    return modal(ids.NEEDS_INFO_VIEW, "Needs more info", blocks, metadata=metadata)


def decision_modal(
    outcome: Outcome, card: LeadCard, *, motions: Iterable[tuple[str, str]], reasons: Iterable[Reason], metadata: str
) -> View:
    """The modal a decision button opens (ids.DECISIONS pairs each button with its outcome)."""
    match outcome:
        case Outcome.QUALIFIED:
            return qualify_modal(card, motions=motions, metadata=metadata)
        case Outcome.NOT_QUALIFIED:
            return disqualify_modal(card, reasons=reasons, metadata=metadata)
        case Outcome.NURTURE:
            return nurture_modal(card, metadata=metadata)
        case Outcome.NEEDS_INFO:
            return needs_info_modal(card, metadata=metadata)


def reassign_modal(card: LeadCard, *, metadata: str) -> View:
    """Pick the rep who takes the lead over (managers only)."""
    blocks: list[Block] = [
        _about(card),
        InputBlock(
            block_id=ids.REASSIGN_TO,
            label="Reassign to",
            element=UserSelectElement(action_id=ids.REASSIGN_TO, placeholder="Pick a rep", initial_user=card.owner_id),
        ),
    ]
    return modal(ids.REASSIGN_VIEW, "Reassign lead", blocks, metadata=metadata, submit="Reassign")


# ---------------------------------------------------------------------------
# Reading submissions
# ---------------------------------------------------------------------------

State = Mapping[str, Mapping[str, Mapping[str, Any]]]


def value_of(state: State, block_id: str) -> Any:
    """The submitted value of an input block, whatever its element type."""
    element = (state.get(block_id) or {}).get(block_id) or {}
    kind = element.get("type")
    if kind in ("radio_buttons", "static_select"):
        return (element.get("selected_option") or {}).get("value")
    if kind == "checkboxes":
        return tuple(o.get("value") for o in element.get("selected_options") or ())
    if kind == "datepicker":
        return element.get("selected_date")
    if kind == "users_select":
        return element.get("selected_user")
    value = element.get("value")
    return value.strip() or None if isinstance(value, str) else None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def read_decision(callback_id: str, state: State) -> DecisionInput:
    """The decision a modal's submission describes."""
    decision = ids.DECISION_BY_VIEW.get(callback_id)
    if decision is None:
        raise ValueError(f"not a decision modal: {callback_id}")
    note = value_of(state, ids.NOTE)
    outcome = decision.outcome
    if outcome is Outcome.QUALIFIED:
        fian = {c.value: _rating(value_of(state, ids.FIAN_BLOCKS[c])) for c in FIAN}
        return DecisionInput(
            outcome=Outcome.QUALIFIED,
            note=note,
            fian=fian,
            motion=value_of(state, ids.MOTION),
            next_step=value_of(state, ids.NEXT_STEP),
            next_step_on=_date(value_of(state, ids.NEXT_STEP_ON)),
            artefacts=tuple(value_of(state, ids.ARTEFACTS) or ()),
        )
    if outcome is Outcome.NOT_QUALIFIED:
        return DecisionInput(outcome=outcome, reason=value_of(state, ids.REASON), note=note)
    if outcome is Outcome.NURTURE:
        return DecisionInput(outcome=outcome, follow_up_on=_date(value_of(state, ids.FOLLOW_UP_ON)), note=note)
    rated = {c.value: _rating(value_of(state, ids.FIAN_BLOCKS[c])) for c in FIAN}
    return DecisionInput(
        outcome=outcome,
        missing=tuple(value_of(state, ids.MISSING) or ()),
        fian={k: v for k, v in rated.items() if v is not None},
        note=note,
    )


def _rating(value: Any) -> Rating | None:
    return Rating(value) if value in Rating._value2member_map_ else None


def decision_errors(errors: Mapping[str, Problem]) -> dict[str, str]:
    """Domain field problems -> {block_id: message} for response_action=errors."""
    return {DECISION_FIELDS.get(name, ids.NOTE): decision_problem(name, problem) for name, problem in errors.items()}


def read_reassign(state: State) -> str | None:
    return value_of(state, ids.REASSIGN_TO)
