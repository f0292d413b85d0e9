"""Pipeline reports inside a lead file (`leadbot import`): records with a `pipeline` key."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from leadqual.errors import ImportFailed
from leadqual.importing import read_records
from leadqual.pipeline import StageReport, split_record


def mentions_pipeline(path: Path) -> bool:
    """A cheap look before parsing the file a second time: most lead files carry no pipeline."""
    try:
        head = path.read_bytes()
    except OSError:
        return False  # read_records reports it
    return b"pipeline" in head


def read_stage_reports(path: Path) -> list[tuple[int, StageReport]]:
    """(line, report) for every pipeline report in the file; ImportFailed names each bad one's line."""
    if not mentions_pipeline(path):
        return []
    reports: list[tuple[int, StageReport]] = []
    problems: list[str] = []
    for number, record in read_records(path):
        for item in split_record(record)[1]:
            try:
                reports.append((number, StageReport.model_validate(item)))
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    loc = ".".join(str(p) for p in ("pipeline", *err["loc"]))
                    problems.append(f"{path}:{number}: {loc}: {err['msg'].removeprefix('Value error, ')}")
    if problems:
        raise ImportFailed(problems)
    return reports
