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

from calls.errors import Conflict, DomainError
from calls.importers import engine, queue_log
from calls.importers.facts import KINDS, QUEUE_LOG_CALLS, FactKind
from calls.importers.mapping import echo
from calls.importers.sources import FileError, Source, open_source
from calls.models import Call, ColumnMapping, FactChange, ImportBatch, MonthLock, QueueLogLeg

logger = logging.getLogger(__name__)


class ImportRefused(DomainError):
    """The file cannot be imported at all; the message says why and where. ``batch`` records it."""

    def __init__(self, message: str, batch: ImportBatch | None = None):
        super().__init__(message)
        self.batch = batch


class RollbackRefused(Conflict):
    """The batch cannot be rolled back now; the message says why."""


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
        batch = batch_create(kind=kind, filename=filename, source=source_name, mapping=mapping,
                             allow_partial=allow_partial, created_by=created_by)  # fmt: skip
    batch.kind = kind  # a queue_log upload's batch may carry its work time rather than calls
    batch.sha256 = _digest(stream) if source_reader is None else ""
    if period is not None and MonthLock.objects.filter(year=period[0], month=period[1]).exists():
        _refuse(batch, f"The month {period[0]}-{period[1]:02d} is closed: nothing can be imported into it; "
                       "corrections go into the next open month.")  # fmt: skip
    line_errors = line_errors or []
    try:
        reader = source_reader or open_source(
            stream, filename, has_header=mapping.has_header if mapping else True
        )
        with transaction.atomic():
            ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING)
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
            _settle(batch, allow_partial)
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


def _settle(batch: ImportBatch, allow_partial: bool) -> None:
    """Applied, or rejected with nothing imported when rows had errors and HR did not choose to import
    the valid ones."""
    applied = not batch.rows_rejected or allow_partial
    batch.status = ImportBatch.Status.APPLIED if applied else ImportBatch.Status.REJECTED
    batch.message = (
        ""
        if applied
        else f"{batch.rows_rejected} of {batch.rows_total} rows have errors: nothing was imported."
    )


def _refuse(batch: ImportBatch, message: str, status: str = ImportBatch.Status.REJECTED) -> None:
    line = 1
    match = re.search(r"line (\d+)", message, re.IGNORECASE)
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
    """An Asterisk queue_log (file or table export), read as Asterisk defines its events
    (``calls.importers.queue_log``): its calls, one leg per call and queue; its ring attempts; its
    agents' work time; as up to three batches, the upload's own carrying the first.

    Calls still open at the end of the file are kept (``QueueLogLeg``) and finished by the next file
    of the same log; importing either file again changes nothing. The calls batch says, line by line,
    what the file left open, where it began mid-call and how it read an unusual line. When the calls
    have errors (and HR did not choose to import the valid rows), nothing of the file is imported."""
    from django.conf import settings

    source_name = (mapping.source if mapping else None) or source or ""
    tz = (mapping.time_zone if mapping else "") or settings.TIME_ZONE

    def first_batch() -> ImportBatch:
        return batch or batch_create(
            kind="calls", filename=filename, source=source_name, created_by=created_by
        )

    try:
        parsed = queue_log.read(
            stream, filename, tz_name=tz, restore=lambda first: legs_restored(source_name, first)
        )
    except FileError as exc:
        _refuse(first_batch(), str(exc))
    left_open = any(leg.touched for leg in parsed.open_legs)
    has_calls = bool(parsed.finished or left_open or parsed.closed_stored or parsed.errors)
    if not (has_calls or parsed.rings or parsed.worktime):
        _refuse(
            first_batch(),
            f"{filename}: nothing to import: no queue event "
            f"(time|callid|queue|agent|event) in its {parsed.events + parsed.skipped_lines} lines.",
        )
    legs = [leg for leg, _line in parsed.finished]
    names = queue_log.leg_names(legs, taken=_call_ids_taken(source_name, legs))
    calls_source, rings_source, work_source = queue_log.sources(parsed, names)
    # A queue_log mapping only names agents: {"agent_id": {"1001": "A01"}} for every kind of row.
    agents = {"agent_id": (mapping.value_maps or {}).get("agent_id", {})} if mapping else None
    common = {"stream": stream, "filename": filename, "source": source_name, "value_maps": agents,
              "allow_partial": allow_partial, "created_by": created_by}  # fmt: skip
    batches = []
    if has_calls:
        calls = _queue_log_calls(parsed, calls_source, first_batch(), common)
        batches.append(calls)
        if calls.status != ImportBatch.Status.APPLIED:
            if parsed.rings or parsed.worktime:
                calls.message += " Its ring attempts and work time were not imported either."
                calls.save(update_fields=["message"])
            return batches
    parts = [("rings", rings_source, parsed.rings), ("worktime", work_source, parsed.worktime)]
    for kind, reader, rows in parts:
        if rows:
            part_batch = None if batches else batch
            batches.append(
                facts_import(kind=kind, source_reader=reader, batch=part_batch, **common)
            )
    return batches


def _queue_log_calls(parsed, reader, batch: ImportBatch, common: dict) -> ImportBatch:
    """The calls of a queue_log and the legs it leaves open, in one transaction: the legs are kept
    only if the calls are imported."""
    try:
        with transaction.atomic():
            if parsed.finished:
                batch = facts_import(kind="calls", layout=QUEUE_LOG_CALLS, source_reader=reader,
                                     batch=batch, line_errors=parsed.errors, **common)  # fmt: skip
            else:  # nothing finished in this file: still a batch, for what it leaves open
                batch.kind, batch.encoding = "calls", "queue_log"
                batch.errors = parsed.errors[: engine.MAX_STORED_ERRORS]
                batch.rows_total = batch.rows_rejected = len({e["line"] for e in parsed.errors})
                _settle(batch, common["allow_partial"])
                batch.save()
            notes = list(parsed.notes)
            if batch.status == ImportBatch.Status.APPLIED:
                notes += legs_keep(parsed, batch=batch, source=common["source"])
    except ImportRefused as exc:
        if exc.batch is not None:
            exc.batch.save()  # its refusal was undone with the transaction
        raise
    if parsed.skipped_lines:
        shown = ", ".join(str(line) for line in parsed.skipped)
        more = " …" if parsed.skipped_lines > len(parsed.skipped) else ""
        notes.append(f"{parsed.skipped_lines} lines were not queue events and were skipped: line "
                     f"{shown}{more}.")  # fmt: skip
    if len(notes) > queue_log.MAX_NOTES:
        notes = [
            *notes[: queue_log.MAX_NOTES],
            f"… and {len(notes) - queue_log.MAX_NOTES} more notes.",
        ]
    if notes:
        batch.message = "\n".join([batch.message, *notes]).strip()
        batch.save(update_fields=["message"])
    return batch


def legs_restored(source: str, first: dt.datetime) -> list:
    """The legs of a queue_log the store has for a file whose first event is at ``first``: each leg's
    latest snapshot from an applied import, for the legs entered in the day before (no call lasts a
    day). Open ones, and those an import ended at or after ``first`` (this file's own, imported again)."""
    rows = QueueLogLeg.objects.filter(
        source=source,
        entered_at__gte=first - queue_log.LOOKBACK,
        entered_at__lte=first,
        batch__status=ImportBatch.Status.APPLIED,
    ).order_by("batch_id")
    latest = {(r.callid, r.queue, r.entered_at): r for r in rows}
    return [
        queue_log.Snapshot(
            r.callid,
            r.queue,
            r.entered_at,
            r.state,
            r.closed_at,
            queue_log.Where(r.filename, r.line),
        )
        for r in latest.values()
        if r.closed_at is None or r.closed_at >= first
    ]


def legs_keep(parsed, *, batch: ImportBatch, source: str) -> list[str]:
    """Write what the file did to the legs it found open or left open: a snapshot per leg that changed
    (call inside the calls batch's transaction). Returns notes for the batch."""
    touched = [leg for leg in parsed.open_legs if leg.touched]
    callids = {leg.callid for leg in touched} | {c.leg.callid for c in parsed.closed_stored}
    latest: dict[tuple, QueueLogLeg] = {}
    ordered = sorted(callids)
    for offset in range(0, len(ordered), 500):
        rows = QueueLogLeg.objects.filter(
            source=source,
            callid__in=ordered[offset : offset + 500],
            batch__status=ImportBatch.Status.APPLIED,
        ).order_by("batch_id")
        latest.update({(r.callid, r.queue, r.entered_at): r for r in rows})
    snapshots, notes = [], []
    too_long = [leg for leg in touched if len(leg.callid) > 100 or len(leg.queue) > 100]
    for leg in too_long:
        notes.append(f"{leg.opened.said(parsed.filename)}: call {engine.echo(leg.callid)} in "
                     f"{engine.echo(leg.queue)}: an id or queue name this long cannot be kept open "
                     "for the next file")  # fmt: skip
    touched = [leg for leg in touched if len(leg.callid) <= 100 and len(leg.queue) <= 100]
    for closed in parsed.closed_stored:
        leg = closed.leg
        before = latest.get(leg.key)
        if before is not None and before.closed_at == closed.closed_at:
            continue  # this file ended it already, in an earlier import of it
        snapshots.append(QueueLogLeg(source=source, callid=leg.callid, queue=leg.queue,
                                     entered_at=leg.entered, state=leg.stored, closed_at=closed.closed_at,
                                     filename=closed.where.file[:255], line=closed.where.line,
                                     batch=batch))  # fmt: skip
    imported = _call_ids_taken(source, touched)
    for leg in touched:
        before = latest.get(leg.key)
        if before is not None and before.closed_at is not None:
            notes.append(f"{leg.opened.said(parsed.filename)}: call {leg.callid} in {leg.queue}, open at "
                         f"the end of this file, was finished by a later file ({before.filename}): "
                         "kept as that file finished it")  # fmt: skip
            continue
        if any(
            imported.get(name) == (leg.queue, leg.entered)
            for name in queue_log.name_candidates(leg)
        ):  # a later file imported before this one, which began mid-call
            notes.append(f"{leg.opened.said(parsed.filename)}: call {leg.callid} in {leg.queue}, open at "
                         "the end of this file, was imported finished from another file: kept as it is")  # fmt: skip
            continue
        state = leg.state()
        if before is not None and before.state == state:
            continue
        snapshots.append(QueueLogLeg(source=source, callid=leg.callid, queue=leg.queue,
                                     entered_at=leg.entered, state=state, filename=leg.opened.file[:255],
                                     line=leg.opened.line, batch=batch))  # fmt: skip
    QueueLogLeg.objects.bulk_create(snapshots)
    return notes


def _call_ids_taken(source: str, legs) -> dict[str, tuple[str, dt.datetime]]:
    """The ids the legs could take that the source already has, with the queue and entry of the call
    that has each (``queue_log.leg_names``)."""
    from django.db import connection

    wanted = sorted({name for leg in legs for name in queue_log.name_candidates(leg)})
    taken = {}
    size = min(5000, (connection.features.max_query_params or 5000) - 10)
    for offset in range(0, len(wanted), size):
        rows = Call.objects.filter(
            source=source, external_id__in=wanted[offset : offset + size]
        ).values_list("external_id", "queue", "started_at")
        taken.update({external_id: (queue, started) for external_id, queue, started in rows})
    return taken


def queue_log_sniff(stream) -> bool:
    """Whether a file is an Asterisk queue_log (either variant), by its first lines."""
    return queue_log.sniff(stream)


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
    """Keep an uploaded file with a waiting batch, and have a worker import it after commit. A file of
    calls that is an Asterisk queue_log by its first lines is read as one, box ticked or not."""
    from calls.tasks import import_file  # tasks import services; import here, not at the top

    source_name = (mapping.source if mapping else None) or source or ""
    if not queue_log and (mapping.kind if mapping else kind) == "calls":
        queue_log = queue_log_sniff(uploaded)
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
