"""``manage.py seed_demo``: the demo contact center (idempotent)."""

from django.core.management.base import BaseCommand

from incentives.demo import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = (
        "Seed the demo contact center, import a month of generated calls, compute and approve it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int)
        parser.add_argument("--month", type=int, choices=range(1, 13), metavar="1-12")

    def handle(self, *args, year=None, month=None, **options):
        summary = demo_seed(year=year, month=month)
        self.stdout.write(
            f"Demo month {summary.year}-{summary.month:02d}: {summary.calls_created} calls imported, "
            f"{summary.calls_unchanged} already there; "
            + (
                f"computed as run v{summary.run.number}."
                if summary.computed and summary.run is not None
                else "already computed."
            )
        )
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Logins (password for all: " + DEMO_PASSWORD + ")"))
        for role, username in summary.logins:
            self.stdout.write(f"  {role:<10} {username}")
        self.stdout.write("  (every agent logs in with their employee id: a01 … a10, b01 … b10)")
        self.stdout.write("")
        self.stdout.write("Open http://127.0.0.1:8000/")
