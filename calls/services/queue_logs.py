"""An Asterisk queue_log imported (``calls.importers.queue_log`` reads it): its calls, ring attempts and
work time as batches, and the legs it leaves open kept for the next file of the log (``QueueLogLeg``)."""

from __future__ import annotations

import datetime as dt
from typing import BinaryIO

from django.conf import settings
from django.db import transaction

from calls.importers import engine, queue_log
from calls.importers.facts import QUEUE_LOG_CALLS
from calls.importers.mapping import echo
from calls.importers.sources import FileError
from calls.models import Call, ColumnMapping, ImportBatch, QueueLogLeg
from calls.services.imports import (
    ImportRefused,
    batch_create,
    batch_refuse,
    batch_settle,
    facts_import,
)


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
            kind="calls",
            filename=filename,
            source=source_name,
            created_by=created_by,
            status=ImportBatch.Status.RUNNING,
        )

    try:
        parsed = queue_log.read(
            stream, filename, tz_name=tz, restore=lambda first: legs_restored(source_name, first)
        )
    except FileError as exc:
        batch_refuse(first_batch(), str(exc))
    left_open = any(leg.touched for leg in parsed.open_legs)
    has_calls = bool(parsed.finished or left_open or parsed.closed_stored or parsed.errors)
    if not (has_calls or parsed.rings or parsed.worktime):
        batch_refuse(
            first_batch(),
            f"{filename}: nothing to import: no queue event "
            f"(time|callid|queue|agent|event) in its {parsed.events + parsed.skipped_lines} lines.",
        )
    legs = [leg for leg, _line in parsed.finished]
    names = queue_log.leg_names(legs, taken=_call_ids_taken(source_name, legs))
    calls_source, rings_source, work_source = queue_log.sources(parsed, names)
    # A queue_log mapping only names agents: {"agent_id": {"1001": "A01"}} for every kind of row.
    agents = {"agent_id": (mapping.value_maps or {}).get("agent_id", {})} if mapping else None
    common = {
        "stream": stream,
        "filename": filename,
        "source": source_name,
        "value_maps": agents,
        "allow_partial": allow_partial,
        "created_by": created_by,
    }
    batches = []
    if has_calls:
        calls = _queue_log_calls(parsed, calls_source, first_batch(), common)
        batches.append(calls)
        if calls.status != ImportBatch.Status.APPLIED:
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
                batch = facts_import(
                    kind="calls",
                    layout=QUEUE_LOG_CALLS,
                    source_reader=reader,
                    batch=batch,
                    line_errors=parsed.errors,
                    **common,
                )
            else:  # nothing finished in this file: still a batch, for what it leaves open
                batch.kind, batch.encoding = "calls", "queue_log"
                batch.errors = parsed.errors[: engine.MAX_STORED_ERRORS]
                batch.rows_total = batch.rows_rejected = len({e["line"] for e in parsed.errors})
                batch_settle(batch, common["allow_partial"])
                batch.save()
            notes = list(parsed.notes)
            if batch.status == ImportBatch.Status.APPLIED:
                notes += legs_keep(parsed, batch=batch, source=common["source"])
            elif parsed.rings or parsed.worktime:
                batch.message += " Its ring attempts and work time were not imported either."
            if notes := _notes_said(parsed, notes):
                batch.message = "\n".join([batch.message, *notes]).strip()
            batch.save(update_fields=["message"])  # with the final status: never read without it
    except ImportRefused as exc:
        if exc.batch is not None:
            exc.batch.save()  # its refusal was undone with the transaction
        raise
    return batch


def _notes_said(parsed, notes: list[str]) -> list[str]:
    """The notes of a queue_log import as its batch says them: the parser's and the legs', the lines
    skipped, at most ``MAX_NOTES``."""
    if parsed.skipped_lines:
        shown = ", ".join(str(line) for line in parsed.skipped)
        more = " …" if parsed.skipped_lines > len(parsed.skipped) else ""
        notes.append(
            f"{parsed.skipped_lines} lines were not queue events and were skipped: line "
            f"{shown}{more}."
        )
    if len(notes) > queue_log.MAX_NOTES:
        notes = [
            *notes[: queue_log.MAX_NOTES],
            f"… and {len(notes) - queue_log.MAX_NOTES} more notes.",
        ]
    return notes


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
        notes.append(
            f"{leg.opened.said(parsed.filename)}: call {echo(leg.callid)} in "
            f"{echo(leg.queue)}: an id or queue name this long cannot be kept open "
            "for the next file"
        )
    touched = [leg for leg in touched if len(leg.callid) <= 100 and len(leg.queue) <= 100]
    for closed in parsed.closed_stored:
        leg = closed.leg
        before = latest.get(leg.key)
        if before is not None and before.closed_at == closed.closed_at:
            continue  # this file ended it already, in an earlier import of it
        snapshots.append(
            QueueLogLeg(
                source=source,
                callid=leg.callid,
                queue=leg.queue,
                entered_at=leg.entered,
                state=leg.stored,
                closed_at=closed.closed_at,
                filename=closed.where.file[:255],
                line=closed.where.line,
                batch=batch,
            )
        )
    imported = _call_ids_taken(source, touched)
    for leg in touched:
        before = latest.get(leg.key)
        if before is not None and before.closed_at is not None:
            notes.append(
                f"{leg.opened.said(parsed.filename)}: call {leg.callid} in {leg.queue}, open at "
                f"the end of this file, was finished by a later file ({before.filename}): "
                "kept as that file finished it"
            )
            continue
        if any(
            imported.get(name) == (leg.queue, leg.entered)
            for name in queue_log.name_candidates(leg)
        ):  # a later file imported before this one, which began mid-call
            notes.append(
                f"{leg.opened.said(parsed.filename)}: call {leg.callid} in {leg.queue}, open at "
                "the end of this file, was imported finished from another file: kept as it is"
            )
            continue
        state = leg.state()
        if before is not None and before.state == state:
            continue
        snapshots.append(
            QueueLogLeg(
                source=source,
                callid=leg.callid,
                queue=leg.queue,
                entered_at=leg.entered,
                state=state,
                filename=leg.opened.file[:255],
                line=leg.opened.line,
                batch=batch,
            )
        )
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
