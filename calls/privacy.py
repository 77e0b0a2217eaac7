"""Customer numbers are never stored in clear: a keyed hash keeps repeat contacts matchable."""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

_NOT_DIGITS = re.compile(r"[^0-9]")


def customer_key(number: str) -> str:
    """HMAC-SHA256 of the number's digits, keyed by the server's secret; "" for no number.

    Only digits count, so "+86 138-0000-0000" and "8613800000000" are the same customer. A keyed hash,
    not a plain one: phone numbers are few enough that a plain hash is reversed by trying them all.
    """
    digits = _NOT_DIGITS.sub("", number or "")
    if not digits:
        return ""
    key = getattr(settings, "CUSTOMER_KEY_SECRET", None) or settings.SECRET_KEY
    return hmac.new(key.encode(), digits.encode(), hashlib.sha256).hexdigest()
