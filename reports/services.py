"""The top floor's writes: alerts raised by their rules, and acknowledged by a lead."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping

from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    Value,
)
from django.utils import timezone

from calls.errors import DomainError
from calls.metrics import METRICS, Ratio, effective_call, metric_ratios_many, rollup
from calls.models import Call, RingAttempt
from calls.months import center_tz, local_day, month_bounds
from calls.numbers import MOST_PLACES, rounded
from incentives import selectors as incentive_selectors
from incentives.models import Agent, Placement
from reports.models import EFFECTIVE_METRIC, Alert, AlertRule

logger = logging.getLogger(__name__)

# An effective call that began this long before a no-effective-call window and is still going covers
# the window; longer calls are not looked for, so the scan of the calls stays a few hours of the agents'
# (agent, started_at) index.
LONGEST_CALL = dt.timedelta(hours=4)


class AlertRefused(DomainError):
    """The step is not allowed; the message says why."""


def _utc(moment: dt.datetime) -> dt.datetime:
    """Keys are compared in UTC: Python never finds a local time of the hour the clocks repeat (02:30
    in Paris on the last Sunday of October) equal to any instant of another zone, the database's."""
    return moment.astimezone(dt.UTC)


def _clock_hour(now: dt.datetime) -> dt.datetime:
    """The hour ``now`` is in, on the center's clock: the key of an hour's alerts."""
    return _utc(now.astimezone(center_tz()).replace(minute=0, second=0, microsecond=0))


def _window(rule: AlertRule, now: dt.datetime) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """(start, end, the window's key) of a metric rule: today on the center's clock, the last 60
    minutes (keyed by the clock hour, so a rule hit all hour long is one alert), or this month."""
    local = now.astimezone(center_tz())
    if rule.window == AlertRule.Window.TODAY:
        start = _utc(local.replace(hour=0, minute=0, second=0, microsecond=0))
        return start, now, start
    if rule.window == AlertRule.Window.HOUR:
        return now - dt.timedelta(hours=1), now, _clock_hour(now)
    start = _utc(month_bounds(local.year, local.month)[0])
    return start, now, start


def _usable(rule: AlertRule) -> bool:
    """A rule the admin would refuse (written around it, or a metric since retired) is skipped and
    logged: one bad rule must not silence the others."""
    definition = METRICS.get(rule.metric)
    try:
        if definition is None:
            raise ValueError(f"unknown metric {rule.metric!r}")
        definition.param_values(rule.params or {})
    except ValueError as exc:
        logger.warning("Alert rule %s (%s) skipped: %s", rule.pk, rule.name, exc)
        return False
    return True


def _subject(rule: AlertRule, p: Placement) -> tuple[int, str] | None:
    """Who a rule speaks of for an agent placed at ``p``: the agent, their group, or their team."""
    if rule.level == AlertRule.Level.AGENT:
        return p.agent_id, f"{p.agent.name} ({p.agent.employee_id})"
    if rule.level == AlertRule.Level.GROUP:
        if p.group_id is None or p.group is None:
            return None
        return p.group_id, f"{p.team.name} · {p.group.name}"
    return p.team_id, p.team.name


def _metric_hits(
    rule: AlertRule,
    ratios: Mapping[int, Ratio],
    placements: Mapping[int, Placement],
    key: dt.datetime,
) -> list[Alert]:
    """The alerts a metric rule calls for: each agent's, group's or team's numerators and denominators
    added (a ratio of counts, never a mean of rates), then the minimum volume and the comparison."""
    subjects: dict[int, tuple[str, int, list[Ratio]]] = {}
    for agent_id, ratio in ratios.items():
        p = placements[agent_id]
        subject = _subject(rule, p)
        if subject is not None:
            subjects.setdefault(subject[0], (subject[1], p.team_id, []))[2].append(ratio)
    hits = []
    for subject_id, (name, team_id, parts) in subjects.items():
        value = rollup(rule.metric, parts)
        if value.value is None or value.denominator < rule.min_volume or not rule.hit(value.value):
            continue
        hits.append(
            Alert(
                rule=rule,
                level=rule.level,
                subject_id=subject_id,
                subject=name,
                team_id=team_id,
                window_start=key,
                value=rounded(value.value, MOST_PLACES),
                numerator=value.numerator,
                denominator=value.denominator,
            )
        )
    return hits


def _call_end():
    """When a call's talk ended: answered + talk, on PostgreSQL and SQLite alike. The talk is first typed
    as a plain integer: Django's SQLite backend refuses to multiply a PositiveIntegerField by an interval
    ("Invalid arguments for operator *")."""
    talk = ExpressionWrapper(
        ExpressionWrapper(F("talk_seconds"), output_field=IntegerField())
        * Value(dt.timedelta(seconds=1)),
        output_field=DurationField(),
    )
    return ExpressionWrapper(F("answered_at") + talk, output_field=DateTimeField())


def _idle_counts(
    rules: list[AlertRule], agent_ids: list[int], now: dt.datetime
) -> dict[int, dict[str, int]]:
    """Per agent, for each no-effective-call rule (columns suffixed with its id): the calls offered to or
    dialled by the agent in the span before the window (``before``) and in the window (``within``), and
    the effective calls whose talk overlaps the window (``effective``) — one grouped query over the calls
    for all the rules and agents, and one over the rings the agent let go (queue_log RINGNOANSWER: a
    call offered to the agent too, though never the agent's call)."""
    columns: dict[str, Count] = {}
    rang: dict[str, Count] = {}
    earliest = now
    for rule in rules:
        assert rule.minutes is not None  # an idle rule has its minutes (its constraint)
        span = dt.timedelta(minutes=rule.minutes)
        start = now - span
        earliest = min(earliest, start - max(span, LONGEST_CALL))
        effective = effective_call(METRICS[EFFECTIVE_METRIC].param_values(rule.params or {}))
        columns |= {
            f"before_{rule.pk}": Count(
                "id", filter=Q(started_at__gte=start - span, started_at__lt=start)
            ),
            f"within_{rule.pk}": Count("id", filter=Q(started_at__gte=start)),
            f"effective_{rule.pk}": Count(
                "id", filter=effective & Q(answered_at__lt=now, ended__gt=start)
            ),
        }
        rang |= {
            f"before_{rule.pk}": Count(
                "id", filter=Q(rang_at__gte=start - span, rang_at__lt=start)
            ),
            f"within_{rule.pk}": Count("id", filter=Q(rang_at__gte=start)),
        }
    rows = (
        Call.objects.filter(agent_id__in=agent_ids, started_at__gte=earliest, started_at__lt=now)
        .alias(ended=_call_end())
        .values("agent_id")
        .annotate(**columns)
    )
    counts = {row.pop("agent_id"): row for row in rows}
    rings = (
        RingAttempt.objects.filter(agent_id__in=agent_ids, rang_at__gte=earliest, rang_at__lt=now)
        .values("agent_id")
        .annotate(**rang)
    )
    for row in rings:
        into = counts.setdefault(row.pop("agent_id"), dict.fromkeys(columns, 0))
        for column, n in row.items():
            into[column] += n
    return counts


def _idle_hits(
    rules: list[AlertRule], placements: Mapping[int, Placement], now: dt.datetime
) -> list[Alert]:
    """The alerts the no-effective-call rules call for.

    What the data allows: work time is imported as a total per agent and day (queue_log's log-in,
    log-off and pause events are folded into those totals, their times are not kept), so nobody's
    presence at a given minute is known. The evidence used instead is the calls themselves: the ACD
    rings only members who are logged in and not paused (a ring left unanswered is such evidence too),
    and an outbound call is dialled by someone at work. An agent is taken to be on the floor through
    the last N minutes when calls were offered to or dialled by them both in the N minutes before the
    window and in the window (at least the rule's minimum volume there), and is alerted when none of
    those calls, nor one still going from earlier, was effective. An agent sitting idle with no call
    offered or dialled at all is not seen, and one who logged off after a short call is not told apart
    from one who stayed.

    Keyed by the clock hour: a lead is told once an hour at most, and again the next hour if the agent
    is still without an effective call.
    """
    counts = _idle_counts(rules, list(placements), now)
    key = _clock_hour(now)
    hits = []
    for rule in rules:
        for agent_id, row in counts.items():
            before, within = row[f"before_{rule.pk}"], row[f"within_{rule.pk}"]
            if not before or within < max(rule.min_volume, 1) or row[f"effective_{rule.pk}"]:
                continue
            p = placements[agent_id]
            subject = _subject(rule, p)
            assert subject is not None  # an idle rule is per agent (its constraint)
            subject_id, name = subject
            hits.append(
                Alert(
                    rule=rule,
                    level=rule.level,
                    subject_id=subject_id,
                    subject=name,
                    team_id=p.team_id,
                    window_start=key,
                    value=0,
                    numerator=0,
                    denominator=within,
                )
            )
    return hits


def _raise(alerts: Iterable[Alert]) -> int:
    """Insert the alerts not raised yet in their window, in one statement; returns how many were new.

    The unique key (rule, level, subject, window) keeps one alert per hit and window whatever happens:
    a second evaluation running at the same moment loses its insert to the conflict, silently (then the
    count it returns may include alerts the other one raised)."""
    alerts = list(alerts)
    if not alerts:
        return 0
    raised = set(
        Alert.objects.filter(
            rule_id__in={a.rule_id for a in alerts},
            window_start__in={a.window_start for a in alerts},
        ).values_list("rule_id", "level", "subject_id", "window_start")
    )
    new = [a for a in alerts if (a.rule_id, a.level, a.subject_id, a.window_start) not in raised]
    Alert.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def alerts_evaluate(*, now: dt.datetime | None = None) -> int:
    """Evaluate every active rule for every agent placed today, their groups or teams; raise each hit
    once per window. Returns the number of alerts raised. Runs after each import and every 5 minutes.

    A bounded number of queries whatever the number of agents and rules: the rules, the placements,
    for each window the metrics' grouped queries (one per fact table, shared by the rules of that
    window), one for all the no-effective-call rules, one for the alerts already raised, one insert
    (on SQLite, one per 83 alerts: its limit of 999 parameters a statement).
    """
    now = now or timezone.now()
    today = local_day(now)
    placements = {
        p.agent_id: p
        for p in incentive_selectors.placements_on(today)
        .filter(agent__in=Agent.objects.filter(incentive_selectors.employed_on(today)))
        .select_related("agent", "team", "group")
    }
    rules = [rule for rule in AlertRule.objects.filter(active=True) if _usable(rule)]
    if not placements or not rules:
        return 0
    windows: dict[tuple[dt.datetime, dt.datetime, dt.datetime], list[AlertRule]] = {}
    for rule in rules:
        if rule.kind == AlertRule.Kind.METRIC:
            windows.setdefault(_window(rule, now), []).append(rule)
    hits: list[Alert] = []
    for (start, end, key), window_rules in windows.items():
        ratios = metric_ratios_many(
            [(str(rule.pk), rule.metric, rule.params) for rule in window_rules],
            agent_ids=list(placements),
            start=start,
            end=end,
        )
        for rule in window_rules:
            hits += _metric_hits(rule, ratios[str(rule.pk)], placements, key)
    idle = [rule for rule in rules if rule.kind == AlertRule.Kind.IDLE]
    if idle:
        hits += _idle_hits(idle, placements, now)
    return _raise(hits)


def alert_acknowledge(*, alert: Alert, user) -> Alert:
    """A lead of the alert's team acknowledges it; it stays on record, with who and when."""
    if not alert.team.leads.filter(pk=user.pk).exists():
        raise AlertRefused(f"Only a lead of {alert.team} acknowledges this alert.")
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = timezone.now(), user
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
    return alert
