"""Numbers as people read them: the one display rule of every page, sentence and export.

Every figure is computed exactly — a metric's value as the exact fraction of its counts
(``calls.rational``), scores and amounts from it (``incentives.scoring``) — and rounded only where it
is stored for display or shown: half-up to a number of places, as payroll and people's own arithmetic
round (73.735 → 73.74), never truncated, and never fed back into a computation. Pages format the
rounded number in the reader's language with its digits grouped by three (1,234.56); exports keep it a
number.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from django.utils.formats import number_format

from calls.rational import Rational

Exact = Rational | Fraction | Decimal | int

# The most places ``places_beside`` adds, and the places the statements keep of an exact value or score
# (their columns have as many): enough that a value within a 10 billionth of a level still shows on
# which side of it it lies.
MOST_PLACES = 10


def rounded(value: Exact, places: int) -> Decimal:
    """``value`` rounded half-up (away from zero on a tie, as ``ROUND_HALF_UP``) to ``places``
    decimals, from its exact value: a fraction is divided in integers, never through a rounded
    quotient, so the result is what the exact number gives. A float is refused: it is not exact.

    Any exact number with a positive ``denominator`` will do, in lowest terms or not (``Fraction``,
    int, scoring's ``Rational``), or a Decimal."""
    units = rounded_units(value, places)
    result = Decimal(units).scaleb(-places)
    if units == 0 and value < 0:
        return result.copy_negate()  # -0.0000 for a tiny negative, as Decimal's quantize gives it
    return result


def rounded_units(value: Exact, places: int) -> int:
    """``value`` rounded as ``rounded`` does, in units of its last place: 73.735 to 2 places is 7374.
    Without a Decimal, for the text of a run's 50,000 figures (``incentives.services.runs``)."""
    kind = value.__class__  # by the exact class, the hot path's test; mypy cannot narrow by it
    if kind is Rational or kind is Fraction or kind is int:
        numerator, denominator = value.numerator, value.denominator  # type: ignore[union-attr]
    elif kind is Decimal:
        numerator, denominator = value.as_integer_ratio()
    else:
        numerator, denominator = Rational.of(value).as_integer_ratio()  # refuses a float
    if numerator >= 0:
        quotient, remainder = divmod(numerator * _TENS[places], denominator)
        return quotient + 1 if remainder + remainder >= denominator else quotient
    quotient, remainder = divmod(-numerator * _TENS[places], denominator)
    return -quotient - 1 if remainder + remainder >= denominator else -quotient


_TENS = [10**places for places in range(40)]


def plain(value: Exact, places: int) -> str:
    """``rounded(value, places)`` as plain text, without grouping or the reader's separators
    ("-1234.57"): for the numbers a page writes in Python by the thousand (the lead's dashboard, its
    sparklines' titles), at half the cost of a Decimal."""
    units = rounded_units(value, places)
    if units > 0 or (units == 0 and not value < 0):
        sign = ""
    else:
        sign, units = "-", -units  # -0.00 for a tiny negative, as the Decimal's text
    if not places:
        return f"{sign}{units}"
    digits = str(units).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def places_beside(value: Exact, level: Exact, places: int = 2) -> int:
    """The places to show ``value`` with next to ``level``, the number it was compared with (a gate's
    threshold): ``places``, or more when the rounded value would not read on the same side of the
    level as the exact one (2.94003 against 2.94 shows as 2.94003, never as 2.94), up to
    ``MOST_PLACES``."""
    side = (value > level) - (value < level)
    while places < MOST_PLACES:
        shown_value = rounded(value, places)
        if (shown_value > level) - (shown_value < level) == side:
            break
        places += 1
    return places


def _whole(value: Exact) -> bool:
    numerator, denominator = (
        value.as_integer_ratio()
        if isinstance(value, Decimal)
        else (value.numerator, value.denominator)
    )
    return numerator % denominator == 0


def shown(value: Exact | None, places: int = 2, *, whole: bool = False) -> str:
    """``value`` rounded half-up to ``places`` and written in the reader's language, its digits
    grouped (1,234.57). ``whole``: no decimals for a whole number ("95", not "95.00"), as counts are
    written. Empty for no value."""
    if value is None or value == "":
        return ""
    if whole and _whole(value):
        places = 0
    return number_format(rounded(value, places), places, use_l10n=True, force_grouping=True)


def shown_level(level: Decimal | None) -> str:
    """A plan's level (a threshold, a target, a weight, a payout %) as it was set, every place of it:
    two decimals, none when whole, more when it has them (0.125 stays 0.125, never 0.13)."""
    if level is None or level == "":
        return ""
    own = max(0, -int(level.normalize().as_tuple().exponent))  # an int: a plan's level is finite
    return shown(level, max(own, 2), whole=True)


def shown_beside(value: Exact | None, level: Exact | None, places: int = 2) -> str:
    """``shown`` with the places of ``places_beside``: a gate's value next to its threshold; with no
    level (an alert of no effective call counts calls, it compares no value), ``shown``."""
    if value is None or value == "":
        return ""
    if level is None or level == "":
        return shown(value, places)
    return shown(value, places_beside(value, level, places))
