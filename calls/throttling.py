"""The API's throttles: anonymous callers by address, logged-in users by account
(``API_THROTTLE_ANON`` / ``API_THROTTLE_USER``, docs/operations.md). The 429 says when to retry.

DRF's own classes read their rates once, at import; these read ``REST_FRAMEWORK`` when a request comes,
so a changed setting (a test's) takes effect at once."""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class _RatesReadNow:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class AnonThrottle(_RatesReadNow, AnonRateThrottle):
    """Callers who are not logged in, by address."""


class UserThrottle(_RatesReadNow, UserRateThrottle):
    """Logged-in users, by account (whatever address they call from)."""
