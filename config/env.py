"""Typed readers of the environment that fail loudly.

Every setting that comes from the environment goes through one of these, so a typo such as
``DEBUG=ture`` or ``TIME_ZONE=Asia/Shangai`` stops the process at start-up with a message naming the
variable, instead of silently running with a default nobody chose.
"""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Mapping
from typing import overload

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_UNSET = object()


def _raw(name: str, environ_: Mapping[str, str] | None) -> str | None:
    value = (os.environ if environ_ is None else environ_).get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


@overload
def env_str(name: str, *, environ_: Mapping[str, str] | None = None) -> str: ...
@overload
def env_str(name: str, default: str, *, environ_: Mapping[str, str] | None = None) -> str: ...
@overload
def env_str(
    name: str, default: None, *, environ_: Mapping[str, str] | None = None
) -> str | None: ...
def env_str(name: str, default: str | object | None = _UNSET, *, environ_=None) -> str | None:
    """A string; without a default the variable is required."""
    value = _raw(name, environ_)
    if value is not None:
        return value
    if default is _UNSET:
        raise ImproperlyConfigured(f"The environment variable {name} is required and is not set.")
    return default  # type: ignore[return-value]


def env_bool(name: str, default: bool, *, environ_=None) -> bool:
    """``true/false``, ``1/0``, ``yes/no``, ``on/off``; anything else is an error, never False."""
    value = _raw(name, environ_)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"The environment variable {name}={value!r} is not a boolean; use true or false."
    )


def env_int(name: str, default: int, *, minimum: int | None = None, environ_=None) -> int:
    """A whole number, optionally bounded below."""
    value = _raw(name, environ_)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"The environment variable {name}={value!r} is not a whole number."
        ) from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(
            f"The environment variable {name}={number} is below the minimum {minimum}."
        )
    return number


def env_list(name: str, default: list[str], *, environ_=None) -> list[str]:
    """A comma-separated list; empty items are an error (a stray comma is usually a typo)."""
    value = _raw(name, environ_)
    if value is None:
        return list(default)
    items = [item.strip() for item in value.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(
            f"The environment variable {name}={value!r} has an empty item in its comma list."
        )
    return items


def env_timezone(name: str, default: str, *, environ_=None) -> str:
    """An IANA time zone name such as ``Asia/Shanghai``, checked against the zone database."""
    value = _raw(name, environ_) or default
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"The environment variable {name}={value!r} is not a known time zone "
            "(expected an IANA name such as Asia/Shanghai)."
        ) from None
    return value


def env_database(name: str, default: str, *, environ_=None) -> dict:
    """A database URL (``postgres://user@host:5432/db``, ``sqlite:////abs/path.db``) as Django wants it."""
    value = _raw(name, environ_) or default
    try:
        config = environ.Env.db_url_config(value)
    except Exception as exc:  # django-environ raises several types; all mean "bad URL"
        raise ImproperlyConfigured(
            f"The environment variable {name}={value!r} is not a database URL: {exc}"
        ) from None
    engine = config.get("ENGINE", "")
    if engine not in {
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    }:
        raise ImproperlyConfigured(
            f"The environment variable {name} names the engine {engine!r}; "
            "this product runs on PostgreSQL or SQLite."
        )
    return config


_RATE_UNITS = ("second", "minute", "hour", "day")


def env_rate(name: str, default: str, *, environ_=None) -> str:
    """A request rate as DRF's throttles read it: ``<number>/<second|minute|hour|day>``, e.g.
    ``600/minute``."""
    value = (_raw(name, environ_) or default).strip()
    count, _slash, unit = value.partition("/")
    if not (count.isdigit() and int(count) > 0 and unit in _RATE_UNITS):
        raise ImproperlyConfigured(
            f"The environment variable {name}={value!r} is not a rate (expected a number of requests "
            "per second, minute, hour or day, e.g. 600/minute)."
        )
    return f"{int(count)}/{unit}"
