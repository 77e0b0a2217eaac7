"""The decimal shapes the models share: money, scores, plan values and what a run keeps for display."""

from typing import TypedDict

from calls.numbers import MOST_PLACES


class Digits(TypedDict):
    """A ``DecimalField``'s shape, spread into it: ``DecimalField(_("amount"), **MONEY)``."""

    max_digits: int
    decimal_places: int


MONEY: Digits = {"max_digits": 14, "decimal_places": 2}
SCORE: Digits = {"max_digits": 9, "decimal_places": 4}
VALUE: Digits = {"max_digits": 14, "decimal_places": 4}
# What a run keeps of its exact results for display (values, scores, points): rounded half-up to
# ``calls.numbers.MOST_PLACES`` decimals, so a value next to the level it was compared with (a gate's
# threshold, a tier's lower bound) still shows on which side of it it lies. Never read back into a
# computation: scoring starts from the facts again.
MEASURED: Digits = {"max_digits": 24, "decimal_places": MOST_PLACES}
SCORED: Digits = {"max_digits": 20, "decimal_places": MOST_PLACES}
