"""Customer numbers are never stored in clear: a keyed hash keeps repeat contacts matchable.

The same key is computed in Python (here) and in SQL by the bulk importer (``calls.importers.engine``):
the first 64 bits of SHA-256 over ``secret:digits``, as a signed integer. Keyed, because phone numbers
are few enough that a plain hash is reversed by trying them all.
"""

from __future__ import annotations

import hashlib
import re

from django.conf import settings

_NOT_DIGITS = re.compile(r"[^0-9]")


def customer_secret() -> str:
    return str(getattr(settings, "CUSTOMER_KEY_SECRET", None) or settings.SECRET_KEY)


def customer_key(number: str | None, secret: str | None = None) -> int | None:
    """The key of a number's digits ("+86 138-0000-0000" and "8613800000000" are the same customer);
    None when there is no number."""
    digits = _NOT_DIGITS.sub("", number or "")
    if not digits:
        return None
    digest = hashlib.sha256(f"{secret or customer_secret()}:{digits}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_SHOWN_DIGITS = 2


def customer_mask(value: str) -> str:
    """A customer's number as a message may show it: every letter and digit masked but the last two
    digits, the rest of its shape kept ("+86 138-0000-0001" → "+** ***-****-**01"), so HR sees why a
    value was refused without the number being kept anywhere."""
    shown = _SHOWN_DIGITS
    masked = []
    for char in reversed(value):
        if char.isdigit() and shown:
            shown -= 1
            masked.append(char)
        elif char.isalnum():
            masked.append("*")
        else:
            masked.append(char)
    return "".join(reversed(masked))


def header_said(name: str) -> str:
    """A cell of a file's header line as a message names it. A column name holds no phone number: one
    with seven digits or more is data (a file without a header line read as if it had one, whose first
    row holds a caller's number), masked like a customer's number, since the message is kept."""
    return customer_mask(name) if len(_NOT_DIGITS.sub("", name)) >= 7 else name
