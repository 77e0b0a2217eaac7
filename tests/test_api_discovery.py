"""The API a client can discover and script: its root, its documentation pages served from our own
static files, and token authentication for service accounts, scoped by role like a person."""

import pytest
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory


def test_the_root_links_every_list_and_the_docs(client, people):
    client.force_login(people.hr)
    root = client.get("/api/v1/")
    assert root.status_code == 200
    links = root.json()
    assert links["periods"] == "http://testserver/api/v1/periods/"
    assert links["docs"] == "http://testserver/api/docs/"
    for name, url in links.items():
        # Every link answers: a list, an action taken by POST, or a read that names what it needs.
        response = client.get(url)
        assert (
            response.status_code == 200
            or (response.status_code == 405 and "POST" in response["Allow"])
            or (response.status_code == 400 and response.json())
        ), name


def test_the_docs_pages_use_our_static_files_not_a_cdn(client, people):
    client.force_login(people.lead_a)
    for url, asset in (
        ("/api/docs/", "drf_spectacular_sidecar/swagger-ui-dist/"),
        ("/api/redoc/", "drf_spectacular_sidecar/redoc/"),
    ):
        page = client.get(url)
        html = page.content.decode()
        assert page.status_code == 200 and asset in html, url
        assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    client.logout()
    assert client.get("/api/docs/").status_code in (401, 403)


@pytest.mark.parametrize("auth", ["Token wrong", None])
def test_without_a_valid_token_nothing_is_read(client, people, auth):
    headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
    assert client.get("/api/v1/periods/", **headers).status_code in (401, 403)


def test_a_service_account_reads_with_its_token_as_its_role_allows(client, people):
    from calls.roles import AGENT, HR

    payroll = UserFactory(username="payroll-system", roles=[HR])
    token = Token.objects.create(user=payroll)
    auth = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    assert client.get("/api/v1/periods/", **auth).status_code == 200
    assert client.get("/api/v1/agents/", **auth).json()["count"] == 3
    # A token acts as its user: an agent's token reads that agent's own things only.
    agent_token = Token.objects.create(user=people.agent_a.user)
    agent = {"HTTP_AUTHORIZATION": f"Token {agent_token.key}"}
    assert client.get("/api/v1/periods/", **agent).status_code in (200, 403)
    assert client.get("/api/v1/imports/", **agent).status_code == 403
    assert people.agent_a.user.groups.filter(name=AGENT).exists()
    # Revoked (deleted, as the admin does): refused at once.
    token.delete()
    assert client.get("/api/v1/periods/", **auth).status_code in (401, 403)


def test_the_schema_says_what_the_metrics_list_returns(client, people):
    client.force_login(people.hr)
    schema = client.get("/api/schema/?format=json").json()
    said = schema["paths"]["/api/v1/metrics/"]["get"]["responses"]["200"]["content"]
    assert said["application/json"]["schema"]["type"] == "array"
    assert isinstance(client.get("/api/v1/metrics/").json(), list)
    periods = schema["components"]["schemas"]["Period"]["properties"]
    assert "approved_run_number" in periods
