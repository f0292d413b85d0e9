"""CRM values -> a v1 lead record (a plain dict that `Lead.model_validate` then checks).

CRMs send every value as a string (HubSpot) or as typed XML text (Salesforce), sometimes
wrapped as `{"value": ...}` (HubSpot's older workflow bodies). Empty values mean "not set".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from leadqual.crm.fields import ATTRIBUTES

_INT = re.compile(r"^[+-]?\d[\d,_ ]*(\.0*)?$")
INT_FIELDS = frozenset({"company.employees"})


def unwrap(value: object) -> object:
    """A CRM value as sent: `"x"` or `{"value": "x"}` (HubSpot's workflow format); None when unset."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def as_int(value: object) -> int | None:
    """`"850"`, `"1,200"`, `"850.0"` or 850 as an int; None when it is not a whole number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and _INT.match(value.strip()):
        return int(re.sub(r"[,_ ]", "", value.strip()).split(".")[0])
    return None


def lead_record(values: Mapping[str, Any], mapping: Mapping[str, str], *, external_id: str | None) -> dict[str, Any]:
    """Build a lead record from CRM `values` through `mapping` (CRM name -> lead field path)."""
    record: dict[str, Any] = {}
    first = last = None
    for name, path in mapping.items():
        value = unwrap(values.get(name))
        if value is None:
            continue
        if path == "contact.first_name":
            first = str(value)
            continue
        if path == "contact.last_name":
            last = str(value)
            continue
        if path in INT_FIELDS:
            number = as_int(value)
            if number is None:  # kept, not lost: a sales-op can see what the CRM held
                record.setdefault("attributes", {})[name] = value
                continue
            value = number
        elif not path.startswith(ATTRIBUTES) and not isinstance(value, str):
            value = str(value)
        _put(record, path, value)
    name = " ".join(part for part in (first, last) if part)
    if name and "name" not in record.get("contact", {}):
        _put(record, "contact.name", name)
    if external_id:
        record["external_id"] = external_id
    return record


def field_of(mapping: Mapping[str, str], loc: list[Any] | tuple[Any, ...]) -> str | None:
    """The CRM property or field behind a lead validation error's `loc`, for error messages."""
    path = ".".join(str(p) for p in loc)
    for name, target in mapping.items():
        if target == path or (path == "contact.name" and target in ("contact.first_name", "contact.last_name")):
            return name
    return None


def _put(record: dict[str, Any], path: str, value: object) -> None:
    if path.startswith(ATTRIBUTES):
        record.setdefault("attributes", {})[path[len(ATTRIBUTES) :]] = value
        return
    *parents, leaf = path.split(".")
    target = record
    for parent in parents:
        target = target.setdefault(parent, {})
    target[leaf] = value
