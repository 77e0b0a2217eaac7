"""``manage.py compute_period 2026 10``: start a computation run of a month."""

from django.core.management.base import BaseCommand, CommandError

from incentives.services import PeriodStateError, RunAlreadyActive, period_get_or_create, run_start


class Command(BaseCommand):
    help = "Start a computation run of a month (runs in process without a broker, else on workers)."

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("month", type=int, choices=range(1, 13), metavar="month (1-12)")

    def handle(self, *args, year: int, month: int, **options):
        period = period_get_or_create(year=year, month=month)
        try:
            run = run_start(period=period)
        except (PeriodStateError, RunAlreadyActive) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{period}: run v{run.number} is {run.get_status_display()}.")
