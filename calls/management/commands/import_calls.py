"""``manage.py import_calls FILE --source acd``: import a file of calls (or other facts) as one batch."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from calls.importers.facts import KINDS
from calls.models import ColumnMapping, ImportBatch
from calls.services import ImportRefused, facts_import


class Command(BaseCommand):
    help = "Import a CSV or XLSX file of facts (all rows or none, unless --valid-rows-only)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--source", help="the exporting system, e.g. acd (or give --mapping)")
        parser.add_argument("--mapping", help="the name of a saved column mapping")
        parser.add_argument("--kind", default="calls", choices=sorted(KINDS))
        parser.add_argument("--period", help="YYYY-MM: refuse rows outside this month")
        parser.add_argument(
            "--valid-rows-only",
            action="store_true",
            help="import the valid rows even when others have errors",
        )

    def handle(self, *args, path: Path, source, mapping, kind, period, valid_rows_only, **options):
        saved = None
        if mapping:
            saved = ColumnMapping.objects.filter(name=mapping).first()
            if saved is None:
                raise CommandError(f"No column mapping is called {mapping!r}.")
        elif not source:
            raise CommandError("Give --source (the exporting system) or --mapping.")
        month = None
        if period:
            try:
                year, number = (int(part) for part in period.split("-"))
                month = (year, number)
            except ValueError:
                raise CommandError(f"--period {period!r} is not YYYY-MM.") from None
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        with stream:
            try:
                batch = facts_import(
                    stream=stream, filename=path.name, kind=kind, source=source, mapping=saved,
                    allow_partial=valid_rows_only, period=month,
                )  # fmt: skip
            except ImportRefused as exc:
                raise CommandError(str(exc)) from exc
        for error in batch.errors:
            self.stderr.write(
                f"line {error['line']}, column {error['column'] or '-'}: {error['reason']} (value {error['value']!r})"
            )
        summary = (
            f"batch {batch.pk}: {batch.rows_total} rows, {batch.rows_created} created, {batch.rows_updated} updated, "
            f"{batch.rows_unchanged} unchanged, {batch.rows_rejected} rejected"
        )
        if batch.status == ImportBatch.Status.REJECTED:
            raise CommandError(
                f"{summary}. Nothing was imported: fix the rows above, or re-run with --valid-rows-only to import "
                "the valid rows."
            )
        self.stdout.write(self.style.SUCCESS(summary))
