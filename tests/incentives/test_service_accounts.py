"""Service accounts (issue 16, point 4): HR creates an account for a system on its own page, with a
role like a person's and, for a lead's role, the teams it reads; the token is shown once and the
system reads the API with it as that role allows; HR revokes it and the next call is refused."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from calls.roles import HR, LEAD, user_roles


def _create(client, **fields):
    return client.post("/hr/api-access/", {"role": HR, **fields}).content.decode()


def test_hr_creates_a_payroll_account_whose_token_reads_as_hr_until_revoked(client, people):
    client.force_login(people.hr)
    page = _create(client, name="payroll-system")
    key = re.search(r'id="new-token">.*?<code>([0-9a-f]{40})</code>', page, re.S).group(1)
    account = get_user_model().objects.get(username="payroll-system")
    assert user_roles(account) == {HR} and not account.has_usable_password()
    assert Token.objects.get(user=account).key == key
    assert key not in client.get("/hr/api-access/").content.decode()  # shown once
    assert "payroll-system" in client.get("/hr/api-access/").content.decode()

    api = {"HTTP_AUTHORIZATION": f"Token {key}"}
    client.logout()
    assert client.get("/api/v1/periods/", **api).status_code == 200
    assert client.get("/hr/", **api).status_code in (302, 403)  # the pages are for people

    client.force_login(people.hr)
    confirm = client.get(f"/hr/api-access/{account.pk}/revoke/")
    assert "Its next call to the API is refused" in confirm.content.decode()
    assert Token.objects.filter(user=account).exists()  # a GET asks, changes nothing
    client.post(f"/hr/api-access/{account.pk}/revoke/", {"confirm": "yes"})
    client.logout()
    assert client.get("/api/v1/periods/", **api).status_code == 403
    account.refresh_from_db()
    assert not account.is_active and not Token.objects.filter(user=account).exists()


def test_a_lead_account_reads_only_its_teams(client, people):
    client.force_login(people.hr)
    refused = _create(client, name="bi-team-a", role=LEAD)
    assert "choose at least one" in refused and not Token.objects.exists()
    page = _create(client, name="bi-team-a", role=LEAD, teams=[people.team_a.pk])
    key = re.search(r"<code>([0-9a-f]{40})</code>", page).group(1)
    client.logout()
    api = {"HTTP_AUTHORIZATION": f"Token {key}"}
    teams = client.get("/api/v1/teams/", **api).json()["results"]
    assert [t["code"] for t in teams] == ["team-a"]
    assert client.get("/api/v1/periods/", **api).status_code == 403  # HR's, not a lead's


def test_bad_names_are_named_and_nothing_is_made(client, people):
    client.force_login(people.hr)
    assert "3 to 150 letters" in _create(client, name="a b")
    _create(client, name="payroll")
    assert "Payroll is taken already." in _create(client, name="Payroll")
    assert get_user_model().objects.filter(username__iexact="payroll").count() == 1


def test_only_hr_opens_the_page(client, people):
    for user in (people.lead_a, people.agent_a.user, people.nobody):
        client.force_login(user)
        assert client.get("/hr/api-access/").status_code == 403
        assert client.post("/hr/api-access/", {"name": "x-system", "role": HR}).status_code == 403
    assert not get_user_model().objects.filter(username="x-system").exists()
