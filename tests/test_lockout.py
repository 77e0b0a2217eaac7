"""Log-in lockout: after the configured number of failures a user/address pair is locked for the
cool-off, on the log-in page and on the admin's, which say so (in both languages)."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from tests.factories import PASSWORD


@pytest.fixture
def hr(people):
    return people.hr


def _fail(client, url, username, times, **extra):
    return [
        client.post(url, {"username": username, "password": "wrong"}, **extra).status_code
        for _ in range(times)
    ]


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_failures_lock_the_pair_and_the_page_says_so(client, hr, settings, url):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5 and dt.timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    statuses = _fail(client, url, "hr_admin", limit)
    assert statuses[:-1] == [200] * (limit - 1)  # the form again, "didn't match"
    assert statuses[-1] == 429  # the limit reached: locked from this failure on
    # Even the right password is refused while locked, and the page says why.
    locked = client.post(url, {"username": "hr_admin", "password": PASSWORD})
    assert locked.status_code == 429
    html = locked.content.decode()
    assert "Too many failed log-ins for this user from this address" in html
    assert "locked for 15 minutes" in html
    assert "_auth_user_id" not in client.session


def test_the_lock_is_for_the_pair_and_ends_after_the_cool_off(client, hr, settings):
    _fail(client, "/accounts/login/", "hr_admin", settings.AXES_FAILURE_LIMIT)
    # Another address may still log in as HR; the locked address may log in as someone else.
    other = client.post(
        "/accounts/login/", {"username": "hr_admin", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9"
    )
    assert other.status_code == 302
    client.logout()
    assert (
        client.post("/accounts/login/", {"username": "lead_a", "password": PASSWORD}).status_code
        == 302
    )
    client.logout()
    # After the cool-off the pair may try again.
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    back = client.post("/accounts/login/", {"username": "hr_admin", "password": PASSWORD})
    assert back.status_code == 302 and client.session["_auth_user_id"] == str(hr.pk)


def test_a_forged_forwarded_for_does_not_give_a_fresh_address(client, hr, settings):
    """Without trusted proxies the header is ignored: rotating it does not reset the count."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/accounts/login/",
            {"username": "hr_admin", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        )
    locked = client.post(
        "/accounts/login/",
        {"username": "hr_admin", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.200",
    )
    assert locked.status_code == 429


def test_behind_a_trusted_proxy_the_address_it_saw_counts(rf, settings):
    from calls.lockout import client_ip

    settings.TRUSTED_PROXIES = 1
    request = rf.post("/", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7", REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == "203.0.113.7"  # the proxy's own entry, not the client's claim
    settings.TRUSTED_PROXIES = 0
    assert client_ip(request) == "10.0.0.2"


def test_the_lockout_page_speaks_chinese(client, hr, settings):
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    _fail(client, "/accounts/login/", "hr_admin", settings.AXES_FAILURE_LIMIT)
    html = client.post("/accounts/login/", {"username": "hr_admin", "password": PASSWORD}).content
    assert "登录失败次数过多" in html.decode() and "15 分钟" in html.decode()
