"""The exact numbers (``calls.rational``) and the one display rule (``calls.numbers``)."""

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from calls.numbers import (
    places_beside,
    plain,
    rounded,
    shown,
    shown_beside,
    shown_level,
)
from calls.rational import Rational
from incentives.services.statements import _kept

FRACTIONS = st.builds(Fraction, st.integers(-(10**12), 10**12), st.integers(1, 10**9))
PLACES = st.integers(0, 10)


def unreduced(f: Fraction, k: int) -> Rational:
    """The same value as a Rational whose terms share a factor, as scoring leaves them."""
    return Rational(f.numerator * k, f.denominator * k)


@settings(max_examples=2_000, deadline=None)
@given(FRACTIONS, FRACTIONS, st.integers(1, 1000))
def test_a_rational_computes_and_compares_as_a_fraction(a, b, k):
    x, y = unreduced(a, k), Rational.of(b)
    assert (x + y, x - y, x * y) == (a + b, a - b, a * b)
    if b:
        assert x / y == a / b and (x / y).fraction() == a / b
    assert (x < y, x <= y, x > y, x >= y, x == y) == (a < b, a <= b, a > b, a >= b, a == b)
    assert x == a and a == x and hash(x) == hash(a) and str(x) == str(a)
    assert x.as_integer_ratio() == a.as_integer_ratio()
    assert x + 1 == a + 1 and 1 - x == 1 - a and 2 * x == 2 * a
    assert x + Decimal("0.5") == a + Fraction(1, 2)


def test_a_rational_refuses_a_float():
    with pytest.raises(TypeError):
        Rational.of(0.1)
    with pytest.raises(TypeError):
        rounded(0.1, 2)


@settings(max_examples=2_000, deadline=None)
@given(FRACTIONS, PLACES, st.integers(1, 50))
def test_rounding_is_half_up_from_the_exact_value(f, places, k):
    """The same as Decimal's ROUND_HALF_UP on the quotient computed with 60 digits (far below the
    distance of such a fraction from any tie it is not on), whatever the form of the number; ``plain``
    and a run's COPY text say the same number."""
    with localcontext(prec=60):
        quotient = Decimal(f.numerator) / Decimal(f.denominator)
    exact = quotient.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    for number in (f, unreduced(f, k)):
        assert rounded(number, places) == exact
        assert str(rounded(number, places)) == str(exact)  # the sign of a zero too
        assert plain(number, places) == f"{exact:f}"
    assert Decimal(_kept(f)) == rounded(f, 10)


def test_ties_round_away_from_zero_and_decimals_round_too():
    assert rounded(Fraction(73735, 1000), 2) == Decimal("73.74")
    assert rounded(Fraction(-73735, 1000), 2) == Decimal("-73.74")
    assert str(rounded(Fraction(-1, 1000), 2)) == "-0.00"
    assert rounded(Decimal("2.9400300000"), 5) == Decimal("2.94003")
    assert rounded(7, 2) == Decimal("7.00")


@pytest.mark.parametrize(
    ("value", "level", "shown_as"),
    [
        (Fraction(294003, 100000), Decimal("2.94"), "2.94003"),  # over 2.94, and seen to be
        (Fraction(293997, 100000), Decimal("2.94"), "2.93997"),  # under it
        (Decimal("2.9400079460"), Decimal("2.94"), "2.94001"),
        (Fraction(294, 100), Decimal("2.94"), "2.94"),  # at it
        (Fraction(1241, 10000), Decimal("0.124"), "0.1241"),  # 0.12 would read under 0.124
        (Fraction(126, 1000), Decimal("0.125"), "0.13"),  # 0.13 reads over 0.125, as it is
        (Fraction(96, 1), Decimal("95"), "96.00"),
    ],
)
def test_a_value_beside_its_level_shows_which_side_it_lies(value, level, shown_as):
    with translation.override("en"):
        assert shown_beside(value, level) == shown_as
        assert shown_beside(value, None) == shown(value)  # no level: as any value
    side = (value > level) - (value < level)
    shown_value = rounded(value, places_beside(value, level))
    assert (shown_value > level) - (shown_value < level) == side


def test_shown_groups_in_the_readers_language_and_levels_keep_their_places():
    with translation.override("en"):
        assert shown(Fraction(123456789, 100)) == "1,234,567.89"
        assert shown(Decimal("1204.0000"), whole=True) == "1,204"
        assert shown(Decimal("1204.5"), whole=True) == "1,204.50"
        assert [shown_level(Decimal(x)) for x in ("95", "95.5", "0.125", "0.1250")] == [
            "95",
            "95.50",
            "0.125",
            "0.125",
        ]
    with translation.override("zh-hans"):
        assert shown(Fraction(123456789, 100)) == "1,234,567.89"  # grouped, as payroll prints it
