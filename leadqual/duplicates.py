"""What a duplicate lead brings that the stored one lacks, pure: fields that differ, signals not seen before.

A duplicate (the same contact's email while their lead is still open) is not stored as a
lead; its card's thread gets a line saying where it came from and what is new in it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Not news: identity and bookkeeping of the submission itself.
IGNORED = frozenset({"external_id", "received_at", "outcome", "attributes"})
SHOWN = 12  # fields listed in one thread line
VALUE = 300  # characters kept of each new value (the thread line shows a line of it)


@dataclass(frozen=True, slots=True)
class WhatIsNew:
    """The fields of the duplicate that differ from the stored lead (dotted path, new value) and new signals."""

    fields: tuple[tuple[str, str], ...]
    signals: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.fields and not self.signals

    def as_json(self) -> dict[str, Any]:
        return {"fields": [list(f) for f in self.fields], "signals": list(self.signals)}


def what_is_new(stored: Mapping[str, Any], incoming: Mapping[str, Any]) -> WhatIsNew:
    """Compare two lead payloads (as stored: the intake format, without empty fields)."""
    before = dict(_flat(stored))
    fields = [
        (path, _text(value))
        for path, value in _flat(incoming)
        if path.split(".", 1)[0] not in IGNORED and before.get(path) != value
    ]
    seen = {_signal(s) for s in stored.get("signals") or () if isinstance(s, Mapping)}
    signals = []
    for s in incoming.get("signals") or ():
        if isinstance(s, Mapping) and _signal(s) not in seen:
            seen.add(_signal(s))
            signals.append(":".join(p for p in _signal(s) if p))
    return WhatIsNew(tuple(fields[:SHOWN]), tuple(signals[:SHOWN]))


def _flat(payload: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in payload.items():
        path = f"{prefix}{key}"
        if key == "signals" and not prefix:
            continue
        if isinstance(value, Mapping):
            yield from _flat(value, f"{path}.")
        elif value is not None and value != "" and value != []:
            yield path, value


def _signal(s: Mapping[str, Any]) -> tuple[str, str]:
    return str(s.get("type") or ""), str(s.get("value") or "")


def _text(value: Any) -> str:
    text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return text[:VALUE]
