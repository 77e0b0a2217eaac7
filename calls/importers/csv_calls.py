"""Calls from a CSV file in the canonical column layout.

Issue 4 adds saved per-vendor column mappings on top of this; the validation rules stay here. Every
problem is reported as (line, column, value, reason): line 1 is the header, the first data row is line 2,
as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from charset_normalizer import from_bytes
from django.utils import timezone

from calls.models import Call
from calls.months import center_tz
from calls.privacy import customer_key

COLUMNS = (
    "call_id",
    "agent_id",
    "queue",
    "direction",
    "customer_number",
    "entered_at",
    "answered_at",
    "wait_seconds",
    "talk_seconds",
    "hold_seconds",
    "acw_seconds",
    "transfers",
    "outcome",
    "complaint",
    "transfer_correct",
    "ended_by",
)
REQUIRED_COLUMNS = ("call_id", "direction", "entered_at")
DURATION_COLUMNS = ("wait_seconds", "talk_seconds", "hold_seconds", "acw_seconds", "transfers")
DIRECTIONS = {
    "inbound": Call.Direction.INBOUND,
    "in": Call.Direction.INBOUND,
    "呼入": Call.Direction.INBOUND,
    "outbound": Call.Direction.OUTBOUND,
    "out": Call.Direction.OUTBOUND,
    "呼出": Call.Direction.OUTBOUND,
}
BOOLEANS = {
    "1": True,
    "true": True,
    "yes": True,
    "是": True,
    "0": False,
    "false": False,
    "no": False,
    "否": False,
    "": False,
}
OUTCOMES = {choice.value for choice in Call.Outcome}
ENDED_BY = {choice.value for choice in Call.EndedBy}
MAX_SECONDS = 24 * 3600  # no single wait or talk lasts a day; larger is a unit error (ms?)


class FileError(ValueError):
    """The file as a whole cannot be read (encoding, header)."""


@dataclass
class RowError:
    line: int
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict:
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
        }


@dataclass
class ParsedFile:
    encoding: str
    rows: list[dict] = field(default_factory=list)  # valid rows, ready for Call(**row)
    errors: list[RowError] = field(default_factory=list)
    total: int = 0
    rejected_lines: set[int] = field(default_factory=set)


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding name. UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK, which
    Excel writes for Chinese), then whatever charset-normalizer finds most plausible."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    best = from_bytes(data).best()
    if best is None:
        raise FileError("The file is not text in any encoding this importer knows (UTF-8, GBK).")
    return str(best), best.encoding


def _sniff_dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _parse_time(raw: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(raw.replace("/", "-"))
    if timezone.is_naive(value):
        # Exports carry the floor's local time unless they say otherwise.
        value = value.replace(tzinfo=center_tz())
    return value


def parse(data: bytes, *, source: str, known_agents: dict[str, int]) -> ParsedFile:
    """Read and validate every row; nothing here touches the database.

    ``known_agents`` maps employee ids to agent primary keys.
    """
    text, encoding = decode(data)
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=_sniff_dialect(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise FileError(
            f"Line 1: the header lacks the column(s) {', '.join(missing)}; "
            f"expected columns: {', '.join(COLUMNS)}."
        )
    parsed = ParsedFile(encoding=encoding)
    seen: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        parsed.total += 1
        row, errors = _validate_row(raw, line=line, source=source, known_agents=known_agents)
        call_id = (raw.get("call_id") or "").strip()
        if call_id and call_id in seen:
            errors.append(
                RowError(
                    line,
                    "call_id",
                    call_id,
                    f"duplicate call id, first seen on line {seen[call_id]}",
                )
            )
        elif call_id:
            seen[call_id] = line
        if errors:
            parsed.errors.extend(errors)
            parsed.rejected_lines.add(line)
        else:
            parsed.rows.append(row)
    if parsed.total == 0:
        raise FileError("The file has a header but no rows.")
    return parsed


def _validate_row(
    raw: dict, *, line: int, source: str, known_agents: dict[str, int]
) -> tuple[dict, list[RowError]]:
    errors: list[RowError] = []
    value = {name: (raw.get(name) or "").strip() for name in COLUMNS}
    if None in raw:  # csv puts surplus cells under the key None
        errors.append(RowError(line, "", ",".join(raw[None]), "more cells than header columns"))

    def err(column: str, reason: str) -> None:
        errors.append(RowError(line, column, value[column], reason))

    row: dict = {"source": source, "external_id": value["call_id"], "queue": value["queue"]}
    if not value["call_id"]:
        err("call_id", "required")
    elif len(value["call_id"]) > 100:
        err("call_id", "longer than 100 characters")

    agent_id = None
    if value["agent_id"]:
        agent_id = known_agents.get(value["agent_id"])
        if agent_id is None:
            err("agent_id", "unknown agent: no agent has this employee id")
    row["agent_id"] = agent_id

    direction = DIRECTIONS.get(value["direction"].lower())
    if direction is None:
        err("direction", "must be inbound or outbound")
    row["direction"] = direction

    for column in ("entered_at", "answered_at"):
        row_key = "started_at" if column == "entered_at" else column
        row[row_key] = None
        if not value[column]:
            if column == "entered_at":
                err(column, "required")
            continue
        try:
            row[row_key] = _parse_time(value[column])
        except ValueError:
            err(column, "not a date and time (expected e.g. 2026-10-31 14:05:09)")
    if row["started_at"] and row["answered_at"] and row["answered_at"] < row["started_at"]:
        err("answered_at", "before entered_at")

    for column in DURATION_COLUMNS:
        row[column] = 0
        if not value[column]:
            continue
        try:
            number = int(value[column])
        except ValueError:
            err(column, "not a whole number")
            continue
        if number < 0:
            err(column, "negative")
        elif number > MAX_SECONDS:
            err(column, f"larger than {MAX_SECONDS} (a day); seconds expected")
        else:
            row[column] = number
    if row["talk_seconds"] and not row["answered_at"] and not errors:
        err("talk_seconds", "talk time on a call that was not answered")

    outcome = value["outcome"].lower()
    if outcome and outcome not in OUTCOMES:
        err("outcome", f"unknown outcome; expected one of {', '.join(sorted(OUTCOMES))}")
    row["outcome"] = outcome

    complaint = BOOLEANS.get(value["complaint"].lower())
    if complaint is None:
        err("complaint", "must be 1 or 0 (yes or no)")
    row["complaint"] = bool(complaint)

    if value["transfer_correct"]:
        correct = BOOLEANS.get(value["transfer_correct"].lower())
        if correct is None:
            err("transfer_correct", "must be 1 or 0 (yes or no), or empty")
        row["transfer_correct"] = correct
    else:
        row["transfer_correct"] = None

    ended_by = value["ended_by"].lower()
    if ended_by and ended_by not in ENDED_BY:
        err("ended_by", f"must be one of {', '.join(sorted(ENDED_BY))}, or empty")
    row["ended_by"] = ended_by

    row["customer_key"] = customer_key(value["customer_number"])
    return row, errors


def iter_csv_lines(rows: Iterable[dict]) -> Iterator[str]:
    """Rows (dicts keyed by COLUMNS) as CSV text lines, header first: used by the generator."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()
