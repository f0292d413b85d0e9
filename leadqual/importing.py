"""Read lead files (JSON Lines or CSV) into records, remembering each record's line number."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from leadqual.errors import ImportFailed

# CSV columns that hold lists or numbers, and how to read them.
_CSV_INTS = {"company.employees"}


def read_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Return (line number, record) pairs; raise ImportFailed naming file and line on bad syntax."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFailed([f"{path}: cannot read: {exc.strerror}"]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFailed([f"{path}: not UTF-8 text (byte {exc.start})"]) from None
    kind = "csv" if path.suffix.lower() in {".csv", ".tsv"} else "jsonl"
    if path.suffix.lower() == ".json":
        return _read_json_array(path, text)
    return list(_read_csv(path, text) if kind == "csv" else _read_jsonl(path, text))


def _read_jsonl(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    problems: list[str] = []
    records: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{number}: invalid JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(record, dict):
            problems.append(f"{path}:{number}: each line must be one JSON object")
            continue
        records.append((number, record))
    if problems:
        raise ImportFailed(problems)
    yield from records


def _read_json_array(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailed([f"{path}:{exc.lineno}: invalid JSON: {exc.msg}"]) from None
    items = data if isinstance(data, list) else [data]
    if not all(isinstance(r, dict) for r in items):
        raise ImportFailed([f"{path}:1: expected a JSON array of lead objects"])
    return [(i + 1, r) for i, r in enumerate(items)]


def _read_csv(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    if not reader.fieldnames:
        raise ImportFailed([f"{path}:1: the CSV file has no header row"])
    for row in reader:
        number = reader.line_num
        if None in row:
            raise ImportFailed([f"{path}:{number}: more cells than header columns"])
        yield number, csv_row_to_record(row)


def csv_row_to_record(row: dict[str, str | None]) -> dict[str, Any]:
    """Turn dotted columns (`company.name`) into nested records; `signals` is `type` or `type=value`, `;`-separated."""
    record: dict[str, Any] = {}
    for column, cell in row.items():
        value = (cell or "").strip()
        if not value or not column:
            continue
        column = column.strip()
        if column == "signals":
            record["signals"] = [_signal(part) for part in value.split(";") if part.strip()]
            continue
        target = record
        *parents, leaf = column.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = int(value) if column in _CSV_INTS and value.lstrip("-").isdigit() else value
    return record


def _signal(part: str) -> dict[str, str]:
    kind, _, value = part.strip().partition("=")
    return {"type": kind.strip(), "value": value.strip()} if value.strip() else {"type": kind.strip()}
