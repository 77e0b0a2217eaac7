"""Numbers on a page by the one display rule of ``calls.numbers``: ``{% load numbers %}`` then
``{{ line.value|number:2 }}`` (half-up to two places, grouped in the reader's language: 1,234.57),
``{{ line.numerator|number:"-2" }}`` (no decimals when whole: 1,204), ``{{ line.target|level }}`` (a
plan's level as it was set: 95, 0.125), ``{{ gate.value|beside:gate.threshold }}`` (as many places
as show on which side of the threshold the value lies: 2.94003 beside 2.94) and
``{{ statement.tier_rate|percent }}`` (a factor as a percent: 1.2 is 120)."""

from django import template

from calls import numbers

register = template.Library()


@register.filter
def number(value, places="2") -> str:
    """``value`` rounded half-up to ``places`` (a negative number: as many, but none when whole) and
    grouped; empty for no value."""
    places = int(places)
    return numbers.shown(value, abs(places), whole=places < 0)


@register.filter
def level(value) -> str:
    """A plan's level, every place of it (``numbers.shown_level``)."""
    return numbers.shown_level(value)


@register.filter
def beside(value, level) -> str:
    """``value`` shown next to ``level``, the number it was compared with (``numbers.shown_beside``)."""
    return numbers.shown_beside(value, level)


@register.filter
def percent(factor) -> str:
    """A factor as a percent, every place of it (``numbers.shown_level``): a tier's rate 1.2 is "120",
    a gate's factor 0.5 is "50"; empty for no factor."""
    if factor is None or factor == "":
        return ""
    return numbers.shown_level(factor * 100)
