"""The whole demo: the first floor's (``incentives.demo``: the organisation, six months of history, the
pilot, reviews, questions), then the top floor's own part, the alerts open on the leads' teams."""

from __future__ import annotations

import datetime as dt
import importlib

from django.db import transaction

from calls.months import month_bounds, previous_month
from incentives.demo import DemoSummary, demo_seed
from incentives.models import Team
from reports.models import Alert, AlertRule
from reports.services import alerts_evaluate

# The field's default rules, as the migrations install them (HR edits or switches them off in the
# admin): put back when missing — a database flushed by a test has none — so that the demo's calls
# meet the rules every installation starts with.
DEFAULT_RULES = [
    *importlib.import_module("reports.migrations.0002_default_alert_rules").DEFAULTS,
    importlib.import_module("reports.migrations.0003_idle_rules").DEFAULT,
]


@transaction.atomic
def _default_rules() -> None:
    """Each default rule for which no rule of its kind on its metric exists (one HR renamed or switched
    off is left as it is), checked as the admin checks a rule."""
    for fields in DEFAULT_RULES:
        kind = fields.get("kind", AlertRule.Kind.METRIC)
        if not AlertRule.objects.filter(kind=kind, metric=fields["metric"]).exists():
            rule = AlertRule(**fields)
            rule.full_clean()
            rule.save()


def open_alerts() -> dict[str, int]:
    """Open (unacknowledged) alerts per team that has a lead, by the team's name."""
    led = Team.objects.filter(leads__isnull=False).values("pk")
    counts: dict[str, int] = {}
    for name in (
        Alert.objects.filter(acknowledged_at__isnull=True, team__in=led)
        .order_by("team__name")
        .values_list("team__name", flat=True)
    ):
        counts[name] = counts.get(name, 0) + 1
    return counts


def demo_alerts(*, year: int, month: int, now: dt.datetime | None = None) -> dict[str, int]:
    """Evaluate the rules now, as beat does every five minutes. In the first days of a month, before
    the month so far has the volume a rule asks for (50 calls an agent for the complaint rate), they
    raise nothing: then they are evaluated at the last second of the demo month, raising what they
    raised as it ended, which no lead has acknowledged yet. Returns ``open_alerts()``."""
    _default_rules()
    alerts_evaluate(now=now)
    if not open_alerts():
        alerts_evaluate(now=month_bounds(year, month)[1] - dt.timedelta(seconds=1))
    return open_alerts()


def demo_seed_all(*, year: int | None = None, month: int | None = None) -> DemoSummary:
    """The demo: ``incentives.demo.demo_seed`` (by default the month that has just ended and the five
    before it), then the alerts on the leads' teams. Idempotent, as both parts are."""
    if year is None or month is None:
        year, month = previous_month()
    summary = demo_seed(year=year, month=month)
    summary.alerts_open = demo_alerts(year=year, month=month)
    return summary
