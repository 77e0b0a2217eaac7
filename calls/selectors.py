"""Reads for the import pages."""

from __future__ import annotations

from itertools import islice

from django.conf import settings
from django.db.models import QuerySet

from calls.importers import queue_log
from calls.importers.facts import KINDS
from calls.importers.mapping import PyText
from calls.importers.mapping import read as read_mapping
from calls.importers.sources import open_source
from calls.models import ColumnMapping, ImportBatch

PREVIEW_ROWS = 10


def recent_batches() -> QuerySet[ImportBatch]:
    return ImportBatch.objects.select_related("mapping", "created_by").order_by("-created_at")


def upload_preview(
    *, uploaded, kind: str, mapping: ColumnMapping | None, is_queue_log: bool = False
) -> dict:
    """The first rows of a file as the import will read them: each field with the column it comes from."""
    if is_queue_log:
        parsed = queue_log.read(uploaded, uploaded.name, tz_name=settings.TIME_ZONE)
        fields = [f.name for f in KINDS["calls"].fields]
        return {"columns": [(name, name) for name in fields], "rows": parsed.calls[:PREVIEW_ROWS],
                "unmapped": [], "note": f"{len(parsed.calls)} calls, {len(parsed.open_calls)} still open"}  # fmt: skip
    kind = KINDS[mapping.kind if mapping else kind]
    source = open_source(
        uploaded, uploaded.name, has_header=mapping.has_header if mapping else True
    )
    tz = (mapping.time_zone if mapping else "") or settings.TIME_ZONE
    # The same reading as the import's: a mapping that does not fit the file is refused here, naming
    # the column (``FileError``).
    reading = read_mapping(
        kind, source.header, columns=mapping.columns if mapping else None,
        value_maps=mapping.value_maps if mapping else None,
        has_header=source.has_header, date_format=mapping.date_format if mapping else "",
    )  # fmt: skip
    text = PyText(reading, tz)
    fields = [f.name for f in kind.fields if f.name in reading.present]
    rows = []
    for _line, cells in islice(source.rows(), PREVIEW_ROWS):
        rows.append(
            [
                text.value(name, cells) + (" ⚠" if text.unmatched(name, cells) else "")
                for name in fields
            ]
        )
    used = reading.columns_used()
    return {
        "columns": [(name, reading.describe(name, source.column_name)) for name in fields],
        "rows": rows,
        "unmapped": [
            source.column_name(i) for i in range(1, len(source.header) + 1) if i not in used
        ],
        "absent": [f.name for f in kind.fields if f.name not in reading.present],
        "missing": [],
        "encoding": source.encoding,
        "note": "",
    }
