"""The decimal shapes the models share: money, scores, plan values and what a run keeps for display."""

from calls.numbers import MOST_PLACES

MONEY = {"max_digits": 14, "decimal_places": 2}
SCORE = {"max_digits": 9, "decimal_places": 4}
VALUE = {"max_digits": 14, "decimal_places": 4}
# What a run keeps of its exact results for display (values, scores, points): rounded half-up to
# ``calls.numbers.MOST_PLACES`` decimals, so a value next to the level it was compared with (a gate's
# threshold, a tier's lower bound) still shows on which side of it it lies. Never read back into a
# computation: scoring starts from the facts again.
MEASURED = {"max_digits": 24, "decimal_places": MOST_PLACES}
SCORED = {"max_digits": 20, "decimal_places": MOST_PLACES}
