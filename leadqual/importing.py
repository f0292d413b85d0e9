"""Read lead files (JSON Lines or CSV) into records, remembering each record's line number."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from leadqual.errors import ImportFailed
from leadqual.lead import Lead
from leadqual.pipeline import without_pipeline
from leadqual.scoring import Ruleset
from leadqual.services.intake import field_errors, prepare

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


# --- Preparing a whole file --------------------------------------------------------------

CHUNK = 1000  # progress is reported per chunk
# (Preparing in forked worker processes was tried: pickling 20k prepared rows back to the
# parent cost as much as the second core saved, so preparation stays in-process.)


def raw_records(path: Path) -> list[tuple[int, str | dict[str, Any]]]:
    """(line, record) pairs where JSON Lines stay unparsed text, for pydantic to parse and validate at once."""
    if path.suffix.lower() in {".csv", ".tsv", ".json"}:
        return list(read_records(path))
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ImportFailed([f"{path}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise ImportFailed([f"{path}: not UTF-8 text (byte {exc.start})"]) from None
    return [
        (n, line)
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def prepare_file(
    path: Path, ruleset: Ruleset, now: datetime, *, progress: Callable[[int, int], None] | None = None
) -> list[dict[str, Any]]:
    """Validate, score and build rows for every record of a file; ImportFailed lists every bad line.

    `progress(done, total)` is called after each chunk.
    """
    items = raw_records(path)
    if not items:
        raise ImportFailed([f"{path}: no leads in the file"])
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for start in range(0, len(items), CHUNK):
        chunk_rows, chunk_problems = _prepare_chunk(str(path), ruleset, now, items[start : start + CHUNK])
        rows.extend(chunk_rows)
        problems.extend(chunk_problems)
        if progress:
            progress(min(CHUNK, len(items) - start), len(items))
    if problems:
        raise ImportFailed(problems)
    return rows


def _prepare_chunk(
    path: str, ruleset: Ruleset, now: datetime, chunk: list[tuple[int, str | dict[str, Any]]]
) -> tuple[list[dict[str, Any]], list[str]]:
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, item in chunk:
        lead_part = without_pipeline(item)  # pipeline reports are read by leadqual.pipeline_import
        if lead_part is None:
            continue
        item = lead_part
        try:
            lead = Lead.model_validate_json(item) if isinstance(item, str) else Lead.model_validate(item)
        except ValidationError as exc:
            problems.extend(_describe(path, number, exc))
            continue
        rows.append(prepare(lead, ruleset, now))
    return rows, problems


def _describe(path: str, number: int, exc: ValidationError) -> list[str]:
    out = []
    for err in field_errors(exc, index=0, where=f"{path}:{number}"):
        if err["type"] == "json_invalid":
            out.append(f"{path}:{number}: invalid JSON: {err['msg']}")
        elif err["type"] == "model_type" and not err["loc"]:
            out.append(f"{path}:{number}: each line must be one JSON object")
        else:
            loc = ".".join(str(p) for p in err["loc"])
            out.append(f"{path}:{number}: {loc + ': ' if loc else ''}{err['msg']}")
    return out
