"""Alerts on the floor: rules with the field's defaults, raised once per window, shown to the team's lead,
acknowledged and kept; evaluated after an import."""

import datetime as dt
from decimal import Decimal as D

import pytest

from calls.roles import LEAD
from reports import services
from reports.models import Alert, AlertRule
from tests.factories import CallFactory, UserFactory

NOW = dt.datetime(2026, 10, 15, 6, 0, tzinfo=dt.UTC)  # 14:00 in Shanghai


def _today_calls(agent, n, *, early=0):
    """``n`` answered calls this morning, the first ``early`` hung up by the customer within 30 s."""
    for i in range(n):
        CallFactory(agent=agent, started_at=NOW - dt.timedelta(hours=3, minutes=i),
                    answered_at=NOW - dt.timedelta(hours=3, minutes=i) + dt.timedelta(seconds=5),
                    talk_seconds=10 if i < early else 200, ended_by="customer" if i < early else "agent")  # fmt: skip


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
    AlertRule.objects.create(name="Team early hang-ups", metric="early_hangup_rate", comparison="gt",
                             threshold=D(20), level="team", window="today", min_volume=10)  # fmt: skip
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
    lines += [f"c{i},A1,general,inbound,{today} 00:{i:02d}:00,{today} 00:{i:02d}:05,{10 if i < 8 else 200},"
              f"{'customer' if i < 8 else 'agent'}" for i in range(20)]  # fmt: skip
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
