"""/lead's Add a lead modal: the inputs, the intake record it makes, and intake errors put on their fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    EmailInputElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
)
from slack_sdk.models.views import View

from blocks import ids
from blocks.modals import State, modal, value_of

# Add-a-lead inputs: block id -> the intake field (dotted path) it fills.
ADD_LEAD_FIELDS = {
    ids.ADD_COMPANY: "company.name",
    ids.ADD_CONTACT_NAME: "contact.name",
    ids.ADD_EMAIL: "contact.email",
    ids.ADD_TITLE: "contact.title",
    ids.ADD_INDUSTRY: "company.industry",
    ids.ADD_COUNTRY: "company.country",
    ids.ADD_NEED: "need.problem",
    ids.ADD_MESSAGE: "message",
}


def add_lead_modal(*, metadata: str) -> View:
    """Company, contact, title, industry, country, need and message; company or email is required."""

    def text(
        block_id: str, label: str, *, hint: str | None = None, multiline: bool = False, max_length: int = 300
    ) -> InputBlock:
        return InputBlock(
            block_id=block_id,
            label=label,
            optional=True,
            hint=hint,
            element=PlainTextInputElement(action_id=block_id, multiline=multiline, max_length=max_length),
        )

    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(text="Scored and routed like any other lead. Give at least a company or an email.")
            ]
        ),
        text(ids.ADD_COMPANY, "Company"),
        text(ids.ADD_CONTACT_NAME, "Contact name"),
        InputBlock(
            block_id=ids.ADD_EMAIL,
            label="Contact email",
            optional=True,
            element=EmailInputElement(action_id=ids.ADD_EMAIL),
        ),
        text(ids.ADD_TITLE, "Title", hint="e.g. Maintenance Manager"),
        text(ids.ADD_INDUSTRY, "Industry", hint="e.g. metals, chemicals, energy, water"),
        text(ids.ADD_COUNTRY, "Country", hint="Two-letter code, e.g. US", max_length=2),
        text(ids.ADD_NEED, "Need", hint="The problem or project in a sentence", multiline=True, max_length=2000),
        text(ids.ADD_MESSAGE, "Message", multiline=True, max_length=3000),
    ]
    return modal(ids.ADD_LEAD_VIEW, "Add a lead", blocks, metadata=metadata, submit="Add lead")


def read_add_lead(state: State, *, user_id: str) -> dict[str, Any]:
    """The intake record (v1 format) the Add-a-lead modal describes."""
    record: dict[str, Any] = {"source": "slack", "attributes": {"added_by": user_id}}
    for block_id, path in ADD_LEAD_FIELDS.items():
        value = value_of(state, block_id)
        if value is None:
            continue
        target = record
        *parents, leaf = path.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return record


def add_lead_errors(errors: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Intake validation errors (leadqual InvalidLead.errors) -> {block_id: message}."""
    by_path = {path: block_id for block_id, path in ADD_LEAD_FIELDS.items()}
    found: dict[str, str] = {}
    for error in errors:
        path = ".".join(str(p) for p in error.get("loc") or ())
        block_id = by_path.get(path, ids.ADD_COMPANY)  # whole-lead errors ("company or email") go on top
        found.setdefault(block_id, str(error.get("msg") or "Invalid value")[:150])
    return found
