"""Pipeline outcomes: what happened after qualification (DESIGN.md, "Pipeline outcomes").

A report names a lead by `external_id` or `lead_id` and says which stage it reached, when,
and for how much: `{"external_id": "crm-000123", "stage": "won", "at": "...", "amount": 42000,
"currency": "USD"}`.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from leadqual.lead import Short, moment_in_utc


class Stage(StrEnum):
    OPPORTUNITY = "opportunity"
    WON = "won"
    LOST = "lost"


class StageReport(BaseModel):
    """One pipeline outcome for one lead."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    external_id: Short | None = None
    lead_id: int | None = Field(None, ge=1)
    stage: Stage
    at: datetime | None = None  # default: when it is recorded
    amount: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    currency: (
        Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")] | None
    ) = None
    source: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None

    @field_validator("at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return moment_in_utc(v) if v else None

    @model_validator(mode="after")
    def _names_one_lead(self) -> StageReport:
        if (self.external_id is None) == (self.lead_id is None):
            raise ValueError("name the lead with exactly one of external_id or lead_id")
        return self

    @property
    def name(self) -> dict[str, object]:
        return {"external_id": self.external_id} if self.external_id else {"lead_id": self.lead_id}


def later(stage_at: datetime, current_at: datetime | None) -> bool:
    """Whether a stage reached at `stage_at` replaces the current one (the latest wins; ties: the newer report)."""
    return current_at is None or stage_at >= current_at


_NAMES = ("external_id", "lead_id")


def without_pipeline(item: str | dict[str, Any]) -> str | dict[str, Any] | None:
    """An import item (JSON text or a record) without its `pipeline` key; None when it only reports."""
    if isinstance(item, str):
        if '"pipeline"' not in item:
            return item  # the fast path: pydantic parses the text itself
        try:
            parsed = json.loads(item)
        except ValueError:
            return item  # pydantic reports the bad JSON with its line
        if not isinstance(parsed, dict):
            return item
        item = parsed
    return split_record(item)[0]


def split_record(record: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Any]]:
    """Split an import record into its lead (None when it only names one) and its pipeline reports.

    `{"external_id": "crm-1", "company": {...}, "pipeline": {"stage": "won"}}` is a lead and a
    report for it; `{"external_id": "crm-1", "pipeline": [...]}` or `{"pipeline": {"external_id":
    ..., "stage": ...}}` only reports. A report without a name takes the record's.
    """
    if "pipeline" not in record:
        return record, []
    rest = {k: v for k, v in record.items() if k != "pipeline"}
    raw = record["pipeline"]
    items = raw if isinstance(raw, list) else [raw]
    name = {k: rest[k] for k in _NAMES if rest.get(k) is not None}
    reports = [
        {**name, **item} if isinstance(item, dict) and not any(k in item for k in _NAMES) else item for item in items
    ]
    lead = {k: v for k, v in rest.items() if k != "lead_id"}
    return (lead if set(lead) - {"external_id"} else None), reports
