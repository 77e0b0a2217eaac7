"""Reads for the import pages, and the period the queues' figures are asked for."""

from __future__ import annotations

import datetime as dt
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
        # Read as if alone: what earlier files of the log left open is the import's to find.
        parsed = queue_log.read(uploaded, uploaded.name, tz_name=settings.TIME_ZONE)
        calls, _rings, _work = queue_log.sources(parsed)
        shown = [i for i, name in enumerate(calls.header) if name != "customer_key"]
        rows = [[cells[i] for i in shown] for _line, cells in islice(calls.rows(), PREVIEW_ROWS)]
        note = (f"{len(parsed.finished)} calls, {len(parsed.rings)} rings without answer, "
                f"{len(parsed.open_calls)} still open at the end, {len(parsed.errors)} lines with errors")  # fmt: skip
        return {"columns": [(calls.header[i], calls.header[i]) for i in shown], "rows": rows,
                "unmapped": [], "note": note}  # fmt: skip
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


def queue_period(
    *, month: str | None = None, start: dt.date | None = None, end: dt.date | None = None, now
) -> tuple[dt.datetime, dt.datetime]:
    """The instants of a period asked for by a month (``YYYY-MM``) or by days (both included), on the
    center's calendar; this month so far when neither is given."""
    from django.utils import timezone

    from calls.months import center_tz, month_bounds

    tz = center_tz()
    if month:
        year, number = (int(part) for part in month.split("-"))
        return month_bounds(year, number)
    if start and end:
        following = end + dt.timedelta(days=1)
        return dt.datetime.combine(start, dt.time(), tz), dt.datetime.combine(
            following, dt.time(), tz
        )
    local = timezone.localtime(now, tz)
    return month_bounds(local.year, local.month)[0], now
