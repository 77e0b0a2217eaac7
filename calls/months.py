"""Month boundaries in the contact center's time zone: the one place that turns a month into instants.

A month is counted on the floor's clock (``settings.TIME_ZONE``), so a call at 00:30 on 1 November in
Shanghai belongs to November even though it is still 31 October in UTC. Boundaries are half-open:
``start <= t < end``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.utils import timezone


def center_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The aware instants where the month starts and where the next one starts."""
    tz = center_tz()
    start = dt.datetime(year, month, 1, tzinfo=tz)
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    return start, dt.datetime(next_year, next_month, 1, tzinfo=tz)


def month_first_last_day(year: int, month: int) -> tuple[dt.date, dt.date]:
    start, end = month_bounds(year, month)
    return start.date(), (end - dt.timedelta(days=1)).date()


def previous_month(now: dt.datetime | None = None) -> tuple[int, int]:
    """The (year, month) that ended most recently on the center's clock."""
    local = timezone.localtime(now or timezone.now(), center_tz())
    if local.month == 1:
        return local.year - 1, 12
    return local.year, local.month - 1


def local_day(instant: dt.datetime) -> dt.date:
    return timezone.localtime(instant, center_tz()).date()


def shift_month(year: int, month: int, by: int) -> tuple[int, int]:
    """The (year, month) ``by`` months after (negative: before) the given one."""
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1
