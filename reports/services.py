"""The top floor's writes: alerts raised by their rules, and acknowledged by a lead."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from calls.metrics import metric_ratios, rollup
from calls.months import center_tz, month_bounds
from incentives import selectors as incentive_selectors
from incentives.models import Agent, Team
from reports.models import Alert, AlertRule


class AlertRefused(Exception):
    """The step is not allowed; the message says why."""


def _window(rule: AlertRule, now: dt.datetime) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """(start, end, the window's key): today on the center's clock, the last 60 minutes (keyed by the
    clock hour, so a rule hit all hour long is one alert), or this month."""
    local = now.astimezone(center_tz())
    if rule.window == AlertRule.Window.TODAY:
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, now, start
    if rule.window == AlertRule.Window.HOUR:
        return now - dt.timedelta(hours=1), now, local.replace(minute=0, second=0, microsecond=0)
    start, _end = month_bounds(local.year, local.month)
    return start, now, start


def alerts_evaluate(*, now: dt.datetime | None = None) -> int:
    """Evaluate every active rule for every agent placed today, their groups or teams; raise each hit
    once per window. Returns the number of alerts raised. Runs after each import and every 5 minutes."""
    now = now or timezone.now()
    today = now.astimezone(center_tz()).date()
    placements = {
        p.agent_id: p
        for p in incentive_selectors.placements_on(today)
        .filter(agent__in=Agent.objects.filter(incentive_selectors.employed_on(today)))
        .select_related("agent", "team", "group")
    }
    raised = 0
    for rule in AlertRule.objects.filter(active=True):
        start, end, key = _window(rule, now)
        ratios = metric_ratios(
            rule.metric, agent_ids=list(placements), start=start, end=end, params=rule.params
        )
        subjects: dict[int, tuple[str, Team, list]] = {}
        for agent_id, ratio in ratios.items():
            p = placements[agent_id]
            if rule.level == AlertRule.Level.AGENT:
                subject = (agent_id, f"{p.agent.name} ({p.agent.employee_id})")
            elif rule.level == AlertRule.Level.GROUP:
                if p.group is None:
                    continue
                subject = (p.group_id, f"{p.team.name} · {p.group.name}")
            else:
                subject = (p.team_id, p.team.name)
            subjects.setdefault(subject[0], (subject[1], p.team, []))[2].append(ratio)
        for subject_id, (name, team, parts) in subjects.items():
            value = rollup(rule.metric, parts)
            if (
                value.value is None
                or value.denominator < rule.min_volume
                or not rule.hit(value.value)
            ):
                continue
            try:
                with transaction.atomic():
                    Alert.objects.create(
                        rule=rule, level=rule.level, subject_id=subject_id, subject=name, team=team,
                        window_start=key, value=value.value, numerator=value.numerator,
                        denominator=value.denominator,
                    )  # fmt: skip
                raised += 1
            except IntegrityError:
                pass  # raised already in this window: the same hit is one alert
    return raised


def alert_acknowledge(*, alert: Alert, user) -> Alert:
    """A lead of the alert's team acknowledges it; it stays on record, with who and when."""
    if not alert.team.leads.filter(pk=user.pk).exists():
        raise AlertRefused(f"Only a lead of {alert.team} acknowledges this alert.")
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = timezone.now(), user
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return alert
