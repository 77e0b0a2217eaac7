"""Reads for the import pages, and the period the queues' figures are asked for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import islice
from typing import NamedTuple

from django.conf import settings
from django.db.models import QuerySet

from calls.importers import queue_log
from calls.importers.facts import KINDS
from calls.importers.mapping import PyText
from calls.importers.mapping import read as read_mapping
from calls.importers.sources import open_source
from calls.models import ColumnMapping, ImportBatch, MonthLock

PREVIEW_ROWS = 10


def recent_batches() -> QuerySet[ImportBatch]:
    return ImportBatch.objects.select_related("mapping", "created_by").order_by("-created_at")


class ImportStep(NamedTuple):
    number: int  # 1 reading, 2 checking, 3 writing (0: waiting for a worker)
    said: str


def import_step(batch: ImportBatch, progress: dict | None) -> ImportStep:
    """Where a running import is, from the progress its worker leaves in the cache: rows read while
    the file is read, then the rows checked and the rows written."""
    from django.contrib.humanize.templatetags.humanize import intcomma
    from django.utils.translation import gettext as _

    if batch.status == ImportBatch.Status.PENDING:
        return ImportStep(0, _("waiting for a worker"))
    progress = progress or {}  # a queue_log's import says no more than that it runs
    rows = intcomma(progress.get("rows", 0))
    if progress.get("phase") == "validating":
        return ImportStep(2, _("checking %(rows)s rows") % {"rows": rows})
    if progress.get("phase") == "writing":
        return ImportStep(3, _("writing %(rows)s rows") % {"rows": rows})
    return ImportStep(1, _("reading the file: %(rows)s rows read") % {"rows": rows})


def months_imported(*, since: dt.date) -> list[tuple[int, int]]:
    """The months (year, month) in which applied imports that reach ``since`` or later wrote facts,
    newest first: HR's overview lists those that have no period yet, with their Compute button."""
    months: set[tuple[int, int]] = set()
    for batch_months in ImportBatch.objects.filter(
        status=ImportBatch.Status.APPLIED, last_day__gte=since
    ).values_list("months", flat=True):
        months.update((entry["year"], entry["month"]) for entry in batch_months)
    return sorted(months, reverse=True)


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
        note = (
            f"{len(parsed.finished)} calls, {len(parsed.rings)} rings without answer, "
            f"{len(parsed.open_calls)} still open at the end, {len(parsed.errors)} lines with errors"
        )
        return {
            "columns": [(calls.header[i], calls.header[i]) for i in shown],
            "rows": rows,
            "unmapped": [],
            "note": note,
        }
    fact = KINDS[mapping.kind if mapping else kind]
    source = open_source(
        uploaded, uploaded.name, has_header=mapping.has_header if mapping else True
    )
    tz = (mapping.time_zone if mapping else "") or settings.TIME_ZONE
    # The same reading as the import's: a mapping that does not fit the file is refused here, naming
    # the column (``FileError``).
    reading = read_mapping(
        fact,
        source.header,
        columns=mapping.columns if mapping else None,
        value_maps=mapping.value_maps if mapping else None,
        has_header=source.has_header,
        date_format=mapping.date_format if mapping else "",
    )
    text = PyText(reading, tz)
    fields = [f.name for f in fact.fields if f.name in reading.present]
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
        "absent": [f.name for f in fact.fields if f.name not in reading.present],
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


@dataclass
class RollbackPreview:
    """What rolling a batch back would do, for its confirmation: the facts it deletes, month by month
    (as ``YYYY-MM``), and how many it restores to their values before it."""

    what: str  # the facts' name, plural ("calls", "survey answers", …)
    deleted: list[tuple[str, int]]
    restored: int

    @property
    def deleted_total(self) -> int:
        return sum(count for _month, count in self.deleted)


def batch_rollback_preview(batch: ImportBatch) -> RollbackPreview:
    """The facts a rollback of ``batch`` deletes (those it created, by month) and restores (those it
    changed): a query per month the batch spans, and a count."""
    from django.db.models import Max, Min

    from calls.importers.facts import KINDS
    from calls.models import FactChange
    from calls.months import shift_month

    kind = KINDS[batch.kind]
    column = kind.field(kind.period_field).target
    changed = FactChange.objects.filter(batch=batch, fact=kind.code)
    created = kind.model._default_manager.filter(batch=batch).exclude(
        pk__in=changed.values("fact_id")
    )
    span = created.aggregate(first=Min(column), last=Max(column))
    deleted = []
    if span["first"] is not None:
        (year, month), last = _month(span["first"]), _month(span["last"])
        while (year, month) <= last:
            start, end = kind.month_range(year, month)
            count = created.filter(**{f"{column}__gte": start, f"{column}__lt": end}).count()
            if count:
                deleted.append((f"{year}-{month:02d}", count))
            year, month = shift_month(year, month, 1)
    return RollbackPreview(
        what=str(kind.model._meta.verbose_name_plural), deleted=deleted, restored=changed.count()
    )


def _month(moment) -> tuple[int, int]:
    from django.utils import timezone

    from calls.months import center_tz

    if isinstance(moment, dt.datetime):
        moment = timezone.localtime(moment, center_tz())
    return moment.year, moment.month


def locked_month_of(moment: dt.datetime | dt.date) -> MonthLock | None:
    """The lock of the month a fact dated ``moment`` falls in (on the center's calendar), if any."""
    year, month = _month(moment)
    return MonthLock.objects.filter(year=year, month=month).first()


@dataclass
class BatchFile:
    """What became of a batch's uploaded file, for its page."""

    state: (
        str  # "waiting" (its import may still read it), "kept" (keyed, until ``until``), "deleted"
    )
    until: dt.datetime | None = None


def batch_file(batch: ImportBatch) -> BatchFile:
    """Where the batch's file stands: waiting for its import, kept (until its retention ends; without
    one, until the daily sweep deletes what a worker left), or deleted."""
    if not batch.file:
        return BatchFile("deleted")
    if batch.status in (ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING):
        return BatchFile("waiting")
    days = settings.IMPORT_FILE_RETENTION_DAYS
    return BatchFile("kept", batch.created_at + dt.timedelta(days=days) if days else None)
