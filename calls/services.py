"""Everything that writes call data: imports (all sources, all kinds of facts), rollbacks, month locks."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Callable
from typing import BinaryIO

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from calls import leases
from calls.errors import Conflict, DomainError
from calls.importers import engine, queue_log
from calls.importers.facts import KINDS, QUEUE_LOG_CALLS, FactKind
from calls.importers.mapping import echo
from calls.importers.sources import FileError, Source, open_source
from calls.models import Call, ColumnMapping, FactChange, ImportBatch, MonthLock, QueueLogLeg
from calls.months import center_tz

logger = logging.getLogger(__name__)


class ImportRefused(DomainError):
    """The file cannot be imported at all; the message says why and where. ``batch`` records it."""

    def __init__(self, message: str, batch: ImportBatch | None = None):
        super().__init__(message)
        self.batch = batch


class RollbackRefused(Conflict):
    """The batch cannot be rolled back now; the message says why."""


class MonthBusy(Exception):
    """A month's lock cannot change now: an import or a rollback is writing facts; the message says so."""


class MonthClosed(Exception):
    """A closed month stays closed: its corrections go into the next open month."""


# How long approving, closing or reopening a month waits for the imports and rollbacks under way to
# finish before it says so instead (an import of a million rows takes minutes; a page must not hang).
MONTH_LOCK_WAIT_SECONDS = 5


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
                             allow_partial=allow_partial, created_by=created_by,
                             status=ImportBatch.Status.RUNNING)  # fmt: skip
    elif batch.status == ImportBatch.Status.PENDING and not leases.claim(
        ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.PENDING),
        status=ImportBatch.Status.RUNNING,
    ):
        raise ImportRefused(f"Batch {batch.pk} is being imported by another worker.", batch)
    batch.kind = kind  # a queue_log upload's batch may carry its work time rather than calls
    batch.sha256 = _digest(stream) if source_reader is None else ""
    lock = MonthLock.objects.filter(year=period[0], month=period[1]).first() if period else None
    if lock is not None:
        _refuse(batch, f"The month {lock} is {lock.said}; nothing can be imported into it.")
    line_errors = line_errors or []
    try:
        reader = source_reader or open_source(
            stream, filename, has_header=mapping.has_header if mapping else True
        )
        # The batch's row is written only at the end: its lease is renewed meanwhile, never waiting.
        with leases.kept(ImportBatch, batch.pk), transaction.atomic():
            _month_locks_hold()
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
    batch.leased_by, batch.lease_expires = "", None
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
    batch.leased_by, batch.lease_expires = "", None
    batch.save()
    raise ImportRefused(message, batch)


def batch_rollback_check(*, batch: ImportBatch) -> None:
    """Raise ``RollbackRefused`` when the batch cannot be rolled back now: it is not applied, a later
    import changed the same facts (roll that one back first), or it would delete, restore or move a
    fact of an approved month (HR reopens it first) or a closed one (never). The confirmation page asks
    the same question as the rollback itself."""
    if batch.status != ImportBatch.Status.APPLIED:
        raise RollbackRefused(
            f"Batch {batch.pk} is {batch.get_status_display()}: only an applied import can be rolled back."
        )
    kind = KINDS[batch.kind]
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
    for lock in _locked_months_of(batch):
        if lock.state == MonthLock.State.APPROVED:
            raise RollbackRefused(f"Batch {batch.pk} holds facts of the approved month {lock}: HR must "
                                  "reopen the month first (Overview), with a reason, to roll it back.")  # fmt: skip
        raise RollbackRefused(
            f"Batch {batch.pk} holds facts of the closed month {lock}; it cannot be rolled back."
        )


def _locked_months_of(batch: ImportBatch) -> list[MonthLock]:
    """The locked months a rollback of the batch would touch: those of the facts it wrote (deleted or
    restored), and those its changed facts go back to (a change may have moved a fact's date)."""
    locks = list(MonthLock.objects.order_by("year", "month"))
    if not locks:
        return []
    kind = KINDS[batch.kind]
    column = kind.field(kind.period_field).target
    touched = kind.model.objects.filter(batch=batch)
    # One pass each: the span of the facts written (then a look only into the locked months within
    # it), and the months the changed facts go back to.
    span = touched.aggregate(first=Min(column), last=Max(column))
    restored = {_month_of(moment) for moment in _before_moments(batch, kind, column)}
    found = []
    for lock in locks:
        start, end = kind.month_range(lock.year, lock.month)
        within = (
            span["first"] is not None
            and _db_value(span["first"]) < end
            and _db_value(span["last"]) >= start
        )
        if (lock.year, lock.month) in restored or (
            within and touched.filter(**{f"{column}__gte": start, f"{column}__lt": end}).exists()
        ):
            found.append(lock)
    return found


def _db_value(value):
    """A min or max as the database gave it, comparable with a month's bounds (SQLite: naive UTC)."""
    if isinstance(value, dt.datetime) and timezone.is_naive(value):
        return value.replace(tzinfo=dt.UTC)
    return value


def _month_of(moment) -> tuple[int, int]:
    """The (year, month) of a date, or of an instant on the center's clock."""
    if isinstance(moment, dt.datetime):
        moment = timezone.localtime(moment, center_tz())
    return moment.year, moment.month


def _before_moments(batch: ImportBatch, kind: FactKind, column: str):
    """The period values the facts the batch changed had before it (as its snapshots hold them)."""
    model_field = kind.model._meta.get_field(column)
    changes = FactChange.objects.filter(batch=batch, fact=kind.code).values_list(
        "before", flat=True
    )
    for before in changes.iterator():
        value = before.get(column)
        if value is not None:
            yield _db_value(model_field.to_python(value))


@transaction.atomic
def batch_rollback(*, batch: ImportBatch) -> ImportBatch:
    """Undo an applied import: delete the facts it created, restore the ones it changed.

    Refused while a fact it touched sits in an approved month (HR reopens it first) or a closed one, or
    was changed again by a later import (roll that one back first): a rollback never rewrites an approved
    or paid month or loses a later correction (``batch_rollback_check``).
    """
    _month_locks_hold()
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    batch_rollback_check(batch=batch)
    kind = KINDS[batch.kind]
    model = kind.model
    touched = model.objects.filter(batch=batch)
    changes = list(FactChange.objects.filter(batch=batch))
    changed_ids = {change.fact_id for change in changes}
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
    transaction.on_commit(lambda: batch_file_settle(batch_id=batch.pk))
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


def _month_locks_hold() -> None:
    """Inside an import's or a rollback's transaction: keep the month locks as they are until it ends.

    Without it, a month approved while a long import runs would receive that import's rows at its
    commit, after the approval. On PostgreSQL a SHARE lock on the table: imports and rollbacks run
    side by side, and approving, closing or reopening a month waits for them (``_month_locks_change``).
    SQLite has one writer at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {MonthLock._meta.db_table} IN SHARE MODE")


def _month_locks_change() -> None:
    """Inside the transaction that approves, closes or reopens a month: wait at most
    ``MONTH_LOCK_WAIT_SECONDS`` for the imports and rollbacks under way (``_month_locks_hold``), then
    refuse with ``MonthBusy`` rather than keep a page waiting for minutes."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        before = cursor.fetchone()[0]
        try:
            with transaction.atomic():  # a savepoint: a lock that times out undoes only itself
                cursor.execute("SELECT set_config('lock_timeout', %s, true)",
                               [f"{MONTH_LOCK_WAIT_SECONDS * 1000}ms"])  # fmt: skip
                cursor.execute(f"LOCK TABLE {MonthLock._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            raise MonthBusy(
                "An import or a rollback is writing facts right now; try again when it has finished."
            ) from None
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [before])


@transaction.atomic
def month_lock(*, year: int, month: int, state: str = MonthLock.State.CLOSED) -> MonthLock:
    """Lock a month for the facts: ``approved`` when its period is approved (until HR reopens it),
    ``closed`` when it closes (for good). No import may add, change or roll back a fact dated in it
    after. Waits for the imports under way (``MonthBusy`` when they take too long); a closed month
    stays closed."""
    _month_locks_change()
    lock, created = MonthLock.objects.select_for_update().get_or_create(
        year=year, month=month, defaults={"state": state}
    )
    if not created and lock.state != MonthLock.State.CLOSED and lock.state != state:
        lock.state = state
        lock.full_clean()
        lock.save(update_fields=["state"])
    return lock


@transaction.atomic
def month_unlock(*, year: int, month: int) -> None:
    """Lift an approved month's lock (its period is reopened): imports and rollbacks may touch its facts
    again. A closed month is never unlocked (``MonthBusy`` as for ``month_lock``)."""
    _month_locks_change()
    lock = MonthLock.objects.select_for_update().filter(year=year, month=month).first()
    if lock is not None and lock.state == MonthLock.State.CLOSED:
        raise MonthClosed(f"The month {lock} is closed: it cannot be reopened.")
    if lock is not None:
        lock.delete()


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
    source_name = (mapping.source if mapping else None) or source or ""
    tz = (mapping.time_zone if mapping else "") or settings.TIME_ZONE

    def first_batch() -> ImportBatch:
        return batch or batch_create(
            kind="calls", filename=filename, source=source_name, created_by=created_by,
            status=ImportBatch.Status.RUNNING,
        )  # fmt: skip

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


FINAL_STATES = (
    ImportBatch.Status.APPLIED,
    ImportBatch.Status.REJECTED,
    ImportBatch.Status.FAILED,
    ImportBatch.Status.ROLLED_BACK,
)
KEPT_FOLDER = "imports/kept/"  # a file here has its customer numbers keyed (calls.importers.keyed)


def batch_file_settle(*, batch_id: int, now: dt.datetime | None = None) -> None:
    """What becomes of a batch's uploaded file once the batch is final (applied, rejected, failed,
    rolled back): deleted, or, with ``IMPORT_FILE_RETENTION_DAYS``, kept that many days after the upload
    with its customer numbers replaced by their keys (``calls.importers.keyed``), then deleted. A file
    that cannot be read through is deleted rather than kept in clear.

    Never touches the file of a waiting or running batch: a worker may still have to read it (again,
    after a crash). Idempotent and safe to run twice at once: the batch's file is swapped by a
    conditional update, and the loser deletes its copy."""
    from django.core.files import File

    from calls.importers.keyed import keyed_copy

    batch = ImportBatch.objects.select_related("mapping").get(pk=batch_id)
    if batch.status not in FINAL_STATES or not batch.file:
        return
    days = settings.IMPORT_FILE_RETENTION_DAYS
    expired = batch.created_at <= (now or timezone.now()) - dt.timedelta(days=days)
    name = batch.file.name
    if days == 0 or expired:
        _file_drop(batch, name)
        return
    if name.startswith(KEPT_FOLDER):
        return  # keyed already, kept until it expires
    mapping = batch.mapping
    try:
        with batch.file.open("rb") as stream:
            copy = keyed_copy(
                stream, batch.filename, kind=batch.kind, queue_log=batch.queue_log,
                columns=mapping.columns if mapping else None,
                value_maps=mapping.value_maps if mapping else None,
                has_header=mapping.has_header if mapping else True,
            )  # fmt: skip
    except FileNotFoundError:
        copy = None
    if copy is None:
        _file_drop(batch, name)
        return
    stream, filename = copy
    with stream:
        kept = batch.file.storage.save(
            f"{KEPT_FOLDER}{batch.created_at:%Y/%m}/{batch.file.storage.get_valid_name(filename)}",
            File(stream, name=filename),
        )
    if ImportBatch.objects.filter(pk=batch.pk, file=name).update(file=kept):
        batch.file.storage.delete(name)
    else:
        batch.file.storage.delete(kept)  # settled meanwhile by another call


def _file_drop(batch: ImportBatch, name: str) -> None:
    if ImportBatch.objects.filter(pk=batch.pk, file=name).update(file=""):
        batch.file.storage.delete(name)


def import_files_sweep(*, now: dt.datetime | None = None) -> int:
    """Settle the files of every final batch (Celery beat, daily): kept ones past their retention are
    deleted, any left in clear (an import finished by an older release, a worker that died between the
    import and its file) are keyed or deleted. Returns how many batches still keep a file."""
    ids = list(
        ImportBatch.objects.filter(status__in=FINAL_STATES)
        .exclude(file="")
        .values_list("pk", flat=True)
    )
    for batch_id in ids:
        batch_file_settle(batch_id=batch_id, now=now)
    return ImportBatch.objects.filter(status__in=FINAL_STATES).exclude(file="").count()


def batch_run(*, batch_id: int) -> None:
    """Run a batch's import (in a worker, or in process without a broker), if this worker can claim
    it: it waits, or its lease ran out (the worker importing it died). A message delivered twice
    imports once; a batch imported again starts from a clean state, as the dead worker's transaction
    was rolled back. Whatever goes wrong, the batch ends final (applied, rejected or failed) with the
    reason, never "importing" without a worker."""
    from django.core.cache import cache

    claimable = ImportBatch.objects.filter(
        pk=batch_id, status__in=[ImportBatch.Status.PENDING, ImportBatch.Status.RUNNING]
    )
    if not leases.claim(claimable, status=ImportBatch.Status.RUNNING):
        return  # final already (a second delivery), or a live worker holds it
    batch = ImportBatch.objects.select_related("mapping", "created_by").get(pk=batch_id)

    def progress(phase: str, rows: int) -> None:
        cache.set(progress_key(batch_id), {"phase": phase, "rows": rows}, timeout=24 * 3600)

    period = (batch.period_year, batch.period_month) if batch.period_year else None
    try:
        with leases.kept(ImportBatch, batch_id), batch.file.open("rb") as stream:
            if batch.queue_log:
                queue_log_import(stream=stream, filename=batch.filename, source=batch.source, mapping=batch.mapping,
                                 allow_partial=batch.partial, created_by=batch.created_by, batch=batch)  # fmt: skip
            else:
                facts_import(stream=stream, filename=batch.filename, kind=batch.kind, source=batch.source,
                             mapping=batch.mapping, allow_partial=batch.partial, period=period, batch=batch,
                             progress=progress)  # fmt: skip
    except ImportRefused:
        pass  # recorded on the batch
    except (
        Exception
    ) as exc:  # a bug, a lost file: said on the batch; the worker's log has the trace
        logger.exception("Import of batch %s failed", batch_id)
        _fail(
            batch_id, f"{batch.filename}: the import failed: {type(exc).__name__}: {echo(str(exc))}"
        )
    finally:
        cache.delete(progress_key(batch_id))
        leases.release(ImportBatch, batch_id)
    if batch.claims > 1:
        _retried_note(batch_id)
    # Final now (applied, rejected, failed): the file is deleted, or kept keyed (batch_file_settle). A
    # storage that fails here fails nothing of the import: the daily sweep settles the file again.
    try:
        batch_file_settle(batch_id=batch_id)
    except OSError:
        logger.exception("The file of batch %s is left for the daily sweep", batch_id)


def _fail(batch_id: int, message: str, **only) -> int:
    """Fail a batch that is not final yet, with the reason as its message and its one error."""
    error = {"line": 1, "column": "", "value": "", "reason": message}
    return (
        ImportBatch.objects.filter(pk=batch_id, **only)
        .exclude(status__in=FINAL_STATES)
        .update(
            status=ImportBatch.Status.FAILED,
            message=message,
            errors=[error],
            leased_by="",
            lease_expires=None,
        )
    )


def _retried_note(batch_id: int) -> None:
    batch = ImportBatch.objects.get(pk=batch_id)
    note = (
        "The worker that first imported this file stopped before it finished; nothing of that "
        "attempt was kept, and the file was imported again from the start (attempt "
        f"{batch.claims} of {settings.WORK_LEASE_CLAIMS})."
    )
    batch.message = "\n".join(part for part in (batch.message, note) if part)
    batch.save(update_fields=["message"])


def import_leases_sweep(*, now: dt.datetime | None = None) -> int:
    """The watchdog's import half (Celery beat, every minute): a batch importing whose lease ran out
    lost its worker. It is queued again for the next worker, from a clean state; or, after
    ``WORK_LEASE_CLAIMS`` lost workers, or when there is no file to read again (an import from the
    command line whose process died), failed with that reason. Returns how many batches it settled."""
    from calls.tasks import import_file  # tasks import services; import here, not at the top

    now = now or timezone.now()
    stuck = ImportBatch.objects.filter(status=ImportBatch.Status.RUNNING).filter(leases.free(now))
    settled = 0
    for batch in stuck:
        lost = batch.leased_by or "a worker"
        only = {"lease_expires": batch.lease_expires, "status": ImportBatch.Status.RUNNING}
        with transaction.atomic():
            if not batch.file:
                settled += _fail(batch.pk, (
                    f"{batch.filename}: the import run by {lost} stopped before it finished; nothing "
                    "of it was imported. Import the file again."), **only)  # fmt: skip
            elif batch.claims >= settings.WORK_LEASE_CLAIMS:
                settled += _fail(batch.pk, (
                    f"{batch.filename}: the worker importing it stopped {batch.claims} times before it "
                    "finished (killed, or out of memory); nothing of it was imported. The workers' "
                    "logs say why; a smaller file may go through."), **only)  # fmt: skip
                transaction.on_commit(lambda pk=batch.pk: batch_file_settle(batch_id=pk))
            else:
                again = ImportBatch.objects.filter(pk=batch.pk, **only).update(
                    status=ImportBatch.Status.PENDING, leased_by="", lease_expires=None
                )
                if again:
                    logger.warning("Batch %s lost its worker %s; queued again", batch.pk, lost)
                    import_file.delay_on_commit(batch.pk)
                settled += again
    return settled
