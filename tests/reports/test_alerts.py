"""Alerts on the floor: rules with the field's defaults, raised once per window, shown to the team's lead,
acknowledged and kept; evaluated after an import and by the periodic task. Levels, windows, minimum
volume, comparisons, once per window, no effective call for 30 minutes, bounded queries, the admin."""

import datetime as dt
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calls.models import Call, RingAttempt
from calls.roles import LEAD
from incentives.models import Group
from incentives.services import agent_place
from reports import services, tasks
from reports.models import Alert, AlertRule
from tests.factories import AgentFactory, BatchFactory, CallFactory, TeamFactory, UserFactory

NOW = dt.datetime(2026, 10, 15, 6, 0, tzinfo=dt.UTC)  # 14:00 in Shanghai


def _today_calls(agent, n, *, early=0):
    """``n`` answered calls this morning, the first ``early`` hung up by the customer within 30 s."""
    for i in range(n):
        CallFactory(
            agent=agent,
            started_at=NOW - dt.timedelta(hours=3, minutes=i),
            answered_at=NOW - dt.timedelta(hours=3, minutes=i) + dt.timedelta(seconds=5),
            talk_seconds=10 if i < early else 200,
            ended_by="customer" if i < early else "agent",
        )


def test_the_fields_default_rules_are_installed(db):
    rules = {r.metric: r for r in AlertRule.objects.all()}
    assert (rules["complaint_rate"].threshold, rules["complaint_rate"].window) == (
        D("0.5"),
        "month",
    )
    assert (rules["early_hangup_rate"].threshold, rules["early_hangup_rate"].window) == (
        D(30),
        "today",
    )
    idle = rules["effective_talk_ratio"]
    assert (idle.kind, idle.minutes, idle.window, idle.level, idle.params) == (
        "idle",
        30,
        "minutes",
        "agent",
        {},  # an effective call from the metric's default: 2 minutes of talk
    )
    for rule in rules.values():
        rule.full_clean()  # the defaults pass the admin's rules


def test_a_rule_hit_raises_one_alert_per_window_for_the_agents_team(people):
    _today_calls(people.agent_a, 20, early=8)  # 40% early hang-ups
    _today_calls(people.agent_a2, 20, early=2)  # 10%: fine
    _today_calls(people.agent_b, 5, early=5)  # 100%, but 5 calls are below the minimum volume of 10
    assert services.alerts_evaluate(now=NOW) == 1
    alert = Alert.objects.get()
    assert (alert.subject_id, alert.team, alert.value) == (
        people.agent_a.pk,
        people.team_a,
        D("40.0000"),
    )
    assert (
        services.alerts_evaluate(now=NOW + dt.timedelta(minutes=5)) == 0
    )  # same day: no duplicate
    assert services.alerts_evaluate(now=NOW + dt.timedelta(days=1)) == 0  # tomorrow: no calls yet


def test_a_team_level_rule_adds_the_agents_counts(people):
    AlertRule.objects.update(active=False)
    AlertRule.objects.create(
        name="Team early hang-ups",
        metric="early_hangup_rate",
        comparison="gt",
        threshold=D(20),
        level="team",
        window="today",
        min_volume=10,
    )
    _today_calls(people.agent_a, 10, early=4)
    _today_calls(people.agent_a2, 10, early=1)  # team A: 5 of 20 = 25%
    services.alerts_evaluate(now=NOW)
    alert = Alert.objects.get()
    assert (alert.level, alert.subject, alert.value, alert.denominator) == (
        "team",
        "Team A",
        D("25.0000"),
        20,
    )


def test_the_lead_sees_and_acknowledges_and_the_alert_is_kept(client, people):
    _today_calls(people.agent_a, 20, early=8)
    services.alerts_evaluate(now=NOW)
    alert = Alert.objects.get()
    client.force_login(people.lead_a)
    html = client.get("/team/").content.decode()
    assert "Early hang-ups above 30% today" in html and "Agent A1" in html
    client.post(f"/alerts/{alert.pk}/acknowledge/")
    alert.refresh_from_db()
    assert alert.acknowledged_by == people.lead_a and alert.acknowledged_at is not None
    assert "acknowledged by lead_a" in client.get("/team/").content.decode()
    lead_b = UserFactory(username="lead_b", roles=[LEAD])
    people.team_b.leads.add(lead_b)
    client.force_login(lead_b)
    assert client.post(f"/alerts/{alert.pk}/acknowledge/").status_code == 404
    with pytest.raises(services.AlertRefused):
        services.alert_acknowledge(alert=alert, user=lead_b)


def test_an_import_through_the_page_evaluates_the_alerts(
    client, people, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    lines = ["call_id,agent_id,queue,direction,entered_at,answered_at,talk_seconds,ended_by"]
    lines += [
        f"c{i},A1,general,inbound,{today} 00:{i:02d}:00,{today} 00:{i:02d}:05,{10 if i < 8 else 200},"
        f"{'customer' if i < 8 else 'agent'}"
        for i in range(20)
    ]
    client.force_login(people.hr)
    upload = SimpleUploadedFile("today.csv", "\n".join(lines).encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/imports/", {"file": upload, "kind": "calls", "source": "acd", "import": "1"})
    alert = Alert.objects.get()  # 8 of 20 early hang-ups today: raised by the import's own task
    assert (alert.rule.metric, alert.subject_id, alert.value) == (
        "early_hangup_rate",
        people.agent_a.pk,
        D(40),
    )


# --- the clock, rules and calls the tests below speak of ------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """Time frozen at NOW: ``django.utils.timezone.now`` — read by the services, the periodic task and
    ``auto_now`` alike — answers ``clock.now`` until the test moves it."""
    frozen = SimpleNamespace(now=NOW)
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


def _only(**rule) -> AlertRule:
    """The defaults switched off, and this one rule on (per agent, no minimum volume unless given)."""
    AlertRule.objects.update(active=False)
    rule = {"name": "Test rule", "level": "agent", "min_volume": 1, **rule}
    return AlertRule.objects.create(**rule)


def _calls(agent, moments, *, talk=10, ended_by="customer", complaint=False):
    """Answered calls of ``agent`` that started at ``moments`` (answered 5 s later), in one statement."""
    batch = BatchFactory()
    Call.objects.bulk_create(
        CallFactory.build(
            agent=agent,
            batch=batch,
            started_at=moment,
            answered_at=moment + dt.timedelta(seconds=5),
            talk_seconds=talk,
            ended_by=ended_by,
            complaint=complaint,
        )
        for moment in moments
    )


def _minutes_ago(*minutes, now=NOW):
    return [now - dt.timedelta(minutes=m) for m in minutes]


# --- levels ---------------------------------------------------------------------------------------


def test_a_group_level_rule_adds_the_counts_of_the_groups_agents(people):
    group = Group.objects.create(team=people.team_a, code="g1", name="Group 1")
    in_group = AgentFactory(employee_id="A3", name="Agent A3", team=people.team_a, group=group)
    agent_place(
        agent=people.agent_a, team=people.team_a, group=group, valid_from=dt.date(2026, 10, 1)
    )
    _only(
        name="Group above 25%",
        metric="early_hangup_rate",
        comparison="gt",
        threshold=D(25),
        level="group",
        window="today",
        min_volume=10,
    )
    AlertRule.objects.create(
        name="Group above 15%",
        metric="early_hangup_rate",
        comparison="gt",
        threshold=D(15),
        level="group",
        window="today",
        min_volume=10,
    )
    _calls(people.agent_a, _minutes_ago(*range(60, 65)))  # 5 of 10 early: 50%
    _calls(people.agent_a, _minutes_ago(*range(70, 75)), talk=200, ended_by="agent")
    _calls(in_group, _minutes_ago(*range(60, 63)))  # 3 of 30 early: 10%
    _calls(in_group, _minutes_ago(*range(70, 97)), talk=200, ended_by="agent")
    _calls(people.agent_a2, _minutes_ago(*range(60, 80)))  # no group: in no group's counts
    assert services.alerts_evaluate(now=NOW) == 1
    alert = Alert.objects.get()
    # 8 of 40 = 20%: a ratio of the counts, above 15% and below 25% (the mean of the rates, 30%, is not
    # what the group did).
    assert (alert.rule.name, alert.level, alert.subject_id, alert.subject) == (
        "Group above 15%",
        "group",
        group.pk,
        "Team A · Group 1",
    )
    assert (alert.value, alert.numerator, alert.denominator, alert.team) == (
        D(20),
        8,
        40,
        people.team_a,
    )


def test_a_team_level_rule_is_one_alert_per_team_above_its_minimum_volume(people):
    _only(
        name="Team early hang-ups",
        metric="early_hangup_rate",
        comparison="gt",
        threshold=D(20),
        level="team",
        window="today",
        min_volume=10,
    )
    _calls(people.agent_a, _minutes_ago(*range(60, 64)))
    _calls(people.agent_a, _minutes_ago(*range(70, 76)), talk=200, ended_by="agent")
    _calls(people.agent_a2, _minutes_ago(*range(60, 61)))  # team A: 5 of 20 = 25%
    _calls(people.agent_a2, _minutes_ago(*range(70, 79)), talk=200, ended_by="agent")
    _calls(people.agent_b, _minutes_ago(*range(60, 69)))  # team B: 9 of 9, below the volume of 10
    assert services.alerts_evaluate(now=NOW) == 1
    alert = Alert.objects.get()
    assert (alert.level, alert.subject_id, alert.team, alert.value) == (
        "team",
        people.team_a.pk,
        people.team_a,
        D(25),
    )


# --- windows --------------------------------------------------------------------------------------

# 14:00 in Shanghai on 15 October: the rolling hour began at 13:00, the day at 00:00 (16:00 UTC the day
# before), the month on 1 October 00:00 (30 September 16:00 UTC).
WINDOW_EDGES = {
    "hour": (NOW - dt.timedelta(minutes=61), NOW - dt.timedelta(minutes=59)),
    "today": (
        dt.datetime(2026, 10, 14, 15, 59, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 14, 16, 1, tzinfo=dt.UTC),
    ),
    "month": (
        dt.datetime(2026, 9, 30, 15, 59, tzinfo=dt.UTC),
        dt.datetime(2026, 9, 30, 16, 1, tzinfo=dt.UTC),
    ),
}


@pytest.mark.parametrize("window", ["hour", "today", "month"])
def test_a_window_counts_the_calls_inside_it_and_not_one_minute_before(people, clock, window):
    outside, inside = WINDOW_EDGES[window]
    _only(metric="complaint_rate", comparison="gt", threshold=D(0), window=window)
    _calls(people.agent_a, [outside], complaint=True)  # A1's complaint is a minute too early
    _calls(people.agent_a2, [inside], complaint=True)
    assert tasks.evaluate_alerts() == 1  # the periodic task, at the frozen NOW
    alert = Alert.objects.get()
    assert (alert.subject_id, alert.value, alert.denominator) == (people.agent_a2.pk, D(100), 1)


def test_the_rolling_hour_is_keyed_by_the_clock_hour_also_when_the_clocks_go_back(people, settings):
    """Paris, 25 October 2026: 02:30 comes twice (summer time, then winter time); they are two hours,
    two windows, two alerts."""
    settings.TIME_ZONE = "Europe/Paris"
    _only(metric="complaint_rate", comparison="gt", threshold=D(0), window="hour")
    first, second = (
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC),
    )
    _calls(
        people.agent_a,
        [first - dt.timedelta(minutes=5), second - dt.timedelta(minutes=5)],
        complaint=True,
    )
    assert services.alerts_evaluate(now=first) == 1
    assert services.alerts_evaluate(now=first + dt.timedelta(minutes=20)) == 0  # 02:50 summer time
    assert services.alerts_evaluate(now=second) == 1  # 02:30 winter time: the next hour
    assert sorted(Alert.objects.values_list("window_start", flat=True)) == [
        dt.datetime(2026, 10, 25, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC),
    ]


@pytest.mark.parametrize(("calls", "raised"), [(9, 0), (10, 1)])
def test_no_alert_below_the_minimum_volume(people, calls, raised):
    _only(
        metric="early_hangup_rate", comparison="gt", threshold=D(30), window="today", min_volume=10
    )
    _calls(people.agent_a, _minutes_ago(*range(60, 60 + calls)))  # every one early: 100%
    assert services.alerts_evaluate(now=NOW) == raised


@pytest.mark.parametrize(
    ("comparison", "threshold", "raised"),
    [
        ("gt", 25, 0),
        ("gt", 20, 1),
        ("ge", 25, 1),
        ("ge", 30, 0),
        ("lt", 25, 0),
        ("lt", 30, 1),
        ("le", 25, 1),
        ("le", 20, 0),
    ],
)
def test_each_comparison_against_a_value_of_exactly_25_percent(
    people, comparison, threshold, raised
):
    _only(metric="early_hangup_rate", comparison=comparison, threshold=D(threshold), window="today")
    _calls(people.agent_a, _minutes_ago(*range(60, 65)))  # 5 early of 20
    _calls(people.agent_a, _minutes_ago(*range(70, 85)), talk=200, ended_by="agent")
    assert services.alerts_evaluate(now=NOW) == raised


# --- once per window ------------------------------------------------------------------------------

# The next window of each: tomorrow, the next clock hour, next month (same time of day).
NEXT_WINDOW = {
    "today": dt.timedelta(days=1),
    "hour": dt.timedelta(hours=1),
    "month": dt.timedelta(days=31),
}


@pytest.mark.parametrize("window", ["today", "hour", "month"])
def test_one_alert_per_window_acknowledged_stays_quiet_and_the_next_window_raises_again(
    people, window
):
    """What a lead expects: evaluating again (every 5 minutes, after each import) gives no second alert;
    once acknowledged, a condition still true in the same window does not nag again; the next window is
    a new alert, kept beside the old one."""
    _only(metric="complaint_rate", comparison="gt", threshold=D(0), window=window)
    _calls(people.agent_a, _minutes_ago(10), complaint=True)
    assert services.alerts_evaluate(now=NOW) == 1
    assert services.alerts_evaluate(now=NOW + dt.timedelta(minutes=5)) == 0
    assert Alert.objects.filter(acknowledged_at__isnull=True).count() == 1
    services.alert_acknowledge(alert=Alert.objects.get(), user=people.lead_a)
    _calls(people.agent_a, _minutes_ago(2), complaint=True)  # still breaching, same window
    assert services.alerts_evaluate(now=NOW + dt.timedelta(minutes=10)) == 0
    assert not Alert.objects.filter(acknowledged_at__isnull=True).exists()
    later = NOW + NEXT_WINDOW[window]
    _calls(people.agent_a, _minutes_ago(10, now=later), complaint=True)
    assert services.alerts_evaluate(now=later) == 1
    assert Alert.objects.count() == 2
    assert (
        Alert.objects.get(acknowledged_at__isnull=True).window_start
        > Alert.objects.get(acknowledged_at__isnull=False).window_start
    )


# --- no effective call for 30 minutes -------------------------------------------------------------


def test_an_agent_on_the_floor_without_an_effective_call_for_30_minutes_is_alerted_once_an_hour(
    client, people, clock
):
    """A1 took calls before the window and in it, none of 2 minutes or more: alerted at 14:05 (the
    default rule), not again at 14:10 nor, acknowledged, at 14:55; still without one at 15:05: again."""
    lead_sees = Alert.objects.filter(rule__kind="idle")
    _calls(people.agent_a, _minutes_ago(50, 40, 25, 10, 3), talk=90, ended_by="agent")
    clock.now = NOW + dt.timedelta(minutes=5)
    assert tasks.evaluate_alerts() == 1
    alert = lead_sees.get()
    assert (alert.rule.name, alert.subject_id, alert.team) == (
        "No effective call in 30 minutes",
        people.agent_a.pk,
        people.team_a,
    )
    assert (alert.value, alert.numerator, alert.denominator) == (0, 0, 3)  # 0 effective of 3 calls
    client.force_login(people.lead_a)
    page = client.get("/team/").content.decode()  # a rule without a threshold: shown as it is
    assert "No effective call in 30 minutes · Agent A1 (A1): 0.00 (0 / 3)" in page
    clock.now = NOW + dt.timedelta(minutes=10)
    assert tasks.evaluate_alerts() == 0
    services.alert_acknowledge(alert=alert, user=people.lead_a)
    _calls(
        people.agent_a,
        _minutes_ago(35, 20, 5, now=NOW + dt.timedelta(minutes=55)),
        talk=30,
        ended_by="agent",
    )
    clock.now = NOW + dt.timedelta(minutes=55)
    assert tasks.evaluate_alerts() == 0  # the same hour: not nagged
    _calls(
        people.agent_a,
        _minutes_ago(10, now=NOW + dt.timedelta(minutes=65)),
        talk=30,
        ended_by="agent",
    )
    clock.now = NOW + dt.timedelta(minutes=65)
    assert tasks.evaluate_alerts() == 1  # 15:05: the next hour, still no effective call
    assert lead_sees.count() == 2


def test_who_is_not_alerted_for_no_effective_call(people):
    """Only an agent seen on the floor before the window and in it, with no effective call in it."""
    AlertRule.objects.exclude(kind="idle").update(active=False)
    a3, a4, b2 = (AgentFactory(employee_id=e, team=people.team_a) for e in ("A3", "A4", "B2"))
    _calls(people.agent_a, _minutes_ago(45, 20))  # seen before and in: alerted
    _calls(people.agent_a2, _minutes_ago(45, 20))
    _calls(
        people.agent_a2, _minutes_ago(15), talk=120, ended_by="agent"
    )  # an effective call: 2 min
    _calls(people.agent_b, _minutes_ago(45))  # nothing in the window: logged off, or not seen
    _calls(a3, _minutes_ago(20, 10))  # nothing before the window: just came on the floor
    _calls(a4, _minutes_ago(45, 20))
    _calls(
        a4, _minutes_ago(40), talk=15 * 60, ended_by="agent"
    )  # 40 min ago for 15 min: into the window
    _calls(b2, _minutes_ago(45, 20))
    _calls(
        b2, _minutes_ago(50), talk=15 * 60, ended_by="agent"
    )  # 50 min ago for 15 min: ended before
    assert services.alerts_evaluate(now=NOW) == 2
    assert set(Alert.objects.values_list("subject_id", flat=True)) == {people.agent_a.pk, b2.pk}


def test_an_agent_who_lets_every_call_ring_is_on_the_floor_and_alerted(people):
    """Rings left unanswered (queue_log RINGNOANSWER) are no calls of the agent's, but the ACD rings only
    members on the floor: before the window and in it, with no effective call, A1 is alerted; B1, rung
    only before the window, is not."""
    AlertRule.objects.exclude(kind="idle").update(active=False)
    batch = BatchFactory()
    RingAttempt.objects.bulk_create(
        RingAttempt(
            source="pbx",
            external_id=f"r{n}",
            agent=agent,
            queue="support",
            rang_at=moment,
            ring_ms=15000,
            batch=batch,
        )
        for n, (agent, moment) in enumerate(
            [(people.agent_a, m) for m in _minutes_ago(45, 20, 10)]
            + [(people.agent_b, m) for m in _minutes_ago(45)]
        )
    )
    assert not Call.objects.exists()
    assert services.alerts_evaluate(now=NOW) == 1
    alert = Alert.objects.get()
    assert (alert.subject_id, alert.denominator) == (people.agent_a.pk, 2)


def test_the_rule_takes_the_effective_call_and_the_volume_from_its_own_settings(people):
    rule = AlertRule.objects.get(kind="idle")
    _calls(people.agent_a, _minutes_ago(45, 20, 10), talk=90, ended_by="agent")
    AlertRule.objects.filter(pk=rule.pk).update(min_volume=3)
    assert services.alerts_evaluate(now=NOW) == 0  # 2 calls in the window: below the volume of 3
    AlertRule.objects.filter(pk=rule.pk).update(min_volume=2, params={"effective_call_minutes": 1})
    assert services.alerts_evaluate(now=NOW) == 0  # 90 s calls are effective from 1 minute
    AlertRule.objects.filter(pk=rule.pk).update(params={}, minutes=15, min_volume=1)
    assert (
        services.alerts_evaluate(now=NOW) == 1
    )  # in the last 15 minutes one call, one before them


# --- bounded queries ------------------------------------------------------------------------------


def _floor(n: int) -> None:
    """``n`` agents of one group and team, each with a complaint this morning and calls in the last
    hour, short (not effective) but not early hang-ups."""
    team = TeamFactory(code="floor", name="Floor")
    group = Group.objects.create(team=team, code="g", name="Group")
    for i in range(n):
        agent = AgentFactory(employee_id=f"Q{i}", team=team, group=group)
        _calls(agent, _minutes_ago(150, 45, 20, 10), talk=30, ended_by="agent", complaint=True)


@pytest.mark.parametrize("n", [3, 30])
def test_evaluation_takes_as_many_queries_for_30_agents_as_for_3(db, n):
    rule = {"metric": "complaint_rate", "comparison": "gt", "threshold": D(0), "min_volume": 1}
    for window in ("hour", "today", "month"):
        for level in ("group", "team"):
            AlertRule.objects.create(name=f"{window} {level}", window=window, level=level, **rule)
    AlertRule.objects.create(name="hour agent", window="hour", level="agent", **rule)
    _floor(n)
    with CaptureQueriesContext(connection) as first:
        # per window the group and the team, per agent this hour's complaints and no effective call
        assert services.alerts_evaluate(now=NOW) == 6 + 2 * n
    with CaptureQueriesContext(connection) as again:
        assert services.alerts_evaluate(now=NOW) == 0
    # The rules, the placements, one grouped query on the calls for each of the 3 windows (the default
    # rules share theirs), two for no effective call (the calls, and the rings left unanswered), the
    # alerts already raised; then one insert (on SQLite, one per 83 alerts: its limit of 999
    # parameters a statement).
    assert (len(first), len(again)) == (9, 8), [q["sql"][:90] for q in first.captured_queries]


# --- the admin ------------------------------------------------------------------------------------

RULE = {
    "name": "Rule",
    "kind": "metric",
    "active": "on",
    "metric": "complaint_rate",
    "params": "{}",
    "comparison": "gt",
    "threshold": "1",
    "minutes": "",
    "level": "agent",
    "window": "today",
    "min_volume": "10",
}
IDLE = {
    "kind": "idle",
    "metric": "effective_talk_ratio",
    "comparison": "",
    "threshold": "",
    "minutes": "30",
    "window": "minutes",
    "min_volume": "1",
}


@pytest.fixture
def hr_client(client, people):
    client.force_login(people.hr)
    return client


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"threshold": "150"}, "threshold", "150 is outside the range of Complaint rate (0–100 %)"),
        ({"threshold": "-1"}, "threshold", "-1 is outside the range of Complaint rate"),
        ({"threshold": ""}, "threshold", "a metric rule needs a threshold"),
        ({"comparison": ""}, "comparison", "a metric rule needs a comparison"),
        ({"metric": "speed"}, "metric", "Select a valid choice. speed is not one of the available"),
        (
            {"params": '{"early_hangup_seconds": 30}'},
            "params",
            "complaint_rate has no parameter early_hangup_seconds",
        ),
        ({"window": "week"}, "window", "Select a valid choice. week is not one of the available"),
        (
            {"window": "minutes"},
            "window",
            "“the last N minutes” is not a window for this kind of rule (metric against a threshold): use "
            "today, rolling hour, this month",
        ),
        ({"minutes": "30"}, "minutes", "only a no-effective-call rule has minutes"),
        (
            {**IDLE, "window": "today"},
            "window",
            "“today” is not a window for this kind of rule (no effective call for N minutes): use the last "
            "N minutes",
        ),
        (
            {**IDLE, "metric": "complaint_rate"},
            "metric",
            "counts the effective calls of Effective talk ratio",
        ),
        (
            {**IDLE, "params": '{"effective_call_minutes": 99}'},
            "params",
            "effective_call_minutes must be a whole number from 0 to 60",
        ),
        ({**IDLE, "level": "team"}, "level", "a no-effective-call rule is per agent"),
        ({**IDLE, "minutes": "2"}, "minutes", "needs minutes from 5 to 480"),
        ({**IDLE, "minutes": ""}, "minutes", "needs minutes from 5 to 480"),
        ({**IDLE, "min_volume": "0"}, "min_volume", "at least 1"),
        ({**IDLE, "threshold": "1"}, "threshold", "only a metric rule has a threshold"),
    ],
)
def test_the_admin_names_the_field_of_each_problem(hr_client, change, field, words):
    response = hr_client.post("/admin/reports/alertrule/add/", {**RULE, **change})
    assert response.status_code == 200  # the form again, with the errors
    errors = response.context["adminform"].form.errors
    assert any(words in message for message in errors.get(field, [])), errors
    assert not AlertRule.objects.filter(name="Rule").exists()


@pytest.mark.parametrize("rule", [RULE, {**RULE, **IDLE, "params": ""}], ids=["metric", "idle"])
def test_hr_adds_a_rule_of_either_kind_in_the_admin(hr_client, rule):
    response = hr_client.post("/admin/reports/alertrule/add/", rule)
    assert response.status_code == 302, response.context["adminform"].form.errors
    saved = AlertRule.objects.get(name="Rule")
    assert (saved.kind, saved.params) == (rule["kind"], {})
    assert hr_client.get("/admin/reports/alertrule/").status_code == 200
    assert hr_client.get(f"/admin/reports/alertrule/{saved.pk}/change/").status_code == 200


def test_the_database_refuses_a_rule_that_does_not_fit_its_kind(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertRule.objects.create(
            name="x", kind="idle", metric="effective_talk_ratio", window="today", minutes=30
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertRule.objects.create(name="y", metric="complaint_rate", comparison="gt", window="today")


def test_a_rule_whose_metric_left_the_catalogue_is_refused_and_skipped_not_fatal(people, caplog):
    rule = AlertRule(
        name="Retired", metric="speed", comparison="gt", threshold=D(1), window="today"
    )
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert "unknown metric speed" in refused.value.message_dict["metric"]
    rule.save()  # as a rule written before its metric was retired would be
    _today_calls(people.agent_a, 20, early=8)
    assert services.alerts_evaluate(now=NOW) == 1  # the other rules still raise theirs
    assert "Alert rule" in caplog.text and "Retired" in caplog.text
