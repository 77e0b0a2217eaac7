"""What happens to a batch after its import: its rollback (refused where a locked month or a later
import forbids it), and its uploaded file, kept keyed for the retention period or deleted."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import Max, Min
from django.utils import timezone

from calls.errors import Conflict
from calls.importers.facts import KINDS, FactKind
from calls.importers.sources import FileError
from calls.models import FactChange, ImportBatch, MonthLock
from calls.months import center_tz
from calls.services.month_locks import month_locks_hold


class RollbackRefused(Conflict):
    """The batch cannot be rolled back now; the message says why."""


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
        raise RollbackRefused(
            f"Batch {batch.pk}: some of its facts were changed again by a later import; "
            "roll that import back first."
        )
    for lock in _locked_months_of(batch):
        if lock.state == MonthLock.State.APPROVED:
            raise RollbackRefused(
                f"Batch {batch.pk} holds facts of the approved month {lock}: HR must "
                "reopen the month first (Overview), with a reason, to roll it back."
            )
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
    touched = kind.model._default_manager.filter(batch=batch)
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


def _before_moments(batch: ImportBatch, kind: FactKind, column: str | None):
    """The period values the facts the batch changed had before it (as its snapshots hold them)."""
    model_field = kind.model._meta.get_field(column or "")
    assert isinstance(model_field, models.Field)  # a kind's period field is a column of its own
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
    month_locks_hold()
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    batch_rollback_check(batch=batch)
    kind = KINDS[batch.kind]
    model = kind.model
    touched = model._default_manager.filter(batch=batch)
    changes = list(FactChange.objects.filter(batch=batch))
    changed_ids = {change.fact_id for change in changes}
    touched.exclude(pk__in=changed_ids).delete()
    fields = {f.target: f for f in kind.fields if f.target}
    for offset in range(0, len(changes), 2000):  # in bulk: a re-import may have changed every row
        part = changes[offset : offset + 2000]
        facts = model._default_manager.in_bulk([change.fact_id for change in part])
        for change in part:
            fact = facts[change.fact_id]
            for name, value in change.before.items():
                # The batch's id as it is; a fact's own field as its JSON snapshot holds it.
                kept = value if name == "batch_id" else _from_json(fact, fields[name], value)
                setattr(fact, name, kept)
        model._default_manager.bulk_update(facts.values(), list(part[0].before))
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
                stream,
                batch.filename,
                kind=batch.kind,
                queue_log=batch.queue_log,
                columns=mapping.columns if mapping else None,
                value_maps=mapping.value_maps if mapping else None,
                has_header=mapping.has_header if mapping else True,
            )
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
    previews_sweep(now=now)
    return ImportBatch.objects.filter(status__in=FINAL_STATES).exclude(file="").count()


# --- a file previewed, kept for the import that follows -------------------------------------------

PREVIEWS = "imports/previews"
PREVIEW_KEPT_SECONDS = 24 * 3600


def preview_keep(uploaded) -> str:
    """Keep a previewed upload so that its Import button needs no second upload: returns a signed
    token naming it, which the page sends back. Kept at most a day (``import_files_sweep``); customer
    numbers are in it, so it is deleted once imported."""
    name = default_storage.save(
        f"{PREVIEWS}/{uuid.uuid4().hex}-{Path(uploaded.name).name}", uploaded
    )
    return signing.dumps(name, salt=PREVIEWS)


def preview_take(token: str) -> File:
    """The file a token of ``preview_keep`` names, open for reading; ``FileError`` when it is gone (a
    day passed, or it was imported already) or the token is not ours."""
    try:
        name = signing.loads(token, salt=PREVIEWS, max_age=PREVIEW_KEPT_SECONDS)
    except signing.BadSignature as exc:
        raise FileError("The previewed file is no longer kept: choose the file again.") from exc
    if not name.startswith(f"{PREVIEWS}/") or not default_storage.exists(name):
        raise FileError("The previewed file is no longer kept: choose the file again.")
    kept = File(default_storage.open(name, "rb"), name=Path(name).name.split("-", 1)[1])
    kept.storage_name = name  # type: ignore[attr-defined]  # preview_forget deletes it by this name
    return kept


def preview_forget(kept: File) -> None:
    """Delete a kept preview once its import has its own copy."""
    kept.close()
    default_storage.delete(kept.storage_name)  # type: ignore[attr-defined]


def previews_sweep(*, now: dt.datetime | None = None) -> int:
    """Delete previews kept longer than a day (HR previewed and never imported). Returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=PREVIEW_KEPT_SECONDS)
    try:
        _folders, files = default_storage.listdir(PREVIEWS)
    except FileNotFoundError:
        return 0
    stale = [
        f"{PREVIEWS}/{file}"
        for file in files
        if default_storage.get_modified_time(f"{PREVIEWS}/{file}") < cutoff
    ]
    for name in stale:
        default_storage.delete(name)
    return len(stale)
