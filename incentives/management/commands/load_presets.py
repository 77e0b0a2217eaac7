"""``manage.py load_presets``: the plan presets A, B, C, Invitations and Outbound compliance, as drafts."""

import datetime as dt

from django.core.management.base import BaseCommand

from incentives.services import presets_load


class Command(BaseCommand):
    help = "Load the plan presets as draft plans that HR copies and edits (already loaded ones are kept)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--effective-from",
            type=dt.date.fromisoformat,
            default=dt.date.today().replace(day=1),
            help="effective date of the drafts (YYYY-MM-DD; default: the 1st of this month)",
        )

    def handle(self, *args, effective_from, **options):
        loaded = presets_load(effective_from=effective_from)
        for version in loaded:
            self.stdout.write(f"loaded {version.plan.code}: {version.plan.name}")
        self.stdout.write(self.style.SUCCESS(f"{len(loaded)} presets loaded."))
