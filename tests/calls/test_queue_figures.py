"""Per-queue KPIs from an Asterisk queue_log: offered, answered, abandoned, ASA, service level per queue,
computed by grouped SQL, for HR's overview, the API (HR and leads), plans (the queue metrics and the
queue parameter) and the command that imports the log."""

import datetime as dt
import io
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calls.metrics import metric_values, queue_figures
from calls.models import Call, ImportBatch, Queue, RingAttempt
from calls.months import month_bounds
from calls.services import queue_log_import
from incentives import services
from incentives.explain import explain
from incentives.models import StatementLine
from incentives.presets import STANDARD_TIERS, Preset
from incentives.services.runs import team_value
from incentives.validation import MetricSpec, metrics_problems
from tests.factories import PeriodFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
T = int(dt.datetime(2026, 10, 5, 9, 0, tzinfo=SHANGHAI).timestamp())
OCTOBER = month_bounds(2026, 10)

# support: four callers (two answered within 20 s, one after 30 s, one abandoned after 40 s; A2 rung
# for it); sales: one caller answered by B1 after 50 s; one refused by a full queue.
LOG = "".join(
    f"{T + offset}|{rest}\n"
    for offset, rest in [
        (0, "q1|support|NONE|ENTERQUEUE||13800000001|1"),
        (10, "q1|support|PJSIP/A1|CONNECT|10|q1b|2"),
        (100, "q1|support|PJSIP/A1|COMPLETECALLER|10|90|1"),
        (200, "q2|support|NONE|ENTERQUEUE||13800000002|1"),
        (230, "q2|support|PJSIP/A2|CONNECT|30|q2b|4"),
        (330, "q2|support|PJSIP/A2|COMPLETEAGENT|30|100|1"),
        (400, "q3|support|NONE|ENTERQUEUE||13800000003|1"),
        (415, "q3|support|PJSIP/A2|RINGNOANSWER|15000"),
        (440, "q3|support|NONE|ABANDON|1|1|40"),
        (500, "q4|support|NONE|ENTERQUEUE||13800000004|1"),
        (505, "q4|support|PJSIP/A1|CONNECT|5|q4b|1"),
        (565, "q4|support|PJSIP/A1|COMPLETEAGENT|5|60|1"),
        (600, "s1|sales|NONE|ENTERQUEUE||13800000005|1"),
        (650, "s1|sales|PJSIP/B1|CONNECT|50|s1b|9"),
        (700, "s1|sales|PJSIP/B1|COMPLETECALLER|50|50|1"),
        (800, "s2|sales|NONE|FULL|"),
    ]
)


@pytest.fixture
def logged(people):
    Queue.objects.create(code="support")
    Queue.objects.create(code="sales")
    batches = queue_log_import(stream=io.BytesIO(LOG.encode()), filename="queue_log", source="pbx")
    assert all(b.status == ImportBatch.Status.APPLIED for b in batches), [b.errors for b in batches]
    return people


def test_queue_figures_are_the_queues_own_by_one_grouped_query_per_table(logged):
    with CaptureQueriesContext(connection) as captured:
        sales, support = queue_figures(start=OCTOBER[0], end=OCTOBER[1])  # by queue
    assert len(captured.captured_queries) == 2  # the calls by queue, the ring attempts by queue
    assert (support.queue, support.offered, support.answered, support.abandoned) == (
        "support",
        4,
        3,
        1,
    )
    assert (support.answered_within, support.wait_answered, support.rings) == (2, 45, 1)
    assert (support.answer_rate, support.asa, support.service_level, support.abandon_rate) == (
        D("75.0000"),
        D("15.0000"),
        D("50.0000"),
        D("25.0000"),
    )
    assert (sales.offered, sales.answered, sales.refused, sales.service_level) == (1, 1, 1, D(0))
    (only,) = queue_figures(
        start=OCTOBER[0], end=OCTOBER[1], queue="sales", answer_within_seconds=60
    )
    assert (only.queue, only.service_level) == ("sales", D("100.0000"))


def test_a_plan_pays_on_a_queues_service_level(logged, django_capture_on_commit_callbacks):
    people = logged
    on_support = Preset(
        code="support-sl",
        name="Support service level",
        description="",
        metrics=(
            MetricSpec(
                "queue_service_level", D(100), D(40), D(80), D(50), params={"queue": "support"}
            ),
        ),
        tiers=STANDARD_TIERS,
    )
    # The teams' plan pays on the support queue's service level from October on.
    version_spec = on_support.spec(dt.date(2026, 10, 1))
    version = services.plan_version_create(
        plan=people.plan.plan, spec=version_spec, teams=[people.team_a, people.team_b]
    )
    services.plan_version_activate(version=version)
    period = PeriodFactory(year=2026, month=10)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(period=period)
    lines = {
        line.statement.agent.employee_id: line
        for line in StatementLine.objects.filter(statement__run=run)
    }
    # A1 and A2 took part in the support queue: its service level, 2 of 4 offered within 20 s.
    for employee in ("A1", "A2"):
        assert (lines[employee].value, lines[employee].numerator, lines[employee].denominator) == (
            D("50.0000"),
            D(2),
            D(4),
        )
    assert lines["B1"].value is None  # B1 only took sales calls: no data, never the queue's value
    # The plan in words names the queue.
    assert "Queue service level (queue support), weight 100%" in " ".join(explain(version_spec))
    # The team's value is the queue's, not its agents' counts added up.
    team = team_value(people.team_a.pk, "queue_service_level", {"queue": "support"}, 2026, 10)
    assert (team.value, team.numerator, team.denominator) == (D("50.0000"), D(2), D(4))


def test_the_call_metrics_take_a_queue(logged):
    people = logged
    ids = [people.agent_a.pk, people.agent_b.pk]
    everywhere = metric_values("asa", agent_ids=ids, start=OCTOBER[0], end=OCTOBER[1])
    support = metric_values(
        "asa", agent_ids=ids, start=OCTOBER[0], end=OCTOBER[1], params={"queue": "support"}
    )
    assert everywhere[people.agent_b.pk].value == D(50) and people.agent_b.pk not in support
    assert support[people.agent_a.pk].value == D("7.5000")  # (10 + 5) / 2
    rings = metric_values(
        "ring_no_answer_rate", agent_ids=[people.agent_a2.pk], start=OCTOBER[0], end=OCTOBER[1]
    )
    assert (rings[people.agent_a2.pk].numerator, rings[people.agent_a2.pk].denominator) == (1, 2)


def test_a_plan_naming_a_queue_nobody_set_up_is_refused(logged):
    def problems(queue):
        spec = MetricSpec("queue_answer_rate", D(100), D(80), D(90), params={"queue": queue})
        return [p.message for p in metrics_problems([spec]) if p.field == "params"]

    assert problems("support") == []
    assert problems("nowhere") == ["queue_answer_rate: no queue has the code 'nowhere'"]
    assert problems(7) == [
        "queue_answer_rate: queue must be a queue's code (at most 100 characters), got 7"
    ]


def test_the_api_gives_each_queues_figures_to_hr_and_leads(client, logged):
    people = logged
    client.force_login(people.hr)
    body = client.get("/api/v1/queues/figures/?month=2026-10").json()
    support = next(q for q in body["queues"] if q["queue"] == "support")
    assert (support["offered"], support["answered"], support["abandoned"], support["rings"]) == (
        4,
        3,
        1,
        1,
    )
    assert (support["asa"], support["service_level"], support["answer_rate"]) == (
        "15.0000",
        "50.0000",
        "75.0000",
    )
    assert body["start"] == "2026-10-01T00:00:00+08:00"
    days = client.get(
        "/api/v1/queues/figures/?start=2026-10-05&end=2026-10-05&queue=sales&answer_within_seconds=60"
    ).json()
    assert [
        (q["queue"], q["offered"], q["refused"], q["service_level"]) for q in days["queues"]
    ] == [("sales", 1, 1, "100.0000")]
    assert client.get("/api/v1/queues/figures/?month=2026-13").status_code == 400
    assert client.get("/api/v1/queues/figures/?start=2026-10-05").status_code == 400
    client.force_login(people.lead_a)
    assert client.get("/api/v1/queues/figures/?month=2026-10").status_code == 200


@pytest.mark.parametrize("persona", ["agent", "nobody", "anonymous"])
def test_the_queue_figures_api_refuses_everyone_else(client, logged, persona):
    people = logged
    if persona == "agent":
        client.force_login(people.agent_a.user)
    elif persona == "nobody":
        client.force_login(people.nobody)
    assert client.get("/api/v1/queues/figures/").status_code == 403


def test_hr_overview_shows_the_queues_this_month(client, logged, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2026, 10, 20, 12, tzinfo=SHANGHAI))
    client.force_login(logged.hr)
    page = client.get("/hr/").content.decode()
    assert "Queues this month" in page and "support" in page and "75.0%" in page
    response = client.get("/hr/?export=csv&table=queues")
    export = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert export[0].startswith("queue,offered,answered,answer_rate,abandoned,abandon_rate")
    assert export[2].startswith("support,4,3,75.0000,1,25.0000,15.0000,50.0000,0,1,")


def test_the_command_imports_a_queue_log_recognised_by_its_content(people, tmp_path, capsys):
    path = tmp_path / "queue_log"
    path.write_text(LOG)
    call_command("import_calls", str(path), "--user", "hr_admin", "--source", "pbx")
    out = capsys.readouterr().out
    assert "(calls): 6 rows, 6 created" in out and "(rings): 1 rows, 1 created" in out
    assert Call.objects.count() == 6 and RingAttempt.objects.count() == 1
    call_command("import_calls", str(path), "--user", "hr_admin", "--source", "pbx", "--queue-log")
    assert "(calls): 6 rows, 0 created, 0 updated, 6 unchanged" in capsys.readouterr().out


def test_the_command_names_a_queue_log_line_in_error(people, tmp_path, capsys):
    path = tmp_path / "queue_log"
    path.write_text(LOG.replace("|CONNECT|30|", "|CONNECT|thirty|"))
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command(
            "import_calls", str(path), "--user", "hr_admin", "--source", "pbx", "--queue-log"
        )
    assert (
        "line 5, column data1 (holdtime): not a whole number (value 'thirty')"
        in capsys.readouterr().err
    )
    assert not Call.objects.exists()
