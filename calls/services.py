"""Everything that writes call data."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import transaction

from calls.importers import csv_calls
from calls.models import Call, ImportBatch

MAX_STORED_ERRORS = 1000  # the report keeps the first thousand; the count keeps them all
UPSERT_CHUNK = 2000
# Everything an import may change about a call; its identity (source, call id) never changes.
_COMPARED_FIELDS = tuple(
    field.attname
    for field in Call._meta.concrete_fields
    if field.name not in {"id", "source", "external_id", "batch"}
)


class ImportRefused(Exception):
    """The file cannot be imported at all; the message says why and where."""


def _known_agents() -> dict[str, int]:
    # Reached through the foreign key so this floor never imports incentives.
    agent_model = Call._meta.get_field("agent").related_model
    return dict(agent_model.objects.values_list("employee_id", "id"))


def calls_import_csv(
    *,
    data: bytes,
    filename: str,
    source: str,
    allow_partial: bool = False,
    created_by=None,
) -> ImportBatch:
    """Import a calls CSV as one batch: all rows or none.

    With errors and ``allow_partial=False`` nothing is imported and the batch is saved as rejected with
    every error (line, column, value, reason). With ``allow_partial=True`` the valid rows are imported
    and the invalid ones reported. Rows are keyed by (source, call id): importing the same file again
    creates nothing, and a row whose content changed updates its call.
    """
    if not source or len(source) > 50:
        raise ImportRefused("The source name is required (at most 50 characters), e.g. 'acd'.")
    try:
        parsed = csv_calls.parse(data, source=source, known_agents=_known_agents())
    except csv_calls.FileError as exc:
        raise ImportRefused(f"{filename}: {exc}") from exc

    batch = ImportBatch(
        source=source,
        filename=filename[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=parsed.encoding,
        partial=allow_partial,
        rows_total=parsed.total,
        rows_rejected=len(parsed.rejected_lines),
        errors=[error.as_dict() for error in parsed.errors[:MAX_STORED_ERRORS]],
        created_by=created_by,
    )
    if parsed.errors and not allow_partial:
        batch.status = ImportBatch.Status.REJECTED
        batch.full_clean()
        batch.save()
        return batch

    with transaction.atomic():
        batch.status = ImportBatch.Status.APPLIED
        batch.full_clean()
        batch.save()
        created, updated, unchanged = _upsert_calls(batch=batch, rows=parsed.rows, source=source)
        batch.rows_created, batch.rows_updated, batch.rows_unchanged = created, updated, unchanged
        batch.save(update_fields=["rows_created", "rows_updated", "rows_unchanged"])
    return batch


def _upsert_calls(*, batch: ImportBatch, rows: Iterable[dict], source: str) -> tuple[int, int, int]:
    """Insert new calls and update changed ones, in chunks. Call inside the batch's transaction."""
    created = updated = unchanged = 0
    rows = list(rows)
    for offset in range(0, len(rows), UPSERT_CHUNK):
        chunk = rows[offset : offset + UPSERT_CHUNK]
        existing = {
            call.external_id: call
            for call in Call.objects.filter(
                source=source, external_id__in=[row["external_id"] for row in chunk]
            )
        }
        new_calls, changed_calls = [], []
        for row in chunk:
            call = existing.get(row["external_id"])
            if call is None:
                new_calls.append(Call(batch=batch, **row))
                continue
            if all(getattr(call, name) == row[name] for name in _COMPARED_FIELDS):
                unchanged += 1
                continue
            for name in _COMPARED_FIELDS:
                setattr(call, name, row[name])
            call.batch = batch
            changed_calls.append(call)
        Call.objects.bulk_create(new_calls)
        Call.objects.bulk_update(changed_calls, [*_COMPARED_FIELDS, "batch"])
        created += len(new_calls)
        updated += len(changed_calls)
    return created, updated, unchanged
