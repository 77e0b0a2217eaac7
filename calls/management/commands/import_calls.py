"""``manage.py import_calls FILE --source acd --user NAME``: import a file of calls (or other facts) as
one batch; an Asterisk queue_log (``--queue-log``, or recognised by its first lines) as its calls, ring
attempts and work time. ``--user`` names the HR user the import runs as: the batch records them as its
creator and the audit trail as the actor, as when they upload the file themselves."""

from pathlib import Path

from auditlog.context import set_actor
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from calls.importers.facts import KINDS
from calls.models import ColumnMapping, ImportBatch
from calls.roles import HR, has_role
from calls.services import ImportRefused, facts_import, queue_log_import, queue_log_sniff


class Command(BaseCommand):
    help = (
        "Import a CSV or XLSX file of facts, or an Asterisk queue_log (all rows or none, unless "
        "--valid-rows-only)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--user",
            required=True,
            help="the HR user the import runs as (recorded on the batch and in the audit trail)",
        )
        parser.add_argument("--source", help="the exporting system, e.g. acd (or give --mapping)")
        parser.add_argument("--mapping", help="the name of a saved column mapping")
        parser.add_argument("--kind", default="calls", choices=sorted(KINDS))
        parser.add_argument("--period", help="YYYY-MM: refuse rows outside this month")
        parser.add_argument(
            "--queue-log",
            action="store_true",
            help="the file is an Asterisk queue_log (file or table export); recognised by its first "
            "lines without this option",
        )
        parser.add_argument(
            "--valid-rows-only",
            action="store_true",
            help="import the valid rows even when others have errors",
        )

    def handle(self, *args, path: Path, source, mapping, kind, period, valid_rows_only, **options):
        queue_log = options["queue_log"]
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None or not user.is_active or not has_role(user, HR):
            raise CommandError(
                f"--user {options['user']!r} is not an active HR user: imports are HR's."
            )
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
        with stream, set_actor(user):  # what the import changes is on the record as theirs
            queue_log = queue_log or (kind == "calls" and queue_log_sniff(stream))
            if queue_log and month is not None:
                raise CommandError(
                    "--period does not apply to a queue_log: its calls are dated by it."
                )
            try:
                if queue_log:
                    batches = queue_log_import(
                        stream=stream,
                        filename=path.name,
                        source=source,
                        mapping=saved,
                        allow_partial=valid_rows_only,
                        created_by=user,
                    )
                else:
                    batches = [
                        facts_import(
                            stream=stream,
                            filename=path.name,
                            kind=kind,
                            source=source,
                            mapping=saved,
                            allow_partial=valid_rows_only,
                            period=month,
                            created_by=user,
                        )
                    ]
            except ImportRefused as exc:
                raise CommandError(str(exc)) from exc
        rejected = []
        for batch in batches:
            for error in batch.errors:
                self.stderr.write(
                    f"line {error['line']}, column {error['column'] or '-'}: {error['reason']} "
                    f"(value {error['value']!r})"
                )
            summary = (
                f"batch {batch.pk} ({batch.kind}): {batch.rows_total} rows, {batch.rows_created} created, "
                f"{batch.rows_updated} updated, {batch.rows_unchanged} unchanged, "
                f"{batch.rows_rejected} rejected"
            )
            if batch.status == ImportBatch.Status.REJECTED:
                rejected.append(summary)
                continue
            self.stdout.write(self.style.SUCCESS(summary))
            if queue_log and batch.message:
                self.stdout.write(batch.message)
        if rejected:
            raise CommandError(
                f"{'; '.join(rejected)}. Nothing was imported: fix the rows above, or re-run with "
                "--valid-rows-only to import the valid rows."
            )
