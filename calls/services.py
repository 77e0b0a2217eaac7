"""Everything that writes call data: imports (all sources, all kinds of facts), rollbacks, month locks."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable
from typing import BinaryIO

from django.db import DatabaseError, transaction
from django.utils import timezone

from calls.importers import engine
from calls.importers.facts import KINDS
from calls.importers.mapping import echo
from calls.importers.sources import FileError, Source, open_source
from calls.models import ColumnMapping, FactChange, ImportBatch, MonthLock

logger = logging.getLogger(__name__)


class ImportRefused(Exception):
    """The file cannot be imported at all; the message says why and where. ``batch`` records it."""

    def __init__(self, message: str, batch: ImportBatch | None = None):
        super().__init__(message)
        self.batch = batch


class RollbackRefused(Exception):
    """The batch cannot be rolled back; the message says why."""


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
    """A batch record, before its file is read (a worker picks up a pending one)."""
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
    )
    batch.full_clean()
    batch.save()
    return batch


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
) -> ImportBatch:
    """Import one file of facts as one batch: every valid row or none.

    With errors and ``allow_partial=False`` nothing is imported and the batch is saved as rejected with
    every error (line, column, value, reason); with ``allow_partial=True`` the valid rows are imported
    and the others reported. Facts are keyed by (source, id): importing the same file again creates
    nothing; a row whose content changed updates its fact and the change is recorded. A file-level
    problem (unreadable, no required column) raises ``ImportRefused`` after recording the batch.
    """
    source_name = (mapping.source if mapping else None) or source or ""
    kind = mapping.kind if mapping else kind
    if batch is None:
        batch = batch_create(kind=kind, filename=filename, source=source_name, mapping=mapping,
                             allow_partial=allow_partial, created_by=created_by)  # fmt: skip
    batch.kind = kind  # a queue_log upload's batch may carry its work time rather than calls
    batch.sha256 = _digest(stream) if source_reader is None else ""
    if period is not None and MonthLock.objects.filter(year=period[0], month=period[1]).exists():
        _refuse(batch, f"The month {period[0]}-{period[1]:02d} is closed: nothing can be imported into it; "
                       "corrections go into the next open month.")  # fmt: skip
    try:
        reader = source_reader or open_source(
            stream, filename, has_header=mapping.has_header if mapping else True
        )
        with transaction.atomic():
            ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)
            outcome = engine.run(
                kind=KINDS[kind],
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
            )
            batch.encoding = reader.encoding[:30]
            batch.rows_total, batch.rows_rejected = outcome.total, outcome.rejected
            batch.rows_created, batch.rows_updated = outcome.created, outcome.updated
            batch.rows_unchanged, batch.rows_folded = outcome.unchanged, outcome.folded
            batch.errors = outcome.errors
            applied = not outcome.rejected or allow_partial
            batch.status = ImportBatch.Status.APPLIED if applied else ImportBatch.Status.REJECTED
            batch.message = (
                ""
                if applied
                else f"{outcome.rejected} of {outcome.total} rows have errors: nothing was imported."
            )
            batch.save()
    except FileError as exc:
        _refuse(batch, str(exc))
    except (
        DatabaseError
    ) as exc:  # not the file's fault: said on the batch, never a bare server error
        logger.exception("Import of batch %s failed", batch.pk)
        _refuse(batch, f"{filename}: the import failed in the database: {echo(str(exc).splitlines()[0])}",
                status=ImportBatch.Status.FAILED)  # fmt: skip
    return batch


def _refuse(batch: ImportBatch, message: str, status: str = ImportBatch.Status.REJECTED) -> None:
    line = 1
    match = re.search(r"line (\d+)", message)
    if match:
        line = int(match.group(1))
    batch.status = status
    batch.message = message
    batch.errors = [{"line": line, "column": "", "value": "", "reason": message}]
    batch.save()
    raise ImportRefused(message, batch)


@transaction.atomic
def batch_rollback(*, batch: ImportBatch) -> ImportBatch:
    """Undo an applied import: delete the facts it created, restore the ones it changed.

    Refused while a fact it touched sits in a closed month, or was changed again by a later import (roll
    that one back first): a rollback never rewrites a paid month or loses a later correction.
    """
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != ImportBatch.Status.APPLIED:
        raise RollbackRefused(
            f"Batch {batch.pk} is {batch.get_status_display()}: only an applied import can be rolled back."
        )
    kind = KINDS[batch.kind]
    model = kind.model
    period_column = kind.field(kind.period_field).target
    touched = model.objects.filter(batch=batch)
    changes = list(FactChange.objects.filter(batch=batch))
    changed_ids = {change.fact_id for change in changes}
    # A later import changed a fact this one wrote: its before-snapshot names this batch.
    later = FactChange.objects.filter(
        fact=kind.code,
        batch_id__gt=batch.pk,
        before__batch_id=batch.pk,
        batch__status=ImportBatch.Status.APPLIED,
    )
    if later.exists():
        raise RollbackRefused(f"Batch {batch.pk}: some of its facts were changed again by a later import; "
                              "roll that import back first.")  # fmt: skip
    for lock in MonthLock.objects.all():
        start, end = kind.month_range(lock.year, lock.month)
        if touched.filter(**{f"{period_column}__gte": start, f"{period_column}__lt": end}).exists():
            raise RollbackRefused(
                f"Batch {batch.pk} holds facts of the closed month {lock}; it cannot be rolled back."
            )
    touched.exclude(pk__in=changed_ids).delete()
    fields = {f.target: f for f in kind.fields if f.target}
    for offset in range(0, len(changes), 2000):  # in bulk: a re-import may have changed every row
        part = changes[offset : offset + 2000]
        facts = model.objects.in_bulk([change.fact_id for change in part])
        for change in part:
            fact = facts[change.fact_id]
            for name, value in change.before.items():
                if name == "batch_id":
                    fact.batch_id = value
                else:
                    setattr(fact, name, _from_json(fact, fields[name], value))
        model.objects.bulk_update(facts.values(), list(part[0].before))
    batch.status = ImportBatch.Status.ROLLED_BACK
    batch.rolled_back_at = timezone.now()
    batch.save(update_fields=["status", "rolled_back_at"])
    return batch


def _from_json(fact, field, value):
    """A value as the before-snapshot holds it (JSON from the database) back into the model's type."""
    model_field = fact._meta.get_field(
        field.target.removesuffix("_id") if field.kind == "agent" else field.target
    )
    if value is None or field.kind == "agent":
        return value
    result = model_field.to_python(value)
    if isinstance(result, dt.datetime) and timezone.is_naive(result):
        result = result.replace(tzinfo=dt.UTC)  # SQLite keeps naive UTC
    return result


@transaction.atomic
def month_lock(*, year: int, month: int) -> MonthLock:
    """Close a month for the facts (called when its period closes): no import may touch it after."""
    lock, _created = MonthLock.objects.get_or_create(year=year, month=month)
    return lock


def queue_log_import(
    *,
    stream: BinaryIO,
    filename: str,
    source: str | None = None,
    mapping: ColumnMapping | None = None,
    allow_partial: bool = False,
    created_by=None,
    batch: ImportBatch | None = None,
) -> list[ImportBatch]:
    """An Asterisk queue_log (file or table export): its calls, then its agents' work time, as two
    batches. Calls still open at the end of the file are reported in the calls batch, not imported."""
    from django.conf import settings

    from calls.importers import queue_log

    source_name = (mapping.source if mapping else None) or source or ""
    tz = (mapping.time_zone if mapping else "") or settings.TIME_ZONE
    try:
        parsed = queue_log.read(stream, filename, tz_name=tz)
    except FileError as exc:
        batch = batch or batch_create(
            kind="calls", filename=filename, source=source_name, created_by=created_by
        )
        _refuse(batch, str(exc))
    calls_source, work_source = queue_log.sources(parsed, filename)
    # A queue_log mapping only names agents: {"agent_id": {"1001": "A01"}} for both kinds of rows.
    agents = {"agent_id": (mapping.value_maps or {}).get("agent_id", {})} if mapping else None
    kinds = ([("calls", calls_source)] if parsed.calls else []) + (
        [("worktime", work_source)] if parsed.worktime else []
    )
    if not kinds:
        batch = batch or batch_create(
            kind="calls", filename=filename, source=source_name, created_by=created_by
        )
        _refuse(
            batch,
            f"{filename}: no finished call and no member event in {parsed.events} queue events.",
        )
    # The batch made for the upload carries the first part; a second part gets a batch of its own.
    parts = [
        (kind, reader, batch if index == 0 else None) for index, (kind, reader) in enumerate(kinds)
    ]
    batches = [
        facts_import(stream=stream, filename=filename, kind=kind, source=source_name, value_maps=agents,
                     allow_partial=allow_partial, created_by=created_by, source_reader=reader, batch=part_batch)
        for kind, reader, part_batch in parts
    ]  # fmt: skip
    notes = []
    if parsed.open_calls:
        shown = ", ".join(parsed.open_calls[:20]) + (" …" if len(parsed.open_calls) > 20 else "")
        notes.append(
            f"{len(parsed.open_calls)} calls were still open at the end of the file and were not imported: {shown}."
        )
    if parsed.skipped_lines:
        notes.append(f"{parsed.skipped_lines} lines were not queue events and were skipped.")
    if notes and batches[0].kind == "calls":
        first = batches[0]
        first.message = " ".join([first.message, *notes]).strip()
        first.save(update_fields=["message"])
    return batches


def progress_key(batch_id: int) -> str:
    return f"calls:import-progress:{batch_id}"


@transaction.atomic
def upload_accept(
    *,
    uploaded,
    kind: str,
    source: str | None,
    mapping: ColumnMapping | None,
    allow_partial: bool,
    period: tuple[int, int] | None,
    queue_log: bool,
    created_by,
) -> ImportBatch:
    """Keep an uploaded file with a waiting batch, and have a worker import it after commit."""
    from calls.tasks import import_file  # tasks import services; import here, not at the top

    source_name = (mapping.source if mapping else None) or source or ""
    batch = batch_create(kind=mapping.kind if mapping else kind, filename=uploaded.name, source=source_name,
                         mapping=mapping, allow_partial=allow_partial, created_by=created_by)  # fmt: skip
    batch.queue_log = queue_log
    if period:
        batch.period_year, batch.period_month = period
    batch.file.save(uploaded.name, uploaded, save=False)
    batch.save()
    import_file.delay_on_commit(batch.pk)
    return batch


def batch_run(*, batch_id: int) -> None:
    """Run a waiting batch's import (in a worker, or in process without a broker). Claimed with a
    conditional update, so a message delivered twice imports once."""
    from django.core.cache import cache

    claimed = ImportBatch.objects.filter(pk=batch_id, status=ImportBatch.Status.PENDING).update(
        status=ImportBatch.Status.RUNNING
    )
    if not claimed:
        return
    batch = ImportBatch.objects.select_related("mapping", "created_by").get(pk=batch_id)

    def progress(phase: str, rows: int) -> None:
        cache.set(progress_key(batch_id), {"phase": phase, "rows": rows}, timeout=24 * 3600)

    period = (batch.period_year, batch.period_month) if batch.period_year else None
    try:
        with batch.file.open("rb") as stream:
            if batch.queue_log:
                queue_log_import(stream=stream, filename=batch.filename, source=batch.source, mapping=batch.mapping,
                                 allow_partial=batch.partial, created_by=batch.created_by, batch=batch)  # fmt: skip
            else:
                facts_import(stream=stream, filename=batch.filename, kind=batch.kind, source=batch.source,
                             mapping=batch.mapping, allow_partial=batch.partial, period=period, batch=batch,
                             progress=progress)  # fmt: skip
    except ImportRefused:
        pass  # recorded on the batch
    finally:
        cache.delete(progress_key(batch_id))
