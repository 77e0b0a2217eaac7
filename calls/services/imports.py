"""One file of facts imported as one batch: the batch created, its rows run through the engine in one
transaction, the batch settled (applied, rejected) or refused with the reason."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from typing import BinaryIO

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count, Max, Min
from django.db.models.functions import TruncMonth

from calls import leases
from calls.errors import DomainError
from calls.importers import engine
from calls.importers.facts import KINDS, FactKind
from calls.importers.mapping import echo
from calls.importers.sources import FileError, Source, open_source
from calls.models import ColumnMapping, ImportBatch, MonthLock
from calls.months import center_tz, local_day
from calls.services.month_locks import month_locks_hold

logger = logging.getLogger(__name__)


class ImportRefused(DomainError):
    """The file cannot be imported at all; the message says why and where. ``batch`` records it."""

    def __init__(self, message: str, batch: ImportBatch | None = None):
        super().__init__(message)
        self.batch = batch


def _digest(stream: BinaryIO) -> str:
    stream.seek(0)
    digest = hashlib.sha256()
    while chunk := stream.read(1024 * 1024):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def batch_create(
    *,
    kind: str,
    filename: str,
    source: str,
    mapping: ColumnMapping | None = None,
    allow_partial: bool = False,
    created_by=None,
    status: str = ImportBatch.Status.PENDING,
) -> ImportBatch:
    """A batch record, before its file is read (a worker picks up a pending one). Created importing,
    it is claimed by this process (``calls.leases``): if the process dies, the watchdog fails it."""
    if kind not in KINDS:
        raise ImportRefused(f"Unknown kind of data {kind!r}; known: {', '.join(KINDS)}.")
    if not source or len(source) > 50:
        raise ImportRefused("The source name is required (at most 50 characters), e.g. 'acd'.")
    batch = ImportBatch(
        kind=kind,
        source=source,
        filename=filename[:255],
        sha256="",
        mapping=mapping,
        partial=allow_partial,
        created_by=created_by,
        status=status,
        **(leases.lease_fields() if status == ImportBatch.Status.RUNNING else {}),
    )
    batch.full_clean()
    batch.save()
    return batch


# Longer than most (about 100 lines, 40 of them its signature, one parameter a line, and docstring):
# the claim, the month check and the one transaction that writes the rows and settles the batch read
# top to bottom as the import's contract, and every caller (upload, command line, queue_log) goes
# through it whole.
def facts_import(
    *,
    stream: BinaryIO,
    filename: str,
    kind: str = "calls",
    source: str | None = None,
    mapping: ColumnMapping | None = None,
    allow_partial: bool = False,
    period: tuple[int, int] | None = None,
    created_by=None,
    batch: ImportBatch | None = None,
    source_reader: Source | None = None,
    value_maps: dict | None = None,
    progress: Callable[[str, int], None] | None = None,
    layout: FactKind | None = None,
    line_errors: list[dict] | None = None,
) -> ImportBatch:
    """Import one file of facts as one batch: every valid row or none.

    With errors and ``allow_partial=False`` nothing is imported and the batch is saved as rejected with
    every error (line, column, value, reason); with ``allow_partial=True`` the valid rows are imported
    and the others reported. Facts are keyed by (source, id): importing the same file again creates
    nothing; a row whose content changed updates its fact and the change is recorded. A file-level
    problem (unreadable, no required column) raises ``ImportRefused`` after recording the batch.

    ``layout`` gives the rows' fields when they are not the kind's usual ones (queue_log gives the
    customer's key, not the number); ``line_errors`` are errors a parser found before the rows (each a
    line of the file no row could be made of): they count as rejected lines like the engine's own.
    """
    source_name = (mapping.source if mapping else None) or source or ""
    kind = mapping.kind if mapping else kind
    if batch is None:
        batch = batch_create(
            kind=kind,
            filename=filename,
            source=source_name,
            mapping=mapping,
            allow_partial=allow_partial,
            created_by=created_by,
            status=ImportBatch.Status.RUNNING,
        )
    elif batch.status == ImportBatch.Status.PENDING and not leases.claim(
        ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PENDING),
        status=ImportBatch.Status.RUNNING,
    ):
        raise ImportRefused(f"Batch {batch.pk} is being imported by another worker.", batch)
    batch.kind = kind  # a queue_log upload's batch may carry its work time rather than calls
    batch.sha256 = _digest(stream) if source_reader is None else ""
    lock = MonthLock.objects.filter(year=period[0], month=period[1]).first() if period else None
    if lock is not None:
        batch_refuse(batch, f"The month {lock} is {lock.said}; nothing can be imported into it.")
    line_errors = line_errors or []
    try:
        reader = source_reader or open_source(
            stream, filename, has_header=mapping.has_header if mapping else True
        )
        # The batch's row is written only at the end: its lease is renewed meanwhile, never waiting.
        with leases.kept(ImportBatch, batch.pk), transaction.atomic():
            month_locks_hold()
            outcome = engine.run(
                kind=layout or KINDS[kind],
                source=reader,
                source_name=source_name,
                batch_id=batch.pk,
                columns=mapping.columns if mapping else None,
                value_maps=mapping.value_maps if mapping else value_maps,
                time_zone=(mapping.time_zone or None) if mapping else None,
                date_format=mapping.date_format if mapping else "",
                period=period,
                allow_partial=allow_partial,
                fold_legs=mapping.fold_legs if mapping else False,
                progress=progress,
                write=allow_partial or not line_errors,
            )
            bad_lines = len({error["line"] for error in line_errors})
            batch.encoding = reader.encoding[:30]
            batch.rows_total = outcome.total + bad_lines
            batch.rows_rejected = outcome.rejected + bad_lines
            batch.rows_created, batch.rows_updated = outcome.created, outcome.updated
            batch.rows_unchanged, batch.rows_folded = outcome.unchanged, outcome.folded
            batch.errors = sorted(line_errors + outcome.errors, key=lambda e: e["line"])[
                : engine.MAX_STORED_ERRORS
            ]
            batch_settle(batch, allow_partial)
            batch.save()
    except FileError as exc:
        batch_refuse(batch, str(exc))
    except (
        DatabaseError
    ) as exc:  # not the file's fault: said on the batch, never a bare server error
        logger.exception("Import of batch %s failed", batch.pk)
        batch_refuse(
            batch,
            f"{filename}: the import failed in the database: {echo(str(exc).splitlines()[0])}",
            status=ImportBatch.Status.FAILED,
        )
    return batch


def batch_settle(batch: ImportBatch, allow_partial: bool) -> None:
    """Applied, or rejected with nothing imported when rows had errors and HR did not choose to import
    the valid ones."""
    applied = not batch.rows_rejected or allow_partial
    batch.status = ImportBatch.Status.APPLIED if applied else ImportBatch.Status.REJECTED
    if applied:
        batch_span(batch)
    batch.leased_by, batch.lease_expires = "", None
    batch.message = with_attempt_note(
        batch,
        ""
        if applied
        else f"{batch.rows_rejected} of {batch.rows_total} rows have errors: nothing was imported.",
    )


def batch_span(batch: ImportBatch) -> None:
    """Set what ``batch`` holds, from the facts it wrote (created or changed): its first and last day
    and its rows by month, on the center's clock. One grouped query, called inside the import's
    transaction before the batch is saved."""
    kind = KINDS[batch.kind]
    field = kind.field(kind.period_field)
    column, is_date = str(field.target), field.kind == "date"
    rows = (
        kind.model._default_manager.filter(batch_id=batch.pk)
        .annotate(month_start=TruncMonth(column, tzinfo=None if is_date else center_tz()))
        .values("month_start")
        .annotate(rows=Count("pk"), first=Min(column), last=Max(column))
        .order_by("month_start")
    )
    months, first, last = [], None, None
    for row in rows:
        start = row["month_start"]
        months.append({"year": start.year, "month": start.month, "rows": row["rows"]})
        first = row["first"] if first is None else min(first, row["first"])
        last = row["last"] if last is None else max(last, row["last"])
    batch.months = months
    batch.first_day = first if first is None or is_date else local_day(first)
    batch.last_day = last if last is None or is_date else local_day(last)


def with_attempt_note(batch: ImportBatch, message: str) -> str:
    """``message``, and when an earlier worker died importing this batch, a line that says so. Written
    with the batch's final status, in the same save, so that nobody reads a final batch without it."""
    if batch.claims <= 1:
        return message
    note = (
        "The worker that first imported this file stopped before it finished; nothing of that "
        "attempt was kept, and the file was imported again from the start (attempt "
        f"{batch.claims} of {settings.WORK_LEASE_CLAIMS})."
    )
    return "\n".join(part for part in (message, note) if part)


def batch_refuse(
    batch: ImportBatch, message: str, status: str = ImportBatch.Status.REJECTED
) -> None:
    line = 1
    match = re.search(r"line (\d+)", message, re.IGNORECASE)
    if match:
        line = int(match.group(1))
    batch.status = status
    batch.message = with_attempt_note(batch, message)
    batch.errors = [{"line": line, "column": "", "value": "", "reason": message}]
    batch.leased_by, batch.lease_expires = "", None
    batch.save()
    raise ImportRefused(message, batch)
