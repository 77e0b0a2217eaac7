"""``manage.py import_calls FILE --source acd``: import a calls CSV as one batch."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from calls.models import ImportBatch
from calls.services import ImportRefused, calls_import_csv


class Command(BaseCommand):
    help = "Import calls from a CSV file (all rows or none, unless --valid-rows-only)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--source", required=True, help="the exporting system, e.g. acd")
        parser.add_argument(
            "--valid-rows-only",
            action="store_true",
            help="import the valid rows even when others have errors",
        )

    def handle(self, *args, path: Path, source: str, valid_rows_only: bool, **options):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        try:
            batch = calls_import_csv(
                data=data, filename=path.name, source=source, allow_partial=valid_rows_only
            )
        except ImportRefused as exc:
            raise CommandError(str(exc)) from exc
        for error in batch.errors:
            self.stderr.write(
                f"line {error['line']}, column {error['column'] or '-'}: "
                f"{error['reason']} (value {error['value']!r})"
            )
        summary = (
            f"batch {batch.pk}: {batch.rows_total} rows, {batch.rows_created} created, "
            f"{batch.rows_updated} updated, {batch.rows_unchanged} unchanged, "
            f"{batch.rows_rejected} rejected"
        )
        if batch.status == ImportBatch.Status.REJECTED:
            raise CommandError(
                f"{summary}. Nothing was imported: fix the rows above, or re-run "
                "with --valid-rows-only to import the valid rows."
            )
        self.stdout.write(self.style.SUCCESS(summary))
