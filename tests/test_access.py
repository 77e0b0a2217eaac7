"""Deny by default, and each persona sees only what is theirs, in pages and the API alike."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from incentives import services
from incentives.models import Statement
from tests.factories import PASSWORD, PeriodFactory


@pytest.fixture
def approved(people, django_capture_on_commit_callbacks):
    period = PeriodFactory(year=2026, month=10)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(period=period)
    services.period_approve(period=period, run=run)
    return {s.agent.employee_id: s for s in Statement.objects.filter(run=run)}


def _login(client, user):
    client.force_login(user)
    return client


def test_an_agent_sees_their_own_statement_page_and_api(client, people, approved):
    _login(client, people.agent_a.user)
    own = approved["A1"]
    page = client.get(reverse("incentives:statement_detail", args=[own.pk]))
    assert page.status_code == 200 and "Agent A1" in page.content.decode()
    api = client.get(f"/api/v1/statements/{own.pk}/")
    assert api.status_code == 200 and api.json()["employee_id"] == "A1"


@pytest.mark.parametrize("other", ["A2", "B1"])
def test_an_agent_cannot_open_another_agents_statement(client, people, approved, other):
    _login(client, people.agent_a.user)
    theirs = approved[other]
    assert client.get(reverse("incentives:statement_detail", args=[theirs.pk])).status_code == 404
    assert client.get(f"/api/v1/statements/{theirs.pk}/").status_code == 404
    listed = client.get("/api/v1/statements/").json()["results"]
    assert [row["employee_id"] for row in listed] == ["A1"]


@pytest.mark.parametrize(
    "url", ["/hr/", "/team/", "/admin/", "/api/v1/periods/", "/api/v1/periods/1/runs/"]
)
def test_an_agent_cannot_reach_hr_pages(client, people, approved, url):
    _login(client, people.agent_a.user)
    response = client.post(url) if url.endswith("runs/") else client.get(url)
    if url == "/admin/":
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    else:
        assert response.status_code == 403


def test_a_lead_sees_their_team_and_not_the_other(client, people, approved):
    _login(client, people.lead_a)
    assert (
        client.get(reverse("incentives:statement_detail", args=[approved["A2"].pk])).status_code
        == 200
    )
    assert (
        client.get(reverse("incentives:statement_detail", args=[approved["B1"].pk])).status_code
        == 404
    )
    assert client.get("/team/team-b/").status_code == 404
    team = client.get("/team/").content.decode()
    assert "Agent A1" in team and "Agent B1" not in team
    ids = {row["employee_id"] for row in client.get("/api/v1/statements/").json()["results"]}
    assert ids == {"A1", "A2"}
    assert client.get("/hr/").status_code == 403


def test_hr_sees_everything(client, people, approved):
    _login(client, people.hr)
    assert (
        client.get(reverse("incentives:statement_detail", args=[approved["B1"].pk])).status_code
        == 200
    )
    assert len(client.get("/api/v1/statements/").json()["results"]) == 3
    overview = client.get("/hr/").content.decode()
    assert "Team A" in overview and "Team B" in overview


def test_statements_are_hidden_from_agents_until_approved(
    client, people, django_capture_on_commit_callbacks
):
    period = PeriodFactory(year=2026, month=10)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_start(period=period)
    own = Statement.objects.get(run=run, agent=people.agent_a)
    _login(client, people.agent_a.user)
    assert client.get(reverse("incentives:statement_detail", args=[own.pk])).status_code == 404
    assert "No approved statement yet" in client.get("/me/").content.decode()
    services.period_approve(period=period, run=run)
    assert client.get(reverse("incentives:statement_detail", args=[own.pk])).status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get("/me/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/api/v1/statements/").status_code == 403


def test_a_login_without_a_role_is_refused_everywhere(client, people):
    _login(client, people.nobody)
    for url in ["/", "/me/", "/team/", "/hr/", "/api/v1/statements/", "/api/schema/"]:
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize(
    ("persona", "home"), [("hr_admin", "/hr/"), ("lead_a", "/team/"), ("a1", "/me/")]
)
def test_each_role_lands_on_its_own_home_after_login(client, people, persona, home):
    response = client.post(
        "/accounts/login/", {"username": persona, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == home
    assert response.status_code == 200


def test_every_page_declares_who_may_open_it():
    """Deny by default is only as good as the declarations: walk every URL and check each view."""

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue  # the admin checks staff status and model permissions itself
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                yield prefix + str(entry.pattern), entry.callback

    undeclared = []
    for route, view in walk(get_resolver().url_patterns):
        cls = getattr(view, "cls", None)
        allowed = (
            getattr(cls, "allowed_roles", None) if cls else getattr(view, "allowed_roles", None)
        )
        if not allowed:
            undeclared.append(route)
    assert undeclared == []
