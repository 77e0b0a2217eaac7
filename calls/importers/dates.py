"""Dates written another way than 2026-10-31 14:05:09: a mapping's format, rewritten to that form.

A format uses ``%Y %m %d %H %M %S`` (as in strftime) between literal characters, e.g. ``%d/%m/%Y %H:%M``
or ``%Y年%m月%d日 %H:%M:%S``. The rewrite is a regular expression with one group per part, the same on
PostgreSQL and in Python, so it never raises: a value that does not match stays as it is and the usual
rule then reports it as not a date.
"""

from __future__ import annotations

import re

PARTS = {
    "Y": "([0-9]{4})",
    "m": "([0-9]{1,2})",
    "d": "([0-9]{1,2})",
    "H": "([0-9]{1,2})",
    "M": "([0-9]{2})",
    "S": "([0-9]{2})",
}
_SPECIAL = set(".^$*+?()[]{}|\\")


class DateFormatError(ValueError):
    pass


def rewrite(fmt: str) -> tuple[str, str]:
    """(pattern, replacement) turning a value written in ``fmt`` into ``Y-m-d[ H:M:S]``."""
    pattern, i = ["^"], 0
    groups: dict[str, int] = {}
    while i < len(fmt):
        char = fmt[i]
        if char == "%":
            code = fmt[i + 1 : i + 2]
            if code == "%":
                pattern.append("%")
            elif code in PARTS:
                if code in groups:
                    raise DateFormatError(f"%{code} appears twice in the date format {fmt!r}.")
                groups[code] = len(groups) + 1
                pattern.append(PARTS[code])
            else:
                raise DateFormatError(
                    f"%{code} in the date format {fmt!r} is not one of %Y %m %d %H %M %S."
                )
            i += 2
            continue
        pattern.append("\\" + char if char in _SPECIAL else char)
        i += 1
    missing = [f"%{c}" for c in "Ymd" if c not in groups]
    if missing:
        raise DateFormatError(f"The date format {fmt!r} has no {', '.join(missing)}.")
    if "M" in groups and "H" not in groups:
        raise DateFormatError(f"The date format {fmt!r} has minutes (%M) but no hours (%H).")
    pattern.append("$")
    replacement = "\\{Y}-\\{m}-\\{d}".format(**groups)
    if "H" in groups:
        replacement += " \\{}:".format(groups["H"])
        replacement += "\\{}".format(groups["M"]) if "M" in groups else "00"
        replacement += ":\\{}".format(groups["S"]) if "S" in groups else ":00"
    return "".join(pattern), replacement


def reformat(value: str | None, pattern: str, replacement: str) -> str | None:
    """The Python side of the rewrite (SQLite, the upload preview)."""
    if value is None:
        return None
    return re.sub(pattern, replacement, value)
