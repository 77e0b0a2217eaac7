"""``manage.py seed_demo``: the demo contact center (idempotent)."""

from urllib.parse import urlencode

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils.translation import gettext as _

from incentives.demo import DEMO_PASSWORD, DemoMonth, DemoRefused, DemoSummary
from incentives.models import Review
from reports.demo import demo_seed_all

SITE = "http://127.0.0.1:8000"


def _month_line(month: DemoMonth) -> str:
    when = f"{month.year}-{month.month:02d}"
    if month.approved_before:
        return _("%(month)s: approved already.") % {"month": when}
    if month.computed:
        done = _("computed as run v%(n)s") % {"n": month.run.number if month.run else "?"}
    else:
        done = _("computed already")
    return _(
        "%(month)s: %(created)s calls imported, %(unchanged)s already there; %(done)s, approved."
    ) % {
        "month": when,
        "created": f"{month.calls_created:,}",
        "unchanged": f"{month.calls_unchanged:,}",
        "done": done,
    }


class Command(BaseCommand):
    help = (
        "Seed the demo contact center: six months of generated calls, computed and approved; a pilot "
        "team on a plan of its own and a draft for the what-if; alerts; reviews at every stage; an "
        "open question."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int)
        parser.add_argument("--month", type=int, choices=range(1, 13), metavar="1-12")

    def handle(self, *args, year=None, month=None, **options):
        try:
            summary = demo_seed_all(year=year, month=month)
        except DemoRefused as exc:
            raise CommandError(str(exc)) from None
        self._history(summary)
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(_("What to look at first")))
        self._first_minute(summary)
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                _("Logins (password for all: %(password)s)") % {"password": DEMO_PASSWORD}
            )
        )
        for role, username in summary.logins:
            self.stdout.write(f"  {role:<10} {username}")
        self.stdout.write(
            "  " + _("(every agent logs in with their employee id: a01 … a10, b01 … b10)")
        )
        self.stdout.write("")
        self.stdout.write(_("Open %(url)s") % {"url": f"{SITE}/"})

    def _history(self, summary: DemoSummary) -> None:
        first, last = summary.months[0], summary.months[-1]
        self.stdout.write(
            _("Demo history: %(first)s to %(last)s, %(n)s months of calls, computed and approved.")
            % {
                "first": f"{first.year}-{first.month:02d}",
                "last": f"{last.year}-{last.month:02d}",
                "n": len(summary.months),
            }
        )
        for month in summary.months:
            self.stdout.write("  " + _month_line(month))

    def _first_minute(self, summary: DemoSummary) -> None:
        alerts = sum(summary.alerts_open.values())
        by_team = ", ".join(f"{team} {n}" for team, n in summary.alerts_open.items())
        self.stdout.write(
            "  "
            + _("Open alerts on the leads' teams: %(n)s (%(teams)s); log in as a lead.")
            % {"n": alerts, "teams": by_team or "—"}
        )
        stages = ", ".join(
            f"{Review.Stage(stage).label} {n}" for stage, n in summary.reviews.items()
        )
        self.stdout.write(
            "  "
            + _("Reviews of %(month)s by stage: %(stages)s.")
            % {"month": f"{summary.year}-{summary.month:02d}", "stages": stages}
        )
        question = summary.open_question
        if question is not None:
            self.stdout.write(
                "  "
                + _("An open question from %(agent)s on their %(month)s statement: %(url)s")
                % {
                    "agent": question.statement.agent,
                    "month": f"{summary.year}-{summary.month:02d}",
                    "url": SITE + reverse("incentives:disputes"),
                }
            )
        if summary.pilot_team is not None and summary.pilot_version is not None:
            self.stdout.write(
                "  "
                + _("Pilot: %(team)s on %(version)s since %(since)s; the plans compared: %(url)s")
                % {
                    "team": summary.pilot_team.name,
                    "version": summary.pilot_version,
                    "since": f"{summary.pilot_version.effective_from:%Y-%m}",
                    "url": SITE + reverse("reports:plan_comparison"),
                }
            )
        if summary.whatif_version is not None and summary.period is not None:
            query = urlencode({"version": summary.whatif_version.pk, "period": summary.period.pk})
            self.stdout.write(
                "  "
                + _("What-if ready to run (%(version)s, a draft, over %(month)s): %(url)s")
                % {
                    "version": summary.whatif_version,
                    "month": summary.period,
                    "url": f"{SITE}{reverse('reports:whatif')}?{query}",
                }
            )
