"""Exact rational numbers without ``fractions.Fraction``'s cost: the project's exact numbers, from a
metric's value (``calls.metrics``) through scoring (``incentives.scoring``) to the payout.

``Fraction`` reduces every result by its greatest common divisor and sends every operation through
several type checks. A month's run makes a value per agent and metric and a dozen exact steps per
statement; scoring the 2,000 agents of ``benchmarks/compute_month.py`` took 0.32 s of CPU with
Fractions, against 0.07 s with the Decimals rounded to 4 places that scoring used before it was exact —
enough to push the month's computation past its target — and the lead's dashboard builds thousands of
values per page. ``Rational`` holds the same exact value, a numerator and a positive denominator as
Python integers (unbounded), but reduces nothing until it is read (``as_integer_ratio``, ``str``,
``hash``): about 0.1 s for the same agents, and a value costs a fifth of a Fraction to make. Its integers
grow a few digits a step, which is nothing to Python over the dozen steps of a statement.

It computes and compares exactly with itself, with ints, Decimals and Fractions (which it converts
without loss; the usual case, two Rationals, is tried first), and is equal and hashes alike to the
Fraction of the same value. A float is refused: 0.1 is not a tenth.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction


class Rational:
    """An exact rational number, kept unreduced (see the module)."""

    __slots__ = ("denominator", "numerator")

    def __init__(self, numerator: int, denominator: int = 1):
        # Not checked here: every caller passes integers with a positive denominator (``of`` and the
        # operators below); this runs a hundred thousand times a month.
        self.numerator = numerator
        self.denominator = denominator

    @classmethod
    def of(cls, number: Rational | Fraction | Decimal | int) -> Rational:
        """``number`` exactly, as a Rational."""
        # By the exact class, the cheapest test on this hot path; mypy cannot narrow by it (ignores).
        kind = number.__class__
        if kind is Rational:
            return number  # type: ignore[return-value]
        if kind is Decimal:
            return cls(*number.as_integer_ratio())
        if kind is Fraction or kind is int:  # their attributes are cheaper than as_integer_ratio()
            return cls(number.numerator, number.denominator)  # type: ignore[union-attr]
        if isinstance(number, float) or not isinstance(number, Decimal | Fraction | int):
            raise TypeError(f"Not an exact number: {number!r}")
        if isinstance(number, Decimal):  # a subclass of Decimal
            return cls(*number.as_integer_ratio())
        return cls(number.numerator, number.denominator)  # a subclass: bool, a Fraction's

    # Arithmetic: the denominators stay positive.

    def __add__(self, other) -> Rational:
        if other.__class__ is not Rational:
            other = Rational.of(other)
        return Rational(
            self.numerator * other.denominator + other.numerator * self.denominator,
            self.denominator * other.denominator,
        )

    __radd__ = __add__

    def __sub__(self, other) -> Rational:
        if other.__class__ is not Rational:
            other = Rational.of(other)
        return Rational(
            self.numerator * other.denominator - other.numerator * self.denominator,
            self.denominator * other.denominator,
        )

    def __rsub__(self, other) -> Rational:
        return Rational.of(other) - self

    def __mul__(self, other) -> Rational:
        if other.__class__ is not Rational:
            other = Rational.of(other)
        return Rational(self.numerator * other.numerator, self.denominator * other.denominator)

    __rmul__ = __mul__

    def __truediv__(self, other) -> Rational:
        if other.__class__ is not Rational:
            other = Rational.of(other)
        if other.numerator > 0:
            return Rational(self.numerator * other.denominator, self.denominator * other.numerator)
        if other.numerator < 0:
            return Rational(
                -self.numerator * other.denominator, self.denominator * -other.numerator
            )
        raise ZeroDivisionError("Rational division by zero")

    def __rtruediv__(self, other) -> Rational:
        return Rational.of(other) / self

    def __neg__(self) -> Rational:
        return Rational(-self.numerator, self.denominator)

    def __abs__(self) -> Rational:
        return Rational(abs(self.numerator), self.denominator)

    # Comparisons, cross-multiplied, the denominators being positive (each written out: a run compares
    # some 40,000 times).

    def __lt__(self, other) -> bool:
        if other.__class__ is not Rational:
            other = Rational.of(other)
        return self.numerator * other.denominator < other.numerator * self.denominator

    def __le__(self, other) -> bool:
        if other.__class__ is not Rational:
            other = Rational.of(other)
        return self.numerator * other.denominator <= other.numerator * self.denominator

    def __gt__(self, other) -> bool:
        if other.__class__ is not Rational:
            other = Rational.of(other)
        return self.numerator * other.denominator > other.numerator * self.denominator

    def __ge__(self, other) -> bool:
        if other.__class__ is not Rational:
            other = Rational.of(other)
        return self.numerator * other.denominator >= other.numerator * self.denominator

    def __eq__(self, other) -> bool:
        if not isinstance(other, Rational | Fraction | Decimal | int):
            return NotImplemented
        if other.__class__ is not Rational:
            other = Rational.of(other)
        return self.numerator * other.denominator == other.numerator * self.denominator

    def __hash__(self) -> int:
        return hash(self.fraction())  # equal to the Fraction's, the Decimal's and the int's

    def __bool__(self) -> bool:
        return self.numerator != 0

    # Conversions.

    def as_integer_ratio(self) -> tuple[int, int]:
        """(numerator, denominator) in lowest terms, the denominator positive (as ``Fraction``)."""
        divisor = math.gcd(self.numerator, self.denominator)
        return self.numerator // divisor, self.denominator // divisor

    def fraction(self) -> Fraction:
        return Fraction(*self.as_integer_ratio())

    def __float__(self) -> float:
        return self.numerator / self.denominator  # for drawing; correctly rounded, however large

    def __repr__(self) -> str:
        numerator, denominator = self.as_integer_ratio()
        return f"Rational({numerator}, {denominator})"

    def __str__(self) -> str:
        return str(self.fraction())
