"""Reads for the import pages, and the period the queues' figures are asked for."""

from __future__ import annotations

import datetime as dt
from itertools import islice

from django.db.models import QuerySet

from calls.importers import dates, queue_log
from calls.importers.facts import KINDS
from calls.importers.sources import open_source
from calls.models import ColumnMapping, ImportBatch

PREVIEW_ROWS = 10


def recent_batches() -> QuerySet[ImportBatch]:
    return ImportBatch.objects.select_related("mapping", "created_by").order_by("-created_at")


def _as_imported(f, mapping: ColumnMapping | None):
    """A cell as the import reads it: trimmed, through the value maps, dates in the mapping's format
    rewritten."""
    pairs = {str(k).strip().lower(): str(v) for k, v in f.aliases.items()}
    pairs.update({str(k).strip().lower(): str(v)
                  for k, v in ((mapping.value_maps if mapping else {}) or {}).get(f.name, {}).items()})  # fmt: skip
    fmt = mapping.date_format if mapping else ""
    rule = dates.rewrite(fmt) if fmt and f.kind in ("date", "datetime") else None

    def show(cell: str) -> str:
        value = str(cell).strip()
        value = pairs.get(value.lower(), value)
        return dates.reformat(value, *rule) if rule else value

    return show


def upload_preview(
    *, uploaded, kind: str, mapping: ColumnMapping | None, is_queue_log: bool = False
) -> dict:
    """The first rows of a file as the import will read them: each field with the column it comes from."""
    if is_queue_log:
        from django.conf import settings

        # Read as if alone: what earlier files of the log left open is the import's to find.
        parsed = queue_log.read(uploaded, uploaded.name, tz_name=settings.TIME_ZONE)
        calls, _rings, _work = queue_log.sources(parsed)
        shown = [i for i, name in enumerate(calls.header) if name != "customer_key"]
        rows = [[cells[i] for i in shown] for _line, cells in islice(calls.rows(), PREVIEW_ROWS)]
        note = (f"{len(parsed.finished)} calls, {len(parsed.rings)} rings without answer, "
                f"{len(parsed.open_calls)} still open at the end, {len(parsed.errors)} lines with errors")  # fmt: skip
        return {"columns": [(calls.header[i], calls.header[i]) for i in shown], "rows": rows,
                "unmapped": [], "note": note}  # fmt: skip
    kind = mapping.kind if mapping else kind
    source = open_source(uploaded, uploaded.name)
    columns = (mapping.columns if mapping else {}) or {}
    fields = KINDS[kind].fields
    position = {name: index for index, name in enumerate(source.header)}
    chosen = [(f.name, columns.get(f.name) or f.name) for f in fields]
    shown = [_as_imported(f, mapping) for f in fields]
    rows = []
    for _line, cells in islice(source.rows(), PREVIEW_ROWS):
        rows.append([show(cells[position[column]]) if column in position and position[column] < len(cells) else "—"
                     for (_field, column), show in zip(chosen, shown, strict=True)])  # fmt: skip
    used = {column for _field, column in chosen}
    return {
        "columns": chosen,
        "rows": rows,
        "unmapped": [name for name in source.header if name not in used],
        "missing": [
            f.name for f in fields if f.required and (columns.get(f.name) or f.name) not in position
        ],
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
