"""Inputs that schemathesis (docs/operations.md) found answered with a 500: each is now refused with a
400 that says why, or waited for."""

import pytest


@pytest.fixture
def hr_client(client, people):
    client.force_login(people.hr)
    return client


@pytest.mark.parametrize(
    "query", ["month=0000-01", "month=9999-12", "start=0001-01-01&end=0001-01-02"]
)
def test_queue_figures_refuse_years_no_contact_center_has(hr_client, query):
    response = hr_client.get(f"/api/v1/queues/figures/?{query}")
    assert response.status_code == 400, response.content[:300]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/agents/?team=-1.9768160372121e%2B144",
        "/api/v1/agents/?team=99999999999999999999999",
        "/api/v1/plan-versions/?team=99999999999999999999999",
        "/api/v1/agents/?team=123456",
    ],
)
def test_a_team_filter_takes_a_team_not_any_number(hr_client, url):
    response = hr_client.get(url)
    assert response.status_code == 400 and "team" in response.json()


def test_a_team_filter_still_filters(hr_client, people):
    rows = hr_client.get(f"/api/v1/agents/?team={people.team_b.pk}").json()["results"]
    assert [row["employee_id"] for row in rows] == ["B1"]
    versions = hr_client.get(f"/api/v1/plan-versions/?team={people.team_b.pk}").json()["results"]
    assert [v["id"] for v in versions] == [people.plan.pk]


def test_sqlite_transactions_take_the_write_lock_when_they_begin():
    """Two concurrent writes on the embedded default wait for each other (timeout) instead of one
    failing with 'database is locked', which a transaction that read first cannot wait for. Read from
    the embedded default's own settings, whatever database this suite runs on."""
    from tests.test_settings import _run

    result = _run(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "o = s.DATABASES['default']['OPTIONS']; print(o['transaction_mode'], o['timeout'])",
        ],
        DEBUG="true",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["IMMEDIATE", "20"]
