"""Exact rational numbers for scoring, without ``fractions.Fraction``'s cost: the fast path of
``incentives.scoring``.

A run scores every agent of a month with a dozen exact steps each. ``Fraction`` reduces every
intermediate result by its greatest common divisor and sends every operation through several type
checks: scoring the 2,000 agents of ``benchmarks/compute_month.py`` took 0.32 s of CPU with Fractions,
against 0.07 s with the Decimals rounded to 4 places that scoring used before it was exact — enough to
push the month's computation past its target. ``Rational`` holds the same exact value, a numerator and a
positive denominator as Python integers (unbounded), but reduces nothing until it is read
(``as_integer_ratio``, ``fraction``) and computes only with its own kind: 0.12 s for the same agents.
Its integers grow a few digits a step, which is nothing to Python over the dozen steps of a statement.

Only what scoring needs: + − × ÷ between Rationals, comparisons (with any exact number), and exact
conversions from and to int, Decimal and Fraction. A float is refused: 0.1 is not a tenth.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction


class Rational:
    """An exact rational number, kept unreduced (see the module)."""

    __slots__ = ("denominator", "numerator")

    def __init__(self, numerator: int, denominator: int = 1):
        # No checks here: every caller passes integers with a positive denominator (``of`` and the
        # operators below); this runs a hundred thousand times a month.
        self.numerator = numerator
        self.denominator = denominator

    @classmethod
    def of(cls, number: Rational | Fraction | Decimal | int) -> Rational:
        """``number`` exactly, as a Rational."""
        kind = number.__class__
        if kind is Rational:
            return number
        if kind is Fraction:  # a metric's value: its attributes are cheaper than as_integer_ratio()
            return cls(number.numerator, number.denominator)
        if isinstance(number, float):
            raise TypeError(f"Scoring reads exact numbers, not the float {number!r}")
        return cls(*number.as_integer_ratio())

    # Arithmetic between Rationals: the denominators stay positive.

    def __add__(self, other: Rational) -> Rational:
        return Rational(
            self.numerator * other.denominator + other.numerator * self.denominator,
            self.denominator * other.denominator,
        )

    def __sub__(self, other: Rational) -> Rational:
        return Rational(
            self.numerator * other.denominator - other.numerator * self.denominator,
            self.denominator * other.denominator,
        )

    def __mul__(self, other: Rational) -> Rational:
        return Rational(self.numerator * other.numerator, self.denominator * other.denominator)

    def __truediv__(self, other: Rational) -> Rational:
        if other.numerator > 0:
            return Rational(self.numerator * other.denominator, self.denominator * other.numerator)
        if other.numerator < 0:
            return Rational(
                -self.numerator * other.denominator, self.denominator * -other.numerator
            )
        raise ZeroDivisionError("Rational division by zero")

    def __neg__(self) -> Rational:
        return Rational(-self.numerator, self.denominator)

    # Comparisons with any exact number: cross-multiplied, the denominators being positive (each
    # written out: a run compares some 40,000 times).

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
        return (
            self.numerator / self.denominator
        )  # for drawing only; Python divides big ints exactly

    def __repr__(self) -> str:
        numerator, denominator = self.as_integer_ratio()
        return f"Rational({numerator}, {denominator})"

    def __str__(self) -> str:
        return str(self.fraction())
