"""The API is throttled: anonymous callers by address, logged-in users by account. The suite runs at
rates it never reaches (config/settings_test.py); here they are lowered to see the 429."""

import pytest
from django.core.cache import cache

from config import settings as production


@pytest.fixture
def low_rates(settings):
    cache.clear()  # the throttles' history lives in the cache
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "user": "5/minute"},
    }
    yield
    cache.clear()


def test_throttling_is_on_in_production_settings():
    rest = production.REST_FRAMEWORK
    assert rest["DEFAULT_THROTTLE_CLASSES"] == [
        "calls.throttling.AnonThrottle",
        "calls.throttling.UserThrottle",
    ]
    assert rest["DEFAULT_THROTTLE_RATES"] == {"anon": "60/minute", "user": "600/minute"}
    assert rest["NUM_PROXIES"] == 0


def test_the_call_after_the_users_limit_is_a_429(client, people, low_rates):
    client.force_login(people.hr)
    statuses = [client.get("/api/v1/statements/").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    refused = client.get("/api/v1/periods/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "throttled" in refused.json()["detail"]
    # Another user has their own count.
    client.force_login(people.lead_a)
    assert client.get("/api/v1/teams/").status_code == 200


def test_anonymous_callers_are_counted_by_address(rf, db, low_rates):
    """No endpoint is open to anonymous callers today (they get a 403 before any work, and DRF checks
    permissions before throttles), so the anonymous throttle is shown on its own: the fourth call from
    one address within the minute is refused, a forged X-Forwarded-For is the same address, and
    another address has its own count."""
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.request import Request

    from calls.throttling import AnonThrottle

    def allowed(**meta) -> bool:
        request = Request(rf.get("/api/v1/statements/", **meta))
        request.user = AnonymousUser()
        return AnonThrottle().allow_request(request, view=None)

    assert [allowed() for _ in range(4)] == [True, True, True, False]
    assert allowed(HTTP_X_FORWARDED_FOR="198.51.100.9") is False
    assert allowed(REMOTE_ADDR="198.51.100.9") is True


def test_a_rate_setting_is_checked_at_start_up():
    from django.core.exceptions import ImproperlyConfigured

    from config.env import env_rate

    assert env_rate("R", default="60/minute", environ_={"R": " 100/hour "}) == "100/hour"
    with pytest.raises(ImproperlyConfigured, match="R='100 per hour' is not a rate"):
        env_rate("R", default="60/minute", environ_={"R": "100 per hour"})
