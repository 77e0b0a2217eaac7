"""HR's overview with its compute and approve buttons, the lead's team page, the API schema."""

import pytest

from incentives import services
from incentives.models import Period, Run
from tests.factories import PeriodFactory


@pytest.fixture
def october(people):
    return PeriodFactory(year=2026, month=10)


def test_hr_computes_and_approves_from_the_overview(
    client, people, october, django_capture_on_commit_callbacks
):
    client.force_login(people.hr)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/periods/{october.pk}/compute/", follow=True)
    assert response.redirect_chain[-1][0] == "/hr/"
    assert "Run v1 of 2026-10" in response.content.decode()
    html = client.get("/hr/").content.decode()
    assert "Latest run v1: Done" in html
    assert "Team A" in html and "2,000.00" not in html  # no calls: every agent scores 0
    run = Run.objects.get(period=october)
    review = client.get(f"/hr/periods/{october.pk}/runs/{run.pk}/review/").content.decode()
    assert f'href="/periods/{october.pk}/runs/{run.pk}/approve/"' in review
    # The approval asks first, saying what changes; a POST without the confirmation changes nothing.
    unconfirmed = client.post(f"/periods/{october.pk}/runs/{run.pk}/approve/")
    page = unconfirmed.content.decode()
    assert unconfirmed.status_code == 200 and "Approve run v1 of 2026-10?" in page
    assert "Agents see their statements of run v1: 3 agents, total payout 0.00 CNY." in page
    assert "no import may add, change or roll back its facts until HR reopens the month" in page
    october.refresh_from_db()
    assert october.status == Period.Status.COMPUTED and october.approved_run is None
    response = client.post(
        f"/periods/{october.pk}/runs/{run.pk}/approve/", {"confirm": "yes"}, follow=True
    )
    assert "2026-10 approved: agents now see run v1." in response.content.decode()
    october.refresh_from_db()
    assert october.status == Period.Status.APPROVED and october.approved_run == run


def test_a_second_compute_while_one_waits_is_refused_with_a_message(client, people, october):
    client.force_login(people.hr)
    services.run_start(period=october)  # waits: the test's transaction never commits
    response = client.post(f"/periods/{october.pk}/compute/", follow=True)
    assert "Run v1 of 2026-10 is already Waiting for a worker." in response.content.decode()
    assert Run.objects.filter(period=october).count() == 1


def test_only_hr_may_compute(client, people, october):
    client.force_login(people.lead_a)
    assert client.post(f"/periods/{october.pk}/compute/").status_code == 403
    assert not Run.objects.exists()


def test_the_api_starts_a_run_and_reports_progress(
    client, people, october, django_capture_on_commit_callbacks
):
    client.force_login(people.hr)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(f"/api/v1/periods/{october.pk}/runs/")
    assert created.status_code == 201
    progress = client.get(f"/api/v1/runs/{created.json()['id']}/").json()
    assert progress["status"] == "done" and progress["chunks_done"] == 2
    assert [chunk["teams"] for chunk in progress["chunks"]] == [["team-a"], ["team-b"]]


def test_the_openapi_schema_lists_the_api(client, people):
    client.force_login(people.agent_a.user)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert "/api/v1/statements/{id}/" in schema.content.decode()


def test_the_overview_lists_agents_without_a_plan(client, people):
    from tests.factories import AgentFactory, TeamFactory

    AgentFactory(employee_id="X9", name="Agent X9", team=TeamFactory(code="team-x"))
    client.force_login(people.hr)
    html = client.get("/hr/").content.decode()
    assert "Agent X9 (X9): no plan applies" in html


def test_the_openapi_schema_is_valid_and_warning_free(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = out.read_text()
    for path in (
        "/api/v1/plan-versions/{id}/activate/",
        "/api/v1/target-proposals/",
        "/api/v1/agents/{id}/move/",
    ):
        assert path in schema


def test_hr_closes_an_approved_month_and_its_data_is_locked(
    client, people, october, django_capture_on_commit_callbacks
):
    import io

    from calls.models import MonthLock
    from calls.services import ImportRefused, facts_import

    client.force_login(people.hr)
    refused = client.post(f"/periods/{october.pk}/close/", {"confirm": "yes"}, follow=True)
    assert "only an approved month can be closed" in refused.content.decode()
    assert (
        "only an approved month can be closed"
        in client.get(f"/periods/{october.pk}/close/").content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(period=october)
    services.period_approve(period=october, run=run)
    assert f'href="/periods/{october.pk}/close/"' in client.get("/hr/").content.decode()
    asked = client.post(f"/periods/{october.pk}/close/").content.decode()
    assert "Close 2026-10?" in asked and "This cannot be undone." in asked
    october.refresh_from_db()
    assert october.status == Period.Status.APPROVED  # not without the confirmation
    client.post(f"/periods/{october.pk}/close/", {"confirm": "yes"})
    october.refresh_from_db()
    assert october.status == Period.Status.CLOSED
    assert MonthLock.objects.get(year=2026, month=10).state == MonthLock.State.CLOSED
    with pytest.raises(services.PeriodStateError, match="closed"):
        services.run_start(period=october)
    text = "call_id,direction,entered_at\nz1,inbound,2026-10-05 09:00\n"
    with pytest.raises(ImportRefused, match="closed"):
        facts_import(
            stream=io.BytesIO(text.encode()), filename="late.csv", source="acd", period=(2026, 10)
        )


def test_the_overview_runs_as_many_queries_for_three_months_as_for_one(
    client, people, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(people.hr)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/hr/").status_code == 200
        return len(captured)

    with django_capture_on_commit_callbacks(execute=True):
        services.run_start(period=PeriodFactory(year=2026, month=8))
    one = queries()
    for month in (9, 10):
        with django_capture_on_commit_callbacks(execute=True):
            services.run_start(period=PeriodFactory(year=2026, month=month))
    assert queries() == one


def test_the_overview_shows_a_runs_progress_team_by_team(client, people, october):
    from incentives.models import RunChunk

    run = services.run_start(
        period=october
    )  # its chunks wait: the test's transaction never commits
    services.run_chunk_execute(chunk_id=RunChunk.objects.get(run=run, teams=people.team_a).pk)
    client.force_login(people.hr)
    html = client.get("/hr/").content.decode()
    assert "Latest run v1: Running" in html and "1 of 2 parts done" in html


def test_an_approved_run_stays_as_approved_when_the_month_is_computed_again(
    people, october, django_capture_on_commit_callbacks
):
    from incentives.models import RunChunk, Statement

    with django_capture_on_commit_callbacks(execute=True):
        first = services.run_start(period=october)
    services.period_approve(period=october, run=first)
    approved = sorted(Statement.objects.filter(run=first).values_list("agent_id", "amount"))
    # A delivery of one of its chunks again changes nothing; a new run is a new version beside it.
    services.run_chunk_execute(chunk_id=RunChunk.objects.filter(run=first).first().pk)
    with django_capture_on_commit_callbacks(execute=True):
        second = services.run_start(period=october)
    october.refresh_from_db()
    assert second.number == 2 and october.approved_run == first
    assert sorted(Statement.objects.filter(run=first).values_list("agent_id", "amount")) == approved
