"""An import on the workers: an upload kept and queued, run by the worker that claims its batch (with its
progress in the cache), failed or queued again when its worker is lost (the watchdog's import half)."""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calls import leases
from calls.background import run_after_commit
from calls.importers.mapping import echo
from calls.models import ColumnMapping, ImportBatch
from calls.services.batches import FINAL_STATES, batch_file_settle
from calls.services.imports import ImportRefused, batch_create, facts_import, with_attempt_note
from calls.services.queue_logs import queue_log_import, queue_log_sniff

logger = logging.getLogger(__name__)


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
    batch = batch_create(
        kind=mapping.kind if mapping else kind,
        filename=uploaded.name,
        source=source_name,
        mapping=mapping,
        allow_partial=allow_partial,
        created_by=created_by,
    )
    batch.queue_log = queue_log
    if period:
        batch.period_year, batch.period_month = period
    batch.file.save(uploaded.name, uploaded, save=False)
    batch.save()
    run_after_commit(import_file, batch.pk)
    return batch


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

    period = (
        (batch.period_year, batch.period_month)
        if batch.period_year and batch.period_month
        else None
    )
    try:
        with leases.kept(ImportBatch, batch_id), batch.file.open("rb") as stream:
            if batch.queue_log:
                queue_log_import(
                    stream=stream,
                    filename=batch.filename,
                    source=batch.source,
                    mapping=batch.mapping,
                    allow_partial=batch.partial,
                    created_by=batch.created_by,
                    batch=batch,
                )
            else:
                facts_import(
                    stream=stream,
                    filename=batch.filename,
                    kind=batch.kind,
                    source=batch.source,
                    mapping=batch.mapping,
                    allow_partial=batch.partial,
                    period=period,
                    batch=batch,
                    progress=progress,
                )
    except ImportRefused:
        pass  # recorded on the batch
    except (
        Exception
    ) as exc:  # a bug, a lost file: said on the batch; the worker's log has the trace
        logger.exception("Import of batch %s failed", batch_id)
        failed = f"{batch.filename}: the import failed: {type(exc).__name__}: {echo(str(exc))}"
        _fail(batch_id, with_attempt_note(batch, failed))
    finally:
        cache.delete(progress_key(batch_id))
        leases.release(ImportBatch, batch_id)
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
                settled += _fail(
                    batch.pk,
                    (
                        f"{batch.filename}: the import run by {lost} stopped before it finished; nothing "
                        "of it was imported. Import the file again."
                    ),
                    **only,
                )
            elif batch.claims >= settings.WORK_LEASE_CLAIMS:
                settled += _fail(
                    batch.pk,
                    (
                        f"{batch.filename}: the worker importing it stopped {batch.claims} times before it "
                        "finished (killed, or out of memory); nothing of it was imported. The workers' "
                        "logs say why; a smaller file may go through."
                    ),
                    **only,
                )
                transaction.on_commit(partial(batch_file_settle, batch_id=batch.pk))
            else:
                again = ImportBatch.objects.filter(pk=batch.pk, **only).update(
                    status=ImportBatch.Status.PENDING, leased_by="", lease_expires=None
                )
                if again:
                    logger.warning("Batch %s lost its worker %s; queued again", batch.pk, lost)
                    import_file.delay_on_commit(batch.pk)
                settled += again
    return settled
